"""SC09 inception classifier: reference/wavegan.md 6.1 and check 2 of section 11."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfaudiogan.models.classifiers import (
    LogMelSpectrogram,
    log_mel_features,
    mel_matrix,
    sc09_classifier,
)


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


def test_log_mel_matches_numpy_stft(rng):
    x = (0.1 * rng.standard_normal((2, 16384))).astype(np.float32)
    feats = log_mel_features(x).numpy()
    assert feats.shape == (2, 128, 128)
    # numpy: periodic Hann 1024, hop 128, end padding to ceil(16384 / 128) = 128 frames.
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(1024) / 1024)
    padded = np.pad(x.astype(np.float64), ((0, 0), (0, 127 * 128 + 1024 - 16384)))
    frames = np.stack([padded[:, i * 128 : i * 128 + 1024] for i in range(128)], axis=1)
    mag = np.abs(np.fft.rfft(frames * window, axis=-1))
    expected = np.log(mag @ mel_matrix(1024).astype(np.float64) + 1e-6)
    np.testing.assert_allclose(feats, expected, atol=2e-3)


def test_mel_matrix_band_edges():
    w = mel_matrix(1024)
    assert w.shape == (513, 128)
    hz = np.arange(513) * 16000 / 1024
    active = hz[w.sum(axis=1) > 0]
    assert active.min() > 40.0 and active.max() < 7800.0


def test_log_mel_layer_stops_gradient_and_round_trips_config(rng):
    layer = LogMelSpectrogram(fft_length=256, frame_step=64, n_mels=16)
    x = tf.constant(rng.standard_normal((1, 1024)), tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(layer(x))
    assert tape.gradient(y, x) is None
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
