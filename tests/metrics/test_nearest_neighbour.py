"""|D|self and |D|train (sim.py semantics) on hand-made points, and feats.py features."""

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from tfaudiogan.audio.log_mel import log_mel_features
from tfaudiogan.metrics import nearest_neighbour_distances, similarity_features


def test_self_distance_excludes_the_row_itself():
    points = np.array([[0.0, 0.0], [3.0, 4.0], [6.0, 8.0]])
    assert nearest_neighbour_distances(points) == pytest.approx(5.0)
    mean, std = nearest_neighbour_distances(np.array([[0.0], [1.0], [10.0]]), return_std=True)
    assert mean == pytest.approx(11.0 / 3.0)  # 1, 1, 9
    assert std == pytest.approx(np.std([1.0, 1.0, 9.0]))


def test_self_distance_keeps_exact_duplicates_at_zero():
    points = np.array([[0.0, 0.0], [0.0, 0.0], [5.0, 0.0]])
    assert nearest_neighbour_distances(points) == pytest.approx(5.0 / 3.0)  # 0, 0, 5


def test_train_distance_query_to_reference():
    generated = np.array([[0.0, 0.0], [10.0, 0.0]])
    train = np.array([[1.0, 0.0], [7.0, 0.0], [100.0, 100.0]])
    assert nearest_neighbour_distances(generated, train) == pytest.approx(2.0)  # 1 and 3
    # Rows are flattened: [n, 1, 2] equals [n, 2].
    assert nearest_neighbour_distances(generated[:, None], train[:, None]) == pytest.approx(2.0)


def test_matches_brute_force_across_blocks(rng):
    a = rng.standard_normal((37, 50)) * 3 + 100.0  # an offset stresses |a|^2 + |b|^2 - 2ab
    b = rng.standard_normal((23, 50)) * 3 + 100.0
    expected_train = cdist(a, b).min(axis=1).mean()
    d = cdist(a, a)
    np.fill_diagonal(d, np.inf)
    expected_self = d.min(axis=1).mean()
    for block in (4, 256):
        assert nearest_neighbour_distances(a, b, block_size=block) == pytest.approx(
            expected_train, rel=1e-12)
        assert nearest_neighbour_distances(a, block_size=block) == pytest.approx(
            expected_self, rel=1e-12)


def test_bad_inputs():
    with pytest.raises(ValueError, match="feature sizes differ"):
        nearest_neighbour_distances(np.zeros((2, 3)), np.zeros((2, 4)))
    with pytest.raises(ValueError, match="at least two"):
        nearest_neighbour_distances(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="non-empty"):
        nearest_neighbour_distances(np.zeros((0, 3)))
    with pytest.raises(ValueError, match="NaN"):
        nearest_neighbour_distances(np.array([[np.nan], [1.0]]))


def test_similarity_features_are_feats_py(rng):
    waves = (0.1 * rng.standard_normal((2, 16384))).astype(np.float32)
    feats = similarity_features(waves, batch_size=1)
    assert feats.shape == (2, 128 * 128)
    expected = log_mel_features(waves * 32768.0, fft_length=2048).numpy().reshape(2, -1)
    np.testing.assert_allclose(feats, expected, atol=1e-4)
    # Short clips are zero-padded to 16384 samples, long ones cut (feats.py x[:16384]).
    short = similarity_features(waves[:, :8000])
    padded = np.pad(waves[:, :8000], ((0, 0), (0, 8384)))
    np.testing.assert_allclose(short, similarity_features(padded), atol=1e-5)
    longer = np.concatenate([waves, waves], axis=1)
    np.testing.assert_allclose(similarity_features(longer), feats, atol=1e-5)
