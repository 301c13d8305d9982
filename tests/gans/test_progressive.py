"""GANSynth wrapper: alpha from the image counter, EMA, losses, fake pitches, full-size penalty."""

from dataclasses import replace

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfaudiogan.audio.gansynth import denormalise, normalise
from tfaudiogan.configs import gansynth as presets
from tfaudiogan.gans.progressive import GANSynth, new_alpha, stage_networks
from tfaudiogan.layers.fade_in import upscale
from tfaudiogan.losses import gradient_penalty
from tfaudiogan.models import gansynth as networks
from tfaudiogan.recipes import gansynth as training
from tfaudiogan.training.strategy import new_mirrored_strategy

KW = dict(latent_size=8, num_pitches=61, start_shape=(2, 16), num_resolutions=2,
          fmap_base=16, fmap_max=4)


def make_gan(stage, images_seen=0, counts=None, **kwargs):
    alpha = new_alpha()
    gan = GANSynth(**stage_networks(stage, alpha, **KW), alpha=alpha, stage=stage,
                   pitch_counts=np.ones(61) if counts is None else counts, num_resolutions=2,
                   stable_images=8, transition_images=8, images_seen=images_seen,
                   latent_size=8, **kwargs)
    gan.compile(keras.optimizers.Adam(8e-4, beta_1=0.0, beta_2=0.99, epsilon=1e-8),
                keras.optimizers.Adam(8e-4, beta_1=0.0, beta_2=0.99, epsilon=1e-8))
    return gan


def batch(n=4, seed=0):
    rng = np.random.default_rng(seed)
    return (tf.constant(rng.uniform(-0.9, 0.9, (n, 4, 32, 2)), tf.float32),
            tf.constant(rng.integers(0, 61, n), tf.int32))


def test_paper_schedule_has_13_stages_ending_at_the_reference_boundaries():
    bounds = training.stage_images(presets.paper())
    assert len(bounds) == 13
    assert [e for _, e in bounds][:4] == [800_000, 1_600_000, 2_400_000, 3_200_000]
    assert bounds[11][1] == 9_600_000 and bounds[12] == (9_600_000, 11_000_000)
    assert sum(e - s for s, e in bounds) // presets.paper().train.batch_size == 1_375_000


def test_alpha_follows_the_image_counter_in_a_transition_stage():
    gan = make_gan(stage=1, images_seen=12)  # transition 8..16: p = 0.5 at image 12
    gan.train_step(batch())
    assert float(gan.alpha.numpy()) == pytest.approx(0.5)
    assert int(gan.images_seen.numpy()) == 16
    gan.train_step(batch(seed=1))  # image 16 is past the transition: alpha = 1
    assert float(gan.alpha.numpy()) == pytest.approx(1.0)


def test_an_explicit_schedule_sets_alpha_and_the_recipe_stages():
    gan = make_gan(stage=1, images_seen=14, stage_lengths=(4, 40, 8))  # transition 4..44
    gan.train_step(batch())
    assert float(gan.alpha.numpy()) == pytest.approx(0.25)  # (14 - 4) / 40
    config = presets.smoke()
    long_middle = replace(config, train=replace(config.train, stage_images=(8, 40, 16)))
    assert training.stage_images(long_middle) == [(0, 8), (8, 48), (48, 64)]
    assert [s for s, _, _ in training.stages(long_middle)] == [0, 1, 2]
    with pytest.raises(ValueError, match="3 positive image counts"):
        training.stage_images(replace(config, train=replace(config.train, stage_images=(8,))))
    flat = replace(long_middle, train=replace(long_middle.train, progressive=False))
    with pytest.raises(ValueError, match="progressive=False"):
        training.stages(flat)


