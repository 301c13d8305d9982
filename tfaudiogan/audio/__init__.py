"""tfaudiogan.audio: signal processing only (file I/O, STFTs, representations, features, pitch).

Pure TensorFlow/NumPy, no training code; the graph functions use TFLite built-in ops only.
"""

from tfaudiogan.audio.batching import encode_in_batches
from tfaudiogan.audio.chunking import chunk_weights, translate_frames, translate_waveform
from tfaudiogan.audio.io import AudioDecodeError, load_audio, resample, save_audio, to_mono
from tfaudiogan.audio.pitch import hz_to_midi, midi_to_hz
from tfaudiogan.audio.representations import CycleGANSpectrogram
from tfaudiogan.audio.spectral import (
    DFTSTFT,
    check_stft_params,
    griffin_lim,
    num_frames,
    overlap_add_window,
    stft,
)

__all__ = [
    "DFTSTFT",
    "AudioDecodeError",
    "CycleGANSpectrogram",
    "check_stft_params",
    "chunk_weights",
    "encode_in_batches",
    "griffin_lim",
    "hz_to_midi",
    "load_audio",
    "midi_to_hz",
    "num_frames",
    "overlap_add_window",
    "resample",
    "save_audio",
    "stft",
    "to_mono",
    "translate_frames",
    "translate_waveform",
]
