"""Small test signals shared by several test modules."""

import numpy as np

from tfaudiogan.audio.pitch import midi_to_hz


def tone(midi: float, seconds: float = 1.0, amp: float = 0.5,
         sample_rate: int = 16000) -> np.ndarray:
    """A sine at MIDI pitch ``midi``: float32 ``[round(seconds * sample_rate)]``."""
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    return (amp * np.sin(2 * np.pi * midi_to_hz(midi) * t)).astype(np.float32)
