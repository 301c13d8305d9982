"""Pixel-wise feature normalisation (progressive GAN; reference/gansynth.md 2.3).

``pixel_norm(x) = x * rsqrt(mean_c(x**2) + epsilon)``: every pixel's channel vector is scaled
to unit mean square. GANSynth applies it after each generator LeakyReLU(0.2) and to the
``z || one_hot(pitch)`` input vector.
"""

from __future__ import annotations

import keras
from keras import ops

from tfaudiogan.layers.mixed_precision import upcast_float16

# Reference lib/layers.py pixel_norm(epsilon=1.0e-8).
PIXEL_NORM_EPSILON = 1e-8


def pixel_norm(x, epsilon: float = PIXEL_NORM_EPSILON):
    """Normalises the last axis of ``x`` to unit mean square.

    Args:
        x: ``[..., channels]``, e.g. ``[batch, height, width, channels]``.
        epsilon: added to the mean square before the reciprocal square root.

    Returns:
        Same shape and dtype as ``x``; a float16 ``x`` is normalised in float32 (its squares
        overflow above 256 and the 1e-8 epsilon underflows to 0).
    """
    x, dtype = upcast_float16(x)
    y = x * ops.rsqrt(ops.mean(ops.square(x), axis=-1, keepdims=True) + epsilon)
    return ops.cast(y, dtype)


@keras.saving.register_keras_serializable(package="tfaudiogan")
class PixelNorm(keras.layers.Layer):
    """Layer form of :func:`pixel_norm` (no weights).

    Args:
        epsilon: added to the mean square (reference 1e-8).
        **kwargs: standard ``keras.layers.Layer`` arguments.

    Input and output shape: ``[..., channels]``.
    """

    def __init__(self, epsilon: float = PIXEL_NORM_EPSILON, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = float(epsilon)

    def call(self, inputs):
        return pixel_norm(inputs, self.epsilon)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}
