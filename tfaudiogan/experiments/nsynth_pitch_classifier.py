"""NSynth pitch classifier for the GANSynth metrics (IS, PA, PE, FID).

    python -m tfaudiogan.experiments.nsynth_pitch_classifier             # built-in notes (demo)
    python -m tfaudiogan.experiments.nsynth_pitch_classifier --data_dir nsynth   # GANSynth subset

See experiments/nsynth_pitch_classifier.md for the design and what this code measured.
"""

from tfaudiogan.configs.pitch_classifier import FAMILY
from tfaudiogan.experiments.common import launch
from tfaudiogan.recipes.pitch_classifier import run

if __name__ == "__main__":
    launch(FAMILY, run)
