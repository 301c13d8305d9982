"""Rainbowgrams: IF worked example, shapes, brightness at the tone's band, colour properties."""

import numpy as np
import pytest
import tensorflow as tf

from tfaudiogan.training.rainbowgram import (
    hsv_to_rgb,
    log_frequency_transform,
    rainbowgram,
    write_rainbowgram,
)

SR = 16000
T = np.arange(16000) / SR


def test_if_of_a_stationary_tone_is_the_wrapped_phase_advance():
    # 440 Hz, hop 256: 2 * 440 * 256 / 16000 = 14.08 -> wrapped to 0.08 (the GANSynth IF unit)
    mag, if_ = log_frequency_transform(0.5 * np.sin(2 * np.pi * 440 * T))
    band = int(mag[:, 10].argmax())
    assert band == (69 - 24) * 3  # MIDI 69, 3 bands per semitone from MIDI 24
    np.testing.assert_allclose(if_[band, 1:], 0.08, atol=1e-4)
    assert (if_[:, 0] == 0).all() and np.abs(if_).max() <= 1.0


def test_image_shape_brightness_and_constant_colour_of_a_tone():
    img = rainbowgram(0.5 * np.sin(2 * np.pi * 261.63 * T))
    frames = 1 + (16000 - 4096) // 256
    assert img.shape == (216, frames, 3) and img.dtype == np.uint8
    row = 215 - (60 - 24) * 3  # image rows are flipped: low frequencies at the bottom
    brightness = img.max(axis=2)
    assert brightness[:, 5].argmax() == row and brightness[row].min() == 255
    colours = img[row, 1:].astype(int)
    assert np.ptp(colours, axis=0).max() <= 1  # phase-coherent tone: one steady colour
    # far from the tone (80 dB below) the picture is black
    assert brightness[:60].max() == 0


def test_colour_changes_with_frequency_deviation():
    # two tones inside the same semitone band advance their phase differently per hop
    a = rainbowgram(np.sin(2 * np.pi * 440 * T))
    b = rainbowgram(np.sin(2 * np.pi * 443 * T))
    row = 215 - 45 * 3
    assert np.abs(a[row, 5].astype(int) - b[row, 5].astype(int)).max() > 20


def test_silence_is_black_and_short_audio_is_an_error(tmp_path):
    assert rainbowgram(np.zeros(8000)).max() == 0
    with pytest.raises(ValueError, match="fft_length"):
        rainbowgram(np.zeros(1000))
    image = write_rainbowgram(tmp_path / "rb.png", np.sin(2 * np.pi * 330 * T))
    decoded = tf.io.decode_png((tmp_path / "rb.png").read_bytes()).numpy()
    np.testing.assert_array_equal(decoded, image)


def test_hsv_to_rgb_primaries():
    np.testing.assert_allclose(hsv_to_rgb([0.0, 1 / 3, 2 / 3], 1.0, 1.0),
                               np.eye(3), atol=1e-12)
    np.testing.assert_allclose(hsv_to_rgb(0.5, 0.0, 0.25), [0.25] * 3)
