"""tfaudiogan.gans."""
