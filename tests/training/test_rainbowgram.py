"""Rainbowgrams: IF worked example, shapes, brightness at the tone's band, colour properties,
and the written figure's axes and legends."""

import matplotlib.image
import numpy as np
import pytest

from tests.figures import pixel_at
from tfaudiogan.training import plots
from tfaudiogan.training.rainbowgram import (
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


def test_silence_is_black_and_short_audio_is_an_error():
    assert rainbowgram(np.zeros(8000)).max() == 0
    with pytest.raises(ValueError, match="fft_length"):
        rainbowgram(np.zeros(1000))


def test_written_figure_has_hz_and_seconds_axes_and_both_legends(tmp_path):
    a = write_rainbowgram(tmp_path / "a.png", np.sin(2 * np.pi * 330 * T), "note_00, stage 2")
    b = write_rainbowgram(tmp_path / "b.png", np.sin(2 * np.pi * 880 * T), "note_00, stage 2")
    image_a, image_b = matplotlib.image.imread(a), matplotlib.image.imread(b)
    assert image_a.shape == image_b.shape == (400, 800, 4)  # height, width, RGBA
    assert np.abs(image_a - image_b).mean() > 0.001
    row_hz = 440 * 2 ** ((24 + np.arange(216) / 3 - 69) / 12)  # the default bands
    image = rainbowgram(0.5 * np.sin(2 * np.pi * 261.63 * T))
    figure = plots.rainbowgram_figure(image, 1.0, row_hz, "note")
    ax, hue, level = figure.axes
    assert ax.get_xlabel() == "time (s)" and "Hz, log scale" in ax.get_ylabel()
    ticks = {t.get_text(): t.get_position()[1] for t in ax.get_yticklabels()}
    assert ticks["1000"] == pytest.approx(3 * (69 + 12 * np.log2(1000 / 440) - 24), abs=0.01)
    assert "instantaneous frequency" in hue.get_ylabel() and hue.get_ylim() == (-1, 1)
    assert "dB" in level.get_ylabel() and level.get_ylim() == (-80, 0)
    # the tone's band is drawn where the axis says 261.63 Hz is (MIDI 60), black far above it
    assert pixel_at(figure, ax, 0.5, plots.row_position(row_hz, 261.63)).max() > 200
    assert pixel_at(figure, ax, 0.5, plots.row_position(row_hz, 1000)).max() < 30
