"""NSynth pitch classifier: parameter count, front-end properties, features, save/load."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.signals import tone as _tone
from tfaudiogan.audio.log_frequency import log_frequency_features, log_frequency_matrix
from tfaudiogan.audio.pitch import midi_to_hz
from tfaudiogan.models.pitch_classifier import (
    LogFrequencySpectrogram,
    class_to_pitch,
    feature_model,
    pitch_classifier,
    pitch_to_class,
)

SR = 16000


def test_parameter_count_at_the_default_size():
    model = pitch_classifier()
    assert model.count_params() == 849_581  # module docstring
    assert sum(int(np.prod(w.shape)) for w in model.trainable_weights) == 849_485
    assert model.output_shape == (None, 61)
    assert model.get_layer("embedding").output.shape[-1] == 128


def test_front_end_layer_calls_the_audio_transform_and_stops_the_gradient():
    layer = LogFrequencySpectrogram(fft_length=2048, frame_step=512, min_midi=30.0,
                                    bins_per_semitone=1, n_bins=60, log_floor=10.0)
    x = tf.constant(np.stack([_tone(69), _tone(45, amp=0.1)]))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x)
    assert tape.gradient(tf.reduce_sum(y), x) is None
    weights = log_frequency_matrix(SR, 2048, 30.0, 1, 60)
    np.testing.assert_array_equal(y, log_frequency_features(x, 2048, 512, 10.0, weights=weights))
    assert layer.compute_output_shape((None, 16000)) == (None, y.shape[1], 60)
    clone = LogFrequencySpectrogram.from_config(layer.get_config())
    np.testing.assert_array_equal(clone(x), y)


def test_small_model_features_and_keras_round_trip(tmp_path):
    model = pitch_classifier(audio_length=8192, channels=(4,), freq_channels=4, freq_kernel=5,
                             embedding_dim=8)
    x = np.stack([_tone(60, 0.512), _tone(72, 0.512)])
    logits, embedding = feature_model(model)([x])
    assert logits.shape == (2, 61) and embedding.shape == (2, 8)
    path = tmp_path / "pc.keras"
    model.save(path)
    again = keras.models.load_model(path)
    np.testing.assert_allclose(again(x), model(x), atol=1e-5)


def test_pitch_class_mapping_and_errors():
    assert pitch_to_class([24, 60, 84]).tolist() == [0, 36, 60]
    assert class_to_pitch([0, 60]).tolist() == [24, 84]
    with pytest.raises(ValueError, match="24..84"):
        pitch_to_class([23, 60])
    with pytest.raises(ValueError, match="frames"):
        pitch_classifier(audio_length=4096, channels=(4, 4))


def test_a_small_classifier_learns_harmonic_tones():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    pitches = np.array([28, 40, 47, 52, 59, 71])  # incl. a low note and a fifth/octave apart

    def notes(n):
        p = rng.choice(pitches, n)
        t = np.arange(8192) / SR
        f0 = midi_to_hz(p)[:, None, None]
        k = np.arange(1, 6)[None, :, None]
        phases = rng.uniform(0, 2 * np.pi, (n, 5, 1))
        x = (np.sin(2 * np.pi * k * f0 * t + phases) / k).sum(1)
        return (x * rng.uniform(0.05, 0.9, (n, 1))).astype(np.float32), pitch_to_class(p)

    model = pitch_classifier(audio_length=8192, channels=(8,), freq_channels=8, freq_kernel=9,
                             embedding_dim=16)
    model.compile(keras.optimizers.Adam(3e-3, epsilon=1e-8),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x, y = notes(192)
    model.fit(x, y, batch_size=16, epochs=3, verbose=0)
    x_test, y_test = notes(48)
    predicted = np.argmax(model.predict(x_test, verbose=0), axis=1)
    assert np.mean(predicted == y_test) >= 0.9
