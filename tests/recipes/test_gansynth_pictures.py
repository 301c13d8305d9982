"""GANSynth's sample pictures: the frequency axis matches where the representation puts a tone."""

import numpy as np
import pytest
import tensorflow as tf

from tfaudiogan.audio.gansynth import GANSynthSpectrogram, normalise
from tfaudiogan.recipes.gansynth import band_frequencies, note_picture
from tfaudiogan.training.plots import row_position

SR = 16000
T = np.arange(64000) / SR


@pytest.mark.parametrize("mel", [True, False])
@pytest.mark.parametrize("hz", [131.0, 523.3, 2093.0])
def test_a_tone_is_drawn_at_the_row_the_axis_labels_with_its_frequency(mel, hz):
    rep = GANSynthSpectrogram(high_res=True, mel=mel)
    image = normalise(rep.encode(tf.constant(0.5 * np.sin(2 * np.pi * hz * T)[None],
                                             tf.float32)))[0]
    picture = note_picture(image, rep, 4.0)
    assert picture.db.shape == (1024, 128) and picture.scale == ("mel" if mel else "linear")
    loudest = int(np.argmax(picture.db[:, 64]))
    assert abs(row_position(picture.row_hz, hz) - loudest) <= 1.5


def test_an_early_stage_image_gets_the_mean_frequency_of_the_bins_it_covers():
    rep = GANSynthSpectrogram(high_res=True, mel=True)
    full = band_frequencies(rep)
    assert full.shape == (1024,) and np.all(np.diff(full) >= 0) and full[-1] < SR / 2
    picture = note_picture(tf.zeros([16, 128, 2]), rep, 4.0)  # 1/8 of the final resolution
    assert picture.db.shape == (128, 16)
    np.testing.assert_allclose(picture.row_hz, full.reshape(128, 8).mean(axis=1))
