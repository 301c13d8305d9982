"""GANSynth progressive networks against reference/gansynth.md 2.3-2.4 and checks 8, 9, 11.

Paper-size networks are only built (symbolic shapes, parameter counts); forward passes use
tiny widths, and mostly a 4-resolution geometry (2x4 -> 16x32).
"""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfaudiogan.layers.fade_in import Upscale, downscale, upscale
from tfaudiogan.models import gansynth

SMALL = dict(start_shape=(2, 4), num_resolutions=4, fmap_base=64, fmap_max=8)
G_SMALL = dict(SMALL, latent_size=8, num_pitches=5)
D_SMALL = dict(SMALL, num_pitches=5)

G_BLOCKS = {1: 3_187_714, 2: 1_180_674, 3: 1_180_674, 4: 1_180_674, 5: 442_882, 6: 110_850,
            7: 27_778}
D_BLOCKS = {1: 2_706_494, 2: 1_180_928, 3: 1_180_928, 4: 1_180_928, 5: 443_136, 6: 110_976,
            7: 27_840}


@pytest.fixture(scope="module")
def paper_g():
    return gansynth.generator()


@pytest.fixture(scope="module")
def paper_d():
    return gansynth.discriminator()


def _block_counts(model):
    counts = {}
    for layer in model.layers:
        if not layer.trainable_weights:
            continue
        block = int(layer.name[5]) if layer.name.startswith("block") else 1  # heads -> block 1
        counts[block] = counts.get(block, 0) + layer.count_params()
    return counts


def _g_inputs(rng, batch=3, latent=8, pitches=5):
    z = rng.normal(size=(batch, latent)).astype("float32")
    onehot = np.eye(pitches, dtype="float32")[rng.integers(0, pitches, batch)]
    return {"z": z, "pitch": onehot}


def _copy(src, dst):
    return gansynth.transfer_weights(src, dst)


# check 9: parameter counts and the first kernel


def test_paper_parameter_counts(paper_g, paper_d):
    assert paper_g.count_params() == 7_311_246
    assert paper_d.count_params() == 6_831_230
    assert len(paper_g.weights) == 42 and len(paper_d.weights) == 46
    assert _block_counts(paper_g) == G_BLOCKS
    assert _block_counts(paper_d) == D_BLOCKS
    rgb = sum(paper_g.get_layer(f"block{b}_to_rgb").count_params() for b in range(1, 7))
    assert paper_g.count_params() - rgb == 7_308_802  # final path without to_rgb 1-6


def test_paper_kernels_and_scales(paper_g, paper_d):
    conv0 = paper_g.get_layer("block1_conv0")
    assert tuple(conv0.kernel.shape) == (2, 16, 317, 256)
    assert conv0.scale == pytest.approx(0.014041, abs=1e-6)  # He fan_in 10144
    assert paper_g.get_layer("block7_to_rgb").scale == pytest.approx(math.sqrt(1 / 32))
    assert tuple(paper_d.get_layer("block1_conv0").kernel.shape) == (3, 3, 257, 256)  # +mbstd
    assert tuple(paper_d.get_layer("block1_conv1").kernel.shape) == (2, 16, 256, 256)
    assert tuple(paper_d.get_layer("logits").kernel.shape) == (256, 1)
    assert tuple(paper_d.get_layer("classification_logits").kernel.shape) == (256, 61)
    assert paper_d.get_layer("classification_logits").scale == pytest.approx(1 / 16)


# check 8: shapes per block and per stage (symbolic, paper size)


