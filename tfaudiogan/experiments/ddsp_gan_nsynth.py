"""DDSP-synth GAN with CPPN controls on NSynth (seed 003, "NoisyGAN").

    python -m tfaudiogan.experiments.ddsp_gan_nsynth                         # built-in demo
    python -m tfaudiogan.experiments.ddsp_gan_nsynth --data_dir nsynth       # the paper setup

See experiments/ddsp_gan_nsynth.md for the seed's claims and what this code measured.
"""

from tfaudiogan.configs.ddsp_gan import FAMILY
from tfaudiogan.experiments.common import launch
from tfaudiogan.recipes.ddsp_gan import run

if __name__ == "__main__":
    launch(FAMILY, run)
