"""Equalised-learning-rate Conv2D and Dense (progressive GAN, Karras et al. 2018).

The kernel is stored with unit variance (initialiser ``N(0, 1)``) and multiplied at run time by
the He constant, so every weight sees the same effective learning rate under Adam
(reference/gansynth.md 2.3, GANSynth ``lib/layers.py``):

    output = conv(x, kernel * he_scale) + bias,    kernel ~ N(0, 1), bias = 0 at init
    he_scale = sqrt(2 / ((1 + slope**2) * fan_in)),   fan_in = product of kernel dims but the last

``slope = 0`` (plain He, ``sqrt(2 / fan_in)``) is used by every GANSynth generator and
discriminator conv; ``slope = 1`` (``sqrt(1 / fan_in)``) by ``to_rgb`` and both dense heads.
The reference multiplies the conv *output* by the scale; scaling the kernel instead is the same
linear map and is cheaper at high resolutions (the kernel is smaller than the feature map).
"""

from __future__ import annotations

import math

import keras
from keras import ops

# slope = 0: He initialisation for the (leaky) ReLU convs (reference he_initializer_slope=0.0).
DEFAULT_HE_SLOPE = 0.0


def he_scale(kernel_shape, slope: float = DEFAULT_HE_SLOPE) -> float:
    """He constant ``sqrt(2 / ((1 + slope**2) * fan_in))`` for a kernel shape.

    Args:
        kernel_shape: ``[kh, kw, in_channels, filters]`` (conv) or ``[in_features, units]``
            (dense); ``fan_in`` is the product of all dimensions but the last.
        slope: negative slope of the rectifier that follows the layer (0 = ReLU, 1 = linear).

    Returns:
        The scale as a Python float, e.g. ``he_scale([2, 16, 317, 256]) = 0.0140414``.
    """
    fan_in = math.prod(int(d) for d in kernel_shape[:-1])
    if fan_in < 1:
        raise ValueError(f"kernel shape {tuple(kernel_shape)} has no inputs")
    return math.sqrt(2.0 / ((1.0 + slope**2) * fan_in))


def _unit_normal() -> keras.initializers.Initializer:
    return keras.initializers.RandomNormal(mean=0.0, stddev=1.0)


@keras.saving.register_keras_serializable(package="tfaudiogan")
class EqualizedConv2D(keras.layers.Layer):
    """2-D convolution with the He scale applied to the kernel at run time.

    Args:
        filters: output channels.
        kernel_size: int or ``(kh, kw)``.
        padding: ``"same"`` or ``"valid"`` (stride 1 and odd kernels: identical to TF 'SAME').
        he_slope: rectifier slope for :func:`he_scale` (0 for G/D convs, 1 for ``to_rgb``).
        use_bias: add a bias (initialised to zero).
        **kwargs: standard ``keras.layers.Layer`` arguments.

    Input shape: ``[batch, height, width, in_channels]``.
    Output shape: ``[batch, height', width', filters]`` (``'same'``: unchanged height/width;
    ``'valid'``: ``height - kh + 1``, ``width - kw + 1``).
    """

    def __init__(self, filters: int, kernel_size, padding: str = "same",
                 he_slope: float = DEFAULT_HE_SLOPE, use_bias: bool = True, **kwargs):
        super().__init__(**kwargs)
        if isinstance(kernel_size, int):
            kernel_size = (kernel_size, kernel_size)
        self.filters = int(filters)
        self.kernel_size = tuple(int(k) for k in kernel_size)
        self.padding = padding.lower()
        if self.padding not in ("same", "valid"):
            raise ValueError(f"padding must be 'same' or 'valid'; got {padding!r}")
        self.he_slope = float(he_slope)
        self.use_bias = bool(use_bias)
        self.input_spec = keras.layers.InputSpec(ndim=4)

    def build(self, input_shape):
        in_channels = input_shape[-1]
        if in_channels is None:
            raise ValueError(f"{self.name}: the channel dimension must be known")
        shape = (*self.kernel_size, int(in_channels), self.filters)
        self.scale = he_scale(shape, self.he_slope)
        self.kernel = self.add_weight(name="kernel", shape=shape, initializer=_unit_normal())
        self.bias = (self.add_weight(name="bias", shape=(self.filters,), initializer="zeros")
                     if self.use_bias else None)

    def call(self, inputs):
        outputs = ops.conv(inputs, self.kernel * self.scale, strides=1, padding=self.padding)
        if self.bias is not None:
            outputs = outputs + self.bias
        return outputs

    def compute_output_shape(self, input_shape):
        batch, height, width, _ = input_shape
        if self.padding == "valid":
            kh, kw = self.kernel_size
            height = None if height is None else height - kh + 1
            width = None if width is None else width - kw + 1
        return (batch, height, width, self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": self.kernel_size, "padding": self.padding,
                "he_slope": self.he_slope, "use_bias": self.use_bias}


@keras.saving.register_keras_serializable(package="tfaudiogan")
class EqualizedDense(keras.layers.Layer):
    """Dense layer with the He scale applied to the kernel at run time.

    The input is flattened first (as the reference ``custom_dense``), so a ``[batch, 1, 1, c]``
    feature map gives ``fan_in = c``.

    Args:
        units: output features.
        he_slope: rectifier slope for :func:`he_scale` (GANSynth heads use 1).
        use_bias: add a bias (initialised to zero).
        **kwargs: standard ``keras.layers.Layer`` arguments.

    Input shape: ``[batch, ...]`` with known non-batch dimensions.
    Output shape: ``[batch, units]``.
    """

    def __init__(self, units: int, he_slope: float = DEFAULT_HE_SLOPE, use_bias: bool = True,
                 **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)
        self.he_slope = float(he_slope)
        self.use_bias = bool(use_bias)

    def build(self, input_shape):
        if any(d is None for d in input_shape[1:]):
            raise ValueError(f"{self.name}: non-batch dimensions must be known; "
                             f"got {tuple(input_shape)}")
        fan_in = math.prod(int(d) for d in input_shape[1:])
        shape = (fan_in, self.units)
        self.scale = he_scale(shape, self.he_slope)
        self.kernel = self.add_weight(name="kernel", shape=shape, initializer=_unit_normal())
        self.bias = (self.add_weight(name="bias", shape=(self.units,), initializer="zeros")
                     if self.use_bias else None)

    def call(self, inputs):
        flat = ops.reshape(inputs, (-1, self.kernel.shape[0]))
        outputs = ops.matmul(flat, self.kernel * self.scale)
        if self.bias is not None:
            outputs = outputs + self.bias
        return outputs

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "he_slope": self.he_slope,
                "use_bias": self.use_bias}