def test_paper_block_shapes(paper_g, paper_d):
    expected = [(2, 16, 256), (4, 32, 256), (8, 64, 256), (16, 128, 256), (32, 256, 128),
                (64, 512, 64), (128, 1024, 32)]
    for block, shape in enumerate(expected, start=1):
        assert paper_g.get_layer(f"block{block}_conv1_pixel_norm").output.shape[1:] == shape
    assert paper_g.output.shape[1:] == (128, 1024, 2)
    assert paper_g.input["z"].shape[1:] == (256,) and paper_g.input["pitch"].shape[1:] == (61,)
    assert paper_d.input.shape[1:] == (128, 1024, 2)
    assert paper_d.get_layer("block1_conv1_lrelu").output.shape[1:] == (1, 1, 256)
    assert [tuple(o.shape[1:]) for o in paper_d.outputs] == [(1,), (61,)]
    assert [gansynth.num_filters(b) for b in range(8)] == [256] * 5 + [128, 64, 32]


@pytest.mark.parametrize("stage", [0, 3, 8])
def test_paper_stage_shapes_and_counts(stage):
    n = (stage + 1) // 2 + 1
    g, d = gansynth.generator(stage), gansynth.discriminator(stage)
    h, w = 2 * 2 ** (n - 1), 16 * 2 ** (n - 1)
    assert gansynth.stage_shape(stage) == (h, w)
    assert g.output.shape[1:] == (h, w, 2)
    assert d.input.shape[1:] == (h, w, 2)
    assert g.count_params() == sum(G_BLOCKS[b] for b in range(1, n + 1))
    assert d.count_params() == sum(D_BLOCKS[b] for b in range(1, n + 1))
    full = gansynth.generator(stage, full_size=True, fmap_base=256, fmap_max=2, latent_size=4)
    assert full.output.shape[1:] == (128, 1024, 2)


# forward passes at tiny width


def test_every_stage_runs_forward(rng):
    alpha = keras.Variable(0.5, trainable=False, name="alpha")
    inputs = _g_inputs(rng)
    for stage in range(7):
        g = gansynth.generator(stage, alpha=alpha, **G_SMALL)
        d = gansynth.discriminator(stage, alpha=alpha, **D_SMALL)
        h, w = gansynth.stage_shape(stage, (2, 4), 4)
        y = g(inputs).numpy()
        assert y.shape == (3, h, w, 2)
        assert np.all(np.abs(y) <= 1.0) and y.std() > 0
        logits, classes = d(y)
        assert logits.shape == (3, 1) and classes.shape == (3, 5)
        assert np.all(np.isfinite(logits.numpy()))


def test_paper_geometry_small_width_forward(rng):
    g = gansynth.generator(fmap_base=256, fmap_max=4, latent_size=8, num_pitches=61)
    d = gansynth.discriminator(fmap_base=256, fmap_max=4)
    inputs = _g_inputs(rng, batch=2, latent=8, pitches=61)
    y = g(inputs)
    assert y.shape == (2, 128, 1024, 2)
    logits, classes = d(y)
    assert logits.shape == (2, 1) and classes.shape == (2, 61)


def test_pixel_norm_after_leaky_relu_in_generator_only(rng):
    g = gansynth.generator(2, **G_SMALL)
    # What to_rgb sees is pixel_norm(leaky_relu(conv)): unit mean square per pixel, with
    # negative values (leaky part) present.
    probe = keras.Model(g.input, g.get_layer("block2_to_rgb").input)
    features = probe(_g_inputs(rng)).numpy()
    np.testing.assert_allclose(np.mean(features**2, axis=-1), 1.0, rtol=1e-4)
    assert features.min() < 0
    lrelu = g.get_layer("block2_conv1_lrelu")
    assert lrelu.negative_slope == pytest.approx(0.2)
    assert g.get_layer("block2_conv1_pixel_norm").input is lrelu.output
    d = gansynth.discriminator(2, **D_SMALL)
    assert not [layer.name for layer in d.layers if "norm" in type(layer).__name__.lower()]


def test_generator_is_pitch_conditioned(rng):
    g = gansynth.generator(0, **G_SMALL)
    inputs = _g_inputs(rng, batch=2)
    other = dict(inputs, pitch=np.roll(inputs["pitch"], 1, axis=1))
    assert np.abs(g(inputs).numpy() - g(other).numpy()).max() > 1e-4


# fade-in endpoints and weight transfer


