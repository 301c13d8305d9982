"""Bare spectrogram pictures (TensorBoard images)."""

import numpy as np

from tfaudiogan.training.media import spectrogram_image


def test_colour_map_is_ordered_and_low_frequencies_are_at_the_bottom():
    spec = np.full((4, 3), -1.0, np.float32)
    spec[0] = 1.0  # loudest row = lowest frequency
    img = spectrogram_image(spec)
    assert img.shape == (4, 3, 3) and img.dtype == np.uint8
    assert img[-1].sum() > img[0].sum()  # bright row drawn at the bottom
    ramp = spectrogram_image(np.linspace(-1, 1, 50)[None, :])[0].sum(axis=-1)
    assert np.all(np.diff(ramp.astype(int)) >= 0)
