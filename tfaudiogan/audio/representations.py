"""Spectrogram representations that map waveforms to generator images and back.

:class:`CycleGANSpectrogram` is the magnitude + phase split of the two CycleGAN seeds: the
generator only sees a normalised log-magnitude image and the input's phase is reused to invert
it (Gupta & Naik, "Instrumental Music Translation"; reference/cyclegan.md section 3.1, option a).
Below the image's magnitude floor the input phase is pulled towards 0 (see
:meth:`CycleGANSpectrogram.encode`), so that it does not depend on float32 rounding.
Everything is built on :class:`~tfaudiogan.audio.spectral.DFTSTFT`, so encode/decode convert to
TFLite with built-in ops only.
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from tfaudiogan.audio.gansynth import GANSynthSpectrogram
from tfaudiogan.audio.spectral import DFTSTFT

# GANSynthSpectrogram lives in audio/gansynth.py (its own module: mel matrix, IF, normaliser);
# DESIGN.md names it here.
__all__ = ["CycleGANSpectrogram", "GANSynthSpectrogram", "spectrogram_from_config"]

_LOG_SCALES = ("db",)


class CycleGANSpectrogram:
    """Normalised dB magnitude image plus phase, for CycleGAN-style spectrogram translation.

    Normalisation (fixed, so it is the same for every clip and can be inverted exactly):

    * reference magnitude `ref = sum(window)`, the largest bin magnitude any signal with
      `|x| <= 1` can reach, so `20 log10(|X| / ref) <= 0 dB`;
    * dB values are clipped to `[-db_range, 0]` and mapped linearly to `[-1, 1]`
      (`-db_range dB -> -1`, `0 dB -> 1`), matching the generator's tanh output range
      (reference/cyclegan.md section 3.1: saved constants, no per-file min-max).

    A natural-log magnitude (seed "Learning Music Style Transformation") over the same dynamic
    range gives exactly the same image after this linear mapping, so "db" covers both seeds.

    Reused phase: `atan2(imag, real + max(floor - |X|, 0))` with `floor = ref * 10^(-db_range /
    20)`, the magnitude that maps to -1. At and above the floor this is the input phase exactly;
    below it the phase is drawn continuously towards 0, and is 0 for a zero bin. The plain
    `atan2(imag, real)` of a bin at rounding level (digital silence, the padded ends, the far
    sidelobes of a pure tone) is noise that differs between runtimes (TF vs TFLite sum the
    matmul STFT in different orders); a generator that gives such a bin magnitude would decode it
    with that noise as its phase. Exact digital silence already had phase 0 (`atan2(0, 0)`);
    bins below the floor now behave like it.

    Args:
        dft: the STFT, e.g. `DFTSTFT(511, 127, 511)` (seed 002, 256 bins) or
            `DFTSTFT(512, 205, 512)` with `drop_nyquist=True` (seed 004, 256 bins).
        db_range: dynamic range in dB mapped onto [-1, 1] (default 120 dB: chosen here, not
            from a seed; it keeps identity round trips above 100 dB SNR).
        drop_nyquist: remove the Nyquist bin (even FFT only) so the image has `fft_length / 2`
            rows; decode restores it as zeros.
        log_scale: "db" (the only scale; see above).

    Attributes:
        freq_bins: frequency rows of the image (the model's height).
        ref: the 0 dB reference magnitude, `sum(window)`.
        floor: the magnitude at `-db_range` dB, `ref * 10^(-db_range / 20)` (image value -1).
    """

    def __init__(
        self,
        dft: DFTSTFT,
        db_range: float = 120.0,
        drop_nyquist: bool = False,
        log_scale: str = "db",
    ):
        if log_scale not in _LOG_SCALES:
            raise ValueError(f"log_scale must be one of {_LOG_SCALES}, got {log_scale!r}")
        if not db_range > 0:
            raise ValueError(f"db_range must be positive, got {db_range}")
        if drop_nyquist and dft.fft_length % 2:
            raise ValueError(
                f"drop_nyquist needs an even fft_length; {dft.fft_length} has no Nyquist bin"
            )
        self.dft = dft
        self.db_range = float(db_range)
        self.drop_nyquist = bool(drop_nyquist)
        self.log_scale = log_scale
        self.freq_bins = dft.bins - 1 if drop_nyquist else dft.bins
        self.ref = float(np.sum(dft.window, dtype=np.float64))
        # Magnitude floor = ref * 10^(-db_range / 20): everything below maps to -1.
        self._log_floor = math.log(self.ref) - self.db_range * math.log(10.0) / 20.0
        self._nepers_range = self.db_range * math.log(10.0) / 20.0  # db_range in ln units
        self.floor = math.exp(self._log_floor)

    def normalise(self, magnitude) -> tf.Tensor:
        """Magnitude `[batch, frames, bins]` -> image `[batch, freq, frames, 1]` in [-1, 1]."""
        magnitude = tf.convert_to_tensor(magnitude, tf.float32)
        if self.drop_nyquist:
            magnitude = magnitude[..., :-1]
        log_mag = tf.math.log(tf.maximum(magnitude, self.floor))
        spec = 2.0 * (log_mag - self._log_floor) / self._nepers_range - 1.0
        spec = tf.clip_by_value(spec, -1.0, 1.0)
        # expand_dims rather than [..., tf.newaxis]: TFLite cannot lower a new-axis slice.
        return tf.expand_dims(tf.transpose(spec, [0, 2, 1]), -1)

    def denormalise(self, spec) -> tf.Tensor:
        """Image `[batch, freq, frames, 1]` -> magnitude `[batch, frames, bins]`.

        Values are clipped to [-1, 1] first; a dropped Nyquist row comes back as zeros.
        """
        spec = tf.clip_by_value(tf.convert_to_tensor(spec, tf.float32)[..., 0], -1.0, 1.0)
        log_mag = (spec + 1.0) * (0.5 * self._nepers_range) + self._log_floor
        magnitude = tf.transpose(tf.exp(log_mag), [0, 2, 1])
        if self.drop_nyquist:
            magnitude = tf.pad(magnitude, [[0, 0], [0, 0], [0, 1]])
        return magnitude

    def encode(self, waveform) -> tuple[tf.Tensor, tf.Tensor]:
        """Waveform -> (image, phase).

        Args:
            waveform: float `[batch, samples]`, samples in [-1, 1], at least one frame long.

        Returns:
            `spec` float32 `[batch, freq_bins, frames, 1]` in [-1, 1] and `phase` float32
            `[batch, frames, bins]` in (-pi, pi] (all bins, Nyquist included):
            `atan2(imag, real + max(floor - |X|, 0))`, the input phase wherever `|X| >= floor`;
            below, a continuous value near 0 that rounding-level changes of the input barely
            move (exactly 0 for a zero bin; see the class docstring).

        Raises:
            ValueError: the waveform is shorter than one STFT frame.
        """
        x = tf.convert_to_tensor(waveform, tf.float32)
        n = x.shape[-1]
        if n is not None and n < self.dft.frame_length:
            raise ValueError(
                f"audio of {n} samples is shorter than one STFT frame "
                f"({self.dft.frame_length} samples); pad it or use a shorter window"
            )
        real, imag = self.dft.forward(x)
        magnitude = tf.sqrt(tf.square(real) + tf.square(imag))
        # Any continuous phase rule equal to the input phase at |X| = floor has a singular point
        # inside the disc |X| < floor; this one puts it at X = -floor / 2 instead of at X = 0,
        # where silent and rounding-level bins sit.
        phase = tf.math.atan2(imag, real + tf.nn.relu(self.floor - magnitude))
        return self.normalise(magnitude), phase

    def decode(self, spec, phase, length) -> tf.Tensor:
        """(image, phase) -> waveform `[batch, length]` (phase `[batch, frames, bins]`)."""
        return self.dft.from_magnitude_phase(self.denormalise(spec), phase, length)

    def num_frames(self, n_samples):
        """Image width (frames) for a clip of `n_samples` samples."""
        return self.dft.num_frames(n_samples)


def spectrogram_from_config(spectrogram) -> CycleGANSpectrogram:
    """The CycleGAN front-end described by a CycleGAN ``SpectrogramConfig``.

    Like :func:`tfaudiogan.audio.gansynth.spectrogram_from_config`, it takes the config's
    ``spectrogram`` section (duck-typed: ``frame_length``, ``frame_step``, ``fft_length``,
    ``db_range``, ``drop_nyquist``); training and export both build their front-end here, so
    they see the same spectrogram.

    Args:
        spectrogram: e.g. ``CycleGANConfig().spectrogram``.

    Returns:
        ``CycleGANSpectrogram(DFTSTFT(frame_length, frame_step, fft_length), db_range,
        drop_nyquist)``; it encodes ``[batch, samples]`` waveforms to images
        ``[batch, freq_bins, frames, 1]`` plus phase ``[batch, frames, bins]``.
    """
    s = spectrogram
    dft = DFTSTFT(s.frame_length, s.frame_step, s.fft_length)
    return CycleGANSpectrogram(dft, db_range=s.db_range, drop_nyquist=s.drop_nyquist)
