"""Minibatch standard deviation, GANSynth variant (reference/gansynth.md 2.3, check 11).

GANSynth computes ONE scalar for the whole (per-replica) batch, with no groups:

    s = mean over (h, w, c) of sqrt(var over the batch of x + 1e-6)

and appends it as one constant extra channel. (The original ProGAN uses groups of 4 and
averages only over channels; that is not what the GANSynth reference does.) Under
``tf.distribute`` the statistic is taken over each replica's own slice of the batch, as it
would be on each GPU.
"""

from __future__ import annotations

import keras
from keras import ops

from tfaudiogan.layers.mixed_precision import upcast_float16

# Reference lib/layers.py minibatch_mean_stddev: sqrt(var + 1e-6).
MINIBATCH_STDDEV_EPSILON = 1e-6


def minibatch_mean_stddev(x, epsilon: float = MINIBATCH_STDDEV_EPSILON):
    """Mean over all features of the per-feature standard deviation across the batch.

    Args:
        x: ``[batch, ...]``.
        epsilon: added to the (biased) batch variance before the square root.

    Returns:
        A scalar tensor, float32 for a float16 ``x`` (whose squares overflow above 256), else
        of ``x``'s dtype.
    """
    x, _ = upcast_float16(x)
    variance = ops.var(x, axis=0)
    return ops.mean(ops.sqrt(variance + epsilon))


@keras.saving.register_keras_serializable(package="tfaudiogan")
class MinibatchStddev(keras.layers.Layer):
    """Appends :func:`minibatch_mean_stddev` of the input as one extra channel.

    Args:
        epsilon: added to the batch variance (reference 1e-6).
        **kwargs: standard ``keras.layers.Layer`` arguments.

    Input shape: ``[batch, height, width, channels]``.
    Output shape: ``[batch, height, width, channels + 1]``; the last channel is the same
    scalar everywhere.
    """

    def __init__(self, epsilon: float = MINIBATCH_STDDEV_EPSILON, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = float(epsilon)

    def call(self, inputs):
        stddev = minibatch_mean_stddev(inputs, self.epsilon)
        extra = ops.ones_like(inputs[..., :1]) * ops.cast(stddev, inputs.dtype)
        return ops.concatenate([inputs, extra], axis=-1)

    def compute_output_shape(self, input_shape):
        channels = input_shape[-1]
        return (*input_shape[:-1], None if channels is None else channels + 1)

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}
