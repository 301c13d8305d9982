"""The SC09 digit classifier behind the WaveGAN paper's inception score.

    python -m tfaudiogan.experiments.sc09_classifier                      # built-in demo data
    python -m tfaudiogan.experiments.sc09_classifier --data_dir sc09      # the paper setup

Writes ``<model_dir>/classifier.keras``; point the GAN runs at it with
``--set eval.classifier_path=<model_dir>/classifier.keras`` (the demo presets already use
``runs/sc09_classifier/demo/classifier.keras``). See experiments/sc09_classifier.md.
"""

from tfaudiogan.configs.wavegan import FAMILY_CLASSIFIER
from tfaudiogan.experiments.common import launch
from tfaudiogan.recipes.sc09_classifier import run

if __name__ == "__main__":
    launch(FAMILY_CLASSIFIER, run)
