"""Pixel norm worked values (reference/gansynth.md 2.3, check 11: channel axis, epsilon 1e-8)."""

import numpy as np
import pytest

from tfaudiogan.layers.pixel_norm import PIXEL_NORM_EPSILON, PixelNorm, pixel_norm


def test_worked_example():
    # Channels (3, 4): mean square 12.5 -> (3, 4) / sqrt(12.5).
    x = np.array([[[[3.0, 4.0], [0.0, 0.0]]]], dtype="float32")  # [1, 1, 2, 2]
    y = PixelNorm()(x).numpy()
    np.testing.assert_allclose(y[0, 0, 0], [3 / np.sqrt(12.5), 4 / np.sqrt(12.5)], rtol=1e-6)
    # An all-zero pixel stays zero (epsilon prevents 0/0).
    np.testing.assert_array_equal(y[0, 0, 1], [0.0, 0.0])
    assert PIXEL_NORM_EPSILON == 1e-8


def test_unit_mean_square_per_pixel_only(rng):
    x = rng.normal(scale=5.0, size=(2, 3, 4, 8)).astype("float32")
    y = pixel_norm(x).numpy()
    np.testing.assert_allclose(np.mean(y**2, axis=-1), 1.0, rtol=1e-5)
    # Each pixel is only rescaled: direction preserved.
    ratio = y / x
    np.testing.assert_allclose(ratio, ratio[..., :1] * np.ones_like(ratio), rtol=1e-5)


def test_epsilon_matters_for_tiny_inputs():
    x = np.full((1, 1, 1, 4), 1e-5, dtype="float32")
    y = pixel_norm(x, epsilon=1e-8).numpy()
    assert y[0, 0, 0, 0] == pytest.approx(1e-5 / np.sqrt(1e-10 + 1e-8), rel=1e-4)
    assert PixelNorm.from_config(PixelNorm(epsilon=1e-4).get_config()).epsilon == 1e-4
