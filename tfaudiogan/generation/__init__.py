"""Generation features: MIDI rendering (midi.py), pitch sweeps and latent interpolation
(latent.py)."""
