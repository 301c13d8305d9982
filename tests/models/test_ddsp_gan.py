"""DDSP-GAN generator and discriminator: shape contract (ddsp.md 7 item 19), bad input,
pitch conditioning, parameter counts, finite gradients through the synth."""

import numpy as np
import pytest
import tensorflow as tf

from tfaudiogan.models import ddsp_gan
from tfaudiogan.recipes.ddsp_gan import parameter_counts

SMALL = dict(latent_dim=6, n_samples=4000, n_frames=50, timbre_frames=5, n_harmonics=12,
             n_noise_bands=9, cppn_units=8, cppn_depth=2, n_periodic=2)


def test_generator_shape_contract_and_determinism():
    g = ddsp_gan.generator(**SMALL)
    z = tf.random.stateless_normal([3, 6], seed=[0, 1])
    out = g(z)
    assert out["audio"].shape == (3, 4000)
    assert out["f0_hz"].shape == (3, 50, 1)
    assert out["amplitude"].shape == (3, 50, 1)
    assert out["harmonic_distribution"].shape == (3, 50, 12)
    assert out["noise_magnitudes"].shape == (3, 50, 9)
    f0 = out["f0_hz"].numpy()
    assert f0.min() >= 32.70 - 1e-3 and f0.max() <= 1046.5 + 1e-2
    assert (out["amplitude"].numpy() > 0).all()
    np.testing.assert_allclose(out["harmonic_distribution"].numpy().sum(-1), 1.0, atol=1e-5)
    audio = out["audio"].numpy()
    assert np.isfinite(audio).all() and np.abs(audio).max() < 2.0 * 1.1
    # Inference uses the fixed noise buffer (default noise_excitation): deterministic.
    np.testing.assert_array_equal(g(z)["audio"].numpy(), audio)


def test_generate_equals_render_of_its_controls():
    g = ddsp_gan.generator(**SMALL)
    out = g(tf.ones([2, 6]))
    synth = g.get_layer("synth")
    again = synth.render(*(out[k] for k in ddsp_gan.CONTROL_KEYS))
    np.testing.assert_allclose(again.numpy(), out["audio"].numpy(), atol=1e-6)


def test_fft_and_builtin_paths_agree():
    a = ddsp_gan.generator(**SMALL, use_fft=True)
    b = ddsp_gan.generator(**SMALL, use_fft=False)
    b.set_weights(a.get_weights())
    z = tf.random.stateless_normal([2, 6], seed=[4, 4])
    # Make the noise audible so the comparison covers the noise path.
    a.get_layer("synth").noise_gain.assign(6.0)
    b.get_layer("synth").noise_gain.assign(6.0)
    np.testing.assert_allclose(a(z)["audio"].numpy(), b(z)["audio"].numpy(), atol=1e-5)


def test_bad_controls_silence_and_errors():
    synth = ddsp_gan.generator(**SMALL).get_layer("synth")
    f = 50
    amp = tf.fill([1, f, 1], 0.5)
    noise = tf.zeros([1, f, 9])
    dist = tf.ones([1, f, 12])
    for f0 in (0.0, -100.0, 9000.0):  # zero, negative, above Nyquist: silent, finite
        y = synth.render(tf.fill([1, f, 1], f0), amp, dist, noise).numpy()
        assert np.isfinite(y).all() and np.abs(y).max() < 1e-6
    y = synth.render(tf.fill([1, f, 1], 220.0), amp, tf.zeros([1, f, 12]), noise).numpy()
    assert np.isfinite(y).all() and np.abs(y).max() == 0.0  # distribution sums to zero
    with pytest.raises(ValueError, match=r"f0_hz \(1, 50, 1\) vs amplitude \(1, 40, 1\)"):
        synth.render(tf.fill([1, f, 1], 220.0), tf.fill([1, 40, 1], 0.5), dist, noise)


def test_pitch_conditioning_sets_f0_centre():
    g = ddsp_gan.generator(**SMALL, pitch_conditioned=True, max_bend=0.5)
    out = g([tf.zeros([2, 6]), tf.constant([60.0, 69.0])])
    midi = 69 + 12 * np.log2(out["f0_hz"].numpy() / 440.0)
    assert np.abs(midi[0] - 60).max() <= 0.5 + 1e-3
    assert np.abs(midi[1] - 69).max() <= 0.5 + 1e-3


