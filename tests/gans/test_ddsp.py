"""DDSPGAN train_step: losses, finite updates, pitch conditioning, distributed == single."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfaudiogan.gans.ddsp import DDSPGAN
from tfaudiogan.models import ddsp_gan
from tfaudiogan.training.strategy import new_mirrored_strategy

SMALL = dict(latent_dim=4, n_samples=2048, n_frames=32, timbre_frames=4, n_harmonics=6,
             n_noise_bands=5, cppn_units=4, cppn_depth=2, n_periodic=1)


def _gan(loss="dcgan", pitch=False, seed=0, clip_norm=None, optimizer=None):
    keras.utils.set_random_seed(seed)
    g = ddsp_gan.generator(**SMALL, pitch_conditioned=pitch)
    d = ddsp_gan.discriminator(n_samples=2048, ndf=2, n_mfcc=8, fft_size=256)
    gan = DDSPGAN(g, d, latent_dim=4, loss=loss, pitch_conditioned=pitch, clip_norm=clip_norm,
                  seed=seed)
    make = optimizer or (lambda: keras.optimizers.Adam(1e-3, epsilon=1e-8))
    gan.compile(make(), make())
    return gan


def _real(n=4):
    t = np.arange(2048) / 16000.0
    return (0.3 * np.sin(2 * np.pi * 440 * t)[None] * np.ones((n, 1))).astype("float32")


@pytest.mark.parametrize("loss", ["dcgan", "hinge", "lsgan"])
def test_step_updates_both_networks_finitely(loss):
    gan = _gan(loss)
    before_g = [v.numpy() for v in gan.generator.trainable_variables]
    before_d = [v.numpy() for v in gan.discriminator.trainable_variables]
    logs = gan.train_step(tf.constant(_real()))
    for name in ("d_loss", "g_loss", "d_real", "d_fake"):
        assert np.isfinite(float(logs[name]))
    after_g = [v.numpy() for v in gan.generator.trainable_variables]
    after_d = [v.numpy() for v in gan.discriminator.trainable_variables]
    assert all(np.isfinite(a).all() for a in after_g + after_d)
    assert max(np.abs(a - b).max() for a, b in zip(after_g, before_g)) > 0
    assert max(np.abs(a - b).max() for a, b in zip(after_d, before_d)) > 0


def test_dcgan_initial_losses_near_log2():
    gan = _gan("dcgan")
    logs = gan.train_step(tf.constant(_real()))
    # An untrained D outputs logits near 0: BCE ~ ln 2 for both terms.
    assert abs(float(logs["g_loss"]) - np.log(2)) < 0.3
    assert abs(float(logs["d_loss"]) - np.log(2)) < 0.3


def test_unknown_loss_and_missing_pitch():
    with pytest.raises(ValueError, match="valid kinds"):
        _gan("wgan")
    gan = _gan(pitch=True)
    with pytest.raises(ValueError, match="pitch"):
        gan.train_step(tf.constant(_real()))
    logs = gan.train_step({"audio": tf.constant(_real()), "pitch": tf.constant([60, 62, 64, 65])})
    assert np.isfinite(float(logs["g_loss"]))


def _one_step(strategy, real, **kwargs):
    with strategy.scope():
        gan = _gan("dcgan", seed=5, **kwargs)
    before = [v.numpy() for v in gan.generator.trainable_variables
              + gan.discriminator.trainable_variables]
    ds = tf.data.Dataset.from_tensors(real)
    history = gan.fit(ds, epochs=1, verbose=0)
    after = [v.numpy() for v in gan.generator.trainable_variables
             + gan.discriminator.trainable_variables]
    return {k: v[-1] for k, v in history.history.items()}, [a - b for a, b in zip(after, before)]


def test_distributed_step_equals_single_device_step():
    real = _real(4) * np.linspace(0.5, 1.0, 4)[:, None].astype("float32")
    single_logs, single = _one_step(tf.distribute.get_strategy(), real)
    dist_logs, dist = _one_step(new_mirrored_strategy(["/cpu:0", "/cpu:1"]), real)
    for name in ("d_loss", "g_loss", "d_real", "d_fake"):
        np.testing.assert_allclose(dist_logs[name], single_logs[name], rtol=1e-4, atol=1e-5)
    assert max(np.abs(s).max() for s in single) > 1e-5
    for s, m in zip(single, dist):
        np.testing.assert_allclose(m, s, rtol=1e-3, atol=2e-6)


def test_clipping_is_of_the_global_batch_gradient_with_any_number_of_replicas():
    """The reference clips the gradient of its whole batch by its global norm; Keras'
    optimizer clipnorm would clip each replica's share (per variable) before the sum."""
    real = _real(4) * np.linspace(0.5, 1.0, 4)[:, None].astype("float32")
    kwargs = dict(clip_norm=1e-3, optimizer=lambda: keras.optimizers.SGD(0.5))
    _, single = _one_step(tf.distribute.get_strategy(), real, **kwargs)
    _, dist = _one_step(new_mirrored_strategy(["/cpu:0", "/cpu:1"]), real, **kwargs)
    n_g = len(_gan(**kwargs).generator.trainable_variables)
    for part in (single[:n_g], single[n_g:]):  # each network's update: lr x the clip norm
        norm = np.sqrt(sum(np.sum(np.square(u)) for u in part))
        np.testing.assert_allclose(norm, 0.5 * 1e-3, rtol=1e-4)
    for s, m in zip(single, dist):
        np.testing.assert_allclose(m, s, rtol=1e-3, atol=1e-9)