def test_transfer_copies_shared_blocks_and_preserves_outputs(rng):
    inputs = _g_inputs(rng)
    g2 = gansynth.generator(2, **G_SMALL)
    g3 = gansynth.generator(3, alpha=0.5, **G_SMALL)
    copied = _copy(g2, g3)
    assert sorted(copied) == sorted(
        f"block{b}_{c}" for b in (1, 2) for c in ("conv0", "conv1", "to_rgb"))
    for name in ("block1_conv1_pixel_norm", "block2_conv1_pixel_norm"):
        a = keras.Model(g2.input, g2.get_layer(name).output)(inputs)
        b = keras.Model(g3.input, g3.get_layer(name).output)(inputs)
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-6)
    d2 = gansynth.discriminator(2, **D_SMALL)
    d3 = gansynth.discriminator(3, **D_SMALL)
    copied = _copy(d2, d3)
    assert "logits" in copied and "classification_logits" in copied
    assert "block3_from_rgb" not in copied and "block2_from_rgb" in copied


def test_transfer_rejects_different_widths():
    small = gansynth.generator(0, **G_SMALL)
    wide = gansynth.generator(0, **dict(G_SMALL, fmap_max=4))
    with pytest.raises(ValueError, match="block1_conv0"):
        _copy(small, wide)


def test_generator_fade_endpoints(rng):
    inputs = _g_inputs(rng)
    alpha = keras.Variable(0.0, trainable=False, name="alpha")
    g2 = gansynth.generator(2, **G_SMALL)  # stable, 2 blocks
    g3 = gansynth.generator(3, alpha=alpha, **G_SMALL)  # transition to 3 blocks
    g4 = gansynth.generator(4, **G_SMALL)  # stable, 3 blocks
    _copy(g2, g3)
    _copy(g3, g4)
    low = upscale(g2(inputs), 2).numpy()
    high = g4(inputs).numpy()
    assert np.abs(low - high).max() > 1e-3  # the two paths differ
    np.testing.assert_allclose(g3(inputs).numpy(), low, rtol=1e-5, atol=1e-6)
    alpha.assign(1.0)  # same traced model, no rebuild
    np.testing.assert_allclose(g3(inputs).numpy(), high, rtol=1e-5, atol=1e-6)
    alpha.assign(0.25)
    np.testing.assert_allclose(g3(inputs).numpy(), 0.75 * low + 0.25 * high, rtol=1e-5,
                               atol=1e-6)
    # One trace per stage: a compiled call follows later assignments of alpha.
    traced = tf.function(lambda batch: g3(batch, training=False))
    alpha.assign(0.0)
    np.testing.assert_allclose(traced(inputs).numpy(), low, rtol=1e-5, atol=1e-6)
    alpha.assign(1.0)
    np.testing.assert_allclose(traced(inputs).numpy(), high, rtol=1e-5, atol=1e-6)
    assert traced.experimental_get_tracing_count() == 1


def test_discriminator_fade_endpoints(rng):
    x = rng.uniform(-1, 1, size=(3, 8, 16, 2)).astype("float32")  # stage 3/4 resolution
    alpha = keras.Variable(0.0, trainable=False, name="alpha")
    d2 = gansynth.discriminator(2, **D_SMALL)
    d3 = gansynth.discriminator(3, alpha=alpha, **D_SMALL)
    d4 = gansynth.discriminator(4, **D_SMALL)
    _copy(d2, d3)
    _copy(d3, d4)
    low = [t.numpy() for t in d2(downscale(x, 2))]
    high = [t.numpy() for t in d4(x)]
    assert np.abs(low[0] - high[0]).max() > 1e-4
    for got, want in zip(d3(x), low):
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-4, atol=1e-5)
    alpha.assign(1.0)
    for got, want in zip(d3(x), high):
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-4, atol=1e-5)


