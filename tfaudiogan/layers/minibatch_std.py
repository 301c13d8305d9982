"""Minibatch standard deviation, GANSynth variant (reference/gansynth.md 2.3, check 11).

GANSynth computes ONE scalar for the whole (per-replica) batch, with no groups:

    s = mean over (h, w, c) of sqrt(var over the batch of x + 1e-6)

and appends it as one constant extra channel. (The original ProGAN uses groups of 4 and
averages only over channels; that is not what the GANSynth reference does.) Under
``tf.distribute`` with several replicas the variance is that of the global batch (two
all-reduces: the mean, then the squared deviations), as the single-GPU reference computes it
over its whole batch of 8; per-replica statistics would make every replica's discriminator
see a different, smaller batch (and a cluster would not train as one device does).
"""

from __future__ import annotations

import keras
import tensorflow as tf
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
        A scalar tensor (the same on every replica of a distributed step: global batch),
        float32 for a float16 ``x`` (whose squares overflow above 256), else of ``x``'s dtype.
    """
    x, _ = upcast_float16(x)
    context = tf.distribute.get_replica_context()
    if context is None or tf.distribute.get_strategy().num_replicas_in_sync == 1:
        variance = ops.var(x, axis=0)
    else:
        x = tf.convert_to_tensor(x)
        total, count = context.all_reduce(tf.distribute.ReduceOp.SUM, [
            tf.reduce_sum(x, axis=0), tf.cast(tf.shape(x)[0], x.dtype)])
        mean = total / count
        squares = context.all_reduce(tf.distribute.ReduceOp.SUM,
                                     tf.reduce_sum(tf.square(x - mean), axis=0))
        variance = squares / count
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
