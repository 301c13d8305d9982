"""DDSP features: reference/ddsp.md section 7 checks 12-15, DCT scale, gradients."""

import numpy as np
import pytest
import tensorflow as tf

from tfaudiogan.audio import features

SR = 16000
T = np.arange(64000) / SR


def _sine(freq, amp=1.0):
    return (amp * np.sin(2 * np.pi * freq * T)).astype(np.float32)


# --- check 12: magnitude shapes and values ------------------------------------------------------
def test_mag_shapes_for_four_seconds():
    audio = _sine(440.0)[None]
    shapes = [tuple(features.compute_mag(audio, size).shape[1:])
              for size in (2048, 1024, 512, 256, 128, 64)]
    assert shapes == [(125, 1025), (250, 513), (500, 257), (1000, 129), (2000, 65), (4000, 33)]


def test_mag_matches_numpy_periodic_hann_end_padded(rng):
    audio = rng.uniform(-1, 1, (1, 5000)).astype(np.float32)
    size, hop = 512, 128
    n_frames = -(-5000 // hop)
    padded = np.pad(audio[0].astype(np.float64), (0, (n_frames - 1) * hop + size - 5000))
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(size) / size)
    frames = np.stack([padded[i * hop:i * hop + size] for i in range(n_frames)])
    want = np.abs(np.fft.rfft(frames * window, axis=-1))
    got = features.compute_mag(audio, size, 0.75).numpy()[0]
    assert got.shape == want.shape
    assert np.max(np.abs(got - want)) / np.max(want) < 1e-6


def test_mel_uses_magnitude_not_power():
    x = _sine(1000.0, 0.25)[None, :8000]
    mel, mel2 = features.compute_mel(x).numpy(), features.compute_mel(2 * x).numpy()
    np.testing.assert_allclose(mel2, 2 * mel, rtol=1e-5, atol=1e-6)
    assert mel.shape == (1, 16, 64)


# --- check 13: MFCC ------------------------------------------------------------------------------
def test_mfcc_shapes_and_dct_scale(rng):
    audio = rng.uniform(-1, 1, (1, 64000)).astype(np.float32)
    assert features.compute_mfcc(audio).shape == (1, 250, 13)
    assert features.compute_mfcc(audio, overlap=0.5, mfcc_bins=30).shape == (1, 125, 30)
    logmel = features.compute_logmel(audio, 20.0, 8000.0, 128, 1024, 0.75).numpy()[0]
    n = 128
    basis = np.sqrt(2.0 / n) * np.cos(np.pi * np.outer(np.arange(n) + 0.5, np.arange(13)) / n)
    want = logmel.astype(np.float64) @ basis  # sqrt(2 / N) for every k, c0 included
    got = features.compute_mfcc(audio).numpy()[0]
    assert np.max(np.abs(got - want)) < 1e-4 * np.max(np.abs(want))


# --- check 14: loudness (DDSP >= 2.0 definition) -------------------------------------------------
@pytest.mark.parametrize("amp, want", [(1.0, 19.805), (0.5, 13.785), (0.1, -0.195)])
def test_loudness_worked_values(amp, want):
    loudness = features.compute_loudness(_sine(1000.0, amp)).numpy()
    assert loudness.shape == (1001,)
    assert np.median(loudness) == pytest.approx(want, abs=0.01)


def test_loudness_silence_batch_and_reference():
    silence = features.compute_loudness(np.zeros((2, 64000), np.float32)).numpy()
    assert silence.shape == (2, 1001) and np.all(silence == -80.0)
    shifted = features.compute_loudness(_sine(1000.0), ref_db=20.0).numpy()
    assert np.median(shifted) == pytest.approx(19.805 - 20.0, abs=0.01)
    low = features.compute_loudness(_sine(100.0, 0.5)).numpy()
    assert np.median(low) == pytest.approx(-4.98, abs=0.02)  # A-weighting at 100 Hz
    assert features.compute_loudness(np.zeros((1, 64000)), padding="valid").shape == (1, 993)


def test_a_weighting_curve():
    freqs = np.array([0.0, 100.0, 1000.0, 10000.0])
    got = features.a_weighting(freqs)
    assert got[0] == -80.0
    assert got[2] == pytest.approx(0.0, abs=0.01)  # 0 dB at 1 kHz by definition
    np.testing.assert_allclose(got[[1, 3]], [-19.145, -2.487], atol=0.01)  # IEC 61672 table
    librosa = pytest.importorskip("librosa")
    grid = np.linspace(1.0, 8000.0, 257)
    np.testing.assert_allclose(got[1:], librosa.A_weighting(freqs[1:]), atol=1e-9)
    np.testing.assert_allclose(features.a_weighting(grid), librosa.A_weighting(grid), atol=1e-9)


# --- check 15: RMS power -------------------------------------------------------------------------
def test_power_of_half_amplitude_sine():
    power = features.compute_power(_sine(1000.0, 0.5)).numpy()
    assert power.shape == (1001,)
    assert np.median(power) == pytest.approx(-9.031, abs=1e-3)  # 20 log10(0.5 / sqrt 2)


def test_feature_gradients_finite_on_silence():
    audio = tf.zeros((2, 4000))
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(audio)
        mfcc = tf.reduce_sum(features.compute_mfcc(audio))
        loud = tf.reduce_sum(features.compute_loudness(audio))
        power = tf.reduce_sum(features.compute_power(audio))
        mag = tf.reduce_sum(features.compute_mag(audio, 256))
    for value in (mfcc, loud, power, mag):
        assert np.all(np.isfinite(tape.gradient(value, audio).numpy()))
