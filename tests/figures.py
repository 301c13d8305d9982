"""Reading drawn matplotlib figures back in tests."""

import numpy as np


def pixel_at(figure, ax, x: float, y: float) -> np.ndarray:
    """The RGB pixel (int ``[3]``) that ``figure`` draws at data point ``(x, y)`` of ``ax``."""
    figure.canvas.draw()
    pixels = np.asarray(figure.canvas.buffer_rgba())[..., :3].astype(int)
    col, row = ax.transData.transform((x, y))  # display y grows upwards
    return pixels[pixels.shape[0] - int(round(row)), int(round(col))]
