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
  already has phase `omega_0`. Amplitudes of sinusoids at or above Nyquist are zeroed.

Phase accumulation (issue 10 item 16, beyond the reference): DDSP sums the phase in float32 with
one `cumsum` over the whole clip, so the running phase reaches 10^4 rad and each sample rounds
to ~1e-3 rad; harmonic k multiplies that jitter by k (reference/ddsp.md 1.4: 0.16 amplitude
error after 1 s of a 440 Hz sine). `phase_accumulation="accurate"` (the default) keeps it
accurate: :func:`cumulative_cycles` sums the increments in cycles within short chunks (one
small matmul) and adds chunk offsets from an exact, wrapped multi-limb cumsum, so the phase
is always in [0, 1) cycles and within 2e-7 cycles of a float64 cumsum of the same increments
over any length. `"ddsp"` keeps magenta/ddsp's float32 `cumsum` bit for bit.

Deviation from DDSP (issue 5, bad input): oscillators also silence sinusoids whose frequency is
zero or negative (DDSP only removes f >= sr / 2), so F0 = 0 or < 0 gives silence, never a tone.

Phase increments `(f * 2 pi) / sr` are rounded exactly like DDSP's float32 division but computed
with multiplications only (:func:`angular_frequency`), so TFLite, whose converter turns division
by a constant into a reciprocal multiply, accumulates the very same phase as TF.

All functions are pure TensorFlow, differentiable, and (except 'cubic' resampling) use only
TFLite built-in ops.
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from tfaudiogan.audio.db import DB_RANGE, amplitude_to_db, db_to_power, power_to_db, safe_log
from tfaudiogan.audio.pitch import hz_to_midi, midi_to_hz

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

#: `phase_accumulation` values: "accurate" (chunked + exact wrapped offsets, the default) and
#: "ddsp" (magenta/ddsp's float32 cumsum of radians, bit for bit, reference/ddsp.md 1.4).
PHASE_ACCUMULATIONS = ("accurate", "ddsp")
_PHASE_CHUNK = 64  # samples summed by one matmul in cumulative_cycles (the DDSP hop at 250 Hz)


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


def _split(x):
    """Veltkamp split of float32 `x` into a 12-bit high part and the exact remainder."""
    c = x * np.float32(4097.0)
    hi = c - (c - x)
    return hi, x - hi


def angular_frequency(frequency, sample_rate: float) -> tf.Tensor:
    """Phase increment `(f * float32(2 pi)) / sr` rounded exactly as DDSP's float32 division.

    The TFLite converter rewrites division by a constant into multiplication by its
    reciprocal, which rounds differently (1 ulp for ~57% of frequencies) and, accumulated by
    the phase cumsum, would make TFLite and TF audio drift apart. Here the quotient is
    computed as `q = x * (1 / sr)` plus one correction step whose residual `x - q * sr` is
    evaluated exactly with split products (Dekker), using only mul/sub/add: the result equals
    the correctly rounded `x / sr` (verified on 650k frequencies), identically in TF and TFLite.

    Args:
        frequency: Hz, any shape.
        sample_rate: samples per second.

    Returns:
        float32 radians per sample, same shape.
    """
    x = _f32(frequency) * np.float32(_TWO_PI)
    sr = np.float32(sample_rate)
    inv = np.float32(1.0 / float(sample_rate))
    sr_hi = np.float32(float(_split(np.float32(sr))[0]))
    sr_lo = np.float32(sr - sr_hi)
    q = x * inv
    q_hi, q_lo = _split(q)
    residual = (((x - q_hi * sr_hi) - q_hi * sr_lo) - q_lo * sr_hi) - q_lo * sr_lo
    return q + residual * inv


# Cody-Waite split of 2 pi: C1 = 6.28125 has 8 significant bits, so `m * C1` is exact in
# float32 for up to 2 ** 16 cycles (16 s of an 8 kHz tone at 16 kHz); C1 + C2 + C3 equals 2 pi
# to ~1e-16.
_C1 = float(np.float32(6.28125))
_C2 = float(np.float32(_TWO_PI - _C1))
_C3 = float(np.float32(_TWO_PI - _C1 - _C2))


def wrap_phase(phase) -> tf.Tensor:
    """`phase mod 2 pi` in [0, 2 pi) with a three-constant Cody-Waite reduction.

    Keeps ~1e-7 rad accuracy relative to the float32 input (a single float32 `2 pi` would lose
    ~1e-3 rad after 10^4 rad), so `sin(k * wrap_phase(p))` stays accurate and fast for harmonic
    numbers k where `k * p` would exceed the float32 sine's fast range. The gradient is 1.
    """
    phase = _f32(phase)
    cycles = tf.stop_gradient(tf.floor(phase * (1.0 / _TWO_PI)))
    return ((phase - cycles * _C1) - cycles * _C2) - cycles * _C3


