"""Mixed-precision helpers for the networks, the GAN wrappers and the exports.

Under a ``mixed_bfloat16`` / ``mixed_float16`` Keras policy (``--precision mixed``, chosen by
:mod:`tfaudiogan.training.precision`) the variables stay float32 and most layers compute in
16 bits. The networks give :data:`FLOAT32` explicitly to the layers whose precision matters
(spectral front ends, synthesis, the output layers that feed losses and exports), and the
normalisation layers take their statistics in float32 when the compute dtype is float16
(:func:`upcast_float16`), whose range is too small for squares and 1e-8 epsilons; bfloat16
keeps float32's range and TensorFlow's reductions accumulate it in float32.

:func:`compute_in_float32` switches every layer of some models to float32 for a while: the
exports trace their signatures inside it (SavedModel and TFLite graphs are all-float32 whatever
policy the model was trained under) and the driver saves the ``.keras`` files inside it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import keras
import tensorflow as tf

#: The dtype argument of a layer that computes in float32 under every policy.
FLOAT32 = "float32"


def float32(x) -> tf.Tensor:
    """``x`` as a float32 tensor (floating tensors are cast; float32 ones returned as they are)."""
    x = tf.convert_to_tensor(x)
    return x if x.dtype == tf.float32 or not x.dtype.is_floating else tf.cast(x, tf.float32)


def upcast_float16(x) -> tuple[tf.Tensor, tf.DType]:
    """``(x in float32 if it is float16, else x; x's dtype)`` for statistics that float16 cannot
    hold (squares above 65504, epsilons below 6e-8); cast the result back to the dtype."""
    x = tf.convert_to_tensor(x)
    return (tf.cast(x, tf.float32) if x.dtype == tf.float16 else x), x.dtype


def _layers(models) -> Iterator[keras.layers.Layer]:
    seen = set()
    for model in models:
        for layer in model._flatten_layers(include_self=True, recursive=True):
            if id(layer) not in seen:
                seen.add(id(layer))
                yield layer


@contextlib.contextmanager
def compute_in_float32(*models: keras.layers.Layer):
    """Every layer of ``models`` (and their sub-layers) computes in float32 inside the block.

    The variables are float32 under every policy, so only the compute dtype changes; each
    layer's own policy comes back on exit. Use it to trace export signatures and to save
    ``.keras`` files of networks trained under a mixed policy (their configs then say float32).
    """
    saved = [(layer, layer.dtype_policy) for layer in _layers(models)]
    try:
        for layer, _ in saved:
            layer.dtype_policy = FLOAT32
        yield
    finally:
        for layer, policy in saved:
            layer.dtype_policy = policy
