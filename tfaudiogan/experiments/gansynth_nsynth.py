"""GANSynth on NSynth (Engel et al., ICLR 2019): progressive, pitch-conditioned, mel-IF.

    python -m tfaudiogan.experiments.gansynth_nsynth                  # built-in demo notes
    python -m tfaudiogan.experiments.gansynth_nsynth --data_dir nsynth   # the paper (13 stages)

See experiments/gansynth_nsynth.md for the published numbers and what this code measured.
"""

from tfaudiogan.configs import gansynth as _presets  # noqa: F401  (registers the presets)
from tfaudiogan.configs.gansynth import FAMILY
from tfaudiogan.experiments.common import launch
from tfaudiogan.recipes.gansynth import run

if __name__ == "__main__":
    launch(FAMILY, run)
