"""SC09 inception classifier: reference/wavegan.md 6.1 and check 2 of section 11."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfaudiogan.audio.log_mel import log_mel_features
from tfaudiogan.models.classifiers import LogMelSpectrogram, sc09_classifier


def _count(weights):
    return sum(int(np.prod(w.shape)) for w in weights)


@pytest.fixture(scope="module")
def paper_model():
    return sc09_classifier()


def test_paper_parameter_counts(paper_model):
    assert _count(paper_model.trainable_weights) == 1_331_850
    assert _count(paper_model.weights) == 1_349_258


def test_paper_layer_stack(paper_model):
    names = [layer.name for layer in paper_model.layers]
    assert names == [
        "waveform", "log_mel", "bn_input", "add_channel",
        "conv_0", "pool_0", "bn_1", "conv_1", "pool_1", "bn_2", "conv_2", "pool_2",
        "bn_3", "conv_3", "pool_3", "flatten", "bn_flat", "logits",
    ]
    get = paper_model.get_layer
    assert get("bn_input").gamma.shape == (128,)  # normalises the mel axis of [b, time, mel]
    assert get("conv_0").kernel.shape == (5, 5, 1, 128)
    assert all(get(f"conv_{i}").kernel.shape == (5, 5, 128, 128) for i in (1, 2, 3))
    assert get("bn_flat").gamma.shape == (8192,)
    assert get("logits").kernel.shape == (8192, 10)
    for layer in paper_model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            assert (layer.momentum, layer.epsilon) == (0.99, 1e-3)  # tf.layers defaults
    assert paper_model.output_shape == (None, 10)


def test_bn_momentum_is_an_argument_of_the_builder():
    model = sc09_classifier(filters=4, bn_momentum=0.9)
    norms = [layer for layer in model.layers
             if isinstance(layer, keras.layers.BatchNormalization)]
    assert len(norms) == 5 and all(layer.momentum == 0.9 for layer in norms)


def test_log_mel_layer_stops_gradient_and_round_trips_config(rng):
    layer = LogMelSpectrogram(fft_length=256, frame_step=64, n_mels=16)
    x = tf.constant(rng.standard_normal((1, 1024)), tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(layer(x))
    assert tape.gradient(y, x) is None
    np.testing.assert_array_equal(layer(x), log_mel_features(x, 256, 64, 16))
    assert layer.compute_output_shape((None, 1024)) == (None, 16, 16)
    clone = LogMelSpectrogram.from_config(layer.get_config())
    np.testing.assert_allclose(clone(x), layer(x))


def test_small_model_forward_and_save_load(tmp_path, rng):
    model = sc09_classifier(filters=4, slice_len=4096)  # 32 frames x 128 mels
    x = (0.1 * rng.standard_normal((3, 4096))).astype(np.float32)
    logits = model(x, training=False)
    assert logits.shape == (3, 10)
    path = tmp_path / "clf.keras"
    model.save(path)
    restored = keras.saving.load_model(path)
    np.testing.assert_allclose(restored(x, training=False), logits, atol=1e-5)


def test_indivisible_front_end_rejected():
    with pytest.raises(ValueError, match="halved"):
        sc09_classifier(slice_len=1000)
