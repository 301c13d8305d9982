"""NSynth pitch classifier for the GANSynth evaluation metrics (IS, PA, PE, FID).

The paper's classifier was never released (reference/gansynth.md section 4: architecture
unknown, magenta#1741), so this one is our own design:

    waveform [batch, 64000] (4 s at 16 kHz)
    -> |STFT| (4096-sample periodic Hann frames, hop 1024, no padding)   [batch, 59, 2049]
    -> log-frequency filterbank, 2 bins per semitone from MIDI 21      [batch, 59, 192]
    -> log, minus the per-note maximum, floored at -12 (~104 dB), mapped to [-1, 1]
    -> [Conv2D 3x3 'same' -> BatchNorm -> ReLU -> MaxPool over time 2] per entry of channels
    -> mean over the remaining frames                                   [batch, 192, c]
    -> Conv1D along frequency, kernel 49 bins (2 octaves), ReLU         [batch, 192, c2]
    -> flatten -> Dense(embedding_dim) ReLU, named "embedding"          [batch, 128]
    -> Dense(61) "logits" (MIDI 24..84 -> class 0..60, the GANSynth subset's pitch range)

Why this design:

* Pitch is a frequency-axis quantity, so the front-end is log-frequency (constant-Q-like):
  a semitone is always 2 bins, a transposition is a shift and the harmonic pattern of a note
  (octave = 24 bins, twelfth = 38 bins) has the same shape at every pitch, which
  convolutions along frequency exploit. The filterbank and the normalised spectrogram are
  signal processing and live in :mod:`tfaudiogan.audio.log_frequency`
  (:func:`~tfaudiogan.audio.log_frequency.log_frequency_matrix`,
  :func:`~tfaudiogan.audio.log_frequency.log_frequency_features`, where the choice of
  4096-point frames is explained); :class:`LogFrequencySpectrogram` is the Keras layer.
* Per-note max normalisation makes the input independent of velocity/loudness; pitch
  does not depend on level.
* Pooling only over time keeps the full frequency resolution to the end; the time mean
  treats the note as stationary (NSynth notes are one held pitch).
* A 128-wide penultimate layer gives the Frechet distance a compact feature (FID-style).

Parameter count at the defaults (channels (16, 32), conv1d 32, embedding 128, 61 classes):
**849,581** (849,485 trainable; 96 batch-norm moving statistics); tested.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from tfaudiogan.audio.log_frequency import (
    BINS_PER_SEMITONE,
    FFT_LENGTH,
    FRAME_STEP,
    LOG_FLOOR,
    MIN_MIDI,
    MIN_WIDTH_BINS,
    N_BINS,
    SAMPLE_RATE,
    log_frequency_features,
    log_frequency_frames,
    log_frequency_matrix,
)
from tfaudiogan.layers.mixed_precision import FLOAT32

__all__ = ["LogFrequencySpectrogram", "class_to_pitch", "feature_model", "pitch_classifier",
           "pitch_to_class"]

AUDIO_LENGTH = 64000  # NSynth: 4 s notes at 16 kHz (gansynth.md section 3)
MIN_PITCH, MAX_PITCH = 24, 84  # GANSynth subset pitch range -> 61 classes (gansynth.md 3)


def pitch_to_class(pitch, min_pitch: int = MIN_PITCH, max_pitch: int = MAX_PITCH) -> np.ndarray:
    """MIDI pitch -> class index ``pitch - min_pitch``; out-of-range pitches are an error."""
    p = np.asarray(pitch)
    if p.size and (p.min() < min_pitch or p.max() > max_pitch):
        bad = p[(p < min_pitch) | (p > max_pitch)]
        raise ValueError(f"pitches must lie in {min_pitch}..{max_pitch}; "
                         f"got {sorted(set(bad.tolist()))[:8]}")
    return (p - min_pitch).astype(np.int32)


def class_to_pitch(index, min_pitch: int = MIN_PITCH) -> np.ndarray:
    """Class index -> MIDI pitch."""
    return np.asarray(index).astype(np.int32) + min_pitch


@keras.saving.register_keras_serializable(package="tfaudiogan")
class LogFrequencySpectrogram(keras.layers.Layer):
    """Waveform ``[batch, samples]`` -> normalised log-frequency spectrogram
    ``[batch, frames, bins]``.

    ``y = max(log(F |STFT| + eps) - max_over_note, -log_floor) * 2 / log_floor + 1`` in [-1, 1]
    (:func:`tfaudiogan.audio.log_frequency.log_frequency_features`, with ``F`` from
    :func:`tfaudiogan.audio.log_frequency.log_frequency_matrix`). No weights; gradient-stopped.
    Computes in float32 unless a ``dtype`` is given (under a mixed precision policy too).
    """

    def __init__(self, sample_rate: int = SAMPLE_RATE, fft_length: int = FFT_LENGTH,
                 frame_step: int = FRAME_STEP, min_midi: float = MIN_MIDI,
                 bins_per_semitone: int = BINS_PER_SEMITONE, n_bins: int = N_BINS,
                 min_width_bins: float = MIN_WIDTH_BINS, log_floor: float = LOG_FLOOR,
                 **kwargs):
        kwargs.setdefault("dtype", FLOAT32)
        super().__init__(**kwargs)
        self.sample_rate, self.fft_length = int(sample_rate), int(fft_length)
        self.frame_step, self.min_midi = int(frame_step), float(min_midi)
        self.bins_per_semitone, self.n_bins = int(bins_per_semitone), int(n_bins)
        self.min_width_bins, self.log_floor = float(min_width_bins), float(log_floor)
        self._matrix = log_frequency_matrix(self.sample_rate, self.fft_length, self.min_midi,
                                            self.bins_per_semitone, self.n_bins,
                                            self.min_width_bins)

    def call(self, waves):
        return tf.stop_gradient(log_frequency_features(
            waves, self.fft_length, self.frame_step, self.log_floor, weights=self._matrix))

    def compute_output_shape(self, input_shape):
        frames = log_frequency_frames(input_shape[-1], self.fft_length, self.frame_step)
        return (input_shape[0], frames, self.n_bins)

    def get_config(self):
        config = super().get_config()
        config.update(sample_rate=self.sample_rate, fft_length=self.fft_length,
                      frame_step=self.frame_step, min_midi=self.min_midi,
                      bins_per_semitone=self.bins_per_semitone, n_bins=self.n_bins,
                      min_width_bins=self.min_width_bins, log_floor=self.log_floor)
        return config


def pitch_classifier(n_classes: int = MAX_PITCH - MIN_PITCH + 1,
                     audio_length: int = AUDIO_LENGTH, sample_rate: int = SAMPLE_RATE,
                     fft_length: int = FFT_LENGTH, frame_step: int = FRAME_STEP,
                     min_midi: float = MIN_MIDI, bins_per_semitone: int = BINS_PER_SEMITONE,
                     n_bins: int = N_BINS, log_floor: float = LOG_FLOOR,
                     channels: tuple[int, ...] = (16, 32), freq_channels: int = 32,
                     freq_kernel: int = 49, embedding_dim: int = 128,
                     name: str = "pitch_classifier") -> keras.Model:
    """Builds the classifier described in the module docstring.

    Args:
        n_classes: logits (61 for MIDI 24..84).
        audio_length: input samples (64000).
        sample_rate, fft_length, frame_step, min_midi, bins_per_semitone, n_bins, log_floor:
            the :class:`LogFrequencySpectrogram` front-end.
        channels: Conv2D widths, one block (conv, BN, ReLU, time pool 2) each.
        freq_channels: width of the Conv1D along frequency.
        freq_kernel: its kernel in bins (49 = 2 octaves at 2 bins per semitone).
        embedding_dim: width of the penultimate "embedding" layer (Frechet features).
        name: model name.

    Returns:
        ``keras.Model``: float ``[batch, audio_length]`` -> logits ``[batch, n_classes]``.
        Layer names include ``log_frequency``, ``embedding`` and ``logits``.

    Raises:
        ValueError: too few frames for the time pooling.
    """
    frames = log_frequency_frames(audio_length, fft_length, frame_step)
    if frames < 2 ** len(channels):
        raise ValueError(f"{frames} frames cannot be pooled {len(channels)} times; "
                         "use longer audio or fewer conv blocks")
    waves = keras.Input((audio_length,), name="waveform")
    x = LogFrequencySpectrogram(sample_rate, fft_length, frame_step, min_midi,
                                bins_per_semitone, n_bins, log_floor=log_floor,
                                name="log_frequency")(waves)
    x = keras.layers.Reshape((frames, n_bins, 1), name="add_channel")(x)
    for i, width in enumerate(channels):
        x = keras.layers.Conv2D(width, 3, padding="same", use_bias=False, name=f"conv_{i}")(x)
        # global-batch statistics under tf.distribute (as one device would compute them)
        x = keras.layers.BatchNormalization(synchronized=True, name=f"bn_{i}")(x)
        x = keras.layers.ReLU(name=f"relu_{i}")(x)
        x = keras.layers.MaxPooling2D((2, 1), name=f"pool_{i}")(x)
        frames //= 2
    x = keras.layers.AveragePooling2D((frames, 1), name="time_mean")(x)  # [b, 1, bins, c]
    x = keras.layers.Reshape((n_bins, channels[-1]), name="drop_time")(x)
    x = keras.layers.Conv1D(freq_channels, freq_kernel, padding="same", activation="relu",
                            name="freq_conv")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    # float32 embedding (the FD features) and logits under a mixed precision policy
    x = keras.layers.Dense(embedding_dim, activation="relu", dtype=FLOAT32, name="embedding")(x)
    logits = keras.layers.Dense(n_classes, dtype=FLOAT32, name="logits")(x)
    return keras.Model(waves, logits, name=name)


def feature_model(classifier: keras.Model) -> keras.Model:
    """The same network with two outputs: ``(logits [b, classes], embedding [b, dim])``."""
    return keras.Model(classifier.inputs,
                       [classifier.get_layer("logits").output,
                        classifier.get_layer("embedding").output],
                       name=f"{classifier.name}_features")
