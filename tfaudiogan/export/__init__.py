"""tfaudiogan.export."""
