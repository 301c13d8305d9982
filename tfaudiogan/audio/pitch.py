"""MIDI note numbers <-> frequencies in Hz (equal temperament, A4 = MIDI 69 = 440 Hz).

One conversion for every caller (reference/ddsp.md section 1, `core.midi_to_hz`):

* :func:`midi_to_hz` dispatches on its input. NumPy arrays, NumPy scalars, Python numbers and
  lists are computed in NumPy float64 as `440.0 * 2.0 ** ((m - 69.0) / 12.0)` (the procedural
  datasets of `tfaudiogan.data` and the log-frequency filterbanks rely on these exact bits);
  TensorFlow tensors and variables give a float32 tensor (DDSP's TF semantics, differentiable).
* :func:`hz_to_midi` is TensorFlow only and maps f <= 0 to MIDI 0 with finite gradients.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import tensorflow as tf

from tfaudiogan.audio.db import safe_log

__all__ = ["check_pitches", "hz_to_midi", "midi_to_hz"]

A4_HZ = 440.0
A4_MIDI = 69.0

_NUMPY_TYPES = (np.ndarray, np.generic, numbers.Real, list, tuple)


def midi_to_hz(midi, midi_zero_silence: bool = False):
    """`440 * 2 ** ((midi - 69) / 12)`; with `midi_zero_silence`, MIDI <= 0 maps to 0 Hz.

    Args:
        midi: MIDI note numbers, any shape. A `tf.Tensor` / `tf.Variable` (any dtype) takes
            the TensorFlow path; a NumPy array or scalar, a Python number or a (nested) list
            takes the NumPy path.
        midi_zero_silence: return 0 Hz where `midi <= 0` (DDSP's convention for unvoiced
            frames).

    Returns:
        TensorFlow input: float32 tensor of the input's shape, computed as
        `440 * tf.pow(2, (float32(midi) - 69) / 12)`.
        NumPy input: float64 array of the input's shape (a NumPy float64 scalar for a scalar
        input), bit-identical to `440.0 * 2.0 ** ((np.asarray(midi, np.float64) - 69.0) / 12.0)`;
        call `float()` on a scalar result to get a Python float.
    """
    if isinstance(midi, _NUMPY_TYPES):
        notes = np.asarray(midi, dtype=np.float64)
        hz = A4_HZ * 2.0 ** ((notes - A4_MIDI) / 12.0)
        if midi_zero_silence:
            hz = np.where(notes <= 0.0, 0.0, hz)[()]
        return hz
    notes = tf.cast(tf.convert_to_tensor(midi), tf.float32)
    hz = A4_HZ * tf.pow(2.0, (notes - A4_MIDI) / 12.0)
    if midi_zero_silence:
        hz = tf.where(notes <= 0.0, 0.0, hz)
    return hz


def hz_to_midi(frequencies) -> tf.Tensor:
    """`12 * (log2 f - log2 440) + 69`, with f <= 0 mapped to MIDI 0 (finite gradients).

    Args:
        frequencies: Hz, any shape (tensor, array, list or number).

    Returns:
        float32 tensor of the input's shape.
    """
    frequencies = tf.cast(tf.convert_to_tensor(frequencies), tf.float32)
    log2_f = safe_log(frequencies) / math.log(2.0)
    notes = 12.0 * (log2_f - math.log2(A4_HZ)) + A4_MIDI
    return tf.where(frequencies <= 0.0, 0.0, notes)


def check_pitches(pitches, min_pitch: int = 24, max_pitch: int = 84) -> np.ndarray:
    """Validates the MIDI pitches asked of a pitch-conditioned generator.

    A clear error here instead of a wrong one-hot (or a clipped pitch) in the graph.

    Args:
        pitches: whole MIDI numbers, any 1-D array-like or iterable ``[n]``.
        min_pitch, max_pitch: the model's inclusive range (default GANSynth's 24..84,
            reference/gansynth.md: the NSynth subset it trains on).

    Returns:
        int32 ``[n]``.

    Raises:
        ValueError: not 1-D, values that are not whole numbers, or pitches outside the range
            (named in the message).
    """
    values = np.asarray(pitches if isinstance(pitches, np.ndarray) else list(pitches))
    if values.ndim != 1:
        raise ValueError(f"pitches must be a 1-D list of MIDI numbers, got shape {values.shape}")
    if values.size and not np.all(np.equal(np.mod(values, 1), 0)):
        raise ValueError(f"pitches must be integer MIDI numbers (whole numbers), "
                         f"got {values.tolist()[:8]}")
    values = values.astype(np.int64)
    bad = sorted({int(p) for p in values if not min_pitch <= p <= max_pitch})
    if bad:
        raise ValueError(f"pitches {bad} are outside the model's range {min_pitch}..{max_pitch}")
    return values.astype(np.int32)
