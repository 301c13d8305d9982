"""DDSP audio features: magnitude, mel, log-mel, MFCC, RMS power and A-weighted loudness.

Semantics of magenta/ddsp `spectral_ops` (reference/ddsp.md 1.6), in differentiable TF:

* `stft(audio, frame_size, overlap, pad_end=True)` is `tf.signal.stft` with
  `frame_step = int(frame_size * (1 - overlap))`, the default (periodic Hann) window and the
  next power-of-two FFT, so T samples give `ceil(T / hop)` frames.
* `compute_mel` multiplies the *magnitude* (not power) by `tf.signal.linear_to_mel_weight_matrix`
  (HTK mel); `compute_logmel = safe_log(mel)`; `compute_mfcc` keeps the first `mfcc_bins` of
  `tf.signal.mfccs_from_log_mel_spectrograms` (DCT-II scaled sqrt(2 / N), c0 included).
* **Loudness definition implemented: DDSP >= 2.0 `compute_loudness`** (Jan 2022): zero-pad
  `n_fft / 2` on both sides, 512-sample Hann frames with hop `sr / frame_rate` (64 -> 1001
  frames for 4 s at 16 kHz), power `|X|^2` weighted by the A-weighting curve (IEC 61672, as
  `librosa.A_weighting`, floored at -80 dB) in linear power, **mean over bins**, then
  `power_to_db(ref_db=0, range_db=80)`: A-weighted power in dB relative to `ref_db`, floor
  -80 dB, not normalised to 0 dB full scale (a full-scale 1 kHz sine gives 19.805 dB). The older
  definition (per-bin dB means, -20.7 dB offset, 120 dB range; TFDS `f0_and_loudness`) is not
  implemented.

Magnitudes use `sqrt(re^2 + im^2)` with a zero gradient at exactly 0, so features of silence
have finite gradients (`tf.abs` of a complex zero would give NaN).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from tfaudiogan.audio.db import DB_RANGE, amplitude_to_db, power_to_db, safe_log

__all__ = [
    "a_weighting",
    "compute_logmel",
    "compute_loudness",
    "compute_mag",
    "compute_mel",
    "compute_mfcc",
    "compute_power",
    "compute_rms_energy",
    "pad_for_frames",
    "stft",
]


def _hop(frame_size: int, overlap: float) -> int:
    hop = int(frame_size * (1.0 - overlap))
    if hop < 1:
        raise ValueError(f"overlap {overlap} leaves no hop for frame_size {frame_size}")
    return hop


def stft(audio, frame_size: int = 2048, overlap: float = 0.75, pad_end: bool = True):
    """Complex STFT `[batch, frames, frame_size // 2 + 1]` of `[batch, samples]` (DDSP)."""
    audio = tf.cast(audio, tf.float32)
    if audio.shape.rank == 3:
        audio = audio[:, :, 0]
    return tf.signal.stft(audio, frame_length=int(frame_size),
                          frame_step=_hop(frame_size, overlap), fft_length=None,
                          pad_end=pad_end)


def _safe_magnitude(spectrum) -> tf.Tensor:
    """`|spectrum|` with gradient 0 (not NaN) where the spectrum is exactly 0."""
    power = tf.square(tf.math.real(spectrum)) + tf.square(tf.math.imag(spectrum))
    positive = power > 0.0
    return tf.where(positive, tf.sqrt(tf.where(positive, power, 1.0)), 0.0)


def compute_mag(audio, size: int = 2048, overlap: float = 0.75, pad_end: bool = True):
    """STFT magnitude `[batch, ceil(T / hop), size // 2 + 1]` (64000 samples, 2048 -> 125 x 1025)."""
    return _safe_magnitude(stft(audio, size, overlap, pad_end))


def compute_mel(audio, lo_hz: float = 0.0, hi_hz: float = 8000.0, bins: int = 64,
                fft_size: int = 2048, overlap: float = 0.75, pad_end: bool = True,
                sample_rate: int = 16000):
    """Mel-weighted magnitudes `[batch, frames, bins]` (DDSP defaults: 0-8000 Hz, 64 bins)."""
    mag = compute_mag(audio, fft_size, overlap, pad_end)
    matrix = tf.signal.linear_to_mel_weight_matrix(
        num_mel_bins=bins, num_spectrogram_bins=mag.shape[-1], sample_rate=sample_rate,
        lower_edge_hertz=lo_hz, upper_edge_hertz=hi_hz)
    return tf.tensordot(mag, matrix, axes=1)


def compute_logmel(audio, lo_hz: float = 80.0, hi_hz: float = 7600.0, bins: int = 64,
                   fft_size: int = 2048, overlap: float = 0.75, pad_end: bool = True,
                   sample_rate: int = 16000):
    """`safe_log(compute_mel(...))` `[batch, frames, bins]` (DDSP defaults 80-7600 Hz)."""
    return safe_log(compute_mel(audio, lo_hz, hi_hz, bins, fft_size, overlap, pad_end,
                                sample_rate))


def compute_mfcc(audio, lo_hz: float = 20.0, hi_hz: float = 8000.0, fft_size: int = 1024,
                 mel_bins: int = 128, mfcc_bins: int = 13, overlap: float = 0.75,
                 pad_end: bool = True, sample_rate: int = 16000):
    """MFCCs `[batch, frames, mfcc_bins]` (DDSP defaults; 64000 samples give 250 x 13).

    The DDSP autoencoder's encoder setting is `fft_size=1024, overlap=0.5, mfcc_bins=30`
    (125 x 30 for 4 s).
    """
    logmel = compute_logmel(audio, lo_hz, hi_hz, mel_bins, fft_size, overlap, pad_end,
                            sample_rate)
    return tf.signal.mfccs_from_log_mel_spectrograms(logmel)[..., :mfcc_bins]


def a_weighting(frequencies, min_db: float = -80.0) -> np.ndarray:
    """A-weighting in dB (IEC 61672 curve, +2.0 dB normalisation as librosa), floored at `min_db`.

    Args:
        frequencies: array of frequencies in Hz (0 Hz gives `min_db`).

    Returns:
        float64 array of the same shape.
    """
    f_sq = np.square(np.asarray(frequencies, dtype=np.float64))
    poles_sq = np.square([12194.217, 20.598997, 107.65265, 737.86223])  # IEC 61672-1 poles (Hz)
    with np.errstate(divide="ignore"):
        db = 2.0 + 20.0 * (np.log10(poles_sq[0]) + 2.0 * np.log10(f_sq)
                           - np.log10(f_sq + poles_sq[0]) - np.log10(f_sq + poles_sq[1])
                           - 0.5 * np.log10(f_sq + poles_sq[2])
                           - 0.5 * np.log10(f_sq + poles_sq[3]))
    return np.maximum(db, min_db)


def pad_for_frames(audio, frame_size: int, hop_size: int, padding: str = "center"):
    """Pads `[batch, samples]` for framing: 'center' (`frame_size // 2` zeros on both sides,
    `1 + T // hop` frames), 'same' (`frame_size - hop` zeros at the end) or 'valid' (none)."""
    audio = tf.cast(audio, tf.float32)
    if padding == "valid":
        return audio
    if hop_size > frame_size:
        raise ValueError(f"hop {hop_size} is larger than the frame {frame_size}")
    if padding == "center":
        left = right = frame_size // 2
    elif padding == "same":
        left, right = 0, frame_size - hop_size
    else:
        raise ValueError(f"padding must be 'center', 'same' or 'valid', got {padding!r}")
    return tf.pad(audio, [[0, 0], [left, right]])


def _as_batch(audio) -> tuple[tf.Tensor, bool]:
    audio = tf.cast(audio, tf.float32)
    return (audio[tf.newaxis, :], True) if audio.shape.rank == 1 else (audio, False)


def compute_loudness(audio, sample_rate: int = 16000, frame_rate: int = 250, n_fft: int = 512,
                     range_db: float = DB_RANGE, ref_db: float = 0.0,
                     padding: str = "center") -> tf.Tensor:
    """A-weighted loudness in dB (DDSP >= 2.0 definition, see the module docstring).

    Args:
        audio: `[batch, samples]` or `[samples]`.
        sample_rate: samples per second.
        frame_rate: loudness frames per second (hop = sample_rate // frame_rate).
        n_fft: frame and FFT size.
        range_db: dynamic range; the output floor is `-range_db`.
        ref_db: reference level subtracted from the dB values.
        padding: 'center' (DDSP default), 'same' or 'valid'.

    Returns:
        `[batch, frames]` (or `[frames]`); 1001 frames for 64000 samples with the defaults.
    """
    audio, squeeze = _as_batch(audio)
    hop = sample_rate // frame_rate
    audio = pad_for_frames(audio, n_fft, hop, padding)
    spectrum = tf.signal.stft(audio, frame_length=n_fft, frame_step=hop, fft_length=n_fft,
                              pad_end=False)
    power = tf.square(tf.math.real(spectrum)) + tf.square(tf.math.imag(spectrum))
    frequencies = np.linspace(0.0, sample_rate / 2.0, n_fft // 2 + 1)
    weighting = tf.constant((10.0 ** (a_weighting(frequencies) / 10.0)).astype(np.float32))
    loudness = power_to_db(tf.reduce_mean(power * weighting, axis=-1), ref_db=ref_db,
                           range_db=range_db)
    return loudness[0] if squeeze else loudness


def compute_rms_energy(audio, sample_rate: int = 16000, frame_rate: int = 250,
                       frame_size: int = 512, padding: str = "center") -> tf.Tensor:
    """Frame-wise RMS `[batch, frames]` (no window), DDSP `compute_rms_energy`."""
    audio, squeeze = _as_batch(audio)
    hop = sample_rate // frame_rate
    frames = tf.signal.frame(pad_for_frames(audio, frame_size, hop, padding), frame_size, hop)
    mean_square = tf.reduce_mean(tf.square(frames), axis=-1)
    positive = mean_square > 0.0
    rms = tf.where(positive, tf.sqrt(tf.where(positive, mean_square, 1.0)), 0.0)
    return rms[0] if squeeze else rms


def compute_power(audio, sample_rate: int = 16000, frame_rate: int = 250,
                  frame_size: int = 512, ref_db: float = 0.0, range_db: float = DB_RANGE,
                  padding: str = "center") -> tf.Tensor:
    """`amplitude_to_db(compute_rms_energy(...))`: a 0.5-amplitude sine gives -9.031 dB."""
    rms = compute_rms_energy(audio, sample_rate, frame_rate, frame_size, padding)
    return amplitude_to_db(rms, ref_db=ref_db, range_db=range_db)
