"""tfaudiogan.experiments."""
