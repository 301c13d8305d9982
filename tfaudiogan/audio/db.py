"""Decibel conversions and a safe log, with DDSP's semantics (reference/ddsp.md 1.1).

They live in ``audio`` because both the feature extractors here (``audio/features.py``:
loudness, log-mel) and the DDSP synthesizers (``tfaudiogan.synths``, which re-exports them)
use them; ``synths`` may import ``audio``, never the other way round.
Every function takes any shape and returns float32 of the same shape.
"""

from __future__ import annotations

import math

import tensorflow as tf

__all__ = ["DB_RANGE", "amplitude_to_db", "db_to_power", "power_to_db", "safe_log"]

DB_RANGE = 80.0  # ddsp core.py DB_RANGE since v2.0 (120 before), reference/ddsp.md 1.1


def _f32(x) -> tf.Tensor:
    return tf.cast(tf.convert_to_tensor(x), tf.float32)


def safe_log(x, eps: float = 1e-5) -> tf.Tensor:
    """Natural log with non-positive inputs replaced by `eps` (tiny positives are kept)."""
    x = _f32(x)
    return tf.math.log(tf.where(x <= 0.0, eps, x))


def power_to_db(power, ref_db: float = 0.0, range_db: float = DB_RANGE) -> tf.Tensor:
    """`max(10 log10(max(power, 10 ** (-range_db / 10))) - ref_db, -range_db)`."""
    power = tf.maximum(_f32(power), 10.0 ** (-range_db / 10.0))
    db = 10.0 * tf.math.log(power) / math.log(10.0) - ref_db
    return tf.maximum(db, -range_db)


def amplitude_to_db(amplitude, ref_db: float = 0.0, range_db: float = DB_RANGE) -> tf.Tensor:
    """:func:`power_to_db` of `amplitude ** 2` (0.1 -> -20 dB, 2 -> 6.0206 dB)."""
    return power_to_db(tf.square(_f32(amplitude)), ref_db=ref_db, range_db=range_db)


def db_to_power(db, ref_db: float = 0.0) -> tf.Tensor:
    """`10 ** ((db + ref_db) / 10)`."""
    return tf.pow(10.0, (_f32(db) + ref_db) / 10.0)
