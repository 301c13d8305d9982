"""WaveGAN/SpecGAN train_step: hand-computed WGAN-GP step, fresh real batches, loss options,
and the distributed step equal to the single-device step."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfaudiogan import losses
from tfaudiogan.gans.wavegan import WaveGAN, training_batches
from tfaudiogan.layers.phase_shuffle import PhaseShuffle
from tfaudiogan.models import specgan, wavegan
from tfaudiogan.training.strategy import new_mirrored_strategy

LATENT = 3
SAMPLES = 4


def linear_pair(g_kernel, d_kernel):
    """G: z [b, 3] -> x [b, 4, 1] linear; D: x -> w . x (no biases), weights given."""
    z = keras.Input((LATENT,))
    g = keras.Model(z, keras.layers.Reshape((SAMPLES, 1))(
        keras.layers.Dense(SAMPLES, use_bias=False, name="g_dense")(z)))
    x = keras.Input((SAMPLES, 1))
    d = keras.Model(x, keras.layers.Dense(1, use_bias=False, name="d_dense")(
        keras.layers.Flatten()(x)))
    g.get_layer("g_dense").kernel.assign(g_kernel)
    d.get_layer("d_dense").kernel.assign(d_kernel)
    return g, d


def small_conv_pair(seed):
    """WaveGAN-shaped miniatures on 64 samples: ConvT x4 + tanh; Conv x4, LReLU, phase shuffle."""
    keras.utils.set_random_seed(seed)
    z = keras.Input((8,))
    h = keras.layers.Reshape((16, 4))(keras.layers.Dense(64)(z))
    h = keras.layers.ReLU()(h)
    out = keras.layers.Conv1DTranspose(1, 5, strides=4, padding="same", activation="tanh")(h)
    x = keras.Input((64, 1))
    k = keras.layers.Conv1D(4, 5, strides=4, padding="same")(x)
    k = PhaseShuffle(2, seed=seed)(keras.layers.LeakyReLU(0.2)(k))
    logits = keras.layers.Dense(1)(keras.layers.Flatten()(k))
    return keras.Model(z, out), keras.Model(x, logits)


def sgd_gan(g, d, lr, **kw):
    gan = WaveGAN(g, d, latent_dim=LATENT, seed=7, **kw)
    gan.compile(g_optimizer=keras.optimizers.SGD(lr), d_optimizer=keras.optimizers.SGD(lr))
    return gan


def test_wgan_gp_step_matches_hand_computation(rng):
    g_kernel = rng.normal(size=(LATENT, SAMPLES)).astype("float32")
    w = rng.normal(size=(SAMPLES, 1)).astype("float32")
    g, d = linear_pair(g_kernel, w)
    gan = sgd_gan(g, d, lr=0.1, d_updates=1)
    real = rng.normal(size=(8, 1, SAMPLES, 1)).astype("float32")
    logs = gan.train_step(tf.constant(real))

    # The same draws as the model: z for the D update, then z for the G update.
    zs = keras.random.SeedGenerator(7)
    z1 = losses.replica_uniform([8, LATENT], zs, -1.0, 1.0).numpy()
    z2 = losses.replica_uniform([8, LATENT], zs, -1.0, 1.0).numpy()
    x = real[:, 0, :, 0]
    fake = z1 @ g_kernel
    norm = np.linalg.norm(w)  # a linear critic's gradient is w for every interpolate
    gp = 10.0 * (norm - 1.0) ** 2
    d_loss = np.mean(fake @ w) - np.mean(x @ w) + gp
    grad_w = (fake.mean(0) - x.mean(0))[:, None] + 10.0 * 2 * (norm - 1.0) * w / norm
    w1 = w - 0.1 * grad_w
    g_loss = -np.mean(z2 @ g_kernel @ w1)
    np.testing.assert_allclose(logs["d_loss"], d_loss, rtol=1e-4)
    np.testing.assert_allclose(logs["gp"], gp, rtol=1e-4)
    np.testing.assert_allclose(logs["w_distance"], np.mean(x @ w) - np.mean(fake @ w), rtol=1e-4)
    np.testing.assert_allclose(logs["g_loss"], g_loss, rtol=1e-4)
    np.testing.assert_allclose(d.get_layer("d_dense").kernel.numpy(), w1, rtol=1e-4, atol=1e-6)
    # dL_G/dK = -mean_b z2^T w1^T
    g1 = g_kernel + 0.1 * (z2.mean(0)[:, None] @ w1.T)
    np.testing.assert_allclose(g.get_layer("g_dense").kernel.numpy(), g1, rtol=1e-4, atol=1e-6)
    assert int(gan.g_optimizer.iterations.numpy()) == 1


def test_each_discriminator_update_takes_its_own_real_batch():
    """G outputs 0 during the D updates, so D's SGD steps add lr * mean(real_i) for each i."""
    g, d = linear_pair(np.zeros((LATENT, SAMPLES), "float32"), np.zeros((SAMPLES, 1), "float32"))
    gan = sgd_gan(g, d, lr=0.5, d_updates=5, gp_weight=0.0)
    real = np.stack([np.full((2, SAMPLES, 1), float(i + 1)) for i in range(5)], axis=1)
    real = real * np.arange(1, SAMPLES + 1)[None, None, :, None]
    gan.train_step(tf.constant(real, tf.float32))
    # Sum over the 5 distinct batches: (1+2+3+4+5) * [1, 2, 3, 4] * 0.5; one batch reused 5
    # times would give 5 * [1, 2, 3, 4] * 0.5.
    np.testing.assert_allclose(d.get_layer("d_dense").kernel.numpy()[:, 0],
                               0.5 * 15 * np.arange(1, SAMPLES + 1), rtol=1e-6)
    assert int(gan.d_optimizer.iterations.numpy()) == 5
    assert int(gan.g_optimizer.iterations.numpy()) == 1


