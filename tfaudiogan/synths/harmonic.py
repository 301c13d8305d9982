"""Harmonic (additive) synthesis: `harmonic_synthesis` and the `Harmonic` Keras layer.

Follows magenta/ddsp `core.harmonic_synthesis` / `synths.Harmonic` (reference/ddsp.md 1.4):
harmonic k has frequency `k f0 (1 + shift_k)` and amplitude `amplitude * distribution_k`
(no renormalisation inside `harmonic_synthesis`); frequencies are resampled 'linear', amplitudes
with `amp_resample_method` (default 'window'); the oscillators use DDSP's inclusive cumulative
phase (accumulated accurately by default, see "Phase accuracy" below). The layer applies `exp_sigmoid` to amplitudes and distribution and, by default,
:func:`normalize_harmonics` (harmonics at or above Nyquist removed, then divided by the sum).

Speed: without harmonic shifts, the K harmonics share the fundamental's wrapped cumulative
phase p, only the harmonics that can be below Nyquist somewhere in the batch are computed, and
the frame-rate amplitudes are never upsampled to `[batch, samples, K]` (the 'window' / 'linear'
crossfade is linear in the amplitudes, so it is applied after summing). With equal-length
frames (the default), `sum_k a_k(t) sin(k p)` is evaluated by angle addition
(:func:`_decomposed_mix`): k = m G + j with |j| <= h ~ sqrt(K / 2), G = 2h + 1, so a sample
needs 2h + 1 + 2M sines (31 instead of 100 for K = 100) and two small matmuls per frame, and no
`[batch, samples, K]` tensor is built (2.5x less CPU time with 100 audible harmonics). The
Nyquist mask stays sample-exact: harmonics audible for a whole frame are masked at frame rate,
the few that cross a limit inside a frame get sample-wise masked sines (:func:`_harmonic_mix`).
The giant step G p and the edge angles k p are exact products wrapped to [0, 2 pi)
(:func:`core.wrap_multiple`) and the baby angles j p stay below 2 pi h, so each harmonic's
angle is within 1e-5 rad of `k p` (plain float32 `k p` rounds by up to 3e-5 rad at k = 100):
for amplitudes summing to 1.2 the sum is within 5e-7 of the float64 K-sine sum, 7x closer than
the one-sine-per-harmonic path (4e-6), which is still used for `skip_inaudible=False` and
unequal frames.
Harmonic k uses `k * phase_1` instead of its own cumsum (equal in exact arithmetic).
Phase accuracy (issue 10 item 16): DDSP's float32 cumsum drifts (reference/ddsp.md 1.4: 0.16
amplitude error after 1 s at 440 Hz) and `k * phase_1` multiplies the drift by k; over a 4 s
note with moving F0 and 100 harmonics that is 9.7 % (per-sinusoid cumsum) and 15.4 % (`k * phi`)
framewise STFT magnitude error against float64 at the end of the note. The default
`phase_accumulation="accurate"` (:func:`core.cumulative_cycles`: chunked sums plus exact,
wrapped offsets, in cycles) keeps the fundamental phase within 2e-7 cycles of float64 over any
length: 0.000 % STFT error and 2e-6 waveform error on the same note, at no extra cost
(experiments/ddsp_gan_nsynth.md, tools/ddsp_phase.py). `phase_accumulation="ddsp"` keeps
DDSP's float32 cumsum bit for bit (harmonic 1 then equals DDSP's oscillator; the others agree
to 1e-3 over the first ~300 samples and then diverge like any two float32 orderings).
`harmonic_shifts` use DDSP's per-sinusoid oscillator bank, with the same accumulation choice.
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


def _frame_mix(sines: tf.Tensor, amplitudes: tf.Tensor, weights_next: np.ndarray,
               nxt: tf.Tensor | None = None) -> tf.Tensor:
    """`sum_k a_k(t) s_k(t)` with `a(t)` crossfaded between frame values (no upsampled `a`).

    Args:
        sines: `[batch, frames * hop, K]`.
        amplitudes: `[batch, frames, K]` frame values (the last one is held).
        weights_next: `[hop]` crossfade weight of the next frame.
        nxt: optional `[batch, frames, K]` values to crossfade to (default: the next frame's).

    Returns:
        `[batch, frames * hop]`.
    """
    batch, n_frames = tf.shape(amplitudes)[0], tf.shape(amplitudes)[1]
    hop = len(weights_next)
    if nxt is None:
        nxt = _next_frame(amplitudes)
    pair = tf.stack([amplitudes, nxt], axis=-1)  # [B, F, K, 2]
    blocks = tf.reshape(sines, tf.stack([batch, n_frames, hop, tf.shape(sines)[-1]]))
    mixed = tf.matmul(blocks, pair)  # [B, F, hop, 2]
    w1 = tf.constant(weights_next.astype(np.float32))
    audio = mixed[..., 0] + (mixed[..., 1] - mixed[..., 0]) * w1
    return tf.reshape(audio, tf.stack([batch, n_frames * hop]))


def _next_frame(frames: tf.Tensor) -> tf.Tensor:
    """`[batch, frames, K]` shifted one frame earlier, the last frame held."""
    return tf.concat([frames[:, 1:, :], frames[:, -1:, :]], axis=1)


def _baby_steps(n_harmonics: int) -> int:
    """Half-width h of the baby steps: about sqrt(K / 2), which minimises `2h + 1 + 2K / (2h + 1)`
    sines per sample (h = 7 for K = 100)."""
    return max(1, int(round(np.sqrt(n_harmonics / 2.0))))


def _fold_matrix(h: int) -> np.ndarray:
    """`[2h + 1, 2h + 1]`: window `a_{mG + j}, j = -h..h` -> cosine coefficients
    `[a_{mG}, a_{mG + j} + a_{mG - j}]` (j = 1..h) then sine coefficients `a_{mG + j} - a_{mG - j}`.
    """
    fold = np.zeros((2 * h + 1, 2 * h + 1), np.float32)
    fold[h, 0] = 1.0
    for j in range(1, h + 1):
        fold[h + j, j] = fold[h - j, j] = 1.0
        fold[h + j, h + j], fold[h - j, h + j] = 1.0, -1.0
    return fold


def _outer(phase: tf.Tensor, multipliers) -> tf.Tensor:
    """`phase[b, t] * multipliers[c]` as `[batch * samples, C]`: a K = 1 matmul (one rounding
    per product, like a broadcast multiply, but ~3x faster in TF)."""
    multipliers = tf.reshape(tf.cast(multipliers, tf.float32), [1, -1])
    return tf.matmul(tf.reshape(phase, [-1, 1]), multipliers)


def _decomposed_mix(phase: tf.Tensor, start: tf.Tensor, delta: tf.Tensor,
                    weights_next: np.ndarray, h: int) -> tf.Tensor:
    """`sum_k (s_k + w(t) d_k) sin(k phase(t))` by baby-step / giant-step angle addition.

    With `G = 2h + 1`, every k is `m G + j` (|j| <= h) and
    `sin(k p) = sin(m G p) cos(j p) + cos(m G p) sin(j p)`, so per frame
    `sum_k a_k sin(k p) = sum_m sin(m G p) P_m + cos(m G p) Q_m` with
    `P_m = sum_{j=0..h} c_{m,j} cos(j p)` and `Q_m = sum_{j=1..h} s_{m,j} sin(j p)`, where the
    folded coefficients `c, s` (:func:`_fold_matrix`) are frame-rate. Per sample this needs
    `2h + 1 + 2M` sines (31 instead of 100 for K = 100) and two small matmuls per frame; the
    `[batch, samples, K]` sines are never built.

    Args:
        phase: `[batch, frames * hop]` wrapped fundamental phase.
        start: `[batch, frames, K']` amplitudes at each frame start.
        delta: `[batch, frames, K']` next frame minus this frame (crossfaded with `w`).
        weights_next: `[hop]` crossfade weight `w` of the next frame.
        h: baby-step half width.

    Returns:
        `[batch, frames * hop]`.
    """
    batch, n_frames, count = tf.shape(start)[0], tf.shape(start)[1], tf.shape(start)[2]
    hop, width = len(weights_next), 2 * h + 1
    n_giant = (count + h) // width + 1  # giant steps m = 0..M-1 cover k = 1..count
    pair = tf.stack([start, delta], axis=2)  # [B, F, 2, K']
    pair = tf.pad(pair, [[0, 0], [0, 0], [0, 0], [h + 1, n_giant * width - h - 1 - count]])
    windows = tf.reshape(pair, tf.stack([batch, n_frames, 2, n_giant, width]))
    coeffs = tf.transpose(tf.matmul(windows, _fold_matrix(h)), [2, 0, 1, 4, 3])  # [2,B,F,G,M]
    rows = tf.stack([batch, n_frames, hop, -1])
    cos_baby = tf.reshape(tf.cos(_outer(phase, np.arange(h + 1))), rows)  # j = 0..h
    sin_baby = tf.reshape(tf.sin(_outer(phase, np.arange(1, h + 1))), rows)  # j = 1..h
    giant_step = core.wrap_multiple(phase, width)  # G p mod 2 pi, to 5e-7 rad
    giant = tf.reshape(_outer(giant_step, tf.range(n_giant)), rows)  # m G p, [B, F, hop, M]
    sin_giant, cos_giant = tf.sin(giant), tf.cos(giant)
    ends = []
    for part in (coeffs[0], coeffs[1]):  # frame values, then their change to the next frame
        p = tf.matmul(cos_baby, part[:, :, :h + 1])
        q = tf.matmul(sin_baby, part[:, :, h + 1:])
        ends.append(tf.reduce_sum(p * sin_giant + q * cos_giant, axis=-1))  # [B, F, hop]
    audio = ends[0] + ends[1] * tf.constant(weights_next.astype(np.float32))
    return tf.reshape(audio, tf.stack([batch, n_frames * hop]))


def _harmonic_mix(f0_envelope: tf.Tensor, amplitudes: tf.Tensor, weights_next: np.ndarray,
                  sample_rate: float, h: int, phase_accumulation: str = "accurate"
                  ) -> tf.Tensor:
    """Sample-exact Nyquist-masked harmonic sum with frame-rate amplitudes.

    Harmonic k sounds at sample t iff `k <= n(t)` (:func:`core.audible_per_sample`). Within
    frame i, `n(t) >= lo_i = min n`: harmonics `k <= lo_i` sound for the whole frame, so their
    mask is folded into the frame amplitudes (exact) and they go through
    :func:`_decomposed_mix`; the few `lo_i < k <= n(t)` (frames whose F0 crosses a Nyquist
    limit, none for steady notes) are added with sample-wise masked sines of
    :func:`core.wrap_multiple` angles via :func:`_frame_mix`, under a `tf.cond` (a TFLite IF).

    Args:
        f0_envelope: `[batch, frames * hop]` in Hz.
        amplitudes: `[batch, frames, K']` harmonic amplitudes (K' harmonics computed).
        weights_next: `[hop]`.
        sample_rate: samples per second.
        h: baby-step half width.
        phase_accumulation: see :func:`core.fundamental_phase`.

    Returns:
        `[batch, frames * hop]`.
    """
    shape = tf.shape(amplitudes)
    batch, n_frames, count = shape[0], shape[1], shape[2]
    hop = len(weights_next)
    phase = core.fundamental_phase(f0_envelope, sample_rate, phase_accumulation)
    audible = core.audible_per_sample(f0_envelope, sample_rate, tf.cast(count, tf.float32))
    audible = tf.reshape(tf.cast(audible, tf.int32), tf.stack([batch, n_frames, hop]))
    lo, hi = tf.reduce_min(audible, axis=2), tf.reduce_max(audible, axis=2)  # [B, F]
    lo_k = tf.expand_dims(lo, -1)  # [B, F, 1]
    steady = tf.range(1, count + 1) <= lo_k  # [B, F, K']
    nxt = _next_frame(amplitudes)
    start = tf.where(steady, amplitudes, 0.0)
    audio = _decomposed_mix(phase, start, tf.where(steady, nxt, 0.0) - start, weights_next, h)
    n_edge = tf.reduce_max(hi - lo)

    def edge_harmonics():  # lo_i + 1 .. lo_i + n_edge in frame i, each masked sample-wise
        edge_k = lo_k + 1 + tf.range(n_edge)  # [B, F, E]
        edge_index = tf.minimum(edge_k - 1, count)  # index K' reads the zero padding
        edge_amps = [tf.gather(tf.pad(a, [[0, 0], [0, 0], [0, 1]]), edge_index, batch_dims=2)
                     for a in (amplitudes, nxt)]
        k_t = tf.expand_dims(edge_k, 2)  # [B, F, 1, E]
        k_masked = tf.cast(tf.where(k_t <= tf.expand_dims(audible, -1), k_t, 0), tf.float32)
        rows = tf.stack([batch, n_frames, hop, 1])
        sines = tf.sin(core.wrap_multiple(tf.reshape(phase, rows), k_masked))  # [B, F, hop, E]
        sines = tf.reshape(sines, tf.stack([batch, n_frames * hop, n_edge]))
        return _frame_mix(sines, edge_amps[0], weights_next, edge_amps[1])

    # Skipped when no frame crosses a limit (also: XNNPack cannot reshape zero-size tensors).
    return audio + tf.cond(n_edge > 0, edge_harmonics, lambda: tf.zeros_like(audio))


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
                       skip_inaudible: bool = True, phase_accumulation: str = "accurate"
                       ) -> tf.Tensor:
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
            in the batch, by angle decomposition when the frames are equal-length (exact;
            data-dependent shapes, so not for XLA-compiled graphs). False keeps every shape
            static: one sine per harmonic and sample, ~2.5x slower for 100 audible harmonics.
        phase_accumulation: "accurate" (default; the phase stays within ~1e-6 rad of a
            float64 rendering over any length, :func:`core.cumulative_cycles`) or "ddsp"
            (magenta/ddsp's float32 cumsum bit for bit, with its drift: reference/ddsp.md 1.4).

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
        return core.oscillator_bank(frequency_envelopes, amplitude_envelopes, sample_rate,
                                    phase_accumulation=phase_accumulation)

    f0_envelope = core.resample(frequencies, n_samples)[:, :, 0]  # [B, T]
    count = None
    if skip_inaudible:
        count = core.audible_harmonics(f0_envelope, n_harmonics, sample_rate)
        harmonic_amplitudes = harmonic_amplitudes[:, :, :count]
    n_frames = harmonic_amplitudes.shape[1]
    weights = None
    if n_frames is not None and n_samples % n_frames == 0:
        weights = _crossfade_weights(amp_resample_method, n_samples // n_frames)
    if weights is not None and skip_inaudible:
        return _harmonic_mix(f0_envelope, harmonic_amplitudes, weights, sample_rate,
                             _baby_steps(n_harmonics), phase_accumulation)
    sines = core.harmonic_sines(f0_envelope, n_harmonics, sample_rate, max_harmonics=count,
                                phase_accumulation=phase_accumulation)
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
        phase_accumulation: "accurate" (default) or "ddsp" (DDSP's float32 phase cumsum, bit
            for bit); see :func:`harmonic_synthesis`.
        **kwargs: `keras.layers.Layer` arguments; ``dtype`` defaults to float32 (synthesis
            stays float32 under a mixed precision policy).

    Call arguments (DDSP order):
        amplitudes: `[batch, frames, 1]` logits.
        harmonic_distribution: `[batch, frames, K]` logits.
        f0_hz: `[batch, frames, 1]` in Hz.

    Returns:
        `[batch, n_samples]` audio. Zero logits give amplitude 0.4053992 and distribution 1/K.
    """

    def __init__(self, n_samples: int = 64000, sample_rate: int = 16000,
                 scale_fn="exp_sigmoid", normalize_below_nyquist: bool = True,
                 amp_resample_method: str = "window", skip_inaudible: bool = True,
                 phase_accumulation: str = "accurate", **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.phase_accumulation = core.check_phase_accumulation(phase_accumulation)
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
                                  skip_inaudible=self.skip_inaudible,
                                  phase_accumulation=self.phase_accumulation)

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
                "skip_inaudible": self.skip_inaudible,
                "phase_accumulation": self.phase_accumulation}
