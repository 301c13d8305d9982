"""tf.data pipelines: shared helpers, and fixed-size spectrogram crops for the CycleGAN families.

Every family's training stream follows the same rules (issue 9: keep an accelerator fed):
vectorised transforms run on whole batches in a parallel ``map`` after ``batch``; maps use
``num_parallel_calls=AUTOTUNE`` with ``deterministic=True``, so a seeded stream (shuffle seed,
stateless random crops) is element for element the same as the sequential one, which exact
resumption relies on; decoded audio is cached in memory when it fits
(:func:`cache_if_fits`); every stream ends in ``prefetch(AUTOTUNE)``.

CycleGAN crops: every clip is encoded once, up front, with the representation (e.g.
:class:`tfaudiogan.audio.representations.CycleGANSpectrogram`), and the spectrograms are kept
in memory as one float32 array ``[n, freq, frames, 1]``. The training stream then shuffles
(data/order.py), repeats and takes a random ``crop_frames``-wide time crop per example; the evaluation stream
takes deterministic centre crops once. Crops must have a fixed size because the CycleGAN
image pool and the compiled train step need a static image shape (reference/cyclegan.md 2.4).

Memory: ``n * freq * frames * 4`` bytes, e.g. 1,200 IRMAS clips of 3 s at 25 kHz (256 x 586)
take about 0.7 GB. The array becomes one constant tensor of the dataset, which TensorFlow
limits to 2 GB.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from tfaudiogan.audio.batching import encode_in_batches
from tfaudiogan.data.order import shuffled_examples

__all__ = ["MEMORY_CACHE_BYTES", "PAD_VALUE", "cache_if_fits", "encode_spectrograms",
           "spectrogram_crops", "unaligned_pairs"]

PAD_VALUE = -1.0  # silence in the [-1, 1] normalised magnitude domain
# [chosen] Decoded examples are cached in memory up to this size (the NSynth GANSynth train
# subset, 60,788 notes x 256 kB = 15.6 GB, is read from its files every epoch instead).
MEMORY_CACHE_BYTES = 4 * 2**30


def cache_if_fits(ds: tf.data.Dataset, num_examples: int, bytes_per_example: int,
                  limit: int = MEMORY_CACHE_BYTES, log=None) -> tf.data.Dataset:
    """``ds.cache()`` (in memory) when ``num_examples * bytes_per_example <= limit``, else ``ds``.

    Put it before the shuffle: the cache replays the same elements in the same order, so the
    seeded stream is unchanged; only the first pass decodes.

    Args:
        ds: a finite dataset of decoded examples.
        num_examples: how many elements ``ds`` yields.
        bytes_per_example: their size in memory.
        limit: the largest cache, in bytes.
        log: optional logger for one line saying which was chosen.
    """
    size = int(num_examples) * int(bytes_per_example)
    fits = size <= limit
    if log is not None:
        log.info("input pipeline: %d examples (%.2f GB decoded) %s", num_examples, size / 1e9,
                 "cached in memory" if fits else f"read every epoch (cache limit "
                 f"{limit / 1e9:.1f} GB)")
    return ds.cache() if fits else ds


def encode_spectrograms(waveforms: np.ndarray, representation, batch_size: int = 16) -> np.ndarray:
    """Encode clips in batches (:func:`tfaudiogan.audio.batching.encode_in_batches`) and keep
    only the normalised magnitudes.

    Args:
        waveforms: ``[n, samples]`` float array.
        representation: object with ``encode(waveform [batch, samples]) -> (spec
            [batch, freq, frames, 1], phase)``.
        batch_size: clips per ``encode`` call (bounds the memory of the STFT).

    Returns:
        float32 ``[n, freq, frames, 1]`` NumPy array.
    """
    waveforms = np.asarray(waveforms, np.float32)
    if waveforms.ndim != 2 or waveforms.shape[0] == 0:
        raise ValueError(f"waveforms must be a non-empty [n, samples] array, got {waveforms.shape}")
    specs = np.asarray(encode_in_batches(lambda waves: representation.encode(waves)[0],
                                         waveforms, batch_size), np.float32)
    if specs.ndim != 4 or specs.shape[-1] != 1:
        raise ValueError(f"representation.encode must return [batch, freq, frames, 1], got "
                         f"{specs.shape}")
    return specs


def _pad_frames(specs: np.ndarray, crop_frames: int) -> np.ndarray:
    """Pad the time axis (axis 2) at the end with PAD_VALUE up to ``crop_frames``."""
    short = crop_frames - specs.shape[2]
    if short <= 0:
        return specs
    return np.pad(specs, ((0, 0), (0, 0), (0, short), (0, 0)), constant_values=PAD_VALUE)


def spectrogram_crops(
    waveforms: np.ndarray,
    representation,
    crop_frames: int,
    batch_size: int,
    seed: int = 0,
    training: bool = True,
    encode_batch_size: int = 16,
) -> tf.data.Dataset:
    """A dataset of fixed-width spectrogram crops.

    Clips with fewer than ``crop_frames`` frames are padded at the end with -1 (silence).

    * ``training=True``: every clip once per pass, each pass in a fresh seeded order
      (:func:`tfaudiogan.data.order.shuffled_examples`), forever, one random crop per example (offset uniform over all valid offsets, drawn with
      ``tf.random.stateless_uniform`` seeded by ``(seed, example index)``), batch with
      ``drop_remainder=True``, prefetch. The same seed gives the same stream.
    * ``training=False``: the centre crop of every clip (offset ``(frames - crop_frames) // 2``),
      in order, one pass, last batch possibly smaller.

    Args:
        waveforms: ``[n, samples]`` float array.
        representation: see :func:`encode_spectrograms`.
        crop_frames: crop width in frames.
        batch_size: examples per batch.
        seed: shuffle and crop seed.
        training: training or evaluation stream (see above).
        encode_batch_size: clips per ``representation.encode`` call.

    Returns:
        Dataset of float32 ``[batch, freq, crop_frames, 1]``.
    """
    if crop_frames < 1 or batch_size < 1:
        raise ValueError(f"crop_frames and batch_size must be >= 1, got {crop_frames}, "
                         f"{batch_size}")
    specs = _pad_frames(encode_spectrograms(waveforms, representation, encode_batch_size),
                        crop_frames)
    n, freq, frames, _ = specs.shape
    if not training:
        offset = (frames - crop_frames) // 2
        centre = np.ascontiguousarray(specs[:, :, offset:offset + crop_frames])
        ds = tf.data.Dataset.from_tensor_slices(centre).batch(batch_size)
        return ds.prefetch(tf.data.AUTOTUNE)

    max_offset = frames - crop_frames  # inclusive

    def crop(index, spec):
        offset = tf.random.stateless_uniform(
            [], seed=tf.stack([tf.cast(seed, tf.int64), index]), minval=0,
            maxval=max_offset + 1, dtype=tf.int64,
        )
        out = spec[:, offset:offset + crop_frames, :]
        return tf.ensure_shape(out, [freq, crop_frames, 1])

    ds = shuffled_examples(specs, seed).enumerate().map(crop, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    ds = ds.batch(batch_size, drop_remainder=True)
    return ds.prefetch(tf.data.AUTOTUNE)


def unaligned_pairs(ds_a: tf.data.Dataset, ds_b: tf.data.Dataset) -> tf.data.Dataset:
    """Zip two independently shuffled streams into unpaired ``(a, b)`` batches.

    Give the two :func:`spectrogram_crops` calls different seeds, so the pairing changes from
    epoch to epoch and carries no correspondence.

    Args:
        ds_a: batches of domain A, ``[batch, freq, frames, 1]``.
        ds_b: batches of domain B, same shape.

    Returns:
        Dataset of ``(a, b)`` tuples; it ends when the shorter input ends (never, for two
        training streams).
    """
    return tf.data.Dataset.zip((ds_a, ds_b)).prefetch(tf.data.AUTOTUNE)
