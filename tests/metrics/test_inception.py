"""Inception score: worked examples of score.py's formula (reference/wavegan.md 6.1)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfaudiogan.metrics import classifier_probs, inception_score


def test_uniform_predictions_score_one():
    mean, std = inception_score(np.full((100, 10), 0.1))
    assert mean == pytest.approx(1.0, abs=1e-12) and std == pytest.approx(0.0, abs=1e-12)


def test_balanced_one_hot_scores_number_of_classes():
    probs = np.tile(np.eye(10), (10, 1))  # every split of 10 rows holds each class once
    mean, std = inception_score(probs, splits=10)
    assert mean == pytest.approx(10.0, rel=1e-12)  # exact zeros: 0 log 0 = 0, no NaN
    assert std == pytest.approx(0.0, abs=1e-12)


def test_hand_computed_two_class_case():
    # p(y) = [0.5, 0.5]; KL = 0.9 ln 1.8 + 0.1 ln 0.2 for both rows; IS = exp(KL).
    probs = np.array([[0.9, 0.1], [0.1, 0.9]])
    mean, std = inception_score(probs, splits=1)
    assert mean == pytest.approx(1.4449348111684153, rel=1e-12)
    assert std == 0.0


def test_hand_computed_with_a_zero_marginal_class():
    # Rows [1, 0, 0] and [.5, .5, 0]: p(y) = [.75, .25, 0];
    # KL_1 = ln(4/3), KL_2 = .5 ln(2/3) + .5 ln 2; IS = exp(mean) = 1.2408064788...
    probs = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0]])
    assert inception_score(probs, splits=1)[0] == pytest.approx(1.2408064788027995, rel=1e-12)


def test_splits_are_consecutive_groups_with_population_std():
    one_hot = np.tile(np.eye(4), (5, 1))  # 20 rows, IS 4
    uniform = np.full((20, 4), 0.25)  # IS 1
    mean, std = inception_score(np.concatenate([one_hot, uniform]), splits=2)
    assert mean == pytest.approx(2.5) and std == pytest.approx(1.5)  # np.std, ddof=0
    # The order matters (consecutive groups, no shuffling): interleaving mixes the groups.
    mixed = np.empty((40, 4))
    mixed[0::2], mixed[1::2] = one_hot, uniform
    m2, s2 = inception_score(mixed, splits=2)
    assert s2 == pytest.approx(0.0, abs=1e-12) and 1.0 < m2 < 4.0


def test_split_errors():
    with pytest.raises(ValueError, match="not divisible"):
        inception_score(np.full((25, 10), 0.1), splits=10)
    with pytest.raises(ValueError, match="at least"):
        inception_score(np.full((5, 10), 0.1), splits=10)
    with pytest.raises(ValueError, match="positive integer"):
        inception_score(np.full((10, 10), 0.1), splits=0)
    with pytest.raises(ValueError, match="sum to 1"):
        inception_score(np.ones((10, 10)), splits=1)  # logits, not probabilities
    with pytest.raises(ValueError, match=r"\[n, classes\]"):
        inception_score(np.full(10, 0.1))


def test_classifier_probs_softmax_in_batches(rng):
    model = keras.Sequential([keras.Input((32,)), keras.layers.Dense(10)])
    waves = rng.standard_normal((7, 32)).astype(np.float32)
    probs = classifier_probs(model, waves, batch_size=3)
    assert probs.shape == (7, 10)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(probs, tf.nn.softmax(model(waves)).numpy(), atol=1e-6)
    np.testing.assert_allclose(classifier_probs(model, waves, batch_size=100), probs, atol=1e-6)
    with pytest.raises(ValueError, match="batch_size"):
        classifier_probs(model, waves, batch_size=0)
