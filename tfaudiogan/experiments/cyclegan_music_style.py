"""CycleGAN music style transformation (seed 004 slides): two folders of audio, log-STFT.

    python -m tfaudiogan.experiments.cyclegan_music_style                  # built-in demo data
    python -m tfaudiogan.experiments.cyclegan_music_style --data_dir DIR \\
        --set data.domain_a=country --set data.domain_b=classical        # DIR/country, DIR/classical

See experiments/cyclegan_music_style.md.
"""

from tfaudiogan.configs.cyclegan import FAMILY_MUSIC_STYLE
from tfaudiogan.experiments.common import launch
from tfaudiogan.recipes.cyclegan import run

if __name__ == "__main__":
    launch(FAMILY_MUSIC_STYLE, run)
