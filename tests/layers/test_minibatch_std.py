"""Minibatch stddev: one scalar for the whole batch, +1 channel (reference/gansynth.md 2.3)."""

import numpy as np
import pytest
import tensorflow as tf

from tfaudiogan.layers.minibatch_std import MinibatchStddev, minibatch_mean_stddev
from tfaudiogan.training.strategy import new_mirrored_strategy


def test_worked_example():
    # Two samples, two features: batch variances (1, 4) -> stddevs (1, 2) -> mean 1.5.
    x = np.array([[[[0.0, 0.0]]], [[[2.0, 4.0]]]], dtype="float32")  # [2, 1, 1, 2]
    assert float(minibatch_mean_stddev(x)) == pytest.approx(
        (np.sqrt(1 + 1e-6) + np.sqrt(4 + 1e-6)) / 2, rel=1e-6)
    y = MinibatchStddev()(x).numpy()
    assert y.shape == (2, 1, 1, 3)
    np.testing.assert_array_equal(y[..., :2], x)
    np.testing.assert_allclose(y[..., 2], 1.5, rtol=1e-6)


def test_matches_numpy_and_is_constant(rng):
    x = rng.normal(size=(4, 3, 5, 6)).astype("float32")
    y = MinibatchStddev()(x).numpy()
    expected = np.mean(np.sqrt(np.var(x, axis=0) + 1e-6))
    np.testing.assert_allclose(y[..., -1], expected, rtol=1e-5)
    assert MinibatchStddev().compute_output_shape((None, 3, 5, 6)) == (None, 3, 5, 7)


def test_single_sample_batch_gives_sqrt_epsilon():
    x = np.ones((1, 2, 2, 3), dtype="float32")
    y = MinibatchStddev(epsilon=1e-6)(x).numpy()
    np.testing.assert_allclose(y[..., -1], 1e-3, rtol=1e-4)


@pytest.mark.distributed
def test_replicas_use_the_global_batch_and_its_gradient(rng):
    """Two replicas of two examples each see the statistic (and gradient) of all four, as
    one device does (the single-GPU reference's batch)."""
    x = rng.normal(size=(4, 3, 2, 5)).astype("float32")

    def stat_and_grad(v):
        v = tf.convert_to_tensor(v)
        with tf.GradientTape() as tape:
            tape.watch(v)
            s = minibatch_mean_stddev(v)
        return s, tape.gradient(s, v)

    one, one_grad = stat_and_grad(x)
    strategy = new_mirrored_strategy(["/cpu:0", "/cpu:1"])
    halves = strategy.experimental_distribute_values_from_function(
        lambda ctx: x[2 * ctx.replica_id_in_sync_group:2 * ctx.replica_id_in_sync_group + 2])
    stats, grads = strategy.run(stat_and_grad, args=(halves,))
    for s in strategy.experimental_local_results(stats):
        np.testing.assert_allclose(s, one, rtol=1e-6)
    # each replica's input gradient is the global statistic's, divided over its 2 replicas'
    # copies of the loss (the all-reduce's gradient sums them): rows match one device's
    parts = np.concatenate([g.numpy() for g in strategy.experimental_local_results(grads)])
    np.testing.assert_allclose(parts, 2 * one_grad.numpy(), rtol=1e-5, atol=1e-8)
