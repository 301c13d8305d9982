"""tfaudiogan.training."""