def wrap_multiple(phase, factor) -> tf.Tensor:
    """`factor * phase mod 2 pi` to 5e-7 rad, for `phase` in [0, 2 pi) and integers <= 4096.

    `phase` is split into a 12-bit head, whose product with `factor` is exact and is wrapped
    by :func:`wrap_phase`, and the remainder, added after wrapping (so the result lies within
    `pi factor / 4096` outside [0, 2 pi)); a plain float32 product rounds to
    `ulp(2 pi factor) / 2` (4e-6 rad for factor 15, 3e-5 for 100). `factor` is a Python int
    or a float tensor of integer values broadcasting against `phase`; the gradient is `factor`.
    """
    head, tail = _split(_f32(phase))
    factor = _f32(factor)
    return wrap_phase(head * factor) + tail * factor


def check_phase_accumulation(phase_accumulation: str) -> str:
    """Returns `phase_accumulation` if it is one of :data:`PHASE_ACCUMULATIONS`, else raises."""
    if phase_accumulation not in PHASE_ACCUMULATIONS:
        raise ValueError(f"phase_accumulation must be one of {PHASE_ACCUMULATIONS}, got "
                         f"{phase_accumulation!r}")
    return phase_accumulation


def _limb_grids(n: int) -> tuple[int, list[int]]:
    """`(bits, exponents)`: the grids of the exact limbs of :func:`wrapped_cumsum` (n terms).

    With `bits = ceil(log2(n + 1))` and `g = 24 - bits`, limb 0 lies on a `2^-g` grid and is
    wrapped to [0, 1), so its partial sums stay below `n <= 2^bits` and are exact in float32;
    each following limb holds what the previous grid left over (at most half its step) on a
    grid `g + 1` bits finer, so its n partial sums also fit in 24 bits and are exact. Limbs
    are added until the float32 rounding of summing the remainder is below ~2^-26 cycles
    (2 limbs for up to 4095 terms, 3 up to 16383, 4 up to 65535, ...).
    """
    bits = max(1, int(np.ceil(np.log2(n + 1))))
    g = 24 - bits
    count = max(2, -(-(2 * bits + 2) // (g + 1)))
    return bits, [g + i * (g + 1) for i in range(count)]


def wrapped_cumsum(values, exclusive: bool = False) -> tf.Tensor:
    """Cumulative sum along axis 1 modulo 1, accurate to float32 rounding of the result.

    Each value is split into limbs on successively finer grids (:func:`_limb_grids`; the
    first wrapped to [0, 1)) plus a float32 remainder. The partial sums of the limbs are exact
    in float32 in any order (integers in disguise), so the result does not drift however large
    the true sum grows. They are added from the finest, each one that can reach a whole cycle
    wrapped to [0, 1) first (exact) and the running total wrapped after it, so the result is
    within ~1.2e-7 cycles of the exact sum modulo 1 per such limb (one for up to 4095 terms).
    Built-in TFLite ops only (ROUND, FLOOR, CUMSUM); the gradient is that of a plain cumsum.

    Args:
        values: `[batch, n]`, or `[batch, n, parts]` whose parts are added (exactly too), with
            static n and parts (e.g. cycles per chunk).
        exclusive: exclusive cumsum (the first output is 0).

    Returns:
        `[batch, n]` float32 in [0, 1] (1.0 only by rounding just below it).
    """
    values = _f32(values)
    if values.shape.rank == 2:
        values = tf.expand_dims(values, -1)
    n, parts = values.shape[1], values.shape[2]
    if n is None or parts is None:
        raise ValueError("wrapped_cumsum needs static sizes on axes 1 and 2")
    bits, exponents = _limb_grids(int(n) * int(parts))
    limbs, rest = [], values
    for i, exponent in enumerate(exponents):
        scale = float(2.0**exponent)
        limb = tf.round(rest * scale) * (1.0 / scale)
        rest = rest - limb  # exact: the limb is the grid point nearest to `rest`
        limbs.append(limb - tf.floor(limb) if i == 0 else limb)  # whole cycles do not matter
    limbs = tf.reduce_sum(tf.stack(limbs + [rest]), axis=3)  # [L + 1, B, n]; exact but the last
    sums = tf.cumsum(limbs, axis=2, exclusive=exclusive)
    total = sums[-1]
    for i in range(len(exponents) - 1, -1, -1):  # finest first
        limb_sum = sums[i]
        if i == 0 or bits - exponents[i - 1] - 1 >= 0:  # |S_i| can reach a whole cycle
            total = total + (limb_sum - tf.floor(limb_sum))
            total = total - tf.floor(total)
        else:
            total = total + limb_sum
    return total


# 2^-19 grid of the chunk limb: 64 increments below 0.5 cycles (2^5) then add up exactly.
_CHUNK_GRID = float(2.0**19)


def cycles_per_sample(frequency, sample_rate: float) -> tuple[tf.Tensor, tf.Tensor]:
    """`f / sr` as an unevaluated sum `hi + lo` (float32 pair, ~1e-14 relative).

    `hi = f * float32(1 / sr)` rounds twice (up to ~1e-7 relative, the same for every sample of
    a held note, so a phase summed from `hi` alone drifts by ~1e-7 cycles per cycle); `lo`
    is the exact residual `(f - hi sr) / sr`, with `hi sr` evaluated exactly by a Veltkamp
    split (Dekker), using only mul/sub (TFLite built-ins, no fused multiply-add).

    Args:
        frequency: Hz, any shape.
        sample_rate: samples per second.

    Returns:
        `(hi, lo)` float32 cycles per sample, each shaped like `frequency`.
    """
    f = _f32(frequency)
    inv = np.float32(1.0 / float(sample_rate))
    sr = np.float32(sample_rate)
    sr_hi = np.float32(float(_split(np.float32(sr))[0]))
    sr_lo = np.float32(sr - sr_hi)
    hi = f * inv
    h1, h2 = _split(hi)
    residual = (f - h1 * sr_hi) - h2 * sr_hi
    if sr_lo != 0.0:
        residual = (residual - h1 * sr_lo) - h2 * sr_lo
    return hi, residual * inv


def cumulative_cycles(increments, chunk: int = _PHASE_CHUNK) -> tf.Tensor:
    """Inclusive cumulative sum of phase increments along axis 1, in cycles, modulo 1.

    The samples are cut into chunks of `chunk` (the end zero-padded). Within a chunk the running
    sums come from one matmul with a triangular matrix of ones, applied to two limbs of the
    increments: their `2^-19` grid part (whose sums below 32 cycles are exact in any order)
    and the rest (below `2^-20`, plus `lo`). Each chunk starts at the exact wrapped sum of the
    chunk totals before it (:func:`wrapped_cumsum`). So the phase never drifts: it is within
    2e-7 cycles of a float64 cumsum of the increments at every sample of any length (a
    plain float32 cumsum is off by up to `n * ulp(n * increment)`), and `frac(k * phase)`
    stays accurate for harmonic k. Cost: a `[samples / chunk]` cumsum, a `chunk x chunk`
    matmul and ~20 elementwise ops, no more CPU than one float32 `cumsum` over 64000 samples
    (TF's CPU cumsum is slow). Built-in TFLite ops only; the gradient is that of a cumsum.
    The matmul needs full float32: TensorFloat-32 matmuls (on by default on Ampere and later
    GPUs) would round the increments to 10 bits; turn them off with
    `tf.config.experimental.enable_tensor_float_32_execution(False)` there.

    Args:
        increments: `[batch, samples]` float32 cycles per sample (e.g. `f / sr`), static
            samples; or a pair `(hi, lo)` from :func:`cycles_per_sample`.
        chunk: samples per chunk (<= 64 keeps the grid limb exact for increments below 0.5).

    Returns:
        `[batch, samples]` float32 phase in cycles, in [0, 1].
    """
    if isinstance(increments, (tuple, list)):
        hi, lo = _f32(increments[0]), _f32(increments[1])
    else:
        hi, lo = _f32(increments), None
    n_samples = hi.shape[1]
    if n_samples is None:
        raise ValueError("cumulative_cycles needs a static number of samples")
    n_samples, chunk = int(n_samples), max(1, min(int(chunk), int(n_samples)))
    n_chunks = -(-n_samples // chunk)
    coarse = tf.round(hi * _CHUNK_GRID) * (1.0 / _CHUNK_GRID)
    fine = hi - coarse  # exact
    if lo is not None:
        fine = fine + lo
    parts = tf.stack([coarse, fine], axis=1)  # [B, 2, T]
    if n_chunks * chunk != n_samples:
        parts = tf.pad(parts, [[0, 0], [0, 0], [0, n_chunks * chunk - n_samples]])
    batch = tf.shape(hi)[0]
    triangle = tf.constant(np.triu(np.ones((chunk, chunk), np.float32)))  # [s, r] = s <= r
    local = tf.matmul(tf.reshape(parts, [-1, chunk]), triangle)
    local = tf.reshape(local, tf.stack([batch, 2, n_chunks, chunk]))
    totals = tf.transpose(local[:, :, :, -1], [0, 2, 1])  # [B, chunks, 2]
    offsets = wrapped_cumsum(totals, exclusive=True)  # [B, chunks]
    coarse_sums = local[:, 0] - tf.floor(local[:, 0])  # exact; keeps the sum below 2 cycles
    phase = coarse_sums + (local[:, 1] + tf.expand_dims(offsets, -1))
    phase = tf.reshape(phase - tf.floor(phase), tf.stack([batch, n_chunks * chunk]))
    return phase[:, :n_samples]


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
