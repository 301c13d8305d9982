"""Reflection padding for 2-D feature maps (PyTorch ``nn.ReflectionPad2d`` equivalent).

Keras has no reflection-padding layer; ``keras.ops.pad(..., mode="reflect")`` lowers to
``tf.pad(mode="REFLECT")`` (TFLite built-in ``MIRROR_PAD``), so the layer exports cleanly.
"""

from __future__ import annotations

import keras


def _normalise_padding(padding) -> tuple[tuple[int, int], tuple[int, int]]:
    """Turns ``p``, ``(ph, pw)`` or ``((top, bottom), (left, right))`` into the last form.

    Raises:
        ValueError: on negative amounts or a malformed specification.
    """
    if isinstance(padding, int):
        pairs = ((padding, padding), (padding, padding))
    elif len(padding) == 2 and all(isinstance(p, int) for p in padding):
        pairs = ((padding[0], padding[0]), (padding[1], padding[1]))
    elif len(padding) == 2 and all(len(p) == 2 for p in padding):
        pairs = (tuple(padding[0]), tuple(padding[1]))
    else:
        raise ValueError(
            "padding must be an int, (pad_height, pad_width) or "
            f"((top, bottom), (left, right)); got {padding!r}"
        )
    pairs = tuple((int(a), int(b)) for a, b in pairs)
    if any(v < 0 for pair in pairs for v in pair):
        raise ValueError(f"padding must be non-negative; got {padding!r}")
    return pairs


@keras.saving.register_keras_serializable(package="tfaudiogan")
class ReflectionPadding2D(keras.layers.Layer):
    """Pads height and width by reflection (the edge row/column is not repeated).

    Same values as ``np.pad(x, ..., mode="reflect")`` and PyTorch ``nn.ReflectionPad2d``:
    ``[a, b, c, d]`` padded by 2 on the left gives ``[c, b, a, b, c, d]``. Each padding
    amount must be smaller than the padded dimension.

    Args:
        padding: ``p`` (all four sides), ``(pad_height, pad_width)`` (symmetric), or
            ``((top, bottom), (left, right))``.
        **kwargs: standard ``keras.layers.Layer`` arguments (``name``, ``dtype``...).

    Input shape: ``[batch, height, width, channels]`` (height and width may be dynamic).
    Output shape: ``[batch, height + top + bottom, width + left + right, channels]``.
    """

    def __init__(self, padding=1, **kwargs):
        super().__init__(**kwargs)
        self.padding = _normalise_padding(padding)
        self.input_spec = keras.layers.InputSpec(ndim=4)

    def build(self, input_shape):
        for axis, (before, after) in zip((1, 2), self.padding):
            size = input_shape[axis]
            if size is not None and max(before, after) >= size:
                raise ValueError(
                    f"ReflectionPadding2D: padding {max(before, after)} must be smaller than "
                    f"the padded dimension (axis {axis} has size {size}; input shape "
                    f"{tuple(input_shape)})"
                )
        super().build(input_shape)

    def call(self, inputs):
        (top, bottom), (left, right) = self.padding
        return keras.ops.pad(
            inputs, [[0, 0], [top, bottom], [left, right], [0, 0]], mode="reflect"
        )

    def compute_output_shape(self, input_shape):
        batch, height, width, channels = input_shape
        (top, bottom), (left, right) = self.padding
        height = None if height is None else height + top + bottom
        width = None if width is None else width + left + right
        return (batch, height, width, channels)

    def get_config(self):
        return {**super().get_config(), "padding": self.padding}
