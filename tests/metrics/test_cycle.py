"""The relative forward-cycle metric of seed 002."""

import numpy as np
import pytest

from tfaudiogan.audio.representations import CycleGANSpectrogram
from tfaudiogan.audio.spectral import DFTSTFT
from tfaudiogan.metrics import (
    mean_relative_cycle_loss,
    mean_relative_cycle_losses,
    relative_cycle_loss,
)


def test_worked_example():
    x = np.array([[[[1.0], [-1.0]], [[0.5], [-0.5]]]])  # sum|x| = 3
    cyc = x + np.array([[[[0.3], [0.0]], [[0.0], [-0.3]]]])  # sum|diff| = 0.6
    np.testing.assert_allclose(relative_cycle_loss(x, cyc), [0.2])


def test_perfect_cycle_is_zero_and_scale_invariant(rng):
    x = rng.uniform(-1, 1, (3, 8, 6, 1))
    assert np.all(relative_cycle_loss(x, x) == 0)
    noisy = x + 0.1 * rng.standard_normal(x.shape)
    np.testing.assert_allclose(relative_cycle_loss(2 * x, 2 * noisy), relative_cycle_loss(x, noisy))


def test_mean_over_batches_equals_mean_over_clips(rng):
    x = rng.uniform(-1, 1, (5, 4, 4, 1)).astype(np.float32)

    def halve(t):
        return t * 0.5

    per_clip = relative_cycle_loss(x, x * 0.5)
    assert mean_relative_cycle_loss(x, halve, batch_size=2) == pytest.approx(per_clip.mean())
    assert per_clip.mean() == pytest.approx(0.5)


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match="shapes differ"):
        relative_cycle_loss(np.zeros((1, 4, 4, 1)), np.zeros((1, 4, 8, 1)))


def test_linear_magnitude_worked_example():
    """Two bins of a 120 dB image: x = (1, 0) is 0 dB and -60 dB, i.e. |X| = ref * (1, 1e-3);
    the cycle (0.5, 0) is -30 dB and -60 dB, |X_cyc| = ref * (10^-1.5, 1e-3).

    dB image:         |0.5 - 1| / (1 + 0)                = 0.5
    linear magnitude: (1 - 10^-1.5) / (1 + 1e-3)         = 0.96741...
    """
    rep = CycleGANSpectrogram(DFTSTFT(15, 4, 15), db_range=120.0)
    x = np.array([1.0, 0.0], np.float32).reshape(1, 2, 1, 1)  # [batch, freq, frames, 1]
    cycled = np.array([0.5, 0.0], np.float32).reshape(1, 2, 1, 1)
    np.testing.assert_allclose(rep.denormalise(x).numpy().ravel(), rep.ref * np.array([1, 1e-3]),
                               rtol=1e-5)
    values = mean_relative_cycle_losses(x, lambda _: cycled, {
        "db_image": None, "linear_magnitude": rep.denormalise})
    assert values["db_image"] == pytest.approx(0.5)
    assert values["linear_magnitude"] == pytest.approx((1 - 10 ** -1.5) / 1.001, rel=1e-5)
    assert mean_relative_cycle_loss(x, lambda _: cycled, view=rep.denormalise) == pytest.approx(
        values["linear_magnitude"])


def test_linear_magnitude_weights_loud_bins():
    """A 6 dB error in a quiet bin barely counts on the linear scale; in a loud bin it counts
    as much as on the image (here: 1 - 10^(-6/20) = 0.499)."""
    rep = CycleGANSpectrogram(DFTSTFT(15, 4, 15), db_range=120.0)
    x = np.array([1.0, -0.5], np.float32).reshape(1, 2, 1, 1)  # 0 dB and -90 dB
    step = 6.0 / 60.0  # 6 dB in image units (120 dB over a width of 2)
    quiet = x - np.array([0.0, step], np.float32).reshape(1, 2, 1, 1)
    loud = x - np.array([step, 0.0], np.float32).reshape(1, 2, 1, 1)
    views = {"db": None, "linear": rep.denormalise}
    on_quiet = mean_relative_cycle_losses(x, lambda _: quiet, views)
    on_loud = mean_relative_cycle_losses(x, lambda _: loud, views)
    assert on_quiet["db"] == pytest.approx(on_loud["db"]) == pytest.approx(step / 1.5)
    assert on_quiet["linear"] < 1e-4
    assert on_loud["linear"] == pytest.approx((1 - 10 ** -0.3) / (1 + 10 ** -4.5), rel=1e-4)