def test_one_step_updates_both_networks_and_the_ema_by_0_001():
    gan = make_gan(stage=0)
    g_layer = gan.generator.get_layer("block1_conv1")
    e_layer = gan.generator_ema.get_layer("block1_conv1")
    before = g_layer.kernel.numpy()
    d_before = gan.discriminator.get_layer("block1_conv1").kernel.numpy()
    np.testing.assert_array_equal(e_layer.kernel.numpy(), before)  # EMA starts as a copy
    logs = gan.train_step(batch())
    after = g_layer.kernel.numpy()
    assert not np.allclose(before, after)
    assert not np.allclose(d_before, gan.discriminator.get_layer("block1_conv1").kernel.numpy())
    np.testing.assert_allclose(e_layer.kernel.numpy(), 0.999 * before + 0.001 * after,
                               rtol=1e-5, atol=1e-7)
    assert set(logs) == {"d_loss", "g_loss", "gp", "drift", "d_ac", "g_ac", "w_distance",
                         "alpha"}
    assert int(gan.d_optimizer.iterations.numpy()) == int(gan.g_optimizer.iterations.numpy()) == 1


def _weights(gan):
    return [w.numpy() for w in gan.generator.weights + gan.discriminator.weights]


def _hand_built_step(gan, x, y, g_first):
    """The step written out: G with the discriminator it sees, D with the generator it sees."""
    real = networks.blend_real(x, 0, 1.0, num_resolutions=2)  # stage 0 is stable: alpha 1

    def g_step():
        z, labels = gan.sample_noise(4)
        with tf.GradientTape() as tape:
            logits, classes = gan.discriminator(gan._generate(z, labels), training=True)
            ce = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, classes))
            loss = -tf.reduce_mean(logits) + 10.0 * ce
        g_vars = gan.generator.trainable_variables
        gan.g_optimizer.apply_gradients(zip(tape.gradient(loss, g_vars), g_vars))

    def d_step():
        z, labels = gan.sample_noise(4)
        fake = gan._generate(z, labels)
        with tf.GradientTape() as tape:
            loss = gan.discriminator_losses(real, y, fake)["d_loss"]
        d_vars = gan.discriminator.trainable_variables
        gan.d_optimizer.apply_gradients(zip(tape.gradient(loss, d_vars), d_vars))

    for step in ((g_step, d_step) if g_first else (d_step, g_step)):
        step()


@pytest.mark.parametrize("order", ["g_first", "d_first"])
def test_update_order_matches_a_hand_built_step(order):
    x, y = batch()
    gan = make_gan(stage=0, seed=5, update_order=order)
    hand = make_gan(stage=0, seed=5)
    for name in ("generator", "discriminator"):
        getattr(hand, name).set_weights(getattr(gan, name).get_weights())
    hand_start = {n: getattr(gan, n).get_weights() for n in ("generator", "discriminator")}
    gan.train_step((x, y))
    _hand_built_step(hand, x, y, g_first=order == "g_first")
    for ours, expected in zip(_weights(gan), _weights(hand)):
        np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-6)
    # the other order from the same start gives other weights: the comparison above can fail
    other = make_gan(stage=0, seed=5)
    for name in ("generator", "discriminator"):
        getattr(other, name).set_weights(hand_start[name])
    _hand_built_step(other, x, y, g_first=order != "g_first")
    assert max(np.abs(a - b).max() for a, b in zip(_weights(gan), _weights(other))) > 1e-4
    # counters: one G and one D iteration, the batch's images counted once
    assert int(gan.g_optimizer.iterations.numpy()) == int(gan.d_optimizer.iterations.numpy()) == 1
    assert int(gan.images_seen.numpy()) == 4


def test_paper_preset_runs_the_generator_first_and_orders_are_checked():
    assert presets.paper().train.update_order == "g_first"  # tf-gan sequential hooks
    with pytest.raises(ValueError, match="update_order"):
        make_gan(stage=0, update_order="both")


