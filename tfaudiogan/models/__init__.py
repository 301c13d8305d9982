"""tfaudiogan.models."""
