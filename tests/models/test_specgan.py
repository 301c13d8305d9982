"""SpecGAN networks against reference/wavegan.md section 5.4 and check 2 of section 11.

Paper-size models are only built (parameters counted, symbolic shapes read); forward passes
use d=4.
"""

import keras
import numpy as np
import pytest

from tfaudiogan.layers import PhaseShuffle
from tfaudiogan.models import specgan


@pytest.fixture(scope="module")
def paper_models():
    """d=64 pair with zero-initialised kernels (counting needs no random weights)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(specgan, "_kernel_init", keras.initializers.Zeros)
        return specgan.generator(), specgan.discriminator()


def _trainable(model) -> int:
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


def np_conv_transpose2d_same(x, kernel, bias, stride):
    """x [b, H, W, cin], Keras kernel [k, k, cout, cin]: TF SAME = 'valid' output cropped."""
    b, h, w, _ = x.shape
    k = kernel.shape[0]
    full = np.zeros((b, (h - 1) * stride + k, (w - 1) * stride + k, kernel.shape[2]))
    for i in range(k):
        for j in range(k):
            full[:, i:i + stride * (h - 1) + 1:stride, j:j + stride * (w - 1) + 1:stride] += (
                x @ kernel[i, j].T)
    top = ((h - 1) * stride + k - stride * h) // 2
    left = ((w - 1) * stride + k - stride * w) // 2
    return full[:, top:top + stride * h, left:left + stride * w] + bias


def np_conv2d_same_stride1(x, kernel, bias):
    """x [b, H, W, cin], kernel [k, k, cin, cout], stride 1, odd k: pad (k - 1) / 2 each side."""
    k = kernel.shape[0]
    p = (k - 1) // 2
    xp = np.pad(x, ((0, 0), (p, p), (p, p), (0, 0)))
    h, w = x.shape[1:3]
    y = np.zeros((*x.shape[:3], kernel.shape[3]))
    for i in range(k):
        for j in range(k):
            y += xp[:, i:i + h, j:j + w] @ kernel[i, j]
    return y + bias


def test_reference_parameter_counts(paper_models):
    g, d = paper_models
    assert (g.count_params(), d.count_params()) == (19_065_345, 17_427_969)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(specgan, "_kernel_init", keras.initializers.Zeros)
        assert specgan.generator(upsample="nn").count_params() == 19_065_345
        g_bn, d_bn = specgan.generator(batchnorm=True), specgan.discriminator(batchnorm=True)
    # Batch norm adds what it adds to WaveGAN (same widths): 1,984 / 1,920 (gamma, beta) pairs.
    assert (_trainable(g_bn), g_bn.count_params()) == (19_069_313, 19_073_281)
    assert (_trainable(d_bn), d_bn.count_params()) == (17_431_809, 17_435_649)
    keras.backend.clear_session()


def test_paper_layer_shapes(paper_models):
    g, d = paper_models
    assert tuple(g.get_layer("z_project").kernel.shape) == (100, 16384)
    assert tuple(g.get_layer("z_project_relu").output.shape) == (None, 4, 4, 1024)
    for i, (size, width) in enumerate([(8, 512), (16, 256), (32, 128), (64, 64), (128, 1)]):
        layer = g.get_layer(f"upconv_{i}")
        assert tuple(layer.output.shape) == (None, size, size, width)
        assert layer.kernel.shape[:2] == (5, 5)
        assert (layer.strides, layer.padding) == ((2, 2), "same")
    assert g.layers[-1].name == "upconv_4_tanh"
    for i, (size, width) in enumerate([(64, 64), (32, 128), (16, 256), (8, 512), (4, 1024)]):
        layer = d.get_layer(f"downconv_{i}")
        assert tuple(layer.output.shape) == (None, size, size, width)
        assert (layer.kernel.shape[:2], layer.strides) == ((5, 5), (2, 2))
        assert d.get_layer(f"downconv_{i}_lrelu").negative_slope == pytest.approx(0.2)
    assert tuple(d.get_layer("flatten").output.shape) == (None, 16384)
    assert tuple(d.input_shape) == (None, 128, 128, 1)
    assert tuple(d.output_shape) == (None, 1)


@pytest.mark.parametrize("upsample", specgan.UPSAMPLE_CHOICES)
def test_forward_shapes_and_range(rng, upsample):
    keras.utils.set_random_seed(0)
    g = specgan.generator(dim=4, upsample=upsample, batchnorm=True)
    d = specgan.discriminator(dim=4, batchnorm=True)
    z = rng.uniform(-1, 1, (2, 100)).astype("float32")
    image = g(z, training=True).numpy()
    assert image.shape == (2, 128, 128, 1)
    assert np.all(np.abs(image) < 1.0) and np.std(image) > 0
    logits = d(image, training=True).numpy()
    assert logits.shape == (2, 1) and np.all(np.isfinite(logits))


def test_no_phase_shuffle_and_no_bn_on_first_layer():
    d = specgan.discriminator(dim=4, batchnorm=True)
    assert not any(isinstance(layer, PhaseShuffle) for layer in d.layers)
    bns = [layer.name for layer in d.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert bns == [f"downconv_{i}_bn" for i in range(1, 5)]
    g = specgan.generator(dim=4, batchnorm=True)
    bns = [layer.name for layer in g.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert bns == ["z_project_bn"] + [f"upconv_{i}_bn" for i in range(4)]


def test_transposed_conv_uses_tf_same_alignment(rng):
    layer = specgan.generator(dim=4).get_layer("upconv_2")
    kernel = rng.normal(size=layer.kernel.shape).astype("float32")
    bias = rng.normal(size=layer.bias.shape).astype("float32")
    layer.set_weights([kernel, bias])
    x = rng.normal(size=(2, 5, 3, kernel.shape[3])).astype("float32")
    np.testing.assert_allclose(layer(x).numpy(), np_conv_transpose2d_same(x, kernel, bias, 2),
                               atol=1e-4)


def test_nn_upsample_is_repeat_then_stride1_conv(rng):
    g = specgan.generator(dim=4, upsample="nn")
    up, conv = g.get_layer("upconv_3_upsample"), g.get_layer("upconv_3")
    assert conv.strides == (1, 1)
    kernel = rng.normal(size=conv.kernel.shape).astype("float32")
    bias = rng.normal(size=conv.bias.shape).astype("float32")
    conv.set_weights([kernel, bias])
    x = rng.normal(size=(2, 4, 6, kernel.shape[2])).astype("float32")
    repeated = np.repeat(np.repeat(x, 2, axis=1), 2, axis=2)
    np.testing.assert_allclose(conv(up(x)).numpy(), np_conv2d_same_stride1(repeated, kernel, bias),
                               atol=1e-4)


def test_glorot_uniform_kernels_and_zero_biases():
    g, d = specgan.generator(dim=8), specgan.discriminator(dim=8)
    for model in (g, d):
        for layer in model.layers:
            if hasattr(layer, "kernel_initializer"):
                assert isinstance(layer.kernel_initializer, keras.initializers.GlorotUniform)
                np.testing.assert_array_equal(layer.bias.numpy(), 0.0)
    kernel = d.get_layer("downconv_4").kernel.numpy()  # (5, 5, 64, 128)
    limit = np.sqrt(6.0 / (25 * 64 + 25 * 128))
    assert np.max(np.abs(kernel)) <= limit
    assert np.std(kernel) == pytest.approx(limit / np.sqrt(3.0), rel=0.02)


def test_bad_arguments():
    with pytest.raises(ValueError, match="upsample"):
        specgan.generator(upsample="lin")  # the reference CLI's broken choice
    with pytest.raises(ValueError, match="dim"):
        specgan.discriminator(dim=0)