def test_discriminator_shapes_and_paper_sizes():
    d = ddsp_gan.discriminator(n_samples=4000, ndf=4, n_mfcc=30)
    assert d(tf.zeros([2, 4000])).shape == (2, 1)
    assert d.get_layer("mfcc").compute_output_shape((None, 64000)) == (None, 125, 30)
    # Paper-size networks are built and counted (figures in experiments/ddsp_gan_nsynth.md):
    # the generator's only non-trainable weight is the 64000-sample noise buffer.
    g, d = ddsp_gan.generator(), ddsp_gan.discriminator()
    assert parameter_counts(g) == {"trainable": 50382, "non_trainable": 64000}
    assert [w.path for w in g.non_trainable_weights] == ["synth/noise_buffer"]
    assert g.count_params() == 114382
    assert parameter_counts(d) == {"trainable": 386109, "non_trainable": 0}


def test_gradients_through_synth_and_mfcc_are_finite():
    g = ddsp_gan.generator(**SMALL)
    d = ddsp_gan.discriminator(n_samples=4000, ndf=4)
    z = tf.random.stateless_normal([2, 6], seed=[2, 3])
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(d(g(z)["audio"]))
    grads = tape.gradient(loss, g.trainable_variables)
    assert all(gr is not None for gr in grads)
    assert all(np.isfinite(gr.numpy()).all() for gr in grads)
    assert sum(float(tf.reduce_sum(tf.abs(gr))) for gr in grads) > 0
    names = [v.path for v, gr in zip(g.trainable_variables, grads)]
    assert any("harmonic_bias" in n for n in names)  # internal synth controls are trained


def test_optional_reverb_is_near_identity_at_init():
    dry = ddsp_gan.generator(**SMALL)
    wet = ddsp_gan.generator(**SMALL, reverb=True, reverb_length=64)
    ir = wet.get_layer("synth").reverb_layer.ir
    shared = [v for v in wet.weights if v is not ir]
    assert len(shared) == len(dry.weights)
    for a, b in zip(shared, dry.weights):  # copy the shared weights; the IR keeps its init
        a.assign(b)
    assert ir.shape == (64,) and ir.trainable
    z = tf.ones([2, 6])
    np.testing.assert_allclose(wet(z)["audio"].numpy(), dry(z)["audio"].numpy(), atol=1e-4)


def _noisy(mode):
    g = ddsp_gan.generator(**SMALL, noise_excitation=mode)
    g.get_layer("synth").noise_gain.assign(6.0)  # audible noise
    return g


def test_noise_excitation_fresh_in_training_fixed_at_inference():
    """issue 10 item 15: fresh U(-1, 1) noise per call and example in training (DDSP's
    FilteredNoise), the fixed buffer at inference (deterministic, as exported)."""
    g = _noisy("fresh_in_training")
    z = tf.ones([2, 6])  # two identical latents: only the noise can tell the rows apart
    first, second = (g(z, training=True)["audio"].numpy() for _ in range(2))
    assert np.abs(first - second).max() > 1e-2  # two calls differ
    assert np.abs(first[0] - first[1]).max() > 1e-2  # so do the examples of one call
    quiet = ddsp_gan.generator(**SMALL)  # same weights, noise at its initial level
    quiet.set_weights(g.get_weights())
    quiet.get_layer("synth").noise_gain.assign(-30.0)
    harmonic = quiet(z, training=True)["audio"].numpy()
    assert np.abs(first - harmonic).max() > 1e-2 and np.std(harmonic) > 1e-2
    inference = [g(z)["audio"].numpy() for _ in range(2)]
    np.testing.assert_array_equal(inference[0], inference[1])
    np.testing.assert_allclose(inference[0][0], inference[0][1], atol=1e-4)  # buffer, tiled
    synth = g.get_layer("synth")
    assert synth.fresh_noise(True) and not synth.fresh_noise(False)
    out = g(z)
    again = synth.render(*(out[k] for k in ddsp_gan.CONTROL_KEYS))
    np.testing.assert_allclose(again.numpy(), out["audio"].numpy(), atol=1e-6)


def test_noise_excitation_fixed_and_fresh_options():
    z = tf.ones([2, 6])
    fixed = _noisy("fixed")  # the deterministic option: equal outputs, training or not
    outputs = [fixed(z, training=True)["audio"].numpy() for _ in range(2)] + [
        fixed(z)["audio"].numpy()]
    for other in outputs[1:]:
        np.testing.assert_array_equal(outputs[0], other)
    fresh = _noisy("fresh")  # the reference: fresh noise at inference too
    assert np.abs(fresh(z)["audio"].numpy() - fresh(z)["audio"].numpy()).max() > 1e-2
    clone = ddsp_gan.DDSPSynth.from_config(fresh.get_layer("synth").get_config())
    assert (clone.noise_excitation, clone.phase_accumulation) == ("fresh", "accurate")
    with pytest.raises(ValueError, match="noise_excitation"):
        ddsp_gan.generator(**SMALL, noise_excitation="random")
    with pytest.raises(ValueError, match="phase_accumulation"):
        ddsp_gan.generator(**SMALL, phase_accumulation="float64")
