"""Replica-aware losses: worked values, agreement with Keras/closed forms, replica scaling."""

import numpy as np
import pytest
import tensorflow as tf

from tfaudiogan import losses
from tfaudiogan.training.strategy import new_mirrored_strategy


def mirrored():
    """A 2-replica MirroredStrategy on the logical CPUs (fresh collective keys)."""
    return new_mirrored_strategy(["/cpu:0", "/cpu:1"])


def test_worked_values_single_replica():
    logits = tf.constant([[0.0, 1.0], [2.0, -1.0]])
    assert losses.num_replicas() == 1
    np.testing.assert_allclose(losses.replica_mean(logits), 0.5)
    # (0-1)^2, (1-1)^2, (2-1)^2, (-1-1)^2 -> (1 + 0 + 1 + 4) / 4
    np.testing.assert_allclose(losses.lsgan_loss(logits, 1.0), 1.5)
    np.testing.assert_allclose(losses.lsgan_loss(logits, 0.0), 1.5)  # (0 + 1 + 4 + 1) / 4
    np.testing.assert_allclose(losses.l1_loss(logits, tf.ones_like(logits)), 1.0)
    # BCE at logit 0 is log 2 for any target.
    np.testing.assert_allclose(losses.bce_loss(tf.zeros([3, 4]), 1.0), np.log(2.0), rtol=1e-6)


def test_bce_matches_keras_from_logits(rng):
    logits = rng.normal(size=(4, 5, 5, 1)).astype("float32") * 3
    for target in (0.0, 1.0):
        expected = tf.keras.losses.BinaryCrossentropy(from_logits=True)(
            np.full_like(logits, target), logits)
        np.testing.assert_allclose(losses.bce_loss(logits, target), expected, rtol=1e-5)


def test_adversarial_dispatch_and_error():
    logits = tf.constant([0.5, -0.5])
    np.testing.assert_allclose(losses.adversarial_loss("lsgan", logits, 1.0),
                               losses.lsgan_loss(logits, 1.0))
    np.testing.assert_allclose(losses.adversarial_loss("bce", logits, 0.0),
                               losses.bce_loss(logits, 0.0))
    with pytest.raises(ValueError, match="'wgan'.*lsgan, bce"):
        losses.adversarial_loss("wgan", logits, 1.0)
    with pytest.raises(ValueError, match="lsgan, bce"):
        losses.check_adversarial_kind("hinge")


def test_losses_divide_by_replicas_and_gradients_sum_to_single_device(rng):
    """Per-replica shares summed over 2 replicas equal the single-device value and gradient."""
    x = rng.normal(size=(4, 3)).astype("float32")
    w0 = rng.normal(size=(3, 2)).astype("float32")

    def loss_fn(w, batch):
        logits = tf.matmul(batch, w)
        return (losses.lsgan_loss(logits, 1.0) + losses.bce_loss(logits, 0.0)
                + losses.l1_loss(logits, 0.5))

    w = tf.Variable(w0)
    with tf.GradientTape() as tape:
        single = loss_fn(w, x)
    single_grad = tape.gradient(single, w)

    strategy = mirrored()
    with strategy.scope():
        wd = tf.Variable(w0)

    def replica_fn(batch):
        assert losses.num_replicas() == 2
        with tf.GradientTape() as tape:
            value = loss_fn(wd, batch)
        return value, tape.gradient(value, wd)

    dataset = strategy.experimental_distribute_dataset(
        tf.data.Dataset.from_tensor_slices(x).batch(4))
    values, grads = strategy.run(tf.function(replica_fn), args=(next(iter(dataset)),))
    total = strategy.reduce("SUM", values, axis=None)
    grad_sum = strategy.reduce("SUM", grads, axis=None)
    np.testing.assert_allclose(total, single, rtol=1e-5)
    np.testing.assert_allclose(grad_sum, single_grad, rtol=1e-5, atol=1e-7)
    # Each replica's share is its local mean halved.
    local = strategy.experimental_local_results(values)
    assert len(local) == 2
    np.testing.assert_allclose(2 * local[0], loss_fn(tf.constant(w0), x[:2]), rtol=1e-5)
