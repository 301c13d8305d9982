"""GANSynth metrics on worked examples: PA, PE, Frechet distance, k-means, NDB/JSD."""

import numpy as np
import pytest

from tfaudiogan.metrics.gansynth import (
    frechet_distance,
    frechet_distance_gaussians,
    jensen_shannon,
    kmeans,
    log_spectrogram_features,
    ndb_jsd,
    pitch_accuracy,
    pitch_entropy,
)


def test_pitch_accuracy_maps_class_zero_to_midi_24():
    logits = np.full((4, 61), -5.0)
    logits[[0, 1, 2, 3], [0, 36, 60, 10]] = 5.0  # predicted MIDI 24, 60, 84, 34
    assert pitch_accuracy(logits, [24, 60, 84, 35]) == 0.75
    with pytest.raises(ValueError, match="24..84"):
        pitch_accuracy(logits, [24, 60, 85, 35])
    with pytest.raises(ValueError, match="disagree"):
        pitch_accuracy(logits, [24, 60])


def test_pitch_entropy_worked_examples():
    confident = np.eye(4)
    assert pitch_entropy(confident) == pytest.approx(0.0)
    assert pitch_entropy(confident, "histogram") == pytest.approx(np.log(4))
    uniform = np.full((3, 8), 1 / 8)
    assert pitch_entropy(uniform) == pytest.approx(np.log(8))
    same = np.tile([[0.9, 0.1]], (5, 1))
    assert pitch_entropy(same, "histogram") == pytest.approx(0.0)
    # logits get a softmax: equal logits are a uniform distribution
    assert pitch_entropy(np.zeros((2, 5)) - 3.0) == pytest.approx(np.log(5))
    with pytest.raises(ValueError, match="kind"):
        pitch_entropy(confident, "median")


def test_frechet_distance_identical_and_shifted():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(500, 6)) @ rng.normal(size=(6, 6))
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-8)
    shift = np.array([1.0, -2.0, 0.5, 0.0, 3.0, 1.0])
    assert frechet_distance(a, a + shift) == pytest.approx(np.sum(shift**2), rel=1e-8)


def test_frechet_distance_closed_forms():
    # 1-D: (m1 - m2)^2 + (s1 - s2)^2
    assert frechet_distance_gaussians([1.0], [[4.0]], [3.0], [[9.0]]) == pytest.approx(5.0)
    # commuting (diagonal) covariances: sum (sqrt(a) - sqrt(b))^2
    c1, c2 = np.diag([1.0, 4.0, 9.0]), np.diag([4.0, 4.0, 1.0])
    assert frechet_distance_gaussians(np.zeros(3), c1, np.zeros(3), c2) == pytest.approx(5.0)
    # non-commuting: compare with the scipy definition tr(C1 + C2 - 2 sqrtm(C1 C2))
    scipy_linalg = pytest.importorskip("scipy.linalg")
    rng = np.random.default_rng(1)
    m1, m2 = rng.normal(size=(4, 4)), rng.normal(size=(4, 4))
    c1, c2 = m1 @ m1.T, m2 @ m2.T
    expected = np.trace(c1 + c2 - 2 * scipy_linalg.sqrtm(c1 @ c2).real)
    assert frechet_distance_gaussians(np.zeros(4), c1, np.zeros(4), c2) == pytest.approx(expected)
    with pytest.raises(ValueError):
        frechet_distance(np.zeros((5, 3)), np.zeros((5, 4)))


def test_kmeans_recovers_separated_clusters():
    rng = np.random.default_rng(2)
    centres = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    x = np.concatenate([c + 0.1 * rng.normal(size=(40, 2)) for c in centres])
    found = kmeans(x, 3, seed=0)
    dist = np.linalg.norm(found[:, None] - centres[None], axis=-1)
    assert sorted(dist.argmin(1).tolist()) == [0, 1, 2]
    assert dist.min(1).max() < 0.1


def test_jensen_shannon_bounds():
    assert jensen_shannon([1, 2, 3], [2, 4, 6]) == pytest.approx(0.0)
    assert jensen_shannon([1, 0], [0, 1]) == pytest.approx(np.log(2))


def test_ndb_identical_sets_and_disjoint_sets():
    rng = np.random.default_rng(3)
    real = rng.normal(size=(1000, 4))
    same = ndb_jsd(real, real, k=50, seed=0)
    assert same["ndb"] == 0 and same["jsd"] == pytest.approx(0.0, abs=1e-12)
    assert len(same["real_proportions"]) == 50
    # another draw of the same distribution: few bins differ (expected ~ alpha * k = 2.5)
    fresh = ndb_jsd(real, rng.normal(size=(1000, 4)), k=50, seed=0)
    assert fresh["ndb"] <= 8 and fresh["jsd"] < 0.05
    # generated samples far away all fall into the nearest cell: (almost) every bin differs
    far = ndb_jsd(real, rng.normal(size=(1000, 4)) + 100.0, k=50, seed=0)
    assert far["ndb"] >= 45 and far["jsd"] > 0.5
    with pytest.raises(ValueError, match="alpha"):
        ndb_jsd(real, real, alpha=1.5)


def test_log_spectrogram_features_shape():
    waves = np.random.default_rng(4).normal(size=(3, 4096)).astype(np.float32)
    feats = log_spectrogram_features(waves, fft_length=1024, frame_step=512, freq_pool=8)
    assert feats.shape == (3, 7 * 64)
    assert np.isfinite(feats).all()


def test_gansynth_metrics_of_real_against_itself():
    from tfaudiogan.metrics.gansynth import gansynth_metrics
    from tfaudiogan.models.pitch_classifier import pitch_classifier

    classifier = pitch_classifier(audio_length=8192, channels=(4,), freq_channels=4,
                                  freq_kernel=5, embedding_dim=8)
    rng = np.random.default_rng(5)
    pitches = rng.integers(24, 85, size=20)
    t = np.arange(8192) / 16000
    audio = np.sin(2 * np.pi * 440 * 2 ** ((pitches[:, None] - 69) / 12) * t).astype(np.float32)
    row = gansynth_metrics(classifier, audio, pitches, audio, splits=4, ndb_bins=5)
    assert row["frechet_distance"] == pytest.approx(0.0, abs=1e-6)
    assert row["ndb"] == 0 and row["jsd"] == pytest.approx(0.0, abs=1e-12)
    assert 1.0 <= row["inception_score"]["mean"] <= 5.0  # 5 notes per split
    assert 0.0 <= row["pitch_accuracy"] <= 1.0 and row["pitch_entropy"] >= 0.0
    with pytest.raises(ValueError, match="24..84"):
        gansynth_metrics(classifier, audio, pitches + 30, audio, splits=4, ndb_bins=5)
