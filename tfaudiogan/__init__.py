"""tfaudiogan: faithful TensorFlow 2 / Keras 3 audio GANs.

Subpackages (dependencies flow one way, top to bottom):
  audio, synths, layers -> models, losses -> gans -> training -> experiments, cli.
"""

__version__ = "0.1.0"
