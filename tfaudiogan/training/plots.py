"""The sample pictures of every run: labelled spectrograms, rainbowgrams and DDSP controls.

Every sample writer (CycleGAN, WaveGAN / SpecGAN, GANSynth, DDSP-GAN) draws its PNG files here,
on matplotlib's Agg canvas (no pyplot: no display, no global figure state, nothing to close):
time in seconds on x, frequency in Hz on y (on a mel or logarithmic axis where the picture's
rows are mel bands or log-spaced bands), a colour bar in dB and a title naming the clip.

A picture is described by :class:`Spectrogram` (a dB image plus the physical extent of its
axes), so the writers only convert their own representation to dB; :func:`stft` makes one
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

from tfaudiogan.audio.gansynth import hz_to_mel

__all__ = ["SCALES", "Spectrogram", "controls_figure", "rainbowgram_figure", "spectrogram_figure",
           "stft", "write_controls", "write_rainbowgram", "write_spectrograms"]

SCALES = ("linear", "mel", "log")
DPI = 100
SPECTROGRAM_COLOURS = "magma"
# Frequency ticks of mel and log axes (a linear axis picks its own).
_HZ_TICKS = (0, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000)


@dataclasses.dataclass(frozen=True)
class Spectrogram:
    """A dB image and what its axes mean.

    Attributes:
        db: float ``[freq, frames]`` levels in dB, row 0 the lowest frequency.
        seconds: duration covered by the frames.
        high_hz: upper edge of the top row.
        low_hz: lower edge of the bottom row (must be > 0 on a log axis).
        scale: how the rows are spaced: "linear" (Hz), "mel" (HTK mel) or "log" (log Hz).
        db_range: dB below the loudest value still shown (darkest colour below).
        unit: the colour bar's label.
    """

    db: np.ndarray
    seconds: float
    high_hz: float
    low_hz: float = 0.0
    scale: str = "linear"
    db_range: float = 80.0
    unit: str = "level (dB re full scale)"

    def __post_init__(self):
        if self.scale not in SCALES:
            raise ValueError(f"scale must be one of {SCALES}, got {self.scale!r}")
        if self.scale == "log" and self.low_hz <= 0:
            raise ValueError(f"a log frequency axis needs low_hz > 0, got {self.low_hz}")

    def normalised(self) -> np.ndarray:
        """float32 ``[freq, frames]`` in [-1, 1]: the loudest value 1, ``db_range`` below it -1
        (the input of :func:`tfaudiogan.training.media.spectrogram_image`)."""
        db = np.nan_to_num(np.asarray(self.db, np.float32), nan=-np.inf)
        top = float(np.max(db)) if np.isfinite(np.max(db)) else 0.0
        return (np.clip((db - top) / self.db_range, -1.0, 0.0) * 2.0 + 1.0).astype(np.float32)

    def warp(self, hz) -> np.ndarray:
        """Frequencies in Hz -> the y coordinate the rows are evenly spaced in."""
        hz = np.asarray(hz, np.float64)
        if self.scale == "mel":
            return hz_to_mel(hz)
        if self.scale == "log":
            return np.log2(np.maximum(hz, 1e-9))
        return hz


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
    return [Spectrogram(d.T, x.shape[1] / sample_rate, sample_rate / 2.0, db_range=db_range)
            for d in db]


def _figure(width: float, height: float) -> Figure:
    figure = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _save(figure: Figure, path) -> Path:
    path = Path(path)
    figure.savefig(path, dpi=DPI)
    figure.clear()
    return path


def _frequency_axis(ax, spec: Spectrogram) -> None:
    """Hz tick labels on the (possibly warped) y axis of ``spec``."""
    ax.set_ylabel({"linear": "frequency (Hz)", "mel": "frequency (Hz, mel scale)",
                   "log": "frequency (Hz, log scale)"}[spec.scale])
    if spec.scale == "linear":
        return
    low, high = spec.warp([spec.low_hz, spec.high_hz])
    ticks = []
    for hz in reversed(_HZ_TICKS):  # from the top, at least 1/16 of the axis apart
        if (spec.low_hz <= hz <= spec.high_hz and (hz > 0 or spec.scale == "mel")
                and (not ticks or spec.warp(ticks[-1]) - spec.warp(hz) >= (high - low) / 16)):
            ticks.append(hz)
    ax.set_yticks(spec.warp(ticks), [f"{hz:g}" for hz in ticks])


def _show(ax, image, spec: Spectrogram, **kwargs):
    low, high = spec.warp([spec.low_hz, spec.high_hz])
    return ax.imshow(image, aspect="auto", interpolation="nearest",
                     extent=(0.0, spec.seconds, low, high), **kwargs)


def write_spectrograms(path, panels: Sequence[tuple[str, Spectrogram]], title: str) -> Path:
    """Writes :func:`spectrogram_figure` as the PNG ``path`` and returns ``path``."""
    return _save(spectrogram_figure(panels, title), path)


def spectrogram_figure(panels: Sequence[tuple[str, Spectrogram]], title: str) -> Figure:
    """The spectrograms ``panels`` side by side with one dB colour bar.

    Args:
        panels: ``(panel title, spectrogram)`` pairs, left to right, on the same frequency
            scale; the colours span ``db_range`` of the first panel below the loudest panel.
        title: the figure's title (the clip, and for a translation its direction).
    """
    first = panels[0][1]
    top = max(float(np.nanmax(spec.db)) for _, spec in panels)
    top = top if np.isfinite(top) else 0.0
    figure = _figure(1.6 + 3.4 * len(panels), 3.4)
    axes = figure.subplots(1, len(panels), sharey=True, squeeze=False)[0]
    for ax, (name, spec) in zip(axes, panels):
        image = _show(ax, spec.db, spec, origin="lower", cmap=SPECTROGRAM_COLOURS,
                      vmin=top - first.db_range, vmax=top)
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("time (s)")
    _frequency_axis(axes[0], first)
    figure.colorbar(image, ax=list(axes), label=first.unit, aspect=30)
    figure.suptitle(title)
    return figure


def write_rainbowgram(path, image: np.ndarray, spec: Spectrogram, title: str) -> Path:
    """Writes :func:`rainbowgram_figure` as the PNG ``path`` and returns ``path``."""
    return _save(rainbowgram_figure(image, spec, title), path)


def rainbowgram_figure(image: np.ndarray, spec: Spectrogram, title: str) -> Figure:
    """A rainbowgram (training/rainbowgram.py) with the legends of its colour and brightness.

    Args:
        image: uint8 ``[bands, frames, 3]``, lowest band in the LAST row; hue = instantaneous
            frequency ``(IF + 1) / 2`` on the HSV circle, brightness = level.
        spec: the axes of the picture (``db`` unused): log-spaced bands, ``db_range`` the
            range of the brightness.
        title: the figure's title.
    """
    figure = _figure(8.0, 4.0)
    ax, hue_bar, level_bar = figure.subplots(1, 3, width_ratios=[40, 1, 1])
    _show(ax, image, spec, origin="upper")
    ax.set_xlabel("time (s)")
    ax.set_title(title, fontsize=11)
    _frequency_axis(ax, spec)
    circle = np.stack([np.linspace(0, 1, 256), np.ones(256), np.ones(256)], axis=-1)
    hue = matplotlib.colors.ListedColormap(matplotlib.colors.hsv_to_rgb(circle))
    ramp = np.linspace(0, 1, 256)[:, None]
    hue_bar.imshow(ramp, cmap=hue, aspect="auto", origin="lower", extent=(0, 1, -1, 1))
    level_bar.imshow(ramp, cmap="gray", aspect="auto", origin="lower",
                     extent=(0, 1, -spec.db_range, 0))
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
