"""DDSP core: unit conversions, scaling, frame-to-sample resampling and oscillators.

Semantics and constants follow magenta/ddsp `core.py` as documented in
`reference/ddsp.md` section 1 (clean-room re-implementation, no code copied):

* `midi_to_hz` / `hz_to_midi` live in `tfaudiogan.audio.pitch` (used here by `unit_to_hz`).
* `exp_sigmoid(x) = 2 * sigmoid(x) ** ln(10) + 1e-7`, so all amplitudes lie in (1e-7, 2].
* `power_to_db` (defined in `tfaudiogan.audio.db`, re-exported here) floors the power at
  `10 ** (-range_db / 10)` and the dB at `-range_db`
  (`DB_RANGE = 80`, ddsp >= 2.0).
* `resample(..., add_endpoint=True)` reads input position `t * n_frames / n` (the last frame is
  held); `add_endpoint=False` aligns corners. The 'window' method overlap-adds periodic Hann
  windows of twice the hop, i.e. a raised-cosine crossfade between neighbouring frames.
* The oscillator phase is the *inclusive* cumulative sum of `2 pi f / sr`, so the first sample
  already has phase `omega_0`. Amplitudes of sinusoids at or above Nyquist are zeroed. How the
  phase is accumulated (accurately by default) is in :mod:`tfaudiogan.synths.phase`.

Deviation from DDSP (issue 5, bad input): oscillators also silence sinusoids whose frequency is
zero or negative (DDSP only removes f >= sr / 2), so F0 = 0 or < 0 gives silence, never a tone.

All functions are pure TensorFlow, differentiable, and (except 'cubic' resampling) use only
TFLite built-in ops.
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from tfaudiogan.audio.db import DB_RANGE, amplitude_to_db, db_to_power, power_to_db, safe_log
from tfaudiogan.audio.pitch import hz_to_midi, midi_to_hz
from tfaudiogan.synths.phase import (
    PHASE_ACCUMULATIONS,
    angular_frequency,
    check_phase_accumulation,
    cumulative_cycles,
    cycles_per_sample,
    wrap_multiple,
    wrap_phase,
    wrapped_cumsum,
)

__all__ = [
    "DB_RANGE",
    "amplitude_to_db",
    "PHASE_ACCUMULATIONS",
    "angular_frequency",
    "audible_harmonics",
    "cumulative_cycles",
    "cycles_per_sample",
    "audible_per_sample",
    "db_to_power",
    "exp_sigmoid",
    "fundamental_phase",
    "harmonic_sines",
    "hz_to_unit",
    "oscillator_bank",
    "power_to_db",
    "remove_above_nyquist",
    "resample",
    "safe_divide",
    "safe_log",
    "unit_to_hz",
    "upsample_with_windows",
    "wrap_multiple",
    "wrap_phase",
    "wrapped_cumsum",
]

_TWO_PI = 2.0 * math.pi


def _f32(x) -> tf.Tensor:
    return tf.cast(tf.convert_to_tensor(x), tf.float32)


# ---------------------------------------------------------------------------------------------
# Math and unit conversions
# ---------------------------------------------------------------------------------------------
def safe_divide(numerator, denominator, eps: float = 1e-7) -> tf.Tensor:
    """`numerator / denominator` with a zero denominator replaced by `eps` (ddsp semantics)."""
    denominator = _f32(denominator)
    return _f32(numerator) / tf.where(tf.equal(denominator, 0.0), eps, denominator)


def unit_to_hz(unit, hz_min, hz_max, clip: bool = False) -> tf.Tensor:
    """Maps [0, 1] to [hz_min, hz_max] linearly in MIDI (0.5 over 20-8000 Hz gives 400 Hz)."""
    unit = _f32(unit)
    if clip:
        unit = tf.clip_by_value(unit, 0.0, 1.0)
    lo, hi = hz_to_midi(hz_min), hz_to_midi(hz_max)
    return midi_to_hz(lo + (hi - lo) * unit)


def hz_to_unit(hz, hz_min, hz_max, clip: bool = False) -> tf.Tensor:
    """Inverse of :func:`unit_to_hz`."""
    lo, hi = hz_to_midi(hz_min), hz_to_midi(hz_max)
    unit = (hz_to_midi(hz) - lo) / (hi - lo)
    return tf.clip_by_value(unit, 0.0, 1.0) if clip else unit


def exp_sigmoid(x, exponent: float = 10.0, max_value: float = 2.0,
                threshold: float = 1e-7) -> tf.Tensor:
    """Exponentiated sigmoid `max_value * sigmoid(x) ** ln(exponent) + threshold`.

    Defaults are DDSP's (`core.exp_sigmoid`): output in (1e-7, 2], 0 -> 0.4053992.
    """
    return max_value * tf.pow(tf.sigmoid(_f32(x)), math.log(exponent)) + threshold


# ---------------------------------------------------------------------------------------------
# Resampling frames -> samples
# ---------------------------------------------------------------------------------------------
def _as_btc(x: tf.Tensor) -> tuple[tf.Tensor, int]:
    """Reshapes `[frames]`, `[batch, frames]` or `[batch, frames, ch]` to rank 3."""
    rank = x.shape.rank
    if rank == 1:
        return tf.reshape(x, [1, -1, 1]), rank
    if rank == 2:
        return tf.expand_dims(x, -1), rank
    if rank == 3:
        return x, rank
    raise ValueError(f"expected [frames], [batch, frames] or [batch, frames, channels], "
                     f"got shape {x.shape}")


def _from_btc(y: tf.Tensor, rank: int) -> tf.Tensor:
    if rank == 1:
        return tf.reshape(y, [-1])
    if rank == 2:
        return y[:, :, 0]
    return y


def _crossfade(frames: tf.Tensor, n_timesteps: int, weights_next: np.ndarray) -> tf.Tensor:
    """`y[t] = x[i] (1 - w[r]) + x[i + 1] w[r]`, `i = t // hop`, `r = t % hop`.

    Args:
        frames: `[batch, intervals + 1, channels]`.
        n_timesteps: output length, `intervals * hop`.
        weights_next: `[hop]` weight of the next frame.

    Returns:
        `[batch, n_timesteps, channels]`.
    """
    w1 = tf.constant(weights_next.astype(np.float32)[:, None])  # [hop, 1]
    x0 = tf.expand_dims(frames[:, :-1, :], 2)  # [B, I, 1, C]
    x1 = tf.expand_dims(frames[:, 1:, :], 2)
    y = x0 + (x1 - x0) * w1  # [B, I, hop, C]
    return tf.reshape(y, [tf.shape(frames)[0], n_timesteps, tf.shape(frames)[2]])


def _hold_last(frames: tf.Tensor) -> tf.Tensor:
    """Appends a copy of the last frame along axis 1 (DDSP's add_endpoint)."""
    return tf.concat([frames, frames[:, -1:, :]], axis=1)


def _interval_hop(n_frames: int, n_timesteps: int, add_endpoint: bool) -> tuple[int, int]:
    intervals = n_frames if add_endpoint else n_frames - 1
    if intervals < 1 or n_timesteps % intervals != 0:
        raise ValueError(f"window resampling needs n_timesteps ({n_timesteps}) divisible by "
                         f"the number of frame intervals ({intervals})")
    return intervals, n_timesteps // intervals


def upsample_with_windows(inputs, n_timesteps: int, add_endpoint: bool = True) -> tf.Tensor:
    """DDSP 'window' upsampling: overlap-added periodic Hann windows of length `2 * hop`.

    With `hop = n_timesteps / intervals` (intervals = frames, or frames - 1 without endpoint),
    the overlap-add of two neighbouring windows is the raised-cosine crossfade
    `x[i] (0.5 + 0.5 cos(pi r / hop)) + x[i + 1] (0.5 - 0.5 cos(pi r / hop))`, computed here
    directly (no overlap_and_add). `[0, 1, 0, 0] -> 16` gives `[0, .1464, .5, .8536, 1, ...]`.

    Args:
        inputs: `[frames]`, `[batch, frames]` or `[batch, frames, channels]` (static frames).
        n_timesteps: output samples; must be a multiple of the number of intervals.
        add_endpoint: hold the last frame for one extra hop.

    Returns:
        `inputs` resampled to `n_timesteps` along the frame axis.
    """
    x, rank = _as_btc(_f32(inputs))
    n_frames = x.shape[1]
    if n_frames is None:
        raise ValueError("window resampling needs a static number of frames")
    _, hop = _interval_hop(int(n_frames), int(n_timesteps), add_endpoint)
    if add_endpoint:
        x = _hold_last(x)
    weights = 0.5 - 0.5 * np.cos(np.pi * np.arange(hop) / hop)
    return _from_btc(_crossfade(x, int(n_timesteps), weights), rank)


def resample(inputs, n_timesteps: int, method: str = "linear",
             add_endpoint: bool = True) -> tf.Tensor:
    """Interpolates frames to `n_timesteps` along axis 1 (axis 0 for rank-1 input).

    'nearest', 'linear' and 'cubic' are `tf.compat.v1.image.resize` with
    `align_corners = not add_endpoint` (exactly DDSP's `core.resample`): with the endpoint,
    output sample t reads input position `t * n_frames / n_timesteps` and the last frame is held
    (`[0, 1, 2, 3] -> 8` linear gives `[0, .5, 1, 1.5, 2, 2.5, 3, 3]`). 'window' is
    :func:`upsample_with_windows`. 'cubic' (ResizeBicubic) is not a TFLite builtin.

    Args:
        inputs: `[frames]`, `[batch, frames]` or `[batch, frames, channels]`.
        n_timesteps: output length.
        method: 'nearest', 'linear', 'cubic' or 'window'.
        add_endpoint: see above.

    Returns:
        Same rank as `inputs`, with `n_timesteps` on the frame axis.
    """
    if method == "window":
        return upsample_with_windows(inputs, n_timesteps, add_endpoint)
    methods = {"nearest": tf.compat.v1.image.ResizeMethod.NEAREST_NEIGHBOR,
               "linear": tf.compat.v1.image.ResizeMethod.BILINEAR,
               "cubic": tf.compat.v1.image.ResizeMethod.BICUBIC}
    if method not in methods:
        raise ValueError(f"method must be one of {sorted([*methods, 'window'])}, got {method!r}")
    x, rank = _as_btc(_f32(inputs))
    image = tf.expand_dims(x, 2)  # [B, frames, 1, C]
    out = tf.compat.v1.image.resize(image, [int(n_timesteps), 1], method=methods[method],
                                    align_corners=not add_endpoint)
    return _from_btc(out[:, :, 0, :], rank)


# ---------------------------------------------------------------------------------------------
# Oscillators
# ---------------------------------------------------------------------------------------------
def remove_above_nyquist(frequency_envelopes, amplitude_envelopes,
                         sample_rate: float = 16000) -> tf.Tensor:
    """Zeroes amplitudes where the frequency is at or above `sample_rate / 2` (DDSP).

    `[7999, 8000, 8001]` Hz at 16 kHz keeps `[1, 0, 0]` of unit amplitudes.
    """
    frequency_envelopes, amplitude_envelopes = _f32(frequency_envelopes), _f32(amplitude_envelopes)
    return tf.where(frequency_envelopes >= sample_rate / 2.0, 0.0, amplitude_envelopes)


def oscillator_bank(frequency_envelopes, amplitude_envelopes, sample_rate: float = 16000,
                    sum_sinusoids: bool = True, phase_accumulation: str = "accurate"
                    ) -> tf.Tensor:
    """Sample-wise bank of sinusoids with independent cumulative phases (DDSP semantics).

    phase_k = inclusive cumulative sum of `2 pi f_k / sr` over time; output
    `sum_k a_k sin(phase_k)`, with `a_k = 0` where `f_k >= sr / 2` or `f_k <= 0`.
    This is the general (e.g. shifted-harmonic) oscillator; for integer harmonics of one F0
    :func:`harmonic_sines` is far faster (one cumsum instead of one per sinusoid).

    Args:
        frequency_envelopes: `[batch, samples, n_sinusoids]` in Hz.
        amplitude_envelopes: `[batch, samples, n_sinusoids]`.
        sample_rate: samples per second.
        sum_sinusoids: return the sum `[batch, samples]`, else `[batch, samples, n_sinusoids]`.
        phase_accumulation: "accurate" (:func:`cumulative_cycles` per sinusoid) or "ddsp"
            (DDSP's float32 cumsum of radians, bit for bit).
    """
    check_phase_accumulation(phase_accumulation)
    frequency_envelopes, amplitude_envelopes = _f32(frequency_envelopes), _f32(amplitude_envelopes)
    amplitude_envelopes = remove_above_nyquist(frequency_envelopes, amplitude_envelopes,
                                               sample_rate)
    amplitude_envelopes = tf.where(frequency_envelopes <= 0.0, 0.0, amplitude_envelopes)
    if phase_accumulation == "ddsp":
        phases = tf.cumsum(angular_frequency(frequency_envelopes, sample_rate), axis=1)
    else:  # one cumulative phase per sinusoid: [B, T, K] -> [B * K, T] and back
        shape = tf.shape(frequency_envelopes)
        rows = tf.reshape(tf.transpose(frequency_envelopes, [0, 2, 1]),
                          [-1, frequency_envelopes.shape[1]])
        cycles = cumulative_cycles(cycles_per_sample(rows, sample_rate))
        cycles = tf.transpose(tf.reshape(cycles, tf.stack([shape[0], shape[2], shape[1]])),
                              [0, 2, 1])
        phases = cycles * np.float32(_TWO_PI)
    audio = amplitude_envelopes * tf.sin(phases)
    return tf.reduce_sum(audio, axis=-1) if sum_sinusoids else audio


def fundamental_phase(f0_envelope, sample_rate: float = 16000,
                      phase_accumulation: str = "accurate") -> tf.Tensor:
    """DDSP's inclusive phase `cumsum(2 pi f0 / sr)`, wrapped to [0, 2 pi).

    Args:
        f0_envelope: `[batch, samples]` fundamental in Hz (static samples for "accurate").
        sample_rate: samples per second.
        phase_accumulation: "accurate": `2 pi` times :func:`cumulative_cycles` of `f0 / sr`
            (within ~1e-6 rad of float64 over any length); "ddsp": DDSP's float32 cumsum of
            radians, then :func:`wrap_phase` (drifts, reference/ddsp.md 1.4).

    Returns:
        `[batch, samples]` float32 radians.
    """
    if check_phase_accumulation(phase_accumulation) == "ddsp":
        return wrap_phase(tf.cumsum(angular_frequency(_f32(f0_envelope), sample_rate), axis=1))
    cycles = cumulative_cycles(cycles_per_sample(f0_envelope, sample_rate))
    return cycles * np.float32(_TWO_PI)


def audible_per_sample(f0_envelope, sample_rate: float = 16000, upper=None) -> tf.Tensor:
    """Number of audible harmonics at each sample: harmonic k sounds iff `k <= count(t)`.

    `0 < k f0 < sr / 2` holds iff `k < limit = sr / 2 / f0` (`limit = 0` for f0 <= 0), i.e.
    `k <= ceil(limit) - 1`; the count is clipped to [0, upper] and a NaN F0 gives 0.

    Args:
        f0_envelope: `[batch, samples]` in Hz.
        sample_rate: samples per second.
        upper: optional float or float32 scalar tensor, the largest count returned.

    Returns:
        `[batch, samples]` float32 integer values (3000 Hz at 16 kHz gives 2).
    """
    f0 = _f32(f0_envelope)
    positive = f0 > 0.0
    limit = tf.where(positive, (sample_rate / 2.0) / tf.where(positive, f0, 1.0), 0.0)
    count = tf.math.ceil(limit) - 1.0
    if upper is not None:
        count = tf.minimum(count, upper)
    return tf.where(count >= 0.0, count, 0.0)  # also maps NaN to 0


def harmonic_sines(f0_envelope, n_harmonics: int, sample_rate: float = 16000,
                   max_harmonics=None, phase_accumulation: str = "accurate") -> tf.Tensor:
    """Masked sines `sin(k * phi(t))` of the integer harmonics of one F0, in one op.

    `phi = cumsum(2 pi f0 / sr)` is the inclusive phase of the fundamental
    (:func:`fundamental_phase`, so harmonic 1 is bit-identical to :func:`oscillator_bank` with
    the same `phase_accumulation`); harmonic k uses `k * phi`, which equals DDSP's per-harmonic
    `cumsum(2 pi k f0 / sr)` in exact arithmetic. `phi` is wrapped to [0, 2 pi) first, which
    keeps the sine argument below `2 pi K`. Harmonic k is zero where `k f0(t) >= sr / 2` or
    `f0(t) <= 0` (sample-wise, as DDSP's remove_above_nyquist).

    Args:
        f0_envelope: `[batch, samples]` or `[batch, samples, 1]` fundamental in Hz.
        n_harmonics: K.
        sample_rate: samples per second.
        max_harmonics: optional int32 scalar tensor <= K: only the first `max_harmonics`
            harmonics are computed (callers pass the count that can be below Nyquist).
        phase_accumulation: "accurate" or "ddsp" (:func:`fundamental_phase`).

    Returns:
        `[batch, samples, K']` float32 with `K' = max_harmonics or K`.
    """
    f0 = _f32(f0_envelope)
    if f0.shape.rank == 3:
        f0 = f0[:, :, 0]
    k = np.arange(1, n_harmonics + 1)
    # Row n of the table holds the harmonic numbers 1..n followed by zeros ([K + 1, K]).
    table = tf.constant(np.where(k[None, :] <= np.arange(n_harmonics + 1)[:, None], k, 0)
                        .astype(np.float32))
    if max_harmonics is not None:
        table = table[:max_harmonics + 1, :max_harmonics]
    phase = fundamental_phase(f0, sample_rate, phase_accumulation)
    upper = (float(n_harmonics) if max_harmonics is None
             else tf.cast(max_harmonics, tf.float32))
    audible = audible_per_sample(f0, sample_rate, upper)
    # Gathering the masked harmonic numbers is ~2x cheaper than a broadcast compare + select.
    k_masked = tf.gather(table, tf.cast(audible, tf.int32))  # [B, T, K']; sin(0) = 0
    return tf.sin(tf.expand_dims(phase, -1) * k_masked)


def audible_harmonics(f0_envelope, n_harmonics: int, sample_rate: float = 16000) -> tf.Tensor:
    """Number of leading harmonics that are below Nyquist anywhere in the batch (int32, >= 1).

    `floor(sr / 2 / min f0) + 1` over positive F0 samples, clipped to [1, K]: a superset of the
    harmonics that :func:`harmonic_sines` leaves unmasked, so slicing to it is exact.
    """
    f0 = _f32(f0_envelope)
    f_min = tf.reduce_min(tf.where(f0 > 0.0, f0, np.float32(np.inf)))
    count = tf.floor((sample_rate / 2.0) / f_min) + 1.0
    return tf.cast(tf.clip_by_value(count, 1.0, float(n_harmonics)), tf.int32)
