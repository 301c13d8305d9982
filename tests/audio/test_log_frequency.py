"""tfaudiogan.audio.log_frequency: the pitch classifier's filterbank and normalised spectrogram."""

import numpy as np
import pytest

from tests.signals import tone as _tone
from tfaudiogan.audio.log_frequency import (
    log_frequency_features,
    log_frequency_frames,
    log_frequency_matrix,
)
from tfaudiogan.audio.pitch import midi_to_hz

SR = 16000


def test_filterbank_columns_are_unit_area_triangles_on_the_semitone_grid():
    w = log_frequency_matrix()
    assert w.shape == (2049, 192) and w.dtype == np.float32
    np.testing.assert_allclose(w.sum(0), 1.0, rtol=1e-5)
    bin_hz = SR / 4096
    for j in (60, 120, 180):  # high bands are narrow enough to peak at their centre bin
        assert w[:, j].argmax() == round(midi_to_hz(21 + j / 2) / bin_hz)
    assert (np.count_nonzero(w, axis=0) >= 2).all()  # low bands widened to >= 1.5 bins
    with pytest.raises(ValueError, match="Nyquist"):
        log_frequency_matrix(n_bins=250)
    with pytest.raises(ValueError, match="positive"):
        log_frequency_matrix(n_bins=0)


def test_features_match_a_numpy_implementation(rng):
    x = (0.1 * rng.standard_normal((2, 8192))).astype(np.float32)
    x[1] *= 0.01  # a quiet clip: normalised to its own peak
    got = log_frequency_features(x).numpy()
    frames = log_frequency_frames(8192)
    assert got.shape == (2, frames, 192) and frames == 1 + (8192 - 4096) // 1024
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(4096) / 4096)  # periodic Hann
    framed = np.stack([x[:, i * 1024:i * 1024 + 4096] for i in range(frames)], axis=1)
    mag = np.abs(np.fft.rfft(framed.astype(np.float64) * window, axis=-1))
    logspec = np.log(mag @ log_frequency_matrix().astype(np.float64) + 1e-6)
    rel = np.maximum(logspec - logspec.max(axis=(1, 2), keepdims=True), -12.0)
    np.testing.assert_allclose(got, rel * 2.0 / 12.0 + 1.0, atol=2e-4)
    assert got.max(axis=(1, 2)).tolist() == [1.0, 1.0]


def test_features_peak_at_the_pitch_and_ignore_loudness():
    loud = log_frequency_features(np.stack([_tone(69), _tone(45)])).numpy()
    quiet = log_frequency_features(np.stack([_tone(69, amp=0.01), _tone(45, amp=0.01)])).numpy()
    assert loud.shape == (2, 1 + (16000 - 4096) // 1024, 192)
    assert loud.max() == pytest.approx(1.0) and loud.min() >= -1.0
    above = loud > -0.5  # within ~52 dB of the peak, where the log's 1e-6 offset is negligible
    np.testing.assert_allclose(loud[above], quiet[above], atol=1e-3)  # per-note normalisation
    assert loud[0, 5].argmax() == (69 - 21) * 2 and loud[1, 5].argmax() == (45 - 21) * 2


def test_frames_of_unknown_length():
    assert log_frequency_frames(None) is None
    assert log_frequency_frames(64000) == 59
