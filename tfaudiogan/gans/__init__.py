"""tfaudiogan.gans: one keras.Model training wrapper per algorithm (re-exported, ruff F401)."""

from tfaudiogan.gans.base import GANModel as GANModel
from tfaudiogan.gans.cyclegan import CycleGAN as CycleGAN
