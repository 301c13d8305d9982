"""Harmonic (additive) synthesis: `harmonic_synthesis` and the `Harmonic` Keras layer.

Follows magenta/ddsp `core.harmonic_synthesis` / `synths.Harmonic` (reference/ddsp.md 1.4):
harmonic k has frequency `k f0 (1 + shift_k)` and amplitude `amplitude * distribution_k`
(no renormalisation inside `harmonic_synthesis`); frequencies are resampled 'linear', amplitudes
with `amp_resample_method` (default 'window'); the oscillators use DDSP's inclusive cumulative
phase. The layer applies `exp_sigmoid` to amplitudes and distribution and, by default,
:func:`normalize_harmonics` (harmonics at or above Nyquist removed, then divided by the sum).

Speed: without harmonic shifts, the K harmonics share the fundamental's cumulative phase
(:func:`~tfaudiogan.synths.core.harmonic_sines`, one `sin` over `[batch, samples, K]`), only the
harmonics that can be below Nyquist somewhere in the batch are computed, and frame-rate
amplitudes are applied with one batched matmul per frame instead of being upsampled to
`[batch, samples, K]` (the crossfade weights of the 'window' / 'linear' resampling are applied
after the matmul, which is exact because the interpolation is linear in the amplitudes).
Harmonic 1 is bit-identical to DDSP; harmonic k uses `k * phase_1` instead of its own float32
cumsum: equal in exact arithmetic, and both carry the float32 accumulation drift that
reference/ddsp.md 1.4 measures for DDSP (0.16 amplitude error after 1 s at 440 Hz), so the two
agree to 1e-3 over the first ~300 samples and then diverge like any two float32 orderings.
`harmonic_shifts` use DDSP's per-sinusoid oscillator bank.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from tfaudiogan.synths import core

__all__ = ["Harmonic", "check_frames", "get_harmonic_frequencies", "harmonic_synthesis",
           "normalize_harmonics"]


def check_frames(**controls) -> None:
    """Raises ValueError when controls `[batch, frames, ...]` disagree on a static frame count.

    Args:
        **controls: name -> tensor (None entries are skipped).

    Raises:
        ValueError: naming every control with its shape, e.g.
            "amplitudes (2, 250, 1) vs f0_hz (2, 200, 1)".
    """
    shapes = {name: tf.convert_to_tensor(value).shape for name, value in controls.items()
              if value is not None}
    frames = {name: s[1] for name, s in shapes.items() if s.rank is not None and s.rank >= 2}
    known = {f for f in frames.values() if f is not None}
    if len(known) > 1:
        listing = " vs ".join(f"{name} {tuple(shapes[name])}" for name in frames)
        raise ValueError(f"controls must have the same number of frames (axis 1): {listing}")


def get_harmonic_frequencies(frequencies, n_harmonics: int) -> tf.Tensor:
    """`f0 * [1, 2, ..., K]`: `[batch, frames, 1]` -> `[batch, frames, K]`."""
    frequencies = tf.cast(frequencies, tf.float32)
    return frequencies * tf.range(1, n_harmonics + 1, dtype=tf.float32)


def normalize_harmonics(harmonic_distribution, f0_hz=None, sample_rate: float = 16000):
    """Removes harmonics at or above Nyquist (if `f0_hz` is given), then normalises to sum 1.

    The Nyquist test uses the frame-rate frequencies `k * f0`, as DDSP does. A distribution
    whose sum is 0 (e.g. every harmonic above Nyquist) gives zeros, not NaN (DDSP divides by
    1e-7 instead, which is also 0 for non-negative distributions).

    Args:
        harmonic_distribution: `[batch, frames, K]`.
        f0_hz: `[batch, frames, 1]` or None.
        sample_rate: samples per second.

    Returns:
        `[batch, frames, K]`; f0 = 3000 Hz with 4 equal harmonics at 16 kHz gives
        `[.5, .5, 0, 0]`.
    """
    dist = tf.cast(harmonic_distribution, tf.float32)
    if f0_hz is not None:
        freqs = get_harmonic_frequencies(f0_hz, dist.shape[-1])
        dist = core.remove_above_nyquist(freqs, dist, sample_rate)
    total = tf.reduce_sum(dist, axis=-1, keepdims=True)
    zero = tf.equal(total, 0.0)
    return tf.where(zero, 0.0, dist / tf.where(zero, 1.0, total))


def _frame_mix(sines: tf.Tensor, amplitudes: tf.Tensor, weights_next: np.ndarray) -> tf.Tensor:
    """`sum_k a_k(t) s_k(t)` with `a(t)` crossfaded between frame values (no upsampled `a`).

    Args:
        sines: `[batch, frames * hop, K]`.
        amplitudes: `[batch, frames, K]` frame values (the last one is held).
        weights_next: `[hop]` crossfade weight of the next frame.

    Returns:
        `[batch, frames * hop]`.
    """
    batch, n_frames = tf.shape(amplitudes)[0], tf.shape(amplitudes)[1]
    hop = len(weights_next)
    nxt = tf.concat([amplitudes[:, 1:, :], amplitudes[:, -1:, :]], axis=1)
    pair = tf.stack([amplitudes, nxt], axis=-1)  # [B, F, K, 2]
    blocks = tf.reshape(sines, tf.stack([batch, n_frames, hop, tf.shape(sines)[-1]]))
    mixed = tf.matmul(blocks, pair)  # [B, F, hop, 2]
    w1 = tf.constant(weights_next.astype(np.float32))
    audio = mixed[..., 0] + (mixed[..., 1] - mixed[..., 0]) * w1
    return tf.reshape(audio, tf.stack([batch, n_frames * hop]))


def _crossfade_weights(method: str, hop: int) -> np.ndarray | None:
    r = np.arange(hop) / hop
    if method == "window":
        return 0.5 - 0.5 * np.cos(np.pi * r)
    if method == "linear":
        return r
    return None


def harmonic_synthesis(frequencies, amplitudes, harmonic_shifts=None,
                       harmonic_distribution=None, n_samples: int = 64000,
                       sample_rate: float = 16000, amp_resample_method: str = "window",
                       skip_inaudible: bool = True) -> tf.Tensor:
    """Renders frame-wise harmonic controls to audio.

    Args:
        frequencies: `[batch, frames, 1]` fundamental in Hz.
        amplitudes: `[batch, frames, 1]` overall amplitude (already scaled).
        harmonic_shifts: optional `[batch, frames, K]` relative detuning of each harmonic.
        harmonic_distribution: optional `[batch, frames, K]` (already scaled/normalised).
        n_samples: output samples.
        sample_rate: samples per second.
        amp_resample_method: 'window' (DDSP default), 'linear', 'nearest' or 'cubic'.
        skip_inaudible: compute only the leading harmonics that are below Nyquist somewhere
            in the batch (exact; a data-dependent shape, so not for XLA-compiled graphs).

    Returns:
        `[batch, n_samples]` audio.

    Raises:
        ValueError: the controls disagree on the number of frames.
    """
    check_frames(frequencies=frequencies, amplitudes=amplitudes,
                 harmonic_distribution=harmonic_distribution, harmonic_shifts=harmonic_shifts)
    frequencies = tf.cast(frequencies, tf.float32)
    amplitudes = tf.cast(amplitudes, tf.float32)
    if harmonic_distribution is not None:
        harmonic_distribution = tf.cast(harmonic_distribution, tf.float32)
        harmonic_amplitudes = amplitudes * harmonic_distribution
    else:
        harmonic_amplitudes = amplitudes
    if harmonic_shifts is not None:
        harmonic_shifts = tf.cast(harmonic_shifts, tf.float32)
        n_harmonics = harmonic_shifts.shape[-1]
        if harmonic_distribution is None:
            harmonic_amplitudes = harmonic_amplitudes * tf.ones_like(harmonic_shifts)
    else:
        n_harmonics = harmonic_amplitudes.shape[-1]

    if harmonic_shifts is not None:  # general path: one cumulative phase per sinusoid
        harmonic_frequencies = (get_harmonic_frequencies(frequencies, n_harmonics)
                                * (1.0 + harmonic_shifts))
        frequency_envelopes = core.resample(harmonic_frequencies, n_samples)
        amplitude_envelopes = core.resample(harmonic_amplitudes, n_samples,
                                            method=amp_resample_method)
        return core.oscillator_bank(frequency_envelopes, amplitude_envelopes, sample_rate)

    f0_envelope = core.resample(frequencies, n_samples)[:, :, 0]  # [B, T]
    count = None
    if skip_inaudible:
        count = core.audible_harmonics(f0_envelope, n_harmonics, sample_rate)
        harmonic_amplitudes = harmonic_amplitudes[:, :, :count]
    sines = core.harmonic_sines(f0_envelope, n_harmonics, sample_rate, max_harmonics=count)
    n_frames = harmonic_amplitudes.shape[1]
    weights = None
    if n_frames is not None and n_samples % n_frames == 0:
        weights = _crossfade_weights(amp_resample_method, n_samples // n_frames)
    if weights is not None:
        return _frame_mix(sines, harmonic_amplitudes, weights)
    amplitude_envelopes = core.resample(harmonic_amplitudes, n_samples,
                                        method=amp_resample_method)
    return tf.reduce_sum(amplitude_envelopes * sines, axis=-1)


def resolve_scale_fn(scale_fn):
    """`'exp_sigmoid'` -> :func:`core.exp_sigmoid`; None stays None; callables pass through."""
    if isinstance(scale_fn, str):
        if scale_fn != "exp_sigmoid":
            raise ValueError(f"unknown scale_fn {scale_fn!r}; use 'exp_sigmoid', None or a "
                             "callable")
        return core.exp_sigmoid
    return scale_fn


@keras.saving.register_keras_serializable(package="tfaudiogan")
class Harmonic(keras.layers.Layer):
    """DDSP harmonic synthesizer as a processor: `get_controls` then `get_signal`.

    Args:
        n_samples: output samples (DDSP default 64000 = 4 s at 16 kHz).
        sample_rate: samples per second (DDSP default 16000).
        scale_fn: 'exp_sigmoid' (DDSP default), None, or a callable applied to the amplitude
            and distribution logits.
        normalize_below_nyquist: remove harmonics at or above Nyquist and normalise the
            distribution (DDSP default True).
        amp_resample_method: amplitude resampling, 'window' (DDSP default) or 'linear', ...
        skip_inaudible: see :func:`harmonic_synthesis`; True also sets `supports_jit = False`
            so Keras' automatic XLA compilation stays off (the harmonic count is dynamic).

    Call arguments (DDSP order):
        amplitudes: `[batch, frames, 1]` logits.
        harmonic_distribution: `[batch, frames, K]` logits.
        f0_hz: `[batch, frames, 1]` in Hz.

    Returns:
        `[batch, n_samples]` audio. Zero logits give amplitude 0.4053992 and distribution 1/K.
    """

    def __init__(self, n_samples: int = 64000, sample_rate: int = 16000,
                 scale_fn="exp_sigmoid", normalize_below_nyquist: bool = True,
                 amp_resample_method: str = "window", skip_inaudible: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.skip_inaudible = bool(skip_inaudible)
        self.supports_jit = not self.skip_inaudible
        self.n_samples = int(n_samples)
        self.sample_rate = int(sample_rate)
        self.scale_fn = scale_fn
        self._scale = resolve_scale_fn(scale_fn)
        self.normalize_below_nyquist = bool(normalize_below_nyquist)
        self.amp_resample_method = amp_resample_method

    def get_controls(self, amplitudes, harmonic_distribution, f0_hz) -> dict[str, tf.Tensor]:
        """Scales the logits; returns `{amplitudes, harmonic_distribution, f0_hz}`."""
        check_frames(amplitudes=amplitudes, harmonic_distribution=harmonic_distribution,
                     f0_hz=f0_hz)
        if self._scale is not None:
            amplitudes = self._scale(amplitudes)
            harmonic_distribution = self._scale(harmonic_distribution)
        if self.normalize_below_nyquist:
            harmonic_distribution = normalize_harmonics(harmonic_distribution, f0_hz,
                                                        self.sample_rate)
        return {"amplitudes": amplitudes, "harmonic_distribution": harmonic_distribution,
                "f0_hz": f0_hz}

    def get_signal(self, amplitudes, harmonic_distribution, f0_hz) -> tf.Tensor:
        """Renders scaled controls (see :func:`harmonic_synthesis`) -> `[batch, n_samples]`."""
        return harmonic_synthesis(f0_hz, amplitudes, harmonic_distribution=harmonic_distribution,
                                  n_samples=self.n_samples, sample_rate=self.sample_rate,
                                  amp_resample_method=self.amp_resample_method,
                                  skip_inaudible=self.skip_inaudible)

    def call(self, amplitudes, harmonic_distribution, f0_hz):
        return self.get_signal(**self.get_controls(amplitudes, harmonic_distribution, f0_hz))

    def compute_output_shape(self, amplitudes_shape, *args, **kwargs):
        return (amplitudes_shape[0], self.n_samples)

    def get_config(self):
        if callable(self.scale_fn):
            raise ValueError("a Harmonic with a custom scale_fn callable cannot be serialised")
        return {**super().get_config(), "n_samples": self.n_samples,
                "sample_rate": self.sample_rate, "scale_fn": self.scale_fn,
                "normalize_below_nyquist": self.normalize_below_nyquist,
                "amp_resample_method": self.amp_resample_method,
                "skip_inaudible": self.skip_inaudible}
