"""tfaudiogan.layers: reusable Keras layers (re-exported with `name as name`, ruff F401)."""

from tfaudiogan.layers.equalized import EqualizedConv2D as EqualizedConv2D
from tfaudiogan.layers.equalized import EqualizedDense as EqualizedDense
from tfaudiogan.layers.fade_in import DiscriminatorFade as DiscriminatorFade
from tfaudiogan.layers.fade_in import GeneratorFade as GeneratorFade
from tfaudiogan.layers.image_pool import ImagePool as ImagePool
from tfaudiogan.layers.minibatch_std import MinibatchStddev as MinibatchStddev
from tfaudiogan.layers.normalization import instance_norm as instance_norm
from tfaudiogan.layers.padding import ReflectionPadding2D as ReflectionPadding2D
from tfaudiogan.layers.phase_shuffle import PhaseShuffle as PhaseShuffle
from tfaudiogan.layers.pixel_norm import PixelNorm as PixelNorm
