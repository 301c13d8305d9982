"""Bare spectrogram pictures (uint8 arrays) for TensorBoard image summaries.

The PNG files of the samples, with axes, colour bars and titles, are drawn by
training/plots.py.
"""

from __future__ import annotations

import numpy as np

# Anchor colours of a perceptually ordered dark-to-bright map (black, purple, orange, yellow).
_ANCHORS = np.array(
    [[0, 0, 4], [81, 18, 124], [183, 55, 121], [252, 137, 97], [252, 253, 191]], np.float32
)


def spectrogram_image(spec) -> np.ndarray:
    """Colours a normalised spectrogram.

    Args:
      spec: [freq, frames] or [freq, frames, 1] values in [-1, 1] (row 0 = lowest frequency).

    Returns:
      uint8 [freq, frames, 3] image with the lowest frequency at the bottom.
    """
    spec = np.asarray(spec, np.float32)
    if spec.ndim == 3:
        spec = spec[..., 0]
    level = np.clip((spec + 1.0) / 2.0, 0.0, 1.0) * (len(_ANCHORS) - 1)
    low = np.floor(level).astype(int).clip(0, len(_ANCHORS) - 2)
    frac = (level - low)[..., None]
    rgb = _ANCHORS[low] * (1 - frac) + _ANCHORS[low + 1] * frac
    return np.flipud(rgb).round().astype(np.uint8)
