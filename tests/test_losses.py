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


# --- WaveGAN / SpecGAN losses (reference/wavegan.md 3.4, 4.1) ---------------------------------

def test_gan_loss_worked_values():
    real, fake = tf.constant([1.0, 2.0, 3.0]), tf.constant([0.5, -0.5, 3.0])
    for kind in ("wgan-gp", "wgan"):
        np.testing.assert_allclose(losses.discriminator_loss(kind, real, fake), 1.0 - 2.0)
        np.testing.assert_allclose(losses.generator_loss(kind, fake), -1.0)
    # dcgan: softplus(-2) = log(1 + e^-2) for both D terms, halved sum; G: softplus(2).
    sp = np.log1p(np.exp(-2.0))
    np.testing.assert_allclose(losses.discriminator_loss("dcgan", [2.0], [-2.0]), sp, rtol=1e-6)
    np.testing.assert_allclose(losses.generator_loss("dcgan", [-2.0]), 2.0 + sp, rtol=1e-6)
    # lsgan: ((0^2 + 2^2)/2 + (0^2 + 2^2)/2) / 2 = 2; G: ((-1)^2 + 1^2)/2 = 1.
    np.testing.assert_allclose(losses.discriminator_loss("lsgan", [1.0, 3.0], [0.0, 2.0]), 2.0)
    np.testing.assert_allclose(losses.generator_loss("lsgan", [0.0, 2.0]), 1.0)
    # hinge: mean(relu(1 - [0.5, 2])) = 0.25, mean(relu(1 + [-2, 0.5])) = 0.75; G: -mean(fake).
    np.testing.assert_allclose(losses.discriminator_loss("hinge", [0.5, 2.0], [-2.0, 0.5]), 1.0)
    np.testing.assert_allclose(losses.generator_loss("hinge", [-2.0, 0.5]), 0.75)
    with pytest.raises(ValueError, match="wgan-gp, wgan, dcgan, lsgan, hinge"):
        losses.discriminator_loss("bce", real, fake)


def test_gradient_penalty_worked_values():
    # Linear critic D(x) = sum(0.25 x): gradient 0.25 everywhere, norm over 4 samples = 0.5.
    real, fake = tf.ones([2, 4, 1]), tf.zeros([2, 4, 1])
    linear = lambda x: tf.reduce_sum(0.25 * x, axis=[1, 2])  # noqa: E731
    np.testing.assert_allclose(
        losses.gradient_penalty(linear, real, fake, alpha=[0.3, 0.9]), 10 * 0.25, rtol=1e-5)
    # Quadratic critic D(x) = sum(x^2) / 2: gradient = xhat = (1 - alpha) * real.
    quad = lambda x: 0.5 * tf.reduce_sum(tf.square(x), axis=[1, 2])  # noqa: E731
    # alpha 0.5 -> norm sqrt(4 * 0.25) = 1 -> 0; alpha 0.25 -> sqrt(4 * 0.5625) = 1.5 -> 0.25.
    np.testing.assert_allclose(
        losses.gradient_penalty(quad, real, fake, alpha=[0.5, 0.25], weight=4.0),
        4.0 * 0.125, rtol=1e-5)
    with pytest.raises(ValueError, match="seed_generator"):
        losses.gradient_penalty(quad, real, fake)


def test_gradient_penalty_alpha_is_uniform_per_example_over_all_axes():
    """The drawn alpha has one value per example, broadcast over [time, freq, channels]."""
    import keras

    real, fake = tf.ones([16, 3, 2, 1]), tf.zeros([16, 3, 2, 1])
    quad = lambda x: 0.5 * tf.reduce_sum(tf.square(x), axis=[1, 2, 3])  # noqa: E731
    value = losses.gradient_penalty(quad, real, fake, keras.random.SeedGenerator(7), weight=1.0)
    alpha = losses.replica_uniform([16, 1, 1, 1], keras.random.SeedGenerator(7))[:, 0, 0, 0]
    assert 0.0 <= float(tf.reduce_min(alpha)) and float(tf.reduce_max(alpha)) < 1.0
    assert len(np.unique(alpha.numpy())) == 16
    slopes = (1.0 - alpha.numpy()) * np.sqrt(6.0)  # 6 elements per example
    np.testing.assert_allclose(value, np.mean((slopes - 1.0) ** 2), rtol=1e-5)


def test_replica_uniform_slices_one_global_draw():
    import keras

    single = losses.replica_uniform([4, 3], keras.random.SeedGenerator(11), -1.0, 1.0)
    strategy = mirrored()
    with strategy.scope():
        gen = keras.random.SeedGenerator(11)
    local = strategy.experimental_local_results(strategy.run(
        tf.function(lambda: losses.replica_uniform([2, 3], gen, -1.0, 1.0))))
    np.testing.assert_array_equal(np.concatenate([t.numpy() for t in local]), single.numpy())
    assert not np.array_equal(local[0].numpy(), local[1].numpy())


def test_wgan_gp_two_replicas_equal_one_device(rng):
    """D loss + GP (alpha drawn, not fixed): summed replica gradients == single-device gradient."""
    import keras

    real = rng.normal(size=(4, 8, 1)).astype("float32")
    fake = rng.normal(size=(4, 8, 1)).astype("float32")

    def make_critic():
        keras.utils.set_random_seed(3)
        inputs = keras.Input((8, 1))
        h = keras.layers.Conv1D(3, 5, strides=2, padding="same")(inputs)
        h = keras.layers.LeakyReLU(0.2)(h)
        out = keras.layers.Dense(1)(keras.layers.Flatten()(h))
        return keras.Model(inputs, out)

    def loss_fn(critic, seed, r, f):
        return (losses.discriminator_loss("wgan-gp", critic(r), critic(f))
                + losses.gradient_penalty(critic, r, f, seed))

    critic = make_critic()
    with tf.GradientTape() as tape:
        single = loss_fn(critic, keras.random.SeedGenerator(5), real, fake)
    single_grads = tape.gradient(single, critic.trainable_variables)

    strategy = mirrored()
    with strategy.scope():
        dcritic, dseed = make_critic(), keras.random.SeedGenerator(5)

    def replica_fn(r, f):
        with tf.GradientTape() as tape:
            value = loss_fn(dcritic, dseed, r, f)
        return value, tape.gradient(value, dcritic.trainable_variables)

    dataset = strategy.experimental_distribute_dataset(
        tf.data.Dataset.from_tensor_slices((real, fake)).batch(4))
    values, grads = strategy.run(tf.function(replica_fn), args=next(iter(dataset)))
    np.testing.assert_allclose(strategy.reduce("SUM", values, axis=None), single, rtol=1e-5)
    for g, expected in zip(grads, single_grads):
        np.testing.assert_allclose(strategy.reduce("SUM", g, axis=None), expected, rtol=1e-4,
                                   atol=1e-6)
