"""tfaudiogan.layers: reusable Keras layers (re-exported with `name as name`, ruff F401)."""

from tfaudiogan.layers.image_pool import ImagePool as ImagePool
from tfaudiogan.layers.normalization import instance_norm as instance_norm
from tfaudiogan.layers.padding import ReflectionPadding2D as ReflectionPadding2D
from tfaudiogan.layers.phase_shuffle import PhaseShuffle as PhaseShuffle
