"""Equalised-LR layers: He constant, N(0, 1) init, run-time scaling (reference/gansynth.md 2.3)."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfaudiogan.layers.equalized import EqualizedConv2D, EqualizedDense, he_scale


def test_he_scale_reference_values():
    # First generator conv: [2, 16, 317, 256], fan_in 10144 -> 0.014041 (gansynth.md 2.3).
    assert he_scale([2, 16, 317, 256]) == pytest.approx(0.0140414, abs=1e-7)
    assert he_scale([3, 3, 256, 256]) == pytest.approx(math.sqrt(2 / 2304))
    # slope 1 (to_rgb, dense heads): sqrt(1 / fan_in).
    assert he_scale([1, 1, 32, 2], slope=1.0) == pytest.approx(math.sqrt(1 / 32))
    assert he_scale([256, 61], slope=1.0) == pytest.approx(1 / 16)
    with pytest.raises(ValueError, match="no inputs"):
        he_scale([0, 3])


def test_conv_init_is_unit_normal_and_bias_zero():
    keras.utils.set_random_seed(0)
    layer = EqualizedConv2D(64, 3)
    layer.build((None, 8, 8, 64))
    kernel = layer.kernel.numpy()
    assert kernel.shape == (3, 3, 64, 64)
    assert abs(kernel.std() - 1.0) < 0.02 and abs(kernel.mean()) < 0.02
    np.testing.assert_array_equal(layer.bias.numpy(), 0.0)
    assert layer.scale == pytest.approx(math.sqrt(2 / (9 * 64)))


@pytest.mark.parametrize("padding,kernel_size", [("same", 3), ("valid", (2, 4))])
def test_conv_equals_plain_conv_with_scaled_kernel(rng, padding, kernel_size):
    layer = EqualizedConv2D(5, kernel_size, padding=padding, he_slope=0.0)
    x = rng.normal(size=(2, 6, 9, 3)).astype("float32")
    layer.build(x.shape)
    layer.bias.assign(rng.normal(size=5).astype("float32"))
    layer.kernel.assign(rng.normal(size=layer.kernel.shape).astype("float32"))
    y = layer(x).numpy()
    kh, kw = layer.kernel_size
    scale = math.sqrt(2 / (kh * kw * 3))
    ref = tf.nn.conv2d(x, layer.kernel.numpy() * scale, 1, padding.upper()) + layer.bias.numpy()
    np.testing.assert_allclose(y, ref.numpy(), rtol=1e-5, atol=1e-5)
    assert y.shape == layer.compute_output_shape(x.shape)
    # The stored kernel stays unscaled; the scale is applied at run time.
    doubled = layer.kernel.numpy() * 2
    layer.kernel.assign(doubled)
    y2 = layer(x).numpy() - layer.bias.numpy()
    np.testing.assert_allclose(y2, 2 * (y - layer.bias.numpy()), rtol=1e-4, atol=1e-4)


def test_dense_flattens_and_scales(rng):
    layer = EqualizedDense(3, he_slope=1.0)
    x = rng.normal(size=(4, 1, 1, 6)).astype("float32")
    layer(x)
    layer.bias.assign([0.5, -1.0, 2.0])
    y = layer(x).numpy()
    assert layer.kernel.shape == (6, 3)
    ref = x.reshape(4, 6) @ (layer.kernel.numpy() * math.sqrt(1 / 6)) + [0.5, -1.0, 2.0]
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-5)


def test_config_round_trip_and_bad_padding():
    layer = EqualizedConv2D(4, (2, 16), padding="valid", he_slope=1.0, name="c")
    clone = EqualizedConv2D.from_config(layer.get_config())
    assert (clone.filters, clone.kernel_size, clone.padding, clone.he_slope) == (
        4, (2, 16), "valid", 1.0)
    assert EqualizedDense.from_config(EqualizedDense(7).get_config()).units == 7
    with pytest.raises(ValueError, match="padding"):
        EqualizedConv2D(4, 3, padding="causal")
