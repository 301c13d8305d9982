"""tfaudiogan.configs."""
