"""Rainbowgrams: log-frequency magnitude as brightness, instantaneous frequency as colour.

The NSynth / GANSynth papers draw CQTs whose brightness is the log magnitude and whose hue is
the instantaneous frequency (IF), so phase coherence shows as steady colour bands
(reference/gansynth.md section 6; the colab's CQT has 36 bins per octave). librosa is only a
test dependency, so the CQT here is a constant-Q-like filterbank applied to a long STFT:

1. STFT with a periodic Hann window of ``fft_length`` samples and hop ``frame_step`` (frames
   start at sample 0, no padding).
2. Every STFT bin ``k`` is multiplied by ``(-1)^k``: this moves the phase reference from the
   frame start to the window centre, so the neighbouring bins of one sinusoid are in phase and
   add up instead of cancelling.
3. The complex bins are summed with the unit-area triangular weights of
   :func:`tfaudiogan.audio.log_frequency.log_frequency_matrix` (``bins_per_semitone`` bands
   per semitone from ``min_midi``; triangles narrower than 1.5 STFT bins are widened, so the
   lowest bands are smoother than a true CQT's).
4. Brightness: ``20 log10 |band|`` relative to the image's peak, ``db_range`` dB mapped to
   0..1. Colour: IF as GANSynth defines it (gansynth.md 1.2), the frame-to-frame phase
   advance of each band wrapped to [-pi, pi) and divided by pi, used as the hue on the colour
   circle (IF is cyclic). Silence is black.

:func:`rainbowgram` is the bare image (TensorBoard); :func:`write_rainbowgram` draws it with
time and frequency axes and the legends of both colour meanings (training/plots.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tensorflow as tf
from matplotlib.colors import hsv_to_rgb

from tfaudiogan.audio.log_frequency import log_frequency_matrix
from tfaudiogan.audio.pitch import midi_to_hz
from tfaudiogan.training import plots

__all__ = ["log_frequency_transform", "rainbowgram", "rainbowgram_summary",
           "write_rainbowgram"]

SAMPLE_RATE = 16000  # NSynth / GANSynth
FFT_LENGTH = 4096  # [chosen] 3.9 Hz bins so low notes' partials are resolved
FRAME_STEP = 256  # [chosen] 250 frames for a 4 s note
MIN_MIDI = 24.0  # the GANSynth subset's lowest pitch (gansynth.md section 3)
BINS_PER_SEMITONE = 3  # the colab's CQT: 36 bins per octave (gansynth.md section 6)
N_BINS = 216  # [chosen] 6 octaves: MIDI 24 .. 95.7 (the colab shows up to 2 f(84) = MIDI 96)
DB_RANGE = 80.0  # [chosen] dynamic range shown


def log_frequency_transform(audio, sample_rate: int = SAMPLE_RATE, fft_length: int = FFT_LENGTH,
                            frame_step: int = FRAME_STEP, min_midi: float = MIN_MIDI,
                            bins_per_semitone: int = BINS_PER_SEMITONE,
                            n_bins: int = N_BINS) -> tuple[np.ndarray, np.ndarray]:
    """Magnitude and IF on the log-frequency grid (steps 1-3 of the module docstring).

    Args:
        audio: float ``[samples]`` mono, at least ``fft_length`` long.
        sample_rate, fft_length, frame_step: STFT settings.
        min_midi, bins_per_semitone, n_bins: the band grid.

    Returns:
        ``(magnitude [n_bins, frames], if_ [n_bins, frames])`` float32; ``if_`` in [-1, 1],
        frame 0 is 0 (no previous frame).
    """
    x = np.asarray(audio, np.float32).reshape(-1)
    if x.size < fft_length:
        raise ValueError(f"audio needs at least fft_length={fft_length} samples, got {x.size}")
    spec = tf.signal.stft(tf.constant(x), fft_length, frame_step).numpy()  # [frames, bins]
    spec = spec * np.where(np.arange(spec.shape[1]) % 2, -1.0, 1.0)  # centre phase reference
    weights = log_frequency_matrix(sample_rate, fft_length, min_midi, bins_per_semitone, n_bins)
    bands = (spec @ weights).T  # [n_bins, frames] complex
    phase = np.angle(bands)
    if_ = np.zeros(phase.shape, np.float32)
    if_[:, 1:] = (np.mod(np.diff(phase, axis=1) + np.pi, 2 * np.pi) - np.pi) / np.pi
    return np.abs(bands).astype(np.float32), if_


def rainbowgram(audio, sample_rate: int = SAMPLE_RATE, fft_length: int = FFT_LENGTH,
                frame_step: int = FRAME_STEP, min_midi: float = MIN_MIDI,
                bins_per_semitone: int = BINS_PER_SEMITONE, n_bins: int = N_BINS,
                db_range: float = DB_RANGE) -> np.ndarray:
    """A rainbowgram image of one clip.

    Args:
        audio: float ``[samples]``.
        sample_rate ... n_bins: as :func:`log_frequency_transform`.
        db_range: dB below the peak that map to black.

    Returns:
        uint8 ``[n_bins, frames, 3]``, lowest frequency at the bottom; hue = IF, value =
        normalised log magnitude; all black for silent audio.
    """
    mag, if_ = log_frequency_transform(audio, sample_rate, fft_length, frame_step, min_midi,
                                       bins_per_semitone, n_bins)
    peak = mag.max()
    if peak <= 0:
        return np.zeros(mag.shape + (3,), np.uint8)
    db = 20 * np.log10(np.maximum(mag / peak, 1e-12))
    value = np.clip(1 + db / db_range, 0.0, 1.0)
    hsv = np.stack([(if_ + 1) / 2, np.ones_like(value), value], axis=-1)
    return np.flipud(np.round(hsv_to_rgb(hsv) * 255)).astype(np.uint8)


def write_rainbowgram(path: str | Path, audio, title: str, sample_rate: int = SAMPLE_RATE,
                      min_midi: float = MIN_MIDI, bins_per_semitone: int = BINS_PER_SEMITONE,
                      n_bins: int = N_BINS, db_range: float = DB_RANGE, **kwargs) -> Path:
    """Writes :func:`rainbowgram` of ``audio`` as a PNG figure with time (s) and frequency (Hz,
    log scale) axes and the legends of its colour (IF) and brightness (dB); returns ``path``.

    Args:
        path: the PNG to write.
        audio: float ``[samples]``.
        title: the figure's title (the clip).
        sample_rate ... db_range: as :func:`rainbowgram`; other keyword arguments go to it too.
    """
    image = rainbowgram(audio, sample_rate=sample_rate, min_midi=min_midi,
                        bins_per_semitone=bins_per_semitone, n_bins=n_bins, db_range=db_range,
                        **kwargs)
    row_hz = midi_to_hz(min_midi + np.arange(n_bins) / bins_per_semitone)  # band centres
    return plots.write_rainbowgram(path, image, np.size(audio) / sample_rate, row_hz, title,
                                   db_range)


def rainbowgram_summary(name: str, audio_batch, step: int, max_outputs: int = 4,
                        **kwargs) -> None:
    """Writes rainbowgrams of ``audio_batch`` ``[n, samples]`` as a TensorBoard image summary
    (call inside a ``tf.summary`` writer's ``as_default()``)."""
    batch = np.asarray(audio_batch)[:max_outputs]
    images = np.stack([rainbowgram(a, **kwargs) for a in batch])
    tf.summary.image(name, images, step=step, max_outputs=max_outputs)
