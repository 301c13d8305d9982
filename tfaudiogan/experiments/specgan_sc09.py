"""SpecGAN on SC09 (Donahue et al. 2019): a DCGAN on 128x128 log-magnitude images.

    python -m tfaudiogan.experiments.specgan_sc09 --moments_only          # once: data moments
    python -m tfaudiogan.experiments.specgan_sc09                         # built-in demo data
    python -m tfaudiogan.experiments.specgan_sc09 --data_dir sc09 --moments_only
    python -m tfaudiogan.experiments.specgan_sc09 --data_dir sc09         # the paper setup

``--moments_only`` computes the per-frequency-bin moments of the training data, saves them in
the run directory (``moments.npz``) and exits; training without them stops with an error that
names this command. See experiments/specgan_sc09.md.
"""

from absl import flags

from tfaudiogan.configs.wavegan import FAMILY_SPECGAN
from tfaudiogan.experiments.common import launch
from tfaudiogan.recipes.wavegan import compute_run_moments, run

flags.DEFINE_boolean("moments_only", False, "Compute and save the SpecGAN moments of the "
                     "training data beside the run (moments.npz), then exit.")


def run_or_moments(config, model_dir, data_dir, strategy, export, **options):
    """Training run, or only the moments with --moments_only."""
    if flags.FLAGS.moments_only:
        path = compute_run_moments(config, model_dir, data_dir)
        print(f"moments written to {path}")
        return None
    return run(config, model_dir, data_dir, strategy, export, **options)


if __name__ == "__main__":
    launch(FAMILY_SPECGAN, run_or_moments)
