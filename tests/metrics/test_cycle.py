"""The relative forward-cycle metric of seed 002."""

import numpy as np
import pytest

from tfaudiogan.metrics import mean_relative_cycle_loss, relative_cycle_loss


def test_worked_example():
    x = np.array([[[[1.0], [-1.0]], [[0.5], [-0.5]]]])  # sum|x| = 3
    cyc = x + np.array([[[[0.3], [0.0]], [[0.0], [-0.3]]]])  # sum|diff| = 0.6
    np.testing.assert_allclose(relative_cycle_loss(x, cyc), [0.2])


def test_perfect_cycle_is_zero_and_scale_invariant(rng):
    x = rng.uniform(-1, 1, (3, 8, 6, 1))
    assert np.all(relative_cycle_loss(x, x) == 0)
    noisy = x + 0.1 * rng.standard_normal(x.shape)
    np.testing.assert_allclose(relative_cycle_loss(2 * x, 2 * noisy), relative_cycle_loss(x, noisy))


def test_mean_over_batches_equals_mean_over_clips(rng):
    x = rng.uniform(-1, 1, (5, 4, 4, 1)).astype(np.float32)

    def halve(t):
        return t * 0.5

    per_clip = relative_cycle_loss(x, x * 0.5)
    assert mean_relative_cycle_loss(x, halve, batch_size=2) == pytest.approx(per_clip.mean())
    assert per_clip.mean() == pytest.approx(0.5)


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match="shapes differ"):
        relative_cycle_loss(np.zeros((1, 4, 4, 1)), np.zeros((1, 4, 8, 1)))
