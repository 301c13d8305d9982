"""Phase unwrapping and instantaneous frequency along one axis (TFLite-safe TensorFlow ops).

The GANSynth reference's spectral_ops.py definitions (reference/gansynth.md 1.2): `unwrap` as
numpy's, IF = `concat([phase[0], diff(unwrap(phase))]) / pi`. The private helpers take the
running sum as an argument so :mod:`tfaudiogan.audio.gansynth` can pass its exportable matmul
cumulative sum.
"""

from __future__ import annotations

import math

import tensorflow as tf

__all__ = ["instantaneous_frequency", "unwrap", "wrap"]

_TWO_PI = 2.0 * math.pi


def _slice_axis(x: tf.Tensor, axis: int, start=None, stop=None) -> tf.Tensor:
    """`x[start:stop]` along `axis` (rank must be static; no ellipsis, for TFLite)."""
    rank = x.shape.rank
    axis = axis % rank
    return x[(slice(None),) * axis + (slice(start, stop),)]


def _diff(x: tf.Tensor, axis: int) -> tf.Tensor:
    return _slice_axis(x, axis, 1) - _slice_axis(x, axis, None, -1)


def wrap(delta) -> tf.Tensor:
    """Phase differences wrapped into [-pi, pi]: `delta - 2 pi round(delta / (2 pi))`.

    This is what `np.diff(np.unwrap(p))` makes of `np.diff(p)`: steps with |step| <= pi are
    kept exactly (round(+-0.5) = 0, half to even), larger ones move by a multiple of 2 pi into
    (-pi, pi). The two differ only at odd multiples of pi beyond +-pi, where numpy picks +pi and
    this may pick -pi (the same angle).

    Args:
        delta: float tensor of phase differences in radians.
    """
    delta = tf.convert_to_tensor(delta, tf.float32)
    return delta - _TWO_PI * tf.round(delta * (1.0 / _TWO_PI))


def _unwrap(phase: tf.Tensor, axis: int, running_sum) -> tf.Tensor:
    """:func:`unwrap` with `running_sum(x, axis)` as the cumulative sum along `axis`."""
    dd = _diff(phase, axis)
    # The multiple of 2 pi each step needs (0 for |step| <= pi, see `wrap`), summed as integers
    # (exact in any order) and then scaled: the reference's floormod correction summed up to
    # its rounding.
    correction = -_TWO_PI * running_sum(tf.round(dd * (1.0 / _TWO_PI)), axis)
    zeros = tf.zeros_like(_slice_axis(phase, axis, None, 1))
    return phase + tf.concat([zeros, correction], axis=axis)


def _cumsum(x: tf.Tensor, axis: int) -> tf.Tensor:
    return tf.math.cumsum(x, axis=axis)


def unwrap(phase, axis: int = -2) -> tf.Tensor:
    """numpy-style `np.unwrap` along `axis` (discont pi; jumps of exactly +pi stay +pi).

    Args:
        phase: float `[..., time, ...]` phases in radians (static rank).
        axis: the axis to unwrap along.
    """
    return _unwrap(tf.convert_to_tensor(phase, tf.float32), axis, _cumsum)


def _instantaneous_frequency(phase: tf.Tensor, axis: int, use_unwrap: bool,
                             running_sum=_cumsum) -> tf.Tensor:
    if use_unwrap:
        # Unwrap, then difference, as the reference: the round trip IF -> cumsum(IF * pi)
        # telescopes back onto the same float32 values (6e-7 RMS on the 440 Hz example; the
        # differences wrapped directly, `wrap(diff(phase))`, are closer to the exact IF but
        # their cumsum drifts to 4e-6).
        delta = _diff(_unwrap(phase, axis, running_sum), axis)
    else:
        delta = _diff(phase, axis)
        delta = tf.where(delta > math.pi, delta - 2.0 * math.pi, delta)
        delta = tf.where(delta < -math.pi, delta + 2.0 * math.pi, delta)
    return tf.concat([_slice_axis(phase, axis, None, 1), delta], axis=axis) / math.pi


def instantaneous_frequency(phase, axis: int = -2, use_unwrap: bool = True) -> tf.Tensor:
    """IF: `concat([phase[0], diff(unwrap(phase))], axis) / pi` (spectral_ops.py).

    Args:
        phase: float `[batch, time, freq]` (or any static rank) phases in radians.
        axis: the time axis.
        use_unwrap: the reference default (True) unwraps then differences; False wraps the
            plain difference into [-pi, pi] (same values up to float rounding).

    Returns:
        float32, same shape; in [-1, 1] for frames >= 1 (up to rounding).
    """
    return _instantaneous_frequency(tf.convert_to_tensor(phase, tf.float32), axis, use_unwrap)
