"""DDSP oscillator phase: increments, wrapping and accurate accumulation.

Phase accumulation (issue 10 item 16, beyond the reference): DDSP sums the phase in float32 with
one `cumsum` over the whole clip, so the running phase reaches 10^4 rad and each sample rounds
to ~1e-3 rad; harmonic k multiplies that jitter by k (reference/ddsp.md 1.4: 0.16 amplitude
error after 1 s of a 440 Hz sine). `phase_accumulation="accurate"` (the default) keeps it
accurate: :func:`cumulative_cycles` sums the increments in cycles within short chunks (one
small matmul) and adds chunk offsets from an exact, wrapped multi-limb cumsum, so the phase
is always in [0, 1) cycles and within 2e-7 cycles of a float64 cumsum of the same increments
over any length. `"ddsp"` keeps magenta/ddsp's float32 `cumsum` bit for bit.

Phase increments `(f * 2 pi) / sr` are rounded exactly like DDSP's float32 division but computed
with multiplications only (:func:`angular_frequency`), so TFLite, whose converter turns division
by a constant into a reciprocal multiply, accumulates the very same phase as TF.

Pure TensorFlow and TFLite built-in ops only.
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

__all__ = [
    "PHASE_ACCUMULATIONS",
    "angular_frequency",
    "check_phase_accumulation",
    "cumulative_cycles",
    "cycles_per_sample",
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
