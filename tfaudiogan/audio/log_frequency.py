"""Log-frequency (constant-Q-like) filterbank on STFT bins and the pitch classifier's front end.

:func:`log_frequency_matrix` puts unit-area triangles on a semitone grid, so a semitone is
always ``bins_per_semitone`` bands and a transposition is a shift along the band axis; no CQT
library is needed at run time. It serves the NSynth pitch classifier
(:func:`log_frequency_features`, wrapped by the Keras layer
``tfaudiogan.models.pitch_classifier.LogFrequencySpectrogram``) and the rainbowgrams of the
GANSynth evaluation.

The defaults are the pitch classifier's front end (our own design: the paper's classifier was
never released, reference/gansynth.md section 4):

* 4096-point frames (3.9 Hz bins) resolve the partials of low notes: MIDI 24 is 32.7 Hz and a
  semitone there is 1.9 Hz, so the fundamental alone cannot be resolved, but its higher
  partials can; triangles narrower than 1.5 FFT bins are widened (the minimum band width rule
  of GANSynth's mel matrix, gansynth.md 1.3).
* Per-note max normalisation makes the features independent of loudness.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from tfaudiogan.audio.pitch import midi_to_hz

__all__ = ["log_frequency_features", "log_frequency_frames", "log_frequency_matrix"]

SAMPLE_RATE = 16000  # NSynth (gansynth.md section 3)
FFT_LENGTH = 4096  # [chosen] 3.9 Hz bins: resolves the partials of the lowest notes
FRAME_STEP = 1024  # [chosen] 64 ms hop; 59 frames per 4 s note
MIN_MIDI = 21.0  # [chosen] lowest bin centre (A0, 27.5 Hz), below the lowest class
BINS_PER_SEMITONE = 2  # [chosen]
N_BINS = 192  # [chosen] 8 octaves: MIDI 21 .. 116.5 (6.6 kHz), below Nyquist
MIN_WIDTH_BINS = 1.5  # [chosen] as GANSynth's mel matrix minimum width of 1.5 FFT bins
LOG_FLOOR = 12.0  # [chosen] natural-log range kept below each note's peak (~104 dB)
LOG_EPS = 1e-6  # as GANSynth's _safe_log (gansynth.md 1.2)


def log_frequency_matrix(sample_rate: int = SAMPLE_RATE, fft_length: int = FFT_LENGTH,
                         min_midi: float = MIN_MIDI, bins_per_semitone: int = BINS_PER_SEMITONE,
                         n_bins: int = N_BINS, min_width_bins: float = MIN_WIDTH_BINS
                         ) -> np.ndarray:
    """A constant-Q-like filterbank on STFT bins: unit-area triangles on a semitone grid.

    Band ``j`` is centred at MIDI ``min_midi + j / bins_per_semitone`` and its triangle
    reaches the neighbouring centres (half-width = one bin step in log frequency). Where that
    half-width is less than ``min_width_bins`` STFT bins it is widened to that (low notes), so
    every band covers at least one STFT bin. Each column sums to 1, so a band reads the
    average magnitude in its range.

    Args:
        sample_rate: Hz.
        fft_length: STFT size; the matrix has ``fft_length // 2 + 1`` rows.
        min_midi: MIDI number of band 0.
        bins_per_semitone: band density (2 = 24 bins per octave).
        n_bins: number of bands; the highest centre must lie below Nyquist.
        min_width_bins: minimum triangle half-width, in STFT bins.

    Returns:
        float32 ``[fft_length // 2 + 1, n_bins]``.

    Raises:
        ValueError: the highest band is not below Nyquist, or a non-positive size.
    """
    if n_bins < 1 or bins_per_semitone < 1 or fft_length < 2:
        raise ValueError("n_bins, bins_per_semitone and fft_length must be positive")
    step = 1.0 / bins_per_semitone
    centres_midi = min_midi + step * np.arange(n_bins)
    centres = midi_to_hz(centres_midi)
    if midi_to_hz(centres_midi[-1] + step) >= sample_rate / 2:
        raise ValueError(f"the top band (MIDI {centres_midi[-1]:.1f}) reaches Nyquist; "
                         "use fewer bins or a higher sample rate")
    lower = midi_to_hz(centres_midi - step)
    upper = midi_to_hz(centres_midi + step)
    bin_hz = sample_rate / fft_length
    min_half = min_width_bins * bin_hz
    lower = np.minimum(lower, centres - min_half)
    upper = np.maximum(upper, centres + min_half)
    freqs = np.arange(fft_length // 2 + 1)[:, None] * bin_hz
    rise = (freqs - lower) / (centres - lower)
    fall = (upper - freqs) / (upper - centres)
    weights = np.maximum(0.0, np.minimum(rise, fall))
    weights /= weights.sum(axis=0, keepdims=True)
    return weights.astype(np.float32)


def log_frequency_frames(n_samples: int | None, fft_length: int = FFT_LENGTH,
                         frame_step: int = FRAME_STEP) -> int | None:
    """Frames of :func:`log_frequency_features` (no padding): ``1 + (n - fft) // step``.

    ``None`` (an unknown length) gives ``None``; 64000 samples give 59 frames.
    """
    return None if n_samples is None else 1 + (n_samples - fft_length) // frame_step


def log_frequency_features(waves, fft_length: int = FFT_LENGTH, frame_step: int = FRAME_STEP,
                           log_floor: float = LOG_FLOOR, log_eps: float = LOG_EPS,
                           weights: np.ndarray | None = None) -> tf.Tensor:
    """Normalised log-frequency spectrogram of the NSynth pitch classifier.

    ``y = max(log(|STFT| @ F + eps) - max_over_clip, -log_floor) * 2 / log_floor + 1``: the
    STFT has periodic Hann frames of ``fft_length`` samples, hop ``frame_step`` and no padding;
    ``F`` is :func:`log_frequency_matrix`; the maximum is taken per clip over frames and bands,
    so the clip's peak maps to 1 and everything ``log_floor`` nepers or more below it to -1.
    Not gradient-stopped (the Keras layer stops the gradient).

    Args:
        waves: float ``[batch, samples]``, at least ``fft_length`` samples.
        fft_length: window and FFT length (4096).
        frame_step: hop (1024).
        log_floor: natural-log range kept below each clip's peak (12, about 104 dB).
        log_eps: added to the band magnitudes before the log (1e-6).
        weights: float32 ``[fft_length // 2 + 1, n_bins]`` filterbank; default
            :func:`log_frequency_matrix` at its defaults for this ``fft_length``.

    Returns:
        float32 ``[batch, 1 + (samples - fft_length) // frame_step, n_bins]`` in [-1, 1];
        ``[batch, 59, 192]`` for 64000 samples at the defaults.
    """
    if weights is None:
        weights = log_frequency_matrix(fft_length=fft_length)
    x = tf.convert_to_tensor(waves, tf.float32)
    spec = tf.abs(tf.signal.stft(x, fft_length, frame_step))  # periodic Hann
    logspec = tf.math.log(tf.tensordot(spec, tf.constant(weights), axes=1) + log_eps)
    peak = tf.reduce_max(logspec, axis=[1, 2], keepdims=True)
    rel = tf.maximum(logspec - peak, -log_floor)
    return rel * (2.0 / log_floor) + 1.0
