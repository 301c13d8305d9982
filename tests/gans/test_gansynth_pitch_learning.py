"""GANSynth's pitch conditioning learns: a short run of the real train step on toy notes.

Toy "spectrograms" (4 x 32, the smoke geometry) carry their pitch as one bright frequency
column (plus its octave, weaker) on a dark background; eight of the 61 classes are used. A
stage-0 model (2 x 16, the real images box-downscaled by blend_real) trains for a few hundred
steps of GANSynth.train_step, then:

* the discriminator's auxiliary classifier, on real notes, must beat the best pitch-blind
  guess (the entropy of the training pitch histogram, ln 8, itself below ln 61);
* the generator's notes must put their brightest column where the asked pitch's is, for most
  pitches: the conditioning reaches the output, through the aux loss and the one-hot.

A wrong label offset (labels vs one-hot), a cut classifier gradient or a zero aux weight each
make one of these fail (a third test checks the zero weights; a fourth, the labels).
"""

import keras
import numpy as np
import tensorflow as tf

from tfaudiogan.gans.progressive import GANSynth, new_alpha, stage_networks

PITCH_CLASSES = np.arange(0, 61, 8)[:8]  # 8 of the 61 one-hot classes: 0, 8, ..., 56
COLUMNS = 4 * np.arange(8) + 2  # their fundamental's column in the 32-bin image
KW = dict(latent_size=4, num_pitches=61, start_shape=(2, 16), num_resolutions=2,
          fmap_base=64, fmap_max=16)
STEPS = 300
RATE = 4e-3  # a toy run: faster than the paper's 8e-4, as the demo preset is
# the paper's 0.999 averages over ~1000 steps: after 300 the EMA copy would still be 74 % its
# initialisation (0.999 ** 300), pitch-blind; 0.95 averages over the last ~20 steps
EMA_DECAY = 0.95


def toy_notes(n, seed):
    """``(images [n, 4, 32, 2] in [-1, 1], labels [n] int32)``: class ``PITCH_CLASSES[k]`` has
    a bright column at ``COLUMNS[k]`` (and half as bright one octave up, when it fits)."""
    rng = np.random.default_rng(seed)
    k = rng.integers(0, 8, n)
    images = np.full([n, 4, 32, 2], -0.8, np.float32)
    images[..., 1] = rng.uniform(-0.1, 0.1, [n, 4, 32])  # IF channel: noise
    images[..., 0] += rng.uniform(-0.05, 0.05, [n, 4, 32])
    level = rng.uniform(0.5, 0.8, n)  # "velocity"
    for i in range(n):
        images[i, :, COLUMNS[k[i]], 0] = level[i]
        octave = 2 * COLUMNS[k[i]]
        if octave < 32:
            images[i, :, octave, 0] = level[i] / 2
    return images, PITCH_CLASSES[k].astype(np.int32)


def train(d_ac_weight=10.0, g_ac_weight=10.0, seed=0):
    keras.utils.set_random_seed(seed)
    images, labels = toy_notes(512, seed)
    counts = np.bincount(labels, minlength=61)
    alpha = new_alpha()
    gan = GANSynth(**stage_networks(0, alpha, **KW), alpha=alpha, stage=0, pitch_counts=counts,
                   num_resolutions=2, stable_images=10**6, transition_images=10**6,
                   latent_size=KW["latent_size"], d_ac_weight=d_ac_weight,
                   g_ac_weight=g_ac_weight, ema_decay=EMA_DECAY, seed=seed)
    gan.compile(*(keras.optimizers.Adam(RATE, beta_1=0.0, beta_2=0.99, epsilon=1e-8)
                  for _ in range(2)))
    data = tf.data.Dataset.from_tensor_slices((images, labels)).shuffle(512, seed=seed)
    gan.fit(data.repeat().batch(8, drop_remainder=True), steps_per_epoch=STEPS, epochs=1,
            verbose=0)
    return gan, counts


def real_cross_entropy(gan, seed=99):
    """The aux classifier's mean cross-entropy on fresh real toy notes (nats)."""
    images, labels = toy_notes(256, seed)
    real = tf.image.resize(images, (2, 16), method="area")  # = blend_real at stage 0
    logits = gan.discriminator(real, training=False)[1]
    return float(tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits)))


def histogram_entropy(counts):
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log(p)).sum())


def test_discriminator_pitch_classifier_falls_below_chance():
    gan, counts = train()
    chance = histogram_entropy(counts)  # ~ln 8 = 2.08 < ln 61 = 4.11
    assert chance < np.log(61)
    assert real_cross_entropy(gan) < 0.5 * chance


def test_generated_notes_put_their_peak_at_the_asked_pitch():
    gan, _ = train()
    rng = np.random.default_rng(7)
    k = np.repeat(np.arange(8), 16)
    z = rng.standard_normal([k.size, KW["latent_size"]]).astype(np.float32)
    for ema in (False, True):
        images = gan.generate(z, PITCH_CLASSES[k], ema=ema).numpy()  # [128, 2, 16, 2]
        peak = images[..., 0].mean(axis=1).argmax(axis=-1)  # brightest of 16 columns
        hits = np.mean(peak == COLUMNS[k] // 2)
        assert hits >= 0.5, (ema, hits)  # chance: ~1/16 for a pitch-blind peak


def test_without_the_aux_loss_the_classifier_stays_at_chance():
    gan, counts = train(d_ac_weight=0.0, g_ac_weight=0.0)
    assert real_cross_entropy(gan) > 0.9 * np.log(61)  # untrained head: near ln 61


def test_built_in_notes_label_their_pitch_minus_24_on_a_chosen_pitch_set():
    import logging
    from dataclasses import replace

    import pytest

    from tfaudiogan.configs import gansynth as presets
    from tfaudiogan.recipes import gansynth as recipe

    config = presets.smoke()
    config = replace(config, data=replace(config.data, synthetic_notes=24,
                                          synthetic_pitches=(84, 24, 60)))
    notes, counts = recipe.load_notes(config, None, logging.getLogger("test"))
    labels = np.array([label for _, label in notes.as_numpy_iterator()])
    assert set(labels.tolist()) <= {0, 36, 60} and counts.sum() == 24
    np.testing.assert_array_equal(counts, np.bincount(labels, minlength=61))
    assert recipe.synthetic_pitches(presets.smoke()) == list(range(24, 85))
    bad = replace(config, data=replace(config.data, synthetic_pitches=(23, 60)))
    with pytest.raises(ValueError, match="synthetic_pitches"):
        recipe.synthetic_pitches(bad)
