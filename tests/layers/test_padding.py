"""ReflectionPadding2D: numpy parity, shapes, config and .keras round trips, errors."""

import json

import keras
import numpy as np
import pytest

from tfaudiogan.layers import ReflectionPadding2D


def _np_reflect(x, pairs):
    (top, bottom), (left, right) = pairs
    return np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)), mode="reflect")


@pytest.mark.parametrize(
    "padding, pairs",
    [
        (1, ((1, 1), (1, 1))),
        (3, ((3, 3), (3, 3))),
        ((1, 2), ((1, 1), (2, 2))),
        (((1, 2), (3, 0)), ((1, 2), (3, 0))),
        (0, ((0, 0), (0, 0))),
    ],
)
def test_matches_numpy_reflect(rng, padding, pairs):
    x = rng.standard_normal((2, 5, 6, 3)).astype("float32")
    layer = ReflectionPadding2D(padding)
    assert layer.padding == pairs
    np.testing.assert_array_equal(np.asarray(layer(x)), _np_reflect(x, pairs))


def test_worked_example_does_not_repeat_edge():
    # [a, b, c, d] reflect-padded by 2 -> [c, b, a, b, c, d, c, b] (PyTorch ReflectionPad2d).
    x = np.arange(1, 5, dtype="float32").reshape(1, 1, 4, 1)
    y = np.asarray(ReflectionPadding2D(((0, 0), (2, 2)))(x))[0, 0, :, 0]
    np.testing.assert_array_equal(y, [3, 2, 1, 2, 3, 4, 3, 2])


def test_dynamic_shape_model_and_output_shape(rng):
    inputs = keras.Input(shape=(None, None, 2))
    outputs = ReflectionPadding2D(((1, 2), (3, 1)))(inputs)
    assert tuple(outputs.shape) == (None, None, None, 2)
    model = keras.Model(inputs, outputs)
    for h, w in ((4, 5), (7, 9)):
        x = rng.standard_normal((1, h, w, 2)).astype("float32")
        y = np.asarray(model(x))
        assert y.shape == (1, h + 3, w + 4, 2)
        np.testing.assert_array_equal(y, _np_reflect(x, ((1, 2), (3, 1))))
    static = ReflectionPadding2D(3).compute_output_shape((None, 10, 20, 4))
    assert static == (None, 16, 26, 4)


def test_get_config_round_trip(rng):
    layer = ReflectionPadding2D(((1, 2), (3, 0)), name="pad")
    config = layer.get_config()
    json.dumps(config)  # JSON-serialisable (tuples become lists in a saved file)
    restored = ReflectionPadding2D.from_config(json.loads(json.dumps(config)))
    assert restored.padding == layer.padding
    assert restored.name == "pad"
    assert restored.get_config() == config
    x = rng.standard_normal((1, 5, 5, 1)).astype("float32")
    np.testing.assert_array_equal(np.asarray(restored(x)), np.asarray(layer(x)))


def test_registered_serialisation_without_custom_objects():
    serialised = keras.saving.serialize_keras_object(ReflectionPadding2D(2))
    restored = keras.saving.deserialize_keras_object(serialised)
    assert isinstance(restored, ReflectionPadding2D)
    assert restored.padding == ((2, 2), (2, 2))


def test_saved_keras_file_round_trip(tmp_path, rng):
    inputs = keras.Input(shape=(None, None, 1))
    x = ReflectionPadding2D(1, name="reflect")(inputs)
    outputs = keras.layers.Conv2D(2, 3, name="conv")(x)
    model = keras.Model(inputs, outputs)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded.get_layer("reflect"), ReflectionPadding2D)
    x = rng.standard_normal((1, 6, 7, 1)).astype("float32")
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(model(x)), rtol=0, atol=0)


@pytest.mark.parametrize("bad", [-1, (1, -2), ((0, 1), (2, -1)), (1, 2, 3), "1"])
def test_rejects_bad_padding(bad):
    with pytest.raises(ValueError, match="padding"):
        ReflectionPadding2D(bad)


def test_rejects_padding_not_smaller_than_static_dimension():
    with pytest.raises(ValueError, match="smaller than the padded dimension"):
        ReflectionPadding2D(3)(keras.Input(shape=(3, 8, 1)))