def test_discriminator_loss_is_the_sum_of_its_reference_terms():
    gan = make_gan(stage=0, seed=3)
    x, y = batch()
    real = networks.blend_real(x, 0, 1.0, num_resolutions=2)
    z, labels = gan.sample_noise(4)
    fake = gan._generate(z, labels)
    terms = gan.discriminator_losses(real, y, fake)
    real_logits, real_cls = gan.discriminator(real)
    fake_logits, _ = gan.discriminator(fake)
    ce = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y, real_cls))
    np.testing.assert_allclose(terms["drift"], 0.001 * np.mean(real_logits.numpy() ** 2),
                               rtol=1e-5)
    np.testing.assert_allclose(terms["d_ac"], 10.0 * ce.numpy(), rtol=1e-5)
    expected = (np.mean(fake_logits) - np.mean(real_logits) + terms["gp"] + terms["drift"]
                + terms["d_ac"])
    np.testing.assert_allclose(terms["d_loss"], expected, rtol=1e-5)


def test_penalty_equals_the_full_size_reference_discriminator():
    gan = make_gan(stage=0)  # 1 block at 2x16 of a 4x32 final image: box factor 2
    full = networks.discriminator(0, num_resolutions=2, start_shape=(2, 16), fmap_base=16,
                                  fmap_max=4, full_size=True)
    networks.transfer_weights(gan.discriminator, full)
    real, _ = batch()
    real = networks.blend_real(real, 0, 1.0, num_resolutions=2)
    fake = tf.random.uniform(real.shape, -0.9, 0.9, seed=1)
    mix = tf.constant([0.1, 0.4, 0.7, 0.9])
    ours = gan.penalty(real, fake, mix=mix)
    reference = gradient_penalty(lambda x: full(normalise(x))[0], denormalise(upscale(real, 2)),
                                 denormalise(upscale(fake, 2)), weight=10.0, alpha=mix)
    np.testing.assert_allclose(ours.numpy(), reference.numpy(), rtol=1e-4)
    unscaled = make_gan(stage=0, gp_full_size_norm=False)
    networks.transfer_weights(gan.discriminator, unscaled.discriminator)
    assert abs(float(unscaled.penalty(real, fake, mix=mix)) - float(ours)) > 1e-3


def test_fake_pitches_follow_the_training_histogram():
    counts = np.zeros(61)
    counts[[0, 36]] = [1, 3]  # MIDI 24 once, MIDI 60 three times
    gan = make_gan(stage=0, counts=counts)
    labels = np.concatenate([gan.sample_noise(256)[1].numpy() for _ in range(4)])
    assert set(np.unique(labels)) == {0, 36}
    assert 0.70 < np.mean(labels == 36) < 0.80


@pytest.mark.parametrize("counts", [np.ones(60), -np.ones(61), np.zeros(61)])
def test_bad_pitch_histogram_is_a_clear_error(counts):
    with pytest.raises(ValueError, match="pitch_counts"):
        make_gan(stage=0, counts=counts)


@pytest.mark.distributed
def test_step_under_mirrored_strategy_updates_alpha_counter_and_ema():
    strategy = new_mirrored_strategy()
    with strategy.scope():
        gan = make_gan(stage=0, images_seen=8)
    before = gan.generator_ema.get_layer("block1_conv1").kernel.numpy()
    x, y = batch(8)
    gan.fit(tf.data.Dataset.from_tensor_slices((x, y)).batch(8), epochs=1, verbose=0)
    assert int(gan.images_seen.numpy()) == 16  # the global batch, counted once
    assert float(gan.alpha.numpy()) == pytest.approx(1.0)  # stable stage
    after = gan.generator_ema.get_layer("block1_conv1").kernel.numpy()
    g = gan.generator.get_layer("block1_conv1").kernel.numpy()
    assert not np.allclose(before, after)
    for var in gan.generator_ema.get_layer("block1_conv1").kernel.value.values:
        np.testing.assert_allclose(var.numpy(), after)  # replicas agree
    np.testing.assert_allclose(after, 0.999 * before + 0.001 * g, rtol=1e-5, atol=1e-7)
