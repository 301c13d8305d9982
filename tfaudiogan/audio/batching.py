"""Encode many clips through a waveform -> feature transform a few clips at a time.

Datasets are encoded once, up front (CycleGAN crops, GANSynth and SpecGAN training images);
running the STFT of every clip in one call would need memory for all their frames at once, so
the clips go through the transform in slices of ``batch_size`` and the results are
concatenated.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import tensorflow as tf

__all__ = ["encode_in_batches"]


def encode_in_batches(encode_fn: Callable[[tf.Tensor], object], waves,
                      batch_size: int) -> np.ndarray:
    """``concat([encode_fn(waves[i:i + batch_size]) for i in 0, batch_size, ...])``.

    Args:
        encode_fn: maps a float32 tensor ``[b, samples]`` (``b <= batch_size``) to one array
            or tensor ``[b, ...]``, e.g. ``rep.encode`` (GANSynth, SpecGAN) or
            ``lambda w: rep.encode(w)[0]`` (CycleGAN, image without the phase). A
            ``tf.function`` is traced at most twice (full batches and the last one).
        waves: ``[n, samples]`` clips, converted to float32 (no copy if already float32).
        batch_size: clips per ``encode_fn`` call (bounds the memory of the transform).

    Returns:
        NumPy array ``[n, ...]``: the outputs in clip order, with ``encode_fn``'s dtype.

    Raises:
        ValueError: no clips, ``waves`` of rank < 2, or ``batch_size`` < 1.
    """
    waves = np.asarray(waves, np.float32)
    if waves.ndim < 2 or waves.shape[0] == 0:
        raise ValueError(f"waves must be a non-empty [n, samples] array, got {waves.shape}")
    if isinstance(batch_size, bool) or int(batch_size) != batch_size or batch_size < 1:
        raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
    batch_size = int(batch_size)
    parts = [np.asarray(encode_fn(tf.constant(waves[start:start + batch_size])))
             for start in range(0, waves.shape[0], batch_size)]
    return np.concatenate(parts, axis=0)
