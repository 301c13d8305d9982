"""tfaudiogan.data."""
