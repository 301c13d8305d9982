"""Instance normalisation with the CycleGAN reference settings.

The reference (junyanz ``networks.py``, ``norm='instance'``) uses
``InstanceNorm2d(affine=False, track_running_stats=False)``: per-sample, per-channel statistics
over height and width, biased variance, epsilon 1e-5, no learned scale or offset. Keras 3 has no
InstanceNormalization layer (``GroupNormalization`` with one group per channel computes the same
thing, but with defaults epsilon 1e-3, ``center=True``, ``scale=True``), so
:class:`InstanceNormalization` here sets every value explicitly.

Its statistics are taken on shifted data, ``d = x - x[:, :1, :1, :]`` (each map minus its first
pixel). Mean and variance do not change under a shift, so the output equals the textbook
formula in exact arithmetic, but a constant map (a chunk of digital silence in CycleGAN
translation) now gives exactly 0. The unshifted form left the mean's rounding residue, which
``1 / sqrt(1e-5)`` amplified about 300x; TF and TFLite round differently, so their translations
of silent passages disagreed by up to 0.7 % of the peak (experiments/cyclegan_irmas.md).

The shift is a constant for the gradient (``stop_gradient``): the output does not depend on it,
so its exact gradient is 0, and differentiating it only added rounding residue and a
full-size ``StridedSliceGrad`` + add per layer to the backward pass (measured on the paper
generator's forward + backward at 256x256, 1 thread: 3 % faster in float32, 10 % in
mixed_bfloat16; kernel gradients equal to 2e-4 of their largest entry, the conv biases before
a norm have an exact gradient of 0 either way).
"""

from __future__ import annotations

import keras
from keras import ops

from tfaudiogan.layers.mixed_precision import upcast_float16

# PyTorch nn.InstanceNorm2d default eps (reference/cyclegan.md section 1.1).
REFERENCE_EPSILON = 1e-5


@keras.saving.register_keras_serializable(package="tfaudiogan")
class InstanceNormalization(keras.layers.Layer):
    """Parameter-free instance normalisation, ``[batch, height, width, channels]`` in and out.

    Each ``[height, width]`` slice of each sample and channel is normalised to zero mean and
    unit (biased) variance: ``(x - mean) / sqrt(var + epsilon)``, computed on shifted data (see
    the module docstring).

    Args:
        epsilon: added to the variance; 1e-5 as in PyTorch ``InstanceNorm2d``.
        **kwargs: standard ``keras.layers.Layer`` arguments.
    """

    def __init__(self, epsilon: float = REFERENCE_EPSILON, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = float(epsilon)

    def call(self, x):
        x, dtype = upcast_float16(x)  # float16: statistics in float32 (squares overflow)
        shifted = x - ops.stop_gradient(x[:, :1, :1, :])
        centred = shifted - ops.mean(shifted, axis=(1, 2), keepdims=True)
        variance = ops.mean(ops.square(centred), axis=(1, 2), keepdims=True)
        return ops.cast(centred * ops.rsqrt(variance + self.epsilon), dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}


def instance_norm(name: str | None = None, epsilon: float = REFERENCE_EPSILON,
                  dtype=None) -> InstanceNormalization:
    """A parameter-free instance-normalisation layer (see :class:`InstanceNormalization`).

    Args:
        name: Keras layer name.
        epsilon: added to the variance; 1e-5 as in PyTorch ``InstanceNorm2d``.
        dtype: dtype policy (None: the global one; ``"float32"`` normalises in float32 under a
            mixed policy, from an input cast up from 16 bits).
    """
    return InstanceNormalization(epsilon=epsilon, name=name, dtype=dtype)
