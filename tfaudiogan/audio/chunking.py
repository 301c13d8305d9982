"""Translate spectrograms of any length in fixed-size, cross-faded chunks.

A CycleGAN generator uses instance normalisation, whose statistics depend on the input width,
so long inputs are cut into chunks of the training crop width, translated in groups of at most
`max_chunks_per_call` chunks and overlap-added with trapezoid cross-fade weights
(reference/cyclegan.md section 3.1 "Long audio", check 11). Grouping bounds the generator's
activation memory by the group size instead of the input length; since every chunk is
normalised on its own, the result does not depend on the group size. All shapes may be dynamic
and only TFLite built-in ops are used (pad, gather, reshape, transpose, WHILE, concatenation,
overlap-add), so the functions can be exported.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import tensorflow as tf

from tfaudiogan.audio.representations import CycleGANSpectrogram
from tfaudiogan.audio.spectral import overlap_add_window

__all__ = ["DEFAULT_MAX_CHUNKS_PER_CALL", "chunk_weights", "translate_frames",
           "translate_waveform"]

# Not a paper constant; chosen by measurement. 30 s at 25 kHz (31 chunks of 256x256) through
# the paper-size generator (ngf 64, 9 blocks) on a 2-core CPU, peak RSS of the process:
# all at once 2.4 GB in a tf.function and over 12 GB eagerly; 4 per call 1.1 GB / 3.0 GB;
# 1 per call 0.9 GB / 1.3 GB (0.7 GB of it is TensorFlow and the model). No measurable
# speed difference between the settings.
DEFAULT_MAX_CHUNKS_PER_CALL = 4


def _check_chunking(chunk_frames: int, overlap_frames: int) -> None:
    if isinstance(chunk_frames, bool) or not isinstance(chunk_frames, int | np.integer):
        raise ValueError(f"chunk_frames must be an integer, got {chunk_frames!r}")
    if isinstance(overlap_frames, bool) or not isinstance(overlap_frames, int | np.integer):
        raise ValueError(f"overlap_frames must be an integer, got {overlap_frames!r}")
    if chunk_frames <= 0 or chunk_frames % 4:
        # The ResNet generator downsamples twice by 2 (reference/cyclegan.md check 2).
        raise ValueError(f"chunk_frames must be a positive multiple of 4, got {chunk_frames}")
    if not 0 <= overlap_frames < chunk_frames:
        raise ValueError(
            f"overlap_frames must satisfy 0 <= overlap < chunk_frames ({chunk_frames}), "
            f"got {overlap_frames}"
        )


def _check_group(max_chunks_per_call) -> int:
    """Validates `max_chunks_per_call`; returns it, 0 meaning "all chunks in one call"."""
    if max_chunks_per_call is None:
        return 0
    if isinstance(max_chunks_per_call, bool) or not isinstance(
        max_chunks_per_call, int | np.integer
    ):
        raise ValueError(
            f"max_chunks_per_call must be a non-negative integer or None, "
            f"got {max_chunks_per_call!r}"
        )
    if max_chunks_per_call < 0:
        raise ValueError(
            f"max_chunks_per_call must be >= 0 (0 or None: all at once), got {max_chunks_per_call}"
        )
    return int(max_chunks_per_call)


def _run_in_groups(
    generator: Callable[[tf.Tensor], tf.Tensor], chunks: tf.Tensor, group: int
) -> tf.Tensor:
    """Applies `generator` to `chunks` `[n, freq, chunk, ch]`, `group` chunks per call.

    A `tf.while_loop` with `parallel_iterations=1` (so only one group's activations are alive
    at a time) appends each flattened group result to a rank-1 accumulator with a
    concatenation. This avoids TensorArray, whose TFLite lowering needs a static element shape,
    and needs no output channel count before the first call.

    Returns:
        float32 `[n, freq, chunk, out_ch]`.
    """
    total = tf.shape(chunks)[0]
    out_channels = []  # static output channels, recorded when the loop body is traced

    def body(start, flat):
        out = tf.convert_to_tensor(generator(chunks[start : start + group]), tf.float32)
        out_channels.append(out.shape[-1])
        return start + group, tf.concat([flat, tf.reshape(out, [-1])], axis=0)

    _, flat = tf.while_loop(
        lambda start, _: start < total,
        body,
        [tf.constant(0), tf.zeros([0], tf.float32)],
        shape_invariants=[tf.TensorShape([]), tf.TensorShape([None])],
        parallel_iterations=1,
    )
    shape = tf.shape(chunks)
    if out_channels and out_channels[0] is not None:
        channels = out_channels[0]
    else:  # unknown statically: infer from the size, or keep the input's when there is none
        channels = tf.where(tf.size(flat) > 0, -1, shape[3])
    return tf.reshape(flat, tf.stack([shape[0], shape[1], shape[2], channels]))


def chunk_weights(chunk_frames: int, overlap_frames: int) -> np.ndarray:
    """Trapezoid cross-fade weights `[chunk_frames]`, strictly positive.

    A box of `step = chunk_frames - overlap_frames` ones convolved with a box of
    `overlap_frames + 1` entries of `1 / (overlap_frames + 1)`. Copies shifted by `step` sum to
    exactly 1 wherever `overlap_frames` or more frames from the ends. For
    `overlap_frames <= chunk_frames / 2` this is the plain trapezoid: ramps
    `(j + 1) / (overlap + 1)` over the first and last `overlap_frames` entries, 1 in between.

    Raises:
        ValueError: on invalid chunk/overlap sizes (see :func:`translate_frames`).
    """
    _check_chunking(chunk_frames, overlap_frames)
    step = chunk_frames - overlap_frames
    kernel = np.full(overlap_frames + 1, 1.0 / (overlap_frames + 1))
    return np.convolve(np.ones(step), kernel).astype(np.float32)


def translate_frames(
    spec,
    generator: Callable[[tf.Tensor], tf.Tensor],
    chunk_frames: int,
    overlap_frames: int,
    pad_value: float = -1.0,
    max_chunks_per_call: int | None = DEFAULT_MAX_CHUNKS_PER_CALL,
) -> tf.Tensor:
    """Runs `generator` on overlapping fixed-width chunks and cross-fades the results.

    The time axis is padded with `pad_value` (-1 is silence in the [-1, 1] image) to
    `(n_chunks - 1) * step + chunk_frames` frames, `step = chunk_frames - overlap_frames`,
    the chunks are gathered into `[batch * n_chunks, freq, chunk_frames, ch]` (batch-major),
    translated `max_chunks_per_call` at a time, weighted by :func:`chunk_weights`,
    overlap-added, divided by the summed weights and cropped back. An identity generator
    therefore returns the input exactly (to rounding). The generator must treat the chunks of
    a call independently (per-example instance norm does); then the result does not depend on
    `max_chunks_per_call`, up to float32 rounding where conv kernels pick a batch-size dependent
    algorithm (about 1e-5 seen for the paper-size generator at 1 vs 31 chunks per call).

    Args:
        spec: float `[batch, freq, frames, ch]`; any number of frames (>= 1), dynamic shapes ok.
        generator: maps `[n, freq, chunk_frames, ch]` to the same shape (e.g. a keras.Model).
        chunk_frames: chunk width, a positive multiple of 4 (the training crop width).
        overlap_frames: frames shared by neighbouring chunks, `0 <= overlap < chunk_frames`.
        pad_value: value for padded frames.
        max_chunks_per_call: most chunks passed to one `generator` call; peak memory grows
            with it, not with the input length. `None` or 0 runs all chunks in one call
            (memory proportional to the input length).

    Returns:
        float32 `[batch, freq, frames, out_ch]` (`out_ch == ch` for an image-to-image model).

    Raises:
        ValueError: invalid `chunk_frames` / `overlap_frames` / `max_chunks_per_call`.
    """
    weights_np = chunk_weights(chunk_frames, overlap_frames)
    group = _check_group(max_chunks_per_call)
    step = chunk_frames - overlap_frames
    spec = tf.convert_to_tensor(spec, tf.float32)
    shape = tf.shape(spec)
    batch, freq, frames = shape[0], shape[1], shape[2]

    n_chunks = 1 + tf.maximum(0, (frames - chunk_frames + step - 1) // step)  # ceil division
    padded_frames = (n_chunks - 1) * step + chunk_frames
    padded = tf.pad(
        spec,
        [[0, 0], [0, 0], [0, padded_frames - frames], [0, 0]],
        constant_values=pad_value,
    )
    index = tf.range(n_chunks)[:, tf.newaxis] * step + tf.range(chunk_frames)[tf.newaxis, :]
    chunks = tf.gather(padded, index, axis=2)  # [batch, freq, n_chunks, chunk, ch]
    chunks = tf.transpose(chunks, [0, 2, 1, 3, 4])  # [batch, n_chunks, freq, chunk, ch]
    channels = spec.shape[-1] if spec.shape[-1] is not None else shape[3]
    chunks = tf.reshape(chunks, tf.stack([batch * n_chunks, freq, chunk_frames, channels]))

    if group:
        out = _run_in_groups(generator, chunks, group)
    else:
        out = tf.convert_to_tensor(generator(chunks), tf.float32)
    out_channels = out.shape[-1] if out.shape[-1] is not None else tf.shape(out)[-1]
    out = tf.reshape(out, tf.stack([batch, n_chunks, freq, chunk_frames, out_channels]))

    weights = tf.constant(weights_np)
    out = out * weights[:, tf.newaxis]  # broadcast over [..., chunk, ch]
    out = tf.transpose(out, [0, 2, 4, 1, 3])  # [batch, freq, ch, n_chunks, chunk]
    summed = tf.signal.overlap_and_add(out, step)  # [batch, freq, ch, padded_frames]
    norm = overlap_add_window(weights, n_chunks, step)  # [padded_frames], > 0 everywhere
    result = tf.transpose(summed / norm, [0, 1, 3, 2])  # [batch, freq, padded_frames, ch]
    return result[:, :, :frames, :]


def translate_waveform(
    waveform,
    generator: Callable[[tf.Tensor], tf.Tensor],
    representation: CycleGANSpectrogram,
    chunk_frames: int,
    overlap_frames: int,
    max_chunks_per_call: int | None = DEFAULT_MAX_CHUNKS_PER_CALL,
) -> tf.Tensor:
    """Translates audio of any length: encode -> chunked generator -> decode with input phase.

    Args:
        waveform: float `[batch, samples]` in [-1, 1], at least one STFT frame long.
        generator: image-to-image model on `[n, freq, chunk_frames, 1]`.
        representation: the spectrogram the generator was trained on.
        chunk_frames: chunk width (the training crop width), a multiple of 4.
        overlap_frames: cross-fade length in frames.
        max_chunks_per_call: most chunks per generator call (see :func:`translate_frames`);
            bounds peak memory. `None` or 0: all chunks in one call.

    Returns:
        float32 `[batch, samples]`, the same length as the input.
    """
    waveform = tf.convert_to_tensor(waveform, tf.float32)
    spec, phase = representation.encode(waveform)
    translated = translate_frames(
        spec,
        generator,
        chunk_frames,
        overlap_frames,
        pad_value=-1.0,
        max_chunks_per_call=max_chunks_per_call,
    )
    return representation.decode(translated, phase, tf.shape(waveform)[1])
