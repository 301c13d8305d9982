"""WaveGAN with phase shuffle on SC09 (Donahue et al. 2019, "Adversarial Audio Synthesis").

    python -m tfaudiogan.experiments.wavegan_sc09                         # built-in demo data
    python -m tfaudiogan.experiments.wavegan_sc09 --data_dir sc09         # the paper setup

Score the samples with a classifier trained by ``tfaudiogan.experiments.sc09_classifier``
(``--set eval.classifier_path=.../classifier.keras``) or with the paper's released TF1
classifier (``--set eval.classifier_path=.../best_acc-103005``, imported on the fly). See experiments/wavegan_sc09.md for the published numbers
and what this code measured.
"""

from tfaudiogan.configs.wavegan import FAMILY_WAVEGAN
from tfaudiogan.experiments.common import launch
from tfaudiogan.recipes.wavegan import run

if __name__ == "__main__":
    launch(FAMILY_WAVEGAN, run)
