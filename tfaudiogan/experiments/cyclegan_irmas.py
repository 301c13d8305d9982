"""CycleGAN piano <-> electric guitar translation (seed 002, "Instrumental Music Translation").

    python -m tfaudiogan.experiments.cyclegan_irmas                       # built-in demo data
    python -m tfaudiogan.experiments.cyclegan_irmas --data_dir IRMAS-TrainingData   # the paper

See experiments/cyclegan_irmas.md for the published numbers and what this code measured.
"""

from tfaudiogan.configs.cyclegan import FAMILY_IRMAS
from tfaudiogan.experiments.common import launch
from tfaudiogan.recipes.cyclegan import run

if __name__ == "__main__":
    launch(FAMILY_IRMAS, run)
