"""Frequency-sampling FIR filters, time-varying block convolution, and `FilteredNoise`.

Semantics of magenta/ddsp `core.frequency_impulse_response`, `core.fft_convolve`,
`core.frequency_filter` and `synths.FilteredNoise` (reference/ddsp.md 1.5):

* N magnitude bins (DC ... Nyquist, zero phase) give `2 (N - 1)` taps via an inverse real DFT,
  multiplied by a Hann window of `window_size` taps (clipped to the tap count; built like
  `tf.signal.hann_window`, which is symmetric for odd lengths) in zero-phase position, then
  rotated to causal form. 65 bins give 128 taps with a flat-response peak at index 64;
  513 bins with a 257-tap window give 257 taps (an even window W < taps gives W - 1 taps).
* `fft_convolve` cuts the audio into as many equal blocks (ceil(T / F), end-padded) as there
  are IR frames F, convolves block f with IR f, overlap-adds with hop = block, and crops
  `(L - 1) // 2 - 1` samples at the start (auto) or `delay_compensation`.
* `FilteredNoise`: magnitudes = exp_sigmoid(logits - 5), signal = frequency_filter of
  U(-1, 1) noise drawn fresh on every call, one independent row per example
  (:func:`replica_uniform_noise`: under `tf.distribute` each replica keeps its rows of one
  draw over the global batch, so a distributed step sees the noise of the single-device step).

TFLite: `use_fft=True` uses RFFT/IRFFT (IRFFT is not a TFLite builtin). `use_fft=False`
computes the same taps with one precomputed matrix and the block convolution with real
matmul DFTs of size `block + L - 1` (the pattern of `audio.spectral.DFTSTFT`), built-in ops
only; both paths agree to float32 rounding.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from tfaudiogan.synths.harmonic import resolve_scale_fn

__all__ = ["FilteredNoise", "fft_convolve", "frequency_filter", "frequency_impulse_response",
           "impulse_response_layout", "real_dft_bases", "replica_uniform_noise"]


def _tf_hann(length: int) -> np.ndarray:
    """`tf.signal.hann_window(length)` in float64: periodic for even, symmetric for odd."""
    if length == 1:
        return np.ones(1)
    denom = length if length % 2 == 0 else length - 1
    return 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(length) / denom)


def impulse_response_layout(n_bins: int, window_size: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Where each causal tap comes from in the zero-phase IR, and its window value.

    Args:
        n_bins: magnitude bins N; the zero-phase IR has `2 (N - 1)` taps.
        window_size: Hann window taps; <= 0 or larger than the IR means the full IR.

    Returns:
        `(index, window)`, each `[taps]`: causal tap j equals `window[j] * ir[index[j]]`.
    """
    ir_size = 2 * (int(n_bins) - 1)
    if ir_size < 2:
        raise ValueError(f"need at least 2 magnitude bins, got {n_bins}")
    if window_size <= 0 or window_size > ir_size:
        window_size = ir_size
    window = _tf_hann(window_size)
    padding = ir_size - window_size
    if padding > 0:
        half = (window_size + 1) // 2
        zero_phase_window = np.concatenate([window[half:], np.zeros(padding), window[:half]])
        # Causal form keeps the last `half - 2` and the first `half + 1` zero-phase taps.
        index = np.concatenate([np.arange(ir_size - half + 2, ir_size), np.arange(half + 1)])
    else:
        zero_phase_window = np.roll(window, -(window_size // 2))  # fftshift to zero phase
        index = (np.arange(ir_size) - ir_size // 2) % ir_size  # fftshift to causal form
    return index, zero_phase_window[index]


def _design_matrix(n_bins: int, window_size: int) -> np.ndarray:
    """`[N, taps]` float64 matrix: magnitudes @ matrix = windowed causal IR (inverse real DFT)."""
    index, window = impulse_response_layout(n_bins, window_size)
    ir_size = 2 * (n_bins - 1)
    weight = np.full(n_bins, 2.0)
    weight[0] = weight[-1] = 1.0  # DC and Nyquist appear once in the full spectrum
    angle = 2.0 * np.pi * (np.outer(np.arange(n_bins), index) % ir_size) / ir_size
    return weight[:, None] * np.cos(angle) / ir_size * window[None, :]


def frequency_impulse_response(magnitudes, window_size: int = 0,
                               use_fft: bool = True) -> tf.Tensor:
    """Windowed linear-phase FIR taps from zero-phase magnitude responses.

    Args:
        magnitudes: `[..., N]` magnitudes at `k * (sr / 2) / (N - 1)`, k = 0..N-1.
        window_size: Hann window taps (see :func:`impulse_response_layout`).
        use_fft: IRFFT (not a TFLite builtin) or one matmul.

    Returns:
        `[..., taps]` causal impulse responses.
    """
    magnitudes = tf.cast(magnitudes, tf.float32)
    n_bins = magnitudes.shape[-1]
    if not use_fft:
        matrix = tf.constant(_design_matrix(n_bins, window_size).astype(np.float32))
        return tf.tensordot(magnitudes, matrix, axes=1)
    index, window = impulse_response_layout(n_bins, window_size)
    zero_phase = tf.signal.irfft(tf.complex(magnitudes, tf.zeros_like(magnitudes)))
    taps = tf.gather(zero_phase, index.astype(np.int32), axis=-1)
    return taps * tf.constant(window.astype(np.float32))


def _next_pow2(n: int) -> int:
    return 1 << (int(n) - 1).bit_length()


def _frame_audio(audio: tf.Tensor, n_frames: int) -> tuple[tf.Tensor, int]:
    """Splits `[batch, T]` into `[batch, n_frames, ceil(T / n_frames)]` (end-padded)."""
    n_samples = audio.shape[-1]
    if n_samples is None:
        raise ValueError("the audio length must be static")
    block = -(-int(n_samples) // int(n_frames))
    frames = tf.signal.frame(audio, block, block, pad_end=True)
    if frames.shape[1] != n_frames:
        raise ValueError(f"audio of {n_samples} samples cannot be cut into {n_frames} equal "
                         f"blocks (block {block} gives {frames.shape[1]}); use a frame count "
                         "that divides the audio length")
    return frames, block


def _crop(audio: tf.Tensor, n_samples: int, ir_size: int, padding: str,
          delay_compensation: int) -> tf.Tensor:
    """Crops an overlap-added convolution `[batch, total]` to 'same' or 'valid' length."""
    if padding == "same":
        size = n_samples
    elif padding == "valid":
        size = n_samples + ir_size - 1
    else:
        raise ValueError(f"padding must be 'same' or 'valid', got {padding!r}")
    start = (ir_size - 1) // 2 - 1 if delay_compensation < 0 else int(delay_compensation)
    deficit = start + size - audio.shape[-1]
    if deficit > 0:
        audio = tf.pad(audio, [[0, 0], [0, deficit]])
    return audio[:, start:start + size]


def real_dft_bases(in_size: int, n_fft: int) -> tuple[np.ndarray, np.ndarray]:
    """Forward `[in_size, 2 nb]` (cos | -sin) and inverse `[2 nb, n_fft]` real-DFT bases."""
    nb = n_fft // 2 + 1
    angle = 2.0 * np.pi * (np.outer(np.arange(in_size), np.arange(nb)) % n_fft) / n_fft
    forward = np.concatenate([np.cos(angle), -np.sin(angle)], axis=1)
    weight = np.full(nb, 2.0)
    weight[0] = 1.0
    if n_fft % 2 == 0:
        weight[-1] = 1.0
    inv_angle = 2.0 * np.pi * (np.outer(np.arange(nb), np.arange(n_fft)) % n_fft) / n_fft
    inverse = np.concatenate([weight[:, None] * np.cos(inv_angle),
                              -weight[:, None] * np.sin(inv_angle)], axis=0) / n_fft
    return forward, inverse


def _spectral_product(x: tf.Tensor, h: tf.Tensor, nb: int) -> tf.Tensor:
    """Complex product of `[..., 2 nb]` (real | imag) spectra -> `[..., 2 nb]`."""
    xr, xi = x[..., :nb], x[..., nb:]
    hr, hi = h[..., :nb], h[..., nb:]
    return tf.concat([xr * hr - xi * hi, xr * hi + xi * hr], axis=-1)


def _block_convolve(frames: tf.Tensor, block: int, ir_size: int, ir_spectrum_fn) -> tf.Tensor:
    """Per-block linear convolution with matmul DFTs of size `block + ir_size - 1`.

    Args:
        frames: `[batch, F, block]`.
        block: hop of the overlap-add.
        ir_size: taps L.
        ir_spectrum_fn: `forward_basis_for_taps [L, 2 nb] -> [batch|1, F|1, 2 nb]` IR spectra.

    Returns:
        `[batch, (F - 1) * block + block + L - 1]` overlap-added output.
    """
    n_fft = block + ir_size - 1
    nb = n_fft // 2 + 1
    forward, inverse = real_dft_bases(max(block, ir_size), n_fft)
    x = tf.tensordot(frames, tf.constant(forward[:block].astype(np.float32)), axes=1)
    h = ir_spectrum_fn(forward[:ir_size])
    y = tf.tensordot(_spectral_product(x, h, nb), tf.constant(inverse.astype(np.float32)), axes=1)
    return tf.signal.overlap_and_add(y, block)


def _ir_frames(impulse_response) -> tf.Tensor:
    ir = tf.cast(impulse_response, tf.float32)
    if ir.shape.rank == 1:
        return ir[tf.newaxis, tf.newaxis, :]
    if ir.shape.rank == 2:
        return tf.expand_dims(ir, 1)
    if ir.shape.rank == 3:
        return ir
    raise ValueError(f"impulse_response must be [taps], [batch, taps] or [batch, frames, taps], "
                     f"got shape {ir.shape}")


def fft_convolve(audio, impulse_response, padding: str = "same", delay_compensation: int = -1,
                 use_fft: bool = True) -> tf.Tensor:
    """Time-varying FIR filtering by block convolution (DDSP `core.fft_convolve`).

    Args:
        audio: `[batch, samples]` (static length).
        impulse_response: `[batch, taps]` (one LTI filter), `[batch, frames, taps]` (frame f
            filters audio block f), or with batch 1 / no batch to share across the batch.
        padding: 'same' (output `samples`) or 'valid' (`samples + taps - 1`).
        delay_compensation: samples cropped at the start; < 0 means `(taps - 1) // 2 - 1`, the
            auto value for :func:`frequency_impulse_response` taps (a 128-tap flat response
            then delays by 2 samples, as in DDSP).
        use_fft: RFFT/IRFFT with FFT size the next power of 2 >= block + taps - 1; False uses
            matmul DFTs (TFLite builtins; cost grows with block * (block + taps), so use it for
            short blocks such as FilteredNoise's, not a 48000-tap reverb: see reverb.py).

    Returns:
        `[batch, samples]` ('same') or `[batch, samples + taps - 1]` ('valid').
    """
    audio = tf.cast(audio, tf.float32)
    ir = _ir_frames(impulse_response)
    n_frames, ir_size = ir.shape[1], ir.shape[2]
    frames, block = _frame_audio(audio, n_frames)
    if use_fft:
        n_fft = _next_pow2(block + ir_size - 1)
        spectrum = tf.signal.rfft(frames, [n_fft]) * tf.signal.rfft(ir, [n_fft])
        out = tf.signal.overlap_and_add(tf.signal.irfft(spectrum, [n_fft]), block)
    else:
        out = _block_convolve(frames, block, ir_size, lambda basis: tf.tensordot(
            ir, tf.constant(basis.astype(np.float32)), axes=1))
    return _crop(out, audio.shape[-1], ir_size, padding, delay_compensation)


def frequency_filter(audio, magnitudes, window_size: int = 0, padding: str = "same",
                     use_fft: bool = True) -> tf.Tensor:
    """Filters `[batch, samples]` audio with frame-wise magnitude responses `[batch, F, N]`.

    The F frames map onto F equal audio blocks (1000 frames on 64000 samples: 64-sample
    blocks). With `use_fft=False` the tap design and the DFT of the taps are folded into one
    precomputed `[N, 2 nb]` matrix, so the filter costs three matmuls per block.

    Returns:
        `[batch, samples]` for 'same' padding.
    """
    magnitudes = tf.cast(magnitudes, tf.float32)
    if magnitudes.shape.rank == 2:
        magnitudes = tf.expand_dims(magnitudes, 1)
    if use_fft:
        ir = frequency_impulse_response(magnitudes, window_size, use_fft=True)
        return fft_convolve(audio, ir, padding=padding, use_fft=True)
    audio = tf.cast(audio, tf.float32)
    design = _design_matrix(magnitudes.shape[-1], window_size)
    ir_size = design.shape[1]
    frames, block = _frame_audio(audio, magnitudes.shape[1])
    out = _block_convolve(frames, block, ir_size, lambda basis: tf.tensordot(
        magnitudes, tf.constant((design @ basis).astype(np.float32)), axes=1))
    return _crop(out, audio.shape[-1], ir_size, padding, -1)


def replica_uniform_noise(batch, n_samples: int, seed_generator) -> tf.Tensor:
    """Fresh U(-1, 1) noise `[batch, n_samples]`, this replica's rows of a global-batch draw.

    Every replica draws the same `[batch * replicas, n_samples]` tensor (the seed generator's
    state is mirrored) and keeps the rows of its slice of the global batch, so examples never
    share noise and a distributed step equals the single-device step on the same global batch.
    Without a strategy this is one `[batch, n_samples]` draw.

    Args:
        batch: local batch size (int or int32 scalar tensor).
        n_samples: samples per row.
        seed_generator: `keras.random.SeedGenerator` (advanced once per call).

    Returns:
        float32 `[batch, n_samples]`.
    """
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    context = tf.distribute.get_replica_context()
    replica = 0 if context is None else context.replica_id_in_sync_group
    batch = tf.cast(batch, tf.int32)
    full = keras.random.uniform(tf.stack([batch * replicas, n_samples]), -1.0, 1.0,
                                seed=seed_generator)
    start = tf.cast(replica, tf.int32) * batch
    return tf.reshape(full[start:start + batch], tf.stack([batch, n_samples]))


@keras.saving.register_keras_serializable(package="tfaudiogan")
class FilteredNoise(keras.layers.Layer):
    """DDSP filtered-noise synthesizer: U(-1, 1) noise through frame-wise FIR filters.

    Args:
        n_samples: output samples (DDSP default 64000).
        window_size: FIR window taps (DDSP default 257; clipped to `2 (bands - 1)`, so 65
            bands give 128 taps; DDSP's ae.gin sets 0 = full length, the same for 65 bands).
        scale_fn: 'exp_sigmoid' (DDSP default), None or a callable.
        initial_bias: added to the logits before `scale_fn` (DDSP default -5: zero logits give
            magnitudes 1.9793e-5, i.e. nearly silent noise at initialisation).
        use_fft: RFFT/IRFFT path (False: TFLite built-in ops only, same output).
        seed: seed of the layer's noise generator (keras.random.SeedGenerator).
        **kwargs: `keras.layers.Layer` arguments; ``dtype`` defaults to float32 (synthesis
            stays float32 under a mixed precision policy).

    Call arguments:
        magnitudes: `[batch, frames, bands]` logits.
        noise: optional `[batch, n_samples]` excitation (else fresh U(-1, 1) noise per call
            and example, :func:`replica_uniform_noise`); pass it for deterministic output and
            for TFLite (random ops are not built-ins).

    Returns:
        `[batch, n_samples]` audio.
    """

    def __init__(self, n_samples: int = 64000, window_size: int = 257,
                 scale_fn="exp_sigmoid", initial_bias: float = -5.0, use_fft: bool = True,
                 seed=None, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.n_samples = int(n_samples)
        self.window_size = int(window_size)
        self.scale_fn = scale_fn
        self._scale = resolve_scale_fn(scale_fn)
        self.initial_bias = float(initial_bias)
        self.use_fft = bool(use_fft)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def get_controls(self, magnitudes) -> dict[str, tf.Tensor]:
        """`{magnitudes: scale_fn(logits + initial_bias)}`."""
        magnitudes = tf.cast(magnitudes, tf.float32)
        if self._scale is not None:
            magnitudes = self._scale(magnitudes + self.initial_bias)
        return {"magnitudes": magnitudes}

    def get_signal(self, magnitudes, noise=None) -> tf.Tensor:
        """Filters `noise` (or fresh U(-1, 1) noise) with `magnitudes` `[batch, frames, bands]`."""
        if noise is None:
            noise = replica_uniform_noise(tf.shape(magnitudes)[0], self.n_samples,
                                          self.seed_generator)
        else:
            noise = tf.cast(noise, tf.float32)
            if noise.shape.rank != 2 or noise.shape[-1] not in (None, self.n_samples):
                raise ValueError(f"noise must be [batch, {self.n_samples}], got {noise.shape}")
        return frequency_filter(noise, magnitudes, self.window_size, use_fft=self.use_fft)

    def call(self, magnitudes, noise=None):
        return self.get_signal(**self.get_controls(magnitudes), noise=noise)

    def compute_output_shape(self, magnitudes_shape, *args, **kwargs):
        return (magnitudes_shape[0], self.n_samples)

    def get_config(self):
        if callable(self.scale_fn):
            raise ValueError("a FilteredNoise with a custom scale_fn cannot be serialised")
        return {**super().get_config(), "n_samples": self.n_samples,
                "window_size": self.window_size, "scale_fn": self.scale_fn,
                "initial_bias": self.initial_bias, "use_fft": self.use_fft, "seed": self.seed}
