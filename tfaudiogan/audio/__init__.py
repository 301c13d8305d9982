"""tfaudiogan.audio."""
