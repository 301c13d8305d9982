"""Tests for tfaudiogan.audio.spectral: STFT framing, librosa parity, matmul DFT, Griffin-Lim."""

import librosa
import numpy as np
import pytest
import tensorflow as tf

from tfaudiogan.audio.spectral import DFTSTFT, check_stft_params, griffin_lim, num_frames, stft

# (frame_length, frame_step, fft_length): seed 002 (hann 511, librosa default hop 511 // 4),
# seed 004 as resolved in spectral.py (512-sample frames, 10 ms hop at 20.5 kHz), a window
# shorter than the FFT, and a small even/odd pair.
SETTINGS = [(511, 127, 511), (512, 205, 512), (400, 100, 512), (255, 64, 256), (64, 16, 64)]


def _noise(rng, n, batch=1):
    return (0.3 * rng.standard_normal((batch, n))).astype(np.float32)


def _rel_max(a, b):
    return np.max(np.abs(a - b)) / np.max(np.abs(b))


def test_odd_fft_511_gives_256_bins(rng):
    x = _noise(rng, 5000)
    spec = stft(x, 511, 127, 511)
    assert spec.dtype == tf.complex64
    assert spec.shape == (1, num_frames(5000, 127), 256)
    dft = DFTSTFT(511, 127, 511)
    assert dft.bins == 256
    real, imag = dft.forward(x)
    assert real.shape == imag.shape == (1, 1 + 5000 // 127, 256)


@pytest.mark.parametrize("n", [512, 600, 635, 1016, 5000])
@pytest.mark.parametrize("fft", [511, 512])
def test_num_frames_matches_stft(rng, n, fft):
    hop = 127
    assert stft(_noise(rng, n), fft, hop, fft).shape[1] == num_frames(n, hop) == 1 + n // hop
    assert DFTSTFT(fft, hop, fft).forward(_noise(rng, n))[0].shape[1] == 1 + n // hop


@pytest.mark.parametrize("frame_length,frame_step,fft_length", SETTINGS)
def test_stft_magnitude_matches_librosa(rng, frame_length, frame_step, fft_length):
    x = _noise(rng, 3000)[0]
    ref = librosa.stft(
        x.astype(np.float64),
        n_fft=fft_length,
        hop_length=frame_step,
        win_length=frame_length,
        window="hann",
        center=True,
        pad_mode="constant",
    ).T  # [frames, bins]
    ours = stft(x[None], frame_length, frame_step, fft_length).numpy()[0]
    assert ours.shape[1] == ref.shape[1]
    # librosa stops one frame earlier only for odd n_fft when n % hop == 0 (not the case here).
    assert ours.shape[0] == ref.shape[0]
    assert _rel_max(np.abs(ours), np.abs(ref)) < 1e-4
    real, imag = DFTSTFT(frame_length, frame_step, fft_length).forward(x[None])
    assert _rel_max(np.hypot(real.numpy()[0], imag.numpy()[0]), np.abs(ref)) < 1e-4
    if frame_length == fft_length:  # same frame placement, so the phase agrees too
        assert _rel_max(ours, ref) < 1e-4


@pytest.mark.parametrize("frame_length,frame_step,fft_length", SETTINGS)
@pytest.mark.parametrize("center", [True, False])
def test_dft_forward_matches_tf_signal(rng, frame_length, frame_step, fft_length, center):
    x = _noise(rng, 2500, batch=2)
    expected = stft(x, frame_length, frame_step, fft_length, center=center).numpy()
    real, imag = DFTSTFT(frame_length, frame_step, fft_length, center=center).forward(x)
    assert real.shape == expected.shape
    assert _rel_max(real.numpy() + 1j * imag.numpy(), expected) < 1e-4


def test_stft_window_is_periodic_for_odd_length(rng):
    # tf.signal.hann_window(511, periodic=True) is the symmetric window; a unit impulse at
    # the centre of frame 1 reads the window value there, so check it directly.
    n, hop = 4000, 127
    x = np.zeros((1, n), np.float32)
    x[0, hop + 10] = 1.0  # frame 1 is centred on sample 127; offset 10 from the centre
    magnitude = np.abs(stft(x, 511, hop, 511).numpy()[0, 1, 0])
    periodic = 0.5 - 0.5 * np.cos(2 * np.pi * (255 + 10) / 511)
    np.testing.assert_allclose(magnitude, periodic, rtol=1e-5)


@pytest.mark.parametrize("frame_length,frame_step,fft_length", SETTINGS)
@pytest.mark.parametrize("center", [True, False])
def test_dft_round_trip(rng, frame_length, frame_step, fft_length, center):
    n = 3001
    x = _noise(rng, n, batch=2)
    dft = DFTSTFT(frame_length, frame_step, fft_length, center=center)
    y = dft.inverse(*dft.forward(x), n).numpy()
    assert y.shape == (2, n)
    if center:
        np.testing.assert_allclose(y, x, atol=2e-6)
    else:  # recoverable where at least two windows overlap (single window edges are ~0)
        covered = (dft.num_frames(n) - 1) * frame_step + frame_length
        inner = slice(frame_length - frame_step, covered - frame_length + frame_step)
        np.testing.assert_allclose(y[:, inner], x[:, inner], atol=2e-6)
        assert np.all(y[:, covered:] == 0.0)


def test_dft_inverse_matches_numpy_irfft_per_frame(rng):
    # One frame, non-centred: inverse = irfft * window / window^2 on the window support.
    for n_fft in (16, 15):
        bins = n_fft // 2 + 1
        dft = DFTSTFT(n_fft, 4, n_fft, center=False)
        spec = rng.standard_normal((1, 1, bins)) + 1j * rng.standard_normal((1, 1, bins))
        y = dft.inverse(spec.real, spec.imag, n_fft).numpy()[0]
        frame = np.fft.irfft(spec[0, 0], n_fft)
        np.testing.assert_allclose(y[1:] * dft.window[1:], frame[1:], rtol=1e-4, atol=1e-6)
        assert y[0] == 0.0  # the periodic window is 0 at sample 0: no frame covers it


def test_magnitude_phase_round_trip(rng):
    x = _noise(rng, 2000)
    dft = DFTSTFT(255, 64, 256)
    magnitude, phase = dft.magnitude_phase(x)
    real, imag = dft.forward(x)
    np.testing.assert_allclose(magnitude, np.hypot(real, imag), rtol=1e-6)
    np.testing.assert_allclose(phase, np.arctan2(imag, real), atol=1e-6)
    np.testing.assert_allclose(dft.from_magnitude_phase(magnitude, phase, 2000), x, atol=2e-6)


def test_dynamic_shapes_in_tf_function(rng):
    dft = DFTSTFT(511, 127, 511)
    fn = tf.function(
        lambda w: dft.inverse(*dft.forward(w), tf.shape(w)[1]),
        input_signature=[tf.TensorSpec([None, None], tf.float32)],
    )
    for n in (600, 2048, 4999):
        x = _noise(rng, n, batch=3)
        np.testing.assert_allclose(fn(x), x, atol=2e-6)


@pytest.mark.parametrize(
    "args",
    [
        (511, 293, 511),  # hop above half the window: 33.6 dB in reference/cyclegan.md
        (512, 257, 512),
        (400, 201, 512),  # hop above half of a short window
        (513, 128, 512),  # window longer than the FFT
        (0, 1, 8),
        (8, 0, 8),
        (8, 2, -8),
        (8.0, 2, 8),
    ],
)
def test_bad_params_rejected(args):
    with pytest.raises(ValueError):
        check_stft_params(*args)
    with pytest.raises(ValueError):
        DFTSTFT(*args)


@pytest.mark.parametrize(
    "args", [(511, 256, 511), (512, 256, 512), (511, 127, 511), (512, 205, 512)]
)
def test_good_params_accepted(args):
    check_stft_params(*args)
    assert DFTSTFT(*args).frame_step == args[1]


def test_shorter_than_one_frame_rejected():
    with pytest.raises(ValueError, match="shorter than one STFT frame"):
        DFTSTFT(511, 127, 511).forward(np.zeros((1, 510), np.float32))
    with pytest.raises(ValueError, match="shorter than one STFT frame"):
        stft(np.zeros((1, 100), np.float32), 511, 127, 511)


def _spectral_convergence(target, dft, waveform):
    magnitude, _ = dft.magnitude_phase(waveform)
    return float(tf.norm(target - magnitude) / tf.norm(target))


def test_griffin_lim_converges_and_keeps_length(rng):
    sr, n = 8000, 4000
    t = np.arange(n) / sr
    x = 0.3 * np.sin(2 * np.pi * 300 * t) + 0.2 * t * np.sin(2 * np.pi * 650 * t + 1.0)
    x = (x + 0.05 * rng.standard_normal(n)).astype(np.float32)[None]
    dft = DFTSTFT(256, 64, 256)
    target, _ = dft.magnitude_phase(x)
    errors = []
    for n_iter in (1, 4, 16, 32):
        y = griffin_lim(target, dft, n, n_iter=n_iter)
        assert y.shape == (1, n)
        errors.append(_spectral_convergence(target, dft, y))
    assert all(a > b for a, b in zip(errors, errors[1:])), errors
    assert errors[-1] < 0.15
    assert griffin_lim(target, dft, 3000, n_iter=2).shape == (1, 3000)


def test_griffin_lim_converts_to_tflite_builtins(rng):
    from ai_edge_litert.interpreter import Interpreter

    dft = DFTSTFT(64, 16, 64)
    fn = tf.function(
        lambda m: griffin_lim(m, dft, 1000, n_iter=4),
        input_signature=[tf.TensorSpec([None, None, 33], tf.float32)],
    )
    converter = tf.lite.TFLiteConverter.from_concrete_functions([fn.get_concrete_function()], fn)
    converter.target_spec.supported_ops = {tf.lite.OpsSet.TFLITE_BUILTINS}
    interpreter = Interpreter(model_content=converter.convert())
    magnitude, _ = dft.magnitude_phase(_noise(rng, 1000))
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    interpreter.resize_tensor_input(inp["index"], magnitude.shape)
    interpreter.allocate_tensors()
    interpreter.set_tensor(inp["index"], magnitude.numpy())
    interpreter.invoke()
    np.testing.assert_allclose(interpreter.get_tensor(out["index"]), fn(magnitude), atol=1e-4)