def test_training_batches_layout():
    ds = tf.data.Dataset.range(30).map(lambda i: tf.fill([SAMPLES, 1], tf.cast(i, tf.float32)))
    element = next(iter(training_batches(ds, batch_size=3, d_updates=5)))
    assert element.shape == (3, 5, SAMPLES, 1)
    assert len(np.unique(element.numpy())) == 15  # 15 distinct examples per step
    g, d = linear_pair(np.zeros((LATENT, SAMPLES), "float32"), np.zeros((SAMPLES, 1), "float32"))
    with pytest.raises(ValueError, match="d_updates=2"):
        sgd_gan(g, d, 0.1, d_updates=2).train_step(element)


@pytest.mark.parametrize("loss", ["dcgan", "lsgan", "wgan", "hinge"])
def test_other_losses_train(loss, rng):
    g, d = small_conv_pair(0)
    gan = WaveGAN(g, d, latent_dim=8, loss=loss, d_updates=2, clip=0.01, seed=0)
    gan.compile(g_optimizer=keras.optimizers.RMSprop(5e-5),
                d_optimizer=keras.optimizers.RMSprop(5e-5))
    real = rng.uniform(-0.5, 0.5, (2, 2, 64, 1)).astype("float32")
    logs = {k: float(v) for k, v in gan.train_step(tf.constant(real)).items()}
    assert all(np.isfinite(v) for v in logs.values())
    assert ("w_distance" in logs) == (loss == "wgan") and "gp" not in logs
    if loss == "wgan":
        assert max(float(tf.reduce_max(tf.abs(v))) for v in d.trainable_variables) <= 0.01
    if loss == "dcgan":  # log 2 at D's initial logits near 0, up to the first update
        assert 0.3 < logs["d_loss"] < 1.1
    assert int(gan.d_optimizer.iterations.numpy()) == 2 * int(gan.g_optimizer.iterations.numpy())


def test_paper_networks_at_16384_samples_take_a_step(rng):
    keras.utils.set_random_seed(0)
    gan = WaveGAN(wavegan.generator(dim=2, latent_dim=8),
                  wavegan.discriminator(dim=2, phaseshuffle_rad=2, seed=0),
                  latent_dim=8, d_updates=2, seed=0)
    gan.compile(g_optimizer=keras.optimizers.Adam(1e-4, 0.5, 0.9, epsilon=1e-8),
                d_optimizer=keras.optimizers.Adam(1e-4, 0.5, 0.9, epsilon=1e-8))
    real = rng.uniform(-1, 1, (2, 2, 16384, 1)).astype("float32")
    logs = gan.train_step(tf.constant(real))
    assert float(logs["gp"]) > 0 and np.isfinite(float(logs["g_loss"]))


def test_specgan_images_train_with_gradient_penalty(rng):
    keras.utils.set_random_seed(0)
    gan = WaveGAN(specgan.generator(dim=2, latent_dim=8), specgan.discriminator(dim=2),
                  latent_dim=8, d_updates=1, seed=0)
    gan.compile(g_optimizer=keras.optimizers.Adam(1e-4, 0.5, 0.9, epsilon=1e-8),
                d_optimizer=keras.optimizers.Adam(1e-4, 0.5, 0.9, epsilon=1e-8))
    real = rng.uniform(-1, 1, (2, 128, 128, 1)).astype("float32")  # d_updates=1: plain batch
    logs = gan.train_step(tf.constant(real))
    assert float(logs["gp"]) > 0 and np.isfinite(float(logs["d_loss"]))


def _one_step(strategy, real, seed):
    with strategy.scope():
        g, d = small_conv_pair(seed)
        gan = WaveGAN(g, d, latent_dim=8, d_updates=2, seed=seed)
        gan.compile(g_optimizer=keras.optimizers.Adam(1e-3, 0.5, 0.9, epsilon=1e-8),
                    d_optimizer=keras.optimizers.Adam(1e-3, 0.5, 0.9, epsilon=1e-8))
    before = [v.numpy() for v in gan.trainable_variables]
    ds = tf.data.Dataset.from_tensors(real)  # one global batch [4, 2, 64, 1]
    history = gan.fit(ds, epochs=1, verbose=0)
    after = [v.numpy() for v in gan.trainable_variables]
    return history.history, [a - b for a, b in zip(after, before)]


@pytest.mark.distributed
def test_distributed_step_equals_single_device_step(rng):
    real = rng.uniform(-0.5, 0.5, (4, 2, 64, 1)).astype("float32")
    single_logs, single = _one_step(tf.distribute.get_strategy(), real, seed=3)
    dist_logs, dist = _one_step(new_mirrored_strategy(["/cpu:0", "/cpu:1"]), real, seed=3)
    for name in ("d_loss", "g_loss", "gp", "w_distance"):
        np.testing.assert_allclose(dist_logs[name], single_logs[name], rtol=1e-4, atol=1e-5)
    assert max(np.abs(s).max() for s in single) > 1e-4  # the step moved the weights
    for s, m in zip(single, dist):
        np.testing.assert_allclose(m, s, rtol=1e-3, atol=2e-6)
