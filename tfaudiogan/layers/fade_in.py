"""Fade-in blending of progressive growing: alphas, fade layers, up/downscaling
(reference/gansynth.md 2.2). The schedule itself (stages, blocks, progress in images) is in
layers/progressive_schedule.py, whose docstring defines *progress*, *stage* and *alpha*.

Blending (reference formulas, applied to every block so the graph matches the reference):

- generator output ``sum_b alpha_G(b) * upscale(to_rgb_b(h_b))``,
  ``alpha_G(b) = max(0, min(p - (b - 2), b - p))`` (a triangle, the weights sum to 1);
- discriminator, from the highest block down: ``x <- alpha_D(b) * from_rgb_b(downscale(input))
  + (1 - alpha_D(b)) * x`` with ``alpha_D(b) = clip(b - p, 0, 1)``.

The functions accept Python numbers or tensors and return tensors (``keras.ops``).
"""

from __future__ import annotations

import keras
from keras import ops


def generator_alpha(block: int, progress):
    """Weight of generator block ``block``'s output: ``max(0, min(p - (b - 2), b - p))``."""
    p = ops.cast(progress, "float32")
    return ops.maximum(0.0, ops.minimum(p - (block - 2), block - p))


def discriminator_alpha(block: int, progress):
    """Weight of the from-rgb input at discriminator block ``block``: ``clip(b - p, 0, 1)``."""
    return ops.clip(block - ops.cast(progress, "float32"), 0.0, 1.0)


def progress_from_alpha(num_blocks: int, alpha):
    """Global progress of a stage model: ``clip(num_blocks - 2 + alpha, 0, num_blocks - 1)``."""
    return ops.clip(num_blocks - 2 + ops.cast(alpha, "float32"), 0.0, float(num_blocks - 1))


def alpha_from_progress(num_blocks: int, progress):
    """Inverse of :func:`progress_from_alpha` within a stage: ``clip(p - num_blocks + 2, 0, 1)``."""
    return ops.clip(ops.cast(progress, "float32") - (num_blocks - 2), 0.0, 1.0)


class _FadeBase(keras.layers.Layer):
    """Holds ``alpha``: a Python float (fixed) or a non-trainable ``keras.Variable``.

    A variable is tracked by the layer (it appears in ``non_trainable_weights`` and in saved
    weights), so the same traced model follows ``alpha.assign(...)`` without a rebuild; share
    one variable between the generator and the discriminator of a stage. ``variable=True``
    with a float makes the layer create its own variable (used when a saved model is loaded:
    the loaded generator and discriminator then each hold their own copy).
    """

    def __init__(self, num_blocks: int, alpha=1.0, variable: bool = False, **kwargs):
        super().__init__(**kwargs)
        if int(num_blocks) < 1:
            raise ValueError(f"num_blocks must be >= 1; got {num_blocks!r}")
        self.num_blocks = int(num_blocks)
        if isinstance(alpha, keras.Variable):
            if alpha.trainable:
                raise ValueError("alpha must be a non-trainable keras.Variable")
            self.alpha = alpha
        elif variable:
            self.alpha = self.add_weight(
                shape=(), initializer=keras.initializers.Constant(float(alpha)),
                trainable=False, name="alpha")
        else:
            self.alpha = float(alpha)

    def progress(self):
        """Scalar float32 tensor ``p`` for the current alpha."""
        return progress_from_alpha(self.num_blocks, self.alpha)

    def get_config(self):
        return {**super().get_config(), "num_blocks": self.num_blocks,
                "alpha": float(ops.convert_to_numpy(self.alpha)),
                "variable": isinstance(self.alpha, keras.Variable)}


@keras.saving.register_keras_serializable(package="tfaudiogan")
class GeneratorFade(_FadeBase):
    """Weighted sum of the per-block generator outputs, all at the stage resolution.

    Args:
        num_blocks: blocks of the stage model; the layer takes that many inputs.
        alpha: weight of the newest block (float or non-trainable ``keras.Variable``).
        variable: with a float ``alpha``, hold it in a new non-trainable variable.
        **kwargs: standard ``keras.layers.Layer`` arguments.

    Input: list of ``num_blocks`` tensors ``[batch, height, width, channels]`` ordered by
    block (1 first), each already upscaled to the stage resolution.
    Output: ``[batch, height, width, channels]`` = ``sum_b generator_alpha(b, p) * x_b``.
    """

    def call(self, inputs):
        if len(inputs) != self.num_blocks:
            raise ValueError(f"{self.name}: expected {self.num_blocks} inputs, "
                             f"got {len(inputs)}")
        p = self.progress()
        total = None
        for block, x in enumerate(inputs, start=1):
            term = x * ops.cast(generator_alpha(block, p), x.dtype)
            total = term if total is None else total + term
        return total

    def compute_output_shape(self, input_shape):
        return input_shape[0]