def test_full_size_is_box_resampling_of_stage_size(rng):
    inputs = _g_inputs(rng)
    g = gansynth.generator(2, **G_SMALL)
    g_full = gansynth.generator(2, full_size=True, **G_SMALL)
    _copy(g, g_full)
    np.testing.assert_allclose(g_full(inputs).numpy(), upscale(g(inputs), 4).numpy(), atol=1e-6)
    d = gansynth.discriminator(2, **D_SMALL)
    d_full = gansynth.discriminator(2, full_size=True, **D_SMALL)
    _copy(d, d_full)
    x = rng.uniform(-1, 1, size=(2, 16, 32, 2)).astype("float32")
    np.testing.assert_allclose(d_full(x)[0].numpy(), d(downscale(x, 4))[0].numpy(), rtol=1e-4,
                               atol=1e-5)


def test_blend_real(rng):
    x = rng.normal(size=(2, 16, 32, 2)).astype("float32")
    stable = gansynth.blend_real(x, 2, num_resolutions=4).numpy()
    np.testing.assert_allclose(stable, downscale(x, 4).numpy(), rtol=1e-5, atol=1e-6)
    low = upscale(downscale(x, 4), 2).numpy()
    np.testing.assert_allclose(gansynth.blend_real(x, 3, 0.0, num_resolutions=4).numpy(), low,
                               rtol=1e-5, atol=1e-6)
    mixed = gansynth.blend_real(x, 3, 0.25, num_resolutions=4, full_size=True).numpy()
    want = upscale(0.75 * low + 0.25 * downscale(x, 2).numpy(), 2).numpy()
    np.testing.assert_allclose(mixed, want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(gansynth.blend_real(x, num_resolutions=4).numpy(), x, atol=1e-6)


def test_bad_configuration_errors():
    with pytest.raises(ValueError, match="stage"):
        gansynth.generator(13)
    with pytest.raises(ValueError, match="stage"):
        gansynth.discriminator(-1)
    with pytest.raises(ValueError, match="zero channels"):
        gansynth.generator(0, fmap_base=64, fmap_max=8)  # nf(7) = 0 with 7 resolutions


def test_saved_weights_restore_blocks_and_alpha(rng, tmp_path):
    inputs = _g_inputs(rng)
    g = gansynth.generator(3, alpha=keras.Variable(0.3, trainable=False), **G_SMALL)
    path = str(tmp_path / "g3.weights.h5")
    g.save_weights(path)
    fresh_alpha = keras.Variable(0.0, trainable=False)
    restored = gansynth.generator(3, alpha=fresh_alpha, **G_SMALL)
    restored.load_weights(path)
    assert float(fresh_alpha.numpy()) == pytest.approx(0.3)
    np.testing.assert_allclose(restored(inputs).numpy(), g(inputs).numpy(), rtol=1e-6)
    clone = keras.models.load_model(_saved(g, tmp_path))
    np.testing.assert_allclose(clone(inputs).numpy(), g(inputs).numpy(), rtol=1e-6)


def _saved(model, tmp_path):
    path = str(tmp_path / f"{model.name}.keras")
    model.save(path)
    return path


def test_upscale_layer_equals_nearest_upsampling_and_keeps_static_shapes(rng):
    x = rng.normal(size=(3, 2, 4, 5)).astype("float32")
    fn = tf.function(lambda t: Upscale(4)(t)).get_concrete_function(
        tf.TensorSpec([None, 2, 4, 5]))
    assert fn.output_shapes.as_list() == [None, 8, 16, 5]  # only the batch is dynamic
    for factor in (1, 2, 4):
        want = keras.layers.UpSampling2D(factor, interpolation="nearest")(x).numpy()
        np.testing.assert_array_equal(Upscale(factor)(x).numpy(), want)
    np.testing.assert_array_equal(fn(x).numpy(), upscale(x, 4).numpy())
    np.testing.assert_array_equal(fn(x[:1]).numpy(), upscale(x[:1], 4).numpy())
    assert Upscale.from_config(Upscale(4).get_config()).factor == 4
    with pytest.raises(ValueError, match="positive integer"):
        Upscale(0)
