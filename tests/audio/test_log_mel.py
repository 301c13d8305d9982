"""tfaudiogan.audio.log_mel: the WaveGAN evaluation log-mel features (reference/wavegan.md 6.1)."""

import numpy as np

from tfaudiogan.audio.log_mel import log_mel_features, log_mel_frames, mel_matrix


def test_log_mel_matches_numpy_stft(rng):
    x = (0.1 * rng.standard_normal((2, 16384))).astype(np.float32)
    feats = log_mel_features(x).numpy()
    assert feats.shape == (2, 128, 128) and log_mel_frames(16384) == 128
    # numpy: periodic Hann 1024, hop 128, end padding to ceil(16384 / 128) = 128 frames.
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(1024) / 1024)
    padded = np.pad(x.astype(np.float64), ((0, 0), (0, 127 * 128 + 1024 - 16384)))
    frames = np.stack([padded[:, i * 128 : i * 128 + 1024] for i in range(128)], axis=1)
    mag = np.abs(np.fft.rfft(frames * window, axis=-1))
    expected = np.log(mag @ mel_matrix(1024).astype(np.float64) + 1e-6)
    np.testing.assert_allclose(feats, expected, atol=2e-3)


def test_mel_matrix_band_edges():
    w = mel_matrix(1024)
    assert w.shape == (513, 128) and w.dtype == np.float32
    hz = np.arange(513) * 16000 / 1024
    active = hz[w.sum(axis=1) > 0]
    assert active.min() > 40.0 and active.max() < 7800.0
    assert mel_matrix(2048).shape == (1025, 128)  # the similarity features' STFT


def test_precomputed_weights_give_the_same_features(rng):
    x = (0.1 * rng.standard_normal((1, 4000))).astype(np.float32)
    own = log_mel_features(x, fft_length=2048).numpy()
    given = log_mel_features(x, fft_length=2048, weights=mel_matrix(2048)).numpy()
    np.testing.assert_array_equal(own, given)
    assert own.shape == (1, log_mel_frames(4000), 128) == (1, 32, 128)
    assert log_mel_frames(None) is None
