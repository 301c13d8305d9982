"""Spectrogram pictures."""

import numpy as np
import tensorflow as tf

from tfaudiogan.training.media import spectrogram_image, write_png


def test_colour_map_is_ordered_and_low_frequencies_are_at_the_bottom():
    spec = np.full((4, 3), -1.0, np.float32)
    spec[0] = 1.0  # loudest row = lowest frequency
    img = spectrogram_image(spec)
    assert img.shape == (4, 3, 3) and img.dtype == np.uint8
    assert img[-1].sum() > img[0].sum()  # bright row drawn at the bottom
    ramp = spectrogram_image(np.linspace(-1, 1, 50)[None, :])[0].sum(axis=-1)
    assert np.all(np.diff(ramp.astype(int)) >= 0)


def test_png_round_trip(tmp_path):
    img = spectrogram_image(np.random.default_rng(0).uniform(-1, 1, (16, 20, 1)))
    write_png(tmp_path / "s.png", img)
    back = tf.io.decode_png((tmp_path / "s.png").read_bytes()).numpy()
    np.testing.assert_array_equal(back, img)
