"""tfaudiogan.audio.pitch: the one MIDI <-> Hz conversion (reference/ddsp.md section 7 check 1).

Also pins the procedural datasets built on it: the hashes below were recorded before the four
copies of ``midi_to_hz`` (synths.core, models.pitch_classifier, data.synthetic,
data.synthetic_notes) were merged, so the demo data is byte-identical to what it was.
"""

import hashlib
import importlib

import numpy as np
import pytest
import tensorflow as tf

import tfaudiogan.synths
from tfaudiogan.audio.pitch import hz_to_midi, midi_to_hz
from tfaudiogan.synths import core

synthetic = importlib.import_module("tfaudiogan.data.synthetic")
synthetic_notes = importlib.import_module("tfaudiogan.data.synthetic_notes")


def _digest(*arrays) -> str:
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype}{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


# --- TensorFlow path (DDSP semantics) ---------------------------------------------------------
def test_tensor_worked_values_are_float32_tensors():
    got = midi_to_hz(tf.constant([0.0, 21.0, 60.0, 69.0, 108.0, 127.0]))
    assert isinstance(got, tf.Tensor) and got.dtype == tf.float32
    want = [8.1757984, 27.5, 261.62555, 440.0, 4186.0088, 12543.855]
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-6)
    silent = midi_to_hz(tf.constant([0.0, -3.0, 60.0]), midi_zero_silence=True).numpy()
    assert silent[:2].tolist() == [0.0, 0.0] and silent[2] == pytest.approx(261.62555)
    # any tensor dtype is cast to float32 first, as synths.core did
    assert midi_to_hz(tf.constant([69], tf.int32)).dtype == tf.float32
    assert midi_to_hz(tf.Variable([69.0])).numpy().tolist() == [440.0]


def test_tensor_path_is_differentiable_and_traces():
    notes = tf.constant([30.0, 69.0])
    with tf.GradientTape() as tape:
        tape.watch(notes)
        hz = tf.reduce_sum(midi_to_hz(notes))
    grad = tape.gradient(hz, notes).numpy()
    np.testing.assert_allclose(grad, midi_to_hz(np.array([30.0, 69.0])) * np.log(2) / 12,
                               rtol=1e-5)
    traced = tf.function(lambda m: midi_to_hz(m, midi_zero_silence=True))
    assert traced(tf.constant([0.0, 69.0])).numpy().tolist() == [0.0, 440.0]


def test_hz_to_midi_values_round_trip_and_silence():
    assert hz_to_midi(8000.0).numpy() == pytest.approx(119.2131, abs=1e-3)
    assert hz_to_midi([0.0, -5.0]).numpy().tolist() == [0.0, 0.0]
    midi = np.linspace(1.0, 127.0, 50).astype(np.float32)
    np.testing.assert_allclose(hz_to_midi(midi_to_hz(tf.constant(midi))).numpy(), midi,
                               atol=2e-4)


def test_hz_to_midi_gradient_finite_at_zero_and_negative():
    f = tf.constant([-5.0, 0.0, 440.0])
    with tf.GradientTape() as tape:
        tape.watch(f)
        y = tf.reduce_sum(hz_to_midi(f))
    g = tape.gradient(y, f).numpy()
    assert np.all(np.isfinite(g)) and g[0] == g[1] == 0.0 and g[2] > 0


def test_synths_keeps_the_public_names():
    assert tfaudiogan.synths.midi_to_hz is midi_to_hz
    assert tfaudiogan.synths.hz_to_midi is hz_to_midi
    assert core.midi_to_hz is midi_to_hz  # synths.core uses the shared one (unit_to_hz)


