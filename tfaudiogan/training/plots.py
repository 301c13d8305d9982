"""The sample pictures of every run: labelled spectrograms, rainbowgrams and DDSP controls.

Every sample writer (CycleGAN, WaveGAN / SpecGAN, GANSynth, DDSP-GAN) draws its PNG files here,
on matplotlib's Agg canvas (no pyplot: no display, no global figure state, nothing to close):
time in seconds on x, frequency in Hz on y (labelled where each row's centre frequency is,
so mel and log-spaced rows get mel and log axes), a colour bar in dB and a title naming the clip.

A picture is described by :class:`Spectrogram` (a dB image, its duration and the centre
frequency of each row), so the writers only convert their own representation to dB; :func:`stft` makes one
from waveforms. Each ``*_figure`` function returns the matplotlib figure (for notebooks and
tests); its ``write_*`` twin saves it as a PNG.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import matplotlib.colors
import matplotlib.ticker
import numpy as np
import tensorflow as tf
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = ["SCALES", "Spectrogram", "controls_figure", "rainbowgram_figure", "row_position",
           "spectrogram_figure", "stft", "write_controls", "write_rainbowgram",
           "write_spectrograms"]

SCALES = ("linear", "mel", "log")
DPI = 100
SPECTROGRAM_COLOURS = "magma"
# Frequency ticks of mel and log axes (a linear axis picks round numbers itself).
_HZ_TICKS = (0, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000)
_AXIS_LABELS = {"linear": "frequency (Hz)", "mel": "frequency (Hz, mel scale)",
                "log": "frequency (Hz, log scale)"}


@dataclasses.dataclass(frozen=True)
class Spectrogram:
    """A dB image and what its axes mean.

    The rows are drawn evenly spaced, as the representation has them; the frequency axis is
    labelled in Hz where ``row_hz`` puts those frequencies, so a mel image whose bands are not
    exactly evenly spaced in mel (GANSynth's widened low bands) is still labelled correctly.

    Attributes:
        db: float ``[rows, frames]`` levels in dB, row 0 the lowest frequency.
        seconds: duration covered by the frames.
        row_hz: float ``[rows]`` centre frequency (Hz) of every row, non-decreasing.
        scale: how the rows are spaced, for the axis label: "linear", "mel" or "log".
        db_range: dB below the loudest value still shown (darkest colour below).
        unit: the colour bar's label.
    """

    db: np.ndarray
    seconds: float
    row_hz: np.ndarray
    scale: str = "linear"
    db_range: float = 80.0
    unit: str = "level (dB re full scale)"

    def __post_init__(self):
        if self.scale not in SCALES:
            raise ValueError(f"scale must be one of {SCALES}, got {self.scale!r}")
        hz = np.asarray(self.row_hz, np.float64)
        if (hz.shape != np.shape(self.db)[:1] or not np.isfinite(hz).all()
                or np.any(np.diff(hz) < 0) or hz[0] >= hz[-1]):
            raise ValueError(f"row_hz must be {np.shape(self.db)[:1]} finite non-decreasing "
                             f"frequencies (not all equal), got {hz.shape}: {hz[:4]}...")

    def normalised(self) -> np.ndarray:
        """float32 ``[rows, frames]`` in [-1, 1]: the loudest value 1, ``db_range`` below it -1
        (the input of :func:`tfaudiogan.training.media.spectrogram_image`)."""
        db = np.nan_to_num(np.asarray(self.db, np.float32), nan=-np.inf)
        top = float(np.max(db)) if np.isfinite(np.max(db)) else 0.0
        return (np.clip((db - top) / self.db_range, -1.0, 0.0) * 2.0 + 1.0).astype(np.float32)


def row_position(row_hz, hz) -> np.ndarray:
    """Frequencies ``hz`` -> the fractional row where an image with row centres ``row_hz``
    (non-decreasing) shows them (linear interpolation between rows)."""
    row_hz = np.asarray(row_hz, np.float64)
    return np.interp(hz, row_hz, np.arange(len(row_hz), dtype=np.float64))


def stft(waves, sample_rate: int, frame_length: int = 256, frame_step: int = 128,
         db_range: float = 80.0) -> list[Spectrogram]:
    """Linear-frequency spectrograms of waveforms in dB re full scale (0 dB: the largest bin
    magnitude a signal with ``|x| <= 1`` can reach, as audio/representations.py's CycleGAN
    images).

    Args:
        waves: float ``[n, samples]`` (or ``[samples]``) in [-1, 1].
        sample_rate: Hz.
        frame_length: periodic Hann window and FFT length.
        frame_step: hop (the end is zero-padded to whole frames).
        db_range: dB shown below the loudest bin.

    Returns:
        One :class:`Spectrogram` per waveform, ``[frame_length // 2 + 1, frames]``.
    """
    x = np.nan_to_num(np.asarray(waves, np.float32))
    x = x[None] if x.ndim == 1 else x
    mag = tf.abs(tf.signal.stft(tf.constant(x), frame_length, frame_step, pad_end=True)).numpy()
    full_scale = frame_length / 2.0  # the sum of a periodic Hann window
    db = 20.0 * np.log10(np.maximum(mag / full_scale, 1e-10))
    row_hz = np.arange(frame_length // 2 + 1) * sample_rate / frame_length
    return [Spectrogram(d.T, x.shape[1] / sample_rate, row_hz, db_range=db_range) for d in db]


def _figure(width: float, height: float) -> Figure:
    figure = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _save(figure: Figure, path) -> Path:
    path = Path(path)
    figure.savefig(path, dpi=DPI)
    figure.clear()
    return path


def _frequency_axis(ax, row_hz, scale: str) -> None:
    """Hz tick labels on a y axis in row units (rows centred on ``row_hz``)."""
    ax.set_ylabel(_AXIS_LABELS[scale])
    low, high = float(row_hz[0]), float(row_hz[-1])
    if scale == "linear":
        candidates = matplotlib.ticker.MaxNLocator(6, steps=[1, 2, 2.5, 5, 10]).tick_values(
            low, high)[::-1]
    else:
        candidates = [hz for hz in reversed(_HZ_TICKS) if hz > 0 or scale == "mel"]
    ticks = []
    for hz in candidates:  # from the top, at least 1/16 of the axis apart
        if low <= hz <= high and (not ticks or row_position(row_hz, ticks[-1])
                                  - row_position(row_hz, hz) >= len(row_hz) / 16):
            ticks.append(float(hz))
    ticks.reverse()
    ax.set_yticks(row_position(row_hz, ticks), [f"{hz:g}" for hz in ticks])


def _show(ax, image, seconds: float, rows: int, **kwargs):
    return ax.imshow(image, aspect="auto", interpolation="nearest",
                     extent=(0.0, seconds, -0.5, rows - 0.5), **kwargs)


def write_spectrograms(path, panels: Sequence[tuple[str, Spectrogram]], title: str) -> Path:
    """Writes :func:`spectrogram_figure` as the PNG ``path`` and returns ``path``."""
    return _save(spectrogram_figure(panels, title), path)


def spectrogram_figure(panels: Sequence[tuple[str, Spectrogram]], title: str) -> Figure:
    """The spectrograms ``panels`` side by side with one dB colour bar.

    Args:
        panels: ``(panel title, spectrogram)`` pairs, left to right, with the same rows
            (the first one's label the shared axis); the colours span ``db_range`` of the first panel below the loudest panel.
        title: the figure's title (the clip, and for a translation its direction).
    """
    first = panels[0][1]
    top = max(float(np.nanmax(spec.db)) for _, spec in panels)
    top = top if np.isfinite(top) else 0.0
    figure = _figure(1.6 + 3.4 * len(panels), 3.4)
    axes = figure.subplots(1, len(panels), sharey=True, squeeze=False)[0]
    for ax, (name, spec) in zip(axes, panels):
        image = _show(ax, spec.db, spec.seconds, len(spec.row_hz), origin="lower",
                      cmap=SPECTROGRAM_COLOURS, vmin=top - first.db_range, vmax=top)
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("time (s)")
    _frequency_axis(axes[0], first.row_hz, first.scale)
    figure.colorbar(image, ax=list(axes), label=first.unit, aspect=30)
    figure.suptitle(title)
    return figure


def write_rainbowgram(path, image: np.ndarray, seconds: float, row_hz, title: str,
                      db_range: float = 80.0) -> Path:
    """Writes :func:`rainbowgram_figure` as the PNG ``path`` and returns ``path``."""
    return _save(rainbowgram_figure(image, seconds, row_hz, title, db_range), path)


def rainbowgram_figure(image: np.ndarray, seconds: float, row_hz, title: str,
                       db_range: float = 80.0) -> Figure:
    """A rainbowgram (training/rainbowgram.py) with the legends of its colour and brightness.

    Args:
        image: uint8 ``[bands, frames, 3]``, lowest band in the LAST row; hue = instantaneous
            frequency ``(IF + 1) / 2`` on the HSV circle, brightness = level.
        seconds: duration covered by the frames.
        row_hz: float ``[bands]`` increasing log-spaced centre frequencies (Hz), lowest first.
        title: the figure's title.
        db_range: dB from white to black.
    """
    figure = _figure(8.0, 4.0)
    ax, hue_bar, level_bar = figure.subplots(1, 3, width_ratios=[40, 1, 1])
    _show(ax, image, seconds, len(row_hz), origin="upper")
    ax.set_xlabel("time (s)")
    ax.set_title(title, fontsize=11)
    _frequency_axis(ax, np.asarray(row_hz, np.float64), "log")
    circle = np.stack([np.linspace(0, 1, 256), np.ones(256), np.ones(256)], axis=-1)
    hue = matplotlib.colors.ListedColormap(matplotlib.colors.hsv_to_rgb(circle))
    ramp = np.linspace(0, 1, 256)[:, None]
    hue_bar.imshow(ramp, cmap=hue, aspect="auto", origin="lower", extent=(0, 1, -1, 1))
    level_bar.imshow(ramp, cmap="gray", aspect="auto", origin="lower",
                     extent=(0, 1, -db_range, 0))
    for bar, label in ((hue_bar, "colour: instantaneous frequency\n(phase advance per hop / π)"),
                       (level_bar, "brightness: level (dB re peak)")):
        bar.set_xticks([])
        bar.yaxis.tick_right()
        bar.yaxis.set_label_position("right")
        bar.set_ylabel(label, fontsize=8)
    return figure


def write_controls(path, f0_hz, amplitude, harmonics, seconds: float, title: str) -> Path:
    """Writes :func:`controls_figure` as the PNG ``path`` and returns ``path``."""
    return _save(controls_figure(f0_hz, amplitude, harmonics, seconds, title), path)


def controls_figure(f0_hz, amplitude, harmonics, seconds: float, title: str) -> Figure:
    """The synthesizer controls of one generated note: F0, amplitude, harmonic distribution.

    Args:
        f0_hz: float ``[frames]`` fundamental frequency (Hz), drawn on a log axis.
        amplitude: float ``[frames]`` overall harmonic amplitude.
        harmonics: float ``[frames, K]`` harmonic distribution (each frame sums to 1).
        seconds: duration of the frames.
        title: the figure's title.
    """
    f0 = np.maximum(np.nan_to_num(np.asarray(f0_hz, np.float64)), 1e-3)
    dist = np.nan_to_num(np.asarray(harmonics, np.float64)).T  # [K, frames]
    times = (np.arange(len(f0)) + 0.5) * seconds / len(f0)
    figure = _figure(7.5, 6.0)
    axes = figure.subplots(3, 2, sharex="col", width_ratios=[40, 1], height_ratios=[1, 1, 1.4])
    pitch, level, spread = axes[:, 0]
    pitch.plot(times, f0, color="tab:orange")
    pitch.set_yscale("log")
    for axis_ticks in (pitch.yaxis.set_major_formatter, pitch.yaxis.set_minor_formatter):
        axis_ticks(matplotlib.ticker.LogFormatter(labelOnlyBase=False, minor_thresholds=(2, 1)))
    pitch.set_ylabel("F0 (Hz, log scale)")
    level.plot(times, np.nan_to_num(np.asarray(amplitude, np.float64)), color="tab:blue")
    level.set_ylabel("amplitude")
    image = spread.imshow(dist, origin="lower", aspect="auto", interpolation="nearest",
                          cmap="viridis", extent=(0.0, seconds, 0.5, len(dist) + 0.5))
    spread.set_ylabel("harmonic number")
    spread.set_xlabel("time (s)")
    for ax in (pitch, level):
        ax.grid(alpha=0.3)
    for ax in axes[:2, 1]:
        ax.set_axis_off()
    figure.colorbar(image, cax=axes[2, 1], label="share of the amplitude")
    figure.suptitle(title)
    return figure
