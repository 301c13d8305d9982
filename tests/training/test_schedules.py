"""LinearDecay: the CycleGAN reference 'linear' LR policy (reference/cyclegan.md 1.3, check 7)."""

import keras
import numpy as np
import pytest

from tfaudiogan.training.schedules import LinearDecay

STEPS = 7  # steps per epoch


def _lr_at_epoch(schedule, epoch_1_based, offset=0):
    return float(schedule((epoch_1_based - 1) * STEPS + offset))


def test_reference_values():
    schedule = LinearDecay(2e-4, STEPS, 100, 100)
    for epoch in (1, 2, 50, 100):
        for offset in (0, STEPS - 1):
            assert _lr_at_epoch(schedule, epoch, offset) == pytest.approx(2e-4, rel=1e-6)
    assert _lr_at_epoch(schedule, 101) == pytest.approx(1.980e-4, rel=1e-3)
    assert _lr_at_epoch(schedule, 101) == pytest.approx(2e-4 * 100 / 101, rel=1e-6)
    assert _lr_at_epoch(schedule, 101, STEPS - 1) == pytest.approx(2e-4 * 100 / 101, rel=1e-6)
    assert _lr_at_epoch(schedule, 150) == pytest.approx(2e-4 * (1 - 50 / 101), rel=1e-6)
    assert _lr_at_epoch(schedule, 200) == pytest.approx(1.98e-6, rel=1e-3)
    assert _lr_at_epoch(schedule, 200) == pytest.approx(2e-4 / 101, rel=1e-6)


def test_never_zero_and_monotone():
    schedule = LinearDecay(2e-4, 1, 3, 4)
    rates = np.array([float(schedule(step)) for step in range(12)])
    assert np.all(rates > 0)
    assert np.all(np.diff(rates) <= 0)
    np.testing.assert_allclose(rates[:3], 2e-4, rtol=1e-6)
    np.testing.assert_allclose(rates[3:7], 2e-4 * (1 - np.arange(1, 5) / 5), rtol=1e-6)
    # After the schedule ends it holds its last value instead of going to 0 or below.
    np.testing.assert_allclose(rates[7:], 2e-4 / 5, rtol=1e-6)


def test_config_round_trip_and_serialization():
    schedule = LinearDecay(1e-3, 13, 5, 6)
    clone = LinearDecay.from_config(schedule.get_config())
    assert clone.get_config() == schedule.get_config() == {
        "initial_learning_rate": 1e-3, "steps_per_epoch": 13, "n_epochs": 5,
        "n_epochs_decay": 6}
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(schedule))
    assert isinstance(restored, LinearDecay)
    for step in (0, 70, 140):
        assert float(restored(step)) == float(schedule(step))


def test_inside_adam_follows_iterations():
    optimizer = keras.optimizers.Adam(LinearDecay(2e-4, 2, 1, 3), beta_1=0.5, epsilon=1e-8)
    var = keras.Variable(np.ones(3, np.float32))
    optimizer.build([var])
    seen = []
    for _ in range(8):
        seen.append(float(optimizer.learning_rate))
        optimizer.apply_gradients([(np.ones(3, np.float32), var)])
    expected = [2e-4] * 2 + [1.5e-4] * 2 + [1e-4] * 2 + [0.5e-4] * 2
    np.testing.assert_allclose(seen, expected, rtol=1e-6)
    # A saved optimizer keeps its schedule.
    config = keras.optimizers.serialize(optimizer)
    assert config["config"]["learning_rate"]["class_name"] == "LinearDecay"
    clone = keras.optimizers.deserialize(config)
    clone.build([keras.Variable(np.ones(3, np.float32))])
    clone.iterations.assign(6)
    assert float(clone.learning_rate) == pytest.approx(0.5e-4, rel=1e-6)


@pytest.mark.parametrize("kwargs, match", [
    ({"initial_learning_rate": 0.0}, "initial_learning_rate"),
    ({"steps_per_epoch": 0}, "steps_per_epoch"),
    ({"n_epochs": -1}, "n_epochs"),
])
def test_invalid_arguments(kwargs, match):
    args = {"initial_learning_rate": 2e-4, "steps_per_epoch": 1, "n_epochs": 1,
            "n_epochs_decay": 1, **kwargs}
    with pytest.raises(ValueError, match=match):
        LinearDecay(**args)
