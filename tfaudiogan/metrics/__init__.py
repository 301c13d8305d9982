"""tfaudiogan.metrics."""