# --- NumPy path (float64, the data generators' and filterbanks' bits) ------------------------
def test_numpy_arrays_give_the_float64_formula_bit_for_bit():
    m = np.linspace(-10.0, 140.0, 1001)
    got = midi_to_hz(m)
    assert isinstance(got, np.ndarray) and got.dtype == np.float64
    np.testing.assert_array_equal(got, 440.0 * 2.0 ** ((m - 69.0) / 12.0))
    m32 = m.astype(np.float32)  # promoted to float64 before the formula
    np.testing.assert_array_equal(midi_to_hz(m32),
                                  440.0 * 2.0 ** ((m32.astype(np.float64) - 69.0) / 12.0))
    nested = np.array([[60.0, 69.0]])
    np.testing.assert_array_equal(midi_to_hz([[60, 69]]), 440.0 * 2.0 ** ((nested - 69.0) / 12.0))


def test_python_scalars_match_the_former_python_float_formula():
    for m in range(128):  # the data generators call it with int MIDI numbers
        got = midi_to_hz(m)
        assert isinstance(got, np.float64)
        assert float(got) == 440.0 * 2.0 ** ((m - 69.0) / 12.0)
        assert float(got) == float(440.0 * 2.0 ** ((np.asarray(m, np.float64) - 69.0) / 12.0))
    assert midi_to_hz(np.int64(57)) == midi_to_hz(57.0) == 220.0


def test_numpy_midi_zero_silence():
    got = midi_to_hz(np.array([-1.0, 0.0, 69.0]), midi_zero_silence=True)
    assert got.dtype == np.float64 and got.tolist() == [0.0, 0.0, 440.0]
    assert midi_to_hz(0, midi_zero_silence=True) == 0.0
    assert midi_to_hz(69, midi_zero_silence=True) == 440.0


# --- the procedural datasets are unchanged -------------------------------------------------
# sha256 of NumPy's own kernels for the functions the generators use, on the machine where the
# hashes below were recorded (x86-64 with AVX-512, NumPy 2.4). NumPy picks SIMD kernels per
# CPU, so another CPU may round sin/exp differently; then the dataset hashes cannot be compared
# and the test is skipped rather than failed.
_KERNELS = "97086fdd8da80f2d56b077e3a07189d6ba777eb340e960bfaafcb861a5d31f1a"


def _kernel_digest() -> str:
    x = np.linspace(-30.0, 30.0, 4097)
    x32 = x.astype(np.float32)
    return _digest(np.sin(x), np.cos(x), np.exp(x), np.expm1(x), np.tanh(x),
                   np.sqrt(np.abs(x)), np.sin(x32), np.exp(x32), 2.0 ** (x / 12.0),
                   np.hanning(63), np.cumsum(x), np.convolve(x, x[:63]),
                   np.interp(x * 0.37, x, np.sin(x)))


@pytest.mark.parametrize("args,kwargs,expected", [
    ((3, 16000, 0.5), {"seed": 0},
     "2463162caade112ca49c97c3fee9631487b3f309af7b06210c04931de7183b81"),
    ((2, 25000, 0.4), {"seed": 3},
     "a91493c8a1e6a7f784a7184803d09d67de8337c5933036dbeda14360d9c0bf42"),
])
def test_two_timbre_clips_are_byte_identical(args, kwargs, expected):
    if _kernel_digest() != _KERNELS:
        pytest.skip("NumPy's math kernels differ from the recording machine's")
    assert _digest(*synthetic.two_timbre_clips(*args, **kwargs)) == expected


@pytest.mark.parametrize("args,kwargs,expected", [
    ((10, 16000, 0.25), {"seed": 0},
     "e076702eedf2d894f0da4c0fe50cee9ce9248a545f9c0ba28d378309a7ed348a"),
    ((5, 16000, 1.0), {"pitches": range(24, 100), "seed": 5},
     "b02a22507d1528df4f0bae0249b378596992a0543a0d62131a698ae135904c3d"),
])
def test_synthetic_notes_are_byte_identical(args, kwargs, expected):
    if _kernel_digest() != _KERNELS:
        pytest.skip("NumPy's math kernels differ from the recording machine's")
    notes = synthetic_notes.synthetic_notes(*args, **kwargs)
    assert _digest(*[notes[key] for key in sorted(notes)]) == expected
