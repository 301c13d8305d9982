"""tfaudiogan.audio: signal processing only (file I/O, STFTs, representations, chunking).

Pure TensorFlow/NumPy, no training code; the graph functions use TFLite built-in ops only.
"""

from tfaudiogan.audio.chunking import chunk_weights, translate_frames, translate_waveform
from tfaudiogan.audio.io import AudioDecodeError, load_audio, resample, save_audio, to_mono
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
    "griffin_lim",
    "load_audio",
    "num_frames",
    "overlap_add_window",
    "resample",
    "save_audio",
    "stft",
    "to_mono",
    "translate_frames",
    "translate_waveform",
]