@keras.saving.register_keras_serializable(package="tfaudiogan")
class DiscriminatorFade(_FadeBase):
    """Blends the from-rgb input of block ``block`` with the output of block ``block + 1``.

    Args:
        block: the discriminator block whose input this is (1 .. num_blocks - 1).
        num_blocks: blocks of the stage model.
        alpha: weight of the newest block (float or non-trainable ``keras.Variable``).
        variable: with a float ``alpha``, hold it in a new non-trainable variable.
        **kwargs: standard ``keras.layers.Layer`` arguments.

    Input: ``[from_rgb, previous]``, both ``[batch, height, width, channels]``.
    Output: ``a * from_rgb + (1 - a) * previous`` with ``a = discriminator_alpha(block, p)``.
    """

    def __init__(self, block: int, num_blocks: int, alpha=1.0, variable: bool = False,
                 **kwargs):
        super().__init__(num_blocks, alpha, variable, **kwargs)
        if not 1 <= int(block) < self.num_blocks:
            raise ValueError(f"block must be in [1, {self.num_blocks - 1}]; got {block!r}")
        self.block = int(block)

    def call(self, inputs):
        from_rgb, previous = inputs
        a = ops.cast(discriminator_alpha(self.block, self.progress()), from_rgb.dtype)
        return a * from_rgb + (1.0 - a) * previous

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "block": self.block}


def upscale(x, factor: int):
    """Nearest-neighbour (box) upscaling of height and width by an integer factor.

    With static height, width and channels the copy is two reshape + tile steps with
    constant shapes and a ``-1`` batch, so even the TFLite converter's shape inference sees
    ``[?, height * factor, width * factor, channels]`` under a dynamic batch. (``ops.repeat``
    builds its reshape target from the runtime shape; the converter then loses the height of
    the deeper generator blocks and refuses the following convolutions as non-builtin
    ``tf.Conv2D``.) Otherwise ``ops.repeat`` is used; both give exactly the same values.

    Args:
        x: ``[batch, height, width, channels]``.
        factor: positive integer.

    Returns:
        ``[batch, height * factor, width * factor, channels]``; same values as the reference's
        ``batch_to_space`` tiling.
    """
    if factor == 1:
        return x
    _, height, width, channels = x.shape
    if None in (height, width, channels):
        return ops.repeat(ops.repeat(x, factor, axis=1), factor, axis=2)
    # Rows: [b, h, 1, w c] -> tile -> [b, h f, w, c]; columns: [b, h f w, 1, c] -> tile.
    x = ops.tile(ops.reshape(x, (-1, height, 1, width * channels)), (1, 1, factor, 1))
    x = ops.tile(ops.reshape(x, (-1, height * factor * width, 1, channels)), (1, 1, factor, 1))
    return ops.reshape(x, (-1, height * factor, width * factor, channels))


@keras.saving.register_keras_serializable(package="tfaudiogan")
class Upscale(keras.layers.Layer):
    """Layer form of :func:`upscale` (no weights; same values as ``UpSampling2D(factor)``).

    Args:
        factor: positive integer.
        **kwargs: standard ``keras.layers.Layer`` arguments.

    Input ``[batch, height, width, channels]``; output
    ``[batch, height * factor, width * factor, channels]``, static except for the batch.
    """

    def __init__(self, factor: int, **kwargs):
        super().__init__(**kwargs)
        if int(factor) != factor or factor < 1:
            raise ValueError(f"factor must be a positive integer; got {factor!r}")
        self.factor = int(factor)

    def call(self, inputs):
        return upscale(inputs, self.factor)

    def compute_output_shape(self, input_shape):
        b, h, w, c = input_shape
        return (b, None if h is None else h * self.factor,
                None if w is None else w * self.factor, c)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


def downscale(x, factor: int):
    """Box downscaling (non-overlapping average pooling) by an integer factor.

    Args:
        x: ``[batch, height, width, channels]`` with height and width divisible by ``factor``.
        factor: positive integer.

    Returns:
        ``[batch, height // factor, width // factor, channels]``.
    """
    if factor == 1:
        return x
    return ops.average_pool(x, factor, strides=factor, padding="valid")
