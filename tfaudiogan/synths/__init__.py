"""tfaudiogan.synths."""
