"""Log-mel features of the WaveGAN paper's evaluation scripts (reference/wavegan.md 6.1).

The SC09 "inception" classifier (official ``eval/inception/train.py``) and the
nearest-neighbour metrics (``eval/similarity/feats.py``) both read

    waveform [batch, 16384]
    -> STFT(fft_length, 128, pad_end, periodic Hann) -> |.|   [batch, 128, fft_length/2 + 1]
    -> 128-bin HTK mel matrix (40-7800 Hz at 16 kHz) -> log(+1e-6)   [batch, 128, 128]

with ``fft_length`` 1024 for the classifier and 2048 for the similarity features.
:func:`log_mel_features` computes it; the Keras layer wrapping it for the classifier is
``tfaudiogan.models.classifiers.LogMelSpectrogram``.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

__all__ = ["log_mel_features", "log_mel_frames", "mel_matrix"]

# eval/inception/train.py and eval/similarity/feats.py (reference/wavegan.md 6.1)
SAMPLE_RATE = 16000
CLASSIFIER_FFT = 1024  # stft(x, 1024, 128, pad_end=True)
SIMILARITY_FFT = 2048  # stft(x, 2048, 128, pad_end=True)
FRAME_STEP = 128
N_MELS = 128
LOWER_HZ = 40.0
UPPER_HZ = 7800.0
LOG_EPS = 1e-6


def mel_matrix(fft_length: int = CLASSIFIER_FFT, n_mels: int = N_MELS,
               sample_rate: int = SAMPLE_RATE, lower_hz: float = LOWER_HZ,
               upper_hz: float = UPPER_HZ) -> np.ndarray:
    """``tf.signal.linear_to_mel_weight_matrix`` (HTK mel) as float32 ``[fft/2 + 1, n_mels]``."""
    with tf.init_scope():
        weights = tf.signal.linear_to_mel_weight_matrix(
            num_mel_bins=n_mels,
            num_spectrogram_bins=fft_length // 2 + 1,
            sample_rate=sample_rate,
            lower_edge_hertz=lower_hz,
            upper_edge_hertz=upper_hz,
        )
        return np.asarray(weights, np.float32)


def log_mel_frames(n_samples: int | None, frame_step: int = FRAME_STEP) -> int | None:
    """Frames of :func:`log_mel_features` (end padding): ``ceil(n_samples / frame_step)``.

    ``None`` (an unknown length) gives ``None``; 16384 samples give 128 frames.
    """
    return None if n_samples is None else -(-n_samples // frame_step)


def log_mel_features(
    waves,
    fft_length: int = CLASSIFIER_FFT,
    frame_step: int = FRAME_STEP,
    n_mels: int = N_MELS,
    sample_rate: int = SAMPLE_RATE,
    lower_hz: float = LOWER_HZ,
    upper_hz: float = UPPER_HZ,
    log_eps: float = LOG_EPS,
    weights: np.ndarray | None = None,
) -> tf.Tensor:
    """``log(mel(|STFT|) + eps)`` exactly as the reference evaluation scripts.

    The STFT uses a periodic Hann window of ``fft_length`` samples, hop ``frame_step`` and end
    padding (``ceil(samples / frame_step)`` frames).

    Args:
        waves: float ``[batch, samples]`` (16384 for SC09).
        fft_length: window and FFT length (1024 for the classifier, 2048 for |D|).
        frame_step: hop (128).
        n_mels, sample_rate, lower_hz, upper_hz: mel filterbank (128, 16 kHz, 40-7800 Hz).
        log_eps: added before the log (1e-6).
        weights: a precomputed :func:`mel_matrix` (optional; must match the settings).

    Returns:
        float32 ``[batch, frames, n_mels]``; ``[batch, 128, 128]`` for 16384 samples.
    """
    x = tf.convert_to_tensor(waves, tf.float32)
    if weights is None:
        weights = mel_matrix(fft_length, n_mels, sample_rate, lower_hz, upper_hz)
    spec = tf.signal.stft(x, fft_length, frame_step, pad_end=True)  # periodic Hann (even N)
    mel = tf.tensordot(tf.abs(spec), tf.constant(weights), axes=1)
    return tf.math.log(mel + log_eps)
