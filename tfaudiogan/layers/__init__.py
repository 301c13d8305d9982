"""tfaudiogan.layers."""
