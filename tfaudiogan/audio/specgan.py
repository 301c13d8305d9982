"""SpecGAN front-end: waveform <-> normalised 128x128 log-magnitude image, and its moments.

Follows reference/wavegan.md sections 5.1-5.3 (``t_to_f``, ``f_to_t``, ``moments`` of the official
``train_specgan.py``):

* **encode**: STFT with a 256-sample periodic Hann window, hop 128 and end padding
  (``pad_end=True``: ``ceil(samples / 128)`` frames, the last ones zero-padded), so 16384
  samples give ``[128 frames, 129 bins]``; the Nyquist bin is dropped; ``log(|X| + 1e-6)``;
  per-bin ``(lmag - mean[:-1]) / std[:-1]``; ``/ 3``; clip to ``[-1, 1]``; gradient stopped.
  The result is ``[batch, 128 (time), 128 (freq), 1]``.
* **decode**: the Nyquist row comes back as 0 in the normalised domain, ``x 3``, ``* std +
  mean``, ``exp`` (the 1e-6 is not subtracted), then classic Griffin-Lim from zero phase for
  16 iterations and a crop to 16384 samples.  The reference's inverse is
  ``inverse_stft(X, 256, 128)`` with the plain Hann synthesis window and **no** window
  normalisation (``istft(stft(x))`` is ``x`` times the overlap-added squared window, which at
  hop N/2 swings between 0.5 and 1 every 128 samples; the output keeps that ripple), followed by
  ``stft(x, 256, 128)`` **without** end padding: a 128-frame spectrogram gives a 16512-sample
  signal, which frames back to exactly 128 frames.  The phase update is
  ``X_est / max(1e-8, |X_est|)``.

Everything runs through real matrix products (:class:`~tfaudiogan.audio.spectral.DFTSTFT`
with ``center=False`` for the analysis and the un-normalised inverse basis built here), so
both directions convert to TFLite with built-in ops only.

The moments (per-bin mean and standard deviation of ``log(|X| + 1e-6)`` over all frames of
all slices, 129 bins including Nyquist) are computed once per dataset by
:func:`compute_moments` and stored beside the run with :func:`save_moments`.
"""

from __future__ import annotations

import functools
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import tensorflow as tf

from tfaudiogan.audio.spectral import DFTSTFT

__all__ = [
    "MOMENTS_COMMAND",
    "SpecGANSpectrogram",
    "compute_moments",
    "load_moments",
    "log_magnitude",
    "save_moments",
    "spectrogram_from_config",
    "unnormalised_inverse_stft",
]

# Defaults from the official train_specgan.py (reference/wavegan.md 5.1-5.3).
FRAME_LENGTH = 256  # t_to_f: stft(x, 256, 128)
FRAME_STEP = 128  # t_to_f: stft(x, 256, 128)
LOG_EPS = 1e-6  # _LOG_EPS
CLIP_NSTD = 3.0  # _CLIP_NSTD
SLICE_LEN = 16384  # _WINDOW_LEN
N_GRIFFIN_LIM = 16  # --specgan_ngl default
PHASE_EPS = 1e-8  # invert_spectra_griffin_lim: tf.maximum(1e-8, tf.abs(X_est))

MOMENTS_COMMAND = "python -m tfaudiogan.experiments.specgan_sc09 --moments_only"


@functools.lru_cache(maxsize=8)
def _analysis(frame_length: int, frame_step: int) -> DFTSTFT:
    """Frames start at sample 0 (no centring), like tf.signal.stft."""
    return DFTSTFT(frame_length, frame_step, frame_length, center=False)


@functools.lru_cache(maxsize=8)
def _synthesis_basis(frame_length: int) -> tf.Tensor:
    """Real inverse-DFT basis with the Hann synthesis window folded in, ``[2 * bins, N]``.

    Row ``k`` of the first half maps the real part of bin ``k`` to a windowed frame, row
    ``bins + k`` the imaginary part; weights are irfft's (1/N for DC and the Nyquist bin, 2/N
    otherwise). The window is not compensated: this is ``tf.signal.inverse_stft`` with its
    default ``window_fn`` (periodic Hann).
    """
    n = frame_length
    bins = n // 2 + 1
    window = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n) / n)  # periodic Hann
    angle = 2.0 * np.pi * (np.outer(np.arange(bins), np.arange(n)) % n) / n  # [bins, N]
    weight = np.full(bins, 2.0)
    weight[0] = 1.0
    if n % 2 == 0:
        weight[-1] = 1.0
    weight /= n
    basis = np.concatenate([weight[:, None] * np.cos(angle), -weight[:, None] * np.sin(angle)])
    with tf.init_scope():
        return tf.constant(basis * window[None, :], tf.float32)


def _pad_end(x: tf.Tensor, frame_length: int, frame_step: int) -> tf.Tensor:
    """Zero-pads ``[batch, samples]`` so plain framing gives ``ceil(samples / step)`` frames.

    This is what ``tf.signal.stft(..., pad_end=True)`` does.
    """
    n = x.shape[-1]
    if n is not None:
        frames = -(-n // frame_step)
        pad = (frames - 1) * frame_step + frame_length - n
        return tf.pad(x, [[0, 0], [0, max(pad, 0)]])
    n = tf.shape(x)[-1]
    frames = (n + frame_step - 1) // frame_step
    pad = tf.maximum((frames - 1) * frame_step + frame_length - n, 0)
    return tf.pad(x, tf.stack([tf.constant([0, 0]), tf.stack([0, pad])]))


def _as_batch(waves) -> tf.Tensor:
    """``[batch, samples]`` or ``[batch, samples, 1]`` -> float32 ``[batch, samples]``."""
    x = tf.convert_to_tensor(waves, tf.float32)
    if x.shape.rank == 3 and x.shape[-1] == 1:
        x = tf.squeeze(x, -1)
    if x.shape.rank != 2:
        raise ValueError(f"waves must be [batch, samples] (or [batch, samples, 1]), got {x.shape}")
    return x


def log_magnitude(waves, frame_length: int = FRAME_LENGTH, frame_step: int = FRAME_STEP,
                  log_eps: float = LOG_EPS) -> tf.Tensor:
    """``log(|STFT| + eps)`` with end padding, all bins (Nyquist included).

    Args:
        waves: float ``[batch, samples]`` (or ``[batch, samples, 1]``).
        frame_length: periodic Hann window and FFT length (256 in the reference).
        frame_step: hop (128).
        log_eps: added to the magnitude before the log (1e-6).

    Returns:
        float32 ``[batch, ceil(samples / frame_step), frame_length // 2 + 1]``; 16384 samples
        give ``[batch, 128, 129]``.
    """
    x = _pad_end(_as_batch(waves), frame_length, frame_step)
    real, imag = _analysis(frame_length, frame_step).forward(x)
    return tf.math.log(tf.sqrt(tf.square(real) + tf.square(imag)) + log_eps)


def unnormalised_inverse_stft(real, imag, frame_length: int = FRAME_LENGTH,
                              frame_step: int = FRAME_STEP) -> tf.Tensor:
    """``tf.signal.inverse_stft(complex(real, imag), N, step)`` with built-in ops only.

    Inverse real DFT of every frame, times the periodic Hann window, overlap-added; no
    division by the window sum-square (reference/wavegan.md 5.3).

    Args:
        real: float ``[batch, frames, N // 2 + 1]``.
        imag: float ``[batch, frames, N // 2 + 1]``.
        frame_length: N (window and FFT length).
        frame_step: hop.

    Returns:
        float32 ``[batch, (frames - 1) * frame_step + frame_length]``.
    """
    spectrum = tf.concat([tf.convert_to_tensor(real, tf.float32),
                          tf.convert_to_tensor(imag, tf.float32)], axis=-1)
    frames = tf.tensordot(spectrum, _synthesis_basis(frame_length), axes=1)
    return tf.signal.overlap_and_add(frames, frame_step)


def _check_moments(mean, std, bins: int) -> tuple[np.ndarray, np.ndarray]:
    mean = np.asarray(mean, np.float32).reshape(-1)
    std = np.asarray(std, np.float32).reshape(-1)
    if mean.shape != (bins,) or std.shape != (bins,):
        raise ValueError(f"SpecGAN moments must have {bins} bins (Nyquist included), got "
                         f"mean {mean.shape} and std {std.shape}")
    if not (np.isfinite(mean).all() and np.isfinite(std).all()):
        raise ValueError("SpecGAN moments contain NaN or infinite values")
    if not (std > 0).all():
        raise ValueError(f"SpecGAN moments have a zero standard deviation in bins "
                         f"{np.flatnonzero(std <= 0).tolist()} (computed from silent data?)")
    return mean, std


class SpecGANSpectrogram:
    """Waveforms ``[batch, 16384]`` <-> SpecGAN images ``[batch, 128, 128, 1]``.

    Args:
        moments: ``(mean, std)``, each ``[frame_length // 2 + 1]`` (129): per-bin moments of
            ``log(|X| + 1e-6)`` from :func:`compute_moments` / :func:`load_moments`.
        frame_length: window / FFT length (256, train_specgan.py).
        frame_step: hop (128).
        slice_len: samples per clip returned by :meth:`decode` (16384).
        clip_nstd: normalised values are divided by this and clipped to [-1, 1] (3).
        log_eps: magnitude floor inside the log (1e-6).

    Attributes:
        mean, std: float32 ``[bins]`` moments (Nyquist included).
        freq_bins: image height in frequency, ``frame_length // 2`` (128).
    """

    def __init__(self, moments: tuple[np.ndarray, np.ndarray], frame_length: int = FRAME_LENGTH,
                 frame_step: int = FRAME_STEP, slice_len: int = SLICE_LEN,
                 clip_nstd: float = CLIP_NSTD, log_eps: float = LOG_EPS):
        if frame_length % 2:
            raise ValueError(f"frame_length must be even (Nyquist bin), got {frame_length}")
        self.frame_length = int(frame_length)
        self.frame_step = int(frame_step)
        self.slice_len = int(slice_len)
        self.clip_nstd = float(clip_nstd)
        self.log_eps = float(log_eps)
        self.bins = self.frame_length // 2 + 1
        self.freq_bins = self.bins - 1
        self.mean, self.std = _check_moments(moments[0], moments[1], self.bins)
        self._analysis = _analysis(self.frame_length, self.frame_step)

    @classmethod
    def from_file(cls, path: str | os.PathLike, **kwargs) -> SpecGANSpectrogram:
        """Builds the front-end from a moments file written by :func:`save_moments`."""
        return cls(load_moments(path), **kwargs)

    def num_frames(self, n_samples: int) -> int:
        """Image frames for ``n_samples`` samples: ``ceil(n_samples / frame_step)``."""
        return -(-int(n_samples) // self.frame_step)

    def encode(self, waves) -> tf.Tensor:
        """Waveforms -> normalised log-magnitude images (``t_to_f``).

        Args:
            waves: float ``[batch, samples]`` (or ``[batch, samples, 1]``), samples in [-1, 1].

        Returns:
            float32 ``[batch, ceil(samples / 128), 128, 1]`` in ``[-1, 1]`` (time, frequency);
            ``[batch, 128, 128, 1]`` for 16384 samples. No gradient flows back to ``waves``.
        """
        lmag = log_magnitude(waves, self.frame_length, self.frame_step, self.log_eps)
        lmag = lmag[..., :-1]  # drop the Nyquist bin
        norm = (lmag - self.mean[:-1]) / self.std[:-1] / self.clip_nstd
        norm = tf.clip_by_value(norm, -1.0, 1.0)
        return tf.stop_gradient(tf.expand_dims(norm, -1))

    def magnitude(self, spec) -> tf.Tensor:
        """Normalised images -> linear magnitudes with the Nyquist bin restored.

        Args:
            spec: float ``[batch, frames, 128, 1]`` (values are not clipped again).

        Returns:
            float32 ``[batch, frames, 129]``: ``exp(spec * 3 * std + mean)``; the Nyquist row
            is 0 in the normalised domain, i.e. ``exp(mean[-1])``.
        """
        x = tf.squeeze(tf.convert_to_tensor(spec, tf.float32), -1)
        x = tf.pad(x, [[0, 0], [0, 0], [0, 1]])
        return tf.exp(x * self.clip_nstd * self.std + self.mean)

    def griffin_lim(self, magnitude, n_iter: int = N_GRIFFIN_LIM) -> tf.Tensor:
        """The reference's Griffin-Lim (zero initial phase, no momentum, no window norm).

        Args:
            magnitude: float ``[batch, frames, bins]``.
            n_iter: iterations (static int, >= 0).

        Returns:
            float32 ``[batch, (frames - 1) * frame_step + frame_length]`` (uncropped).
        """
        if isinstance(n_iter, bool) or not isinstance(n_iter, int | np.integer) or n_iter < 0:
            raise ValueError(f"n_iter must be an integer >= 0, got {n_iter!r}")
        mag = tf.convert_to_tensor(magnitude, tf.float32)
        n, step = self.frame_length, self.frame_step

        def body(i, re, im):
            x = unnormalised_inverse_stft(re, im, n, step)
            est_re, est_im = self._analysis.forward(x)  # no end padding: same frame count
            scale = mag / tf.maximum(PHASE_EPS, tf.sqrt(tf.square(est_re) + tf.square(est_im)))
            return i + 1, est_re * scale, est_im * scale

        _, re, im = tf.while_loop(
            lambda i, *_: i < int(n_iter), body, (tf.constant(0), mag, tf.zeros_like(mag))
        )
        return unnormalised_inverse_stft(re, im, n, step)

    def decode(self, spec, n_iter: int = N_GRIFFIN_LIM) -> tf.Tensor:
        """Normalised images -> waveforms (``f_to_t``), built-in TFLite ops only.

        Args:
            spec: float ``[batch, frames, 128, 1]`` (generator output, in [-1, 1]).
            n_iter: Griffin-Lim iterations (16 in the reference).

        Returns:
            float32 ``[batch, slice_len]`` (16384 samples for 128 frames; zero-padded at the
            end if the frames cover fewer samples).
        """
        y = self.griffin_lim(self.magnitude(spec), n_iter)
        deficit = tf.maximum(0, self.slice_len - tf.shape(y)[-1])
        y = tf.pad(y, tf.stack([tf.constant([0, 0]), tf.stack([0, deficit])]))
        return y[:, : self.slice_len]


def spectrogram_from_config(spectrogram, slice_len: int,
                            moments_path: str | os.PathLike) -> SpecGANSpectrogram:
    """The SpecGAN front-end described by a WaveGAN config's ``spectrogram`` section.

    Like :func:`tfaudiogan.audio.gansynth.spectrogram_from_config`, it takes the section
    (duck-typed: ``frame_length``, ``frame_step``, ``clip_nstd``); the clip length and the
    moments file are passed in because they live elsewhere (``config.model.slice_len``, and a
    file the caller resolves, e.g. inside the run directory).

    Args:
        spectrogram: e.g. ``WaveGANConfig().spectrogram``.
        slice_len: samples per clip returned by ``decode`` (16384).
        moments_path: ``.npz`` file written by :func:`save_moments`.

    Returns:
        A :class:`SpecGANSpectrogram`: waveforms ``[batch, slice_len]`` <-> images
        ``[batch, frames, frame_length // 2, 1]``.

    Raises:
        FileNotFoundError: no moments file (the message names :data:`MOMENTS_COMMAND`).
    """
    s = spectrogram
    return SpecGANSpectrogram.from_file(moments_path, frame_length=s.frame_length,
                                        frame_step=s.frame_step, slice_len=slice_len,
                                        clip_nstd=s.clip_nstd)


def _batches(source, batch_size: int) -> Iterable[np.ndarray]:
    """Regroups clips ``[samples]`` / batches ``[b, samples]`` into ``[<=batch_size, samples]``."""
    if isinstance(source, np.ndarray | tf.Tensor):
        source = [source]
    pending: list[np.ndarray] = []
    for item in source:
        arr = np.asarray(item, np.float32)
        if arr.ndim == 3 and arr.shape[-1] == 1:
            arr = arr[..., 0]
        if arr.ndim not in (1, 2):
            raise ValueError(f"expected clips [samples] or batches [b, samples], got {arr.shape}")
        pending.extend(arr.reshape(-1, arr.shape[-1]))
        while len(pending) >= batch_size:
            yield np.stack(pending[:batch_size])
            del pending[:batch_size]
    if pending:
        yield np.stack(pending)


def compute_moments(waves_iterable, batch_size: int = 64, frame_length: int = FRAME_LENGTH,
                    frame_step: int = FRAME_STEP,
                    log_eps: float = LOG_EPS) -> tuple[np.ndarray, np.ndarray]:
    """Per-bin mean and (population) std of ``log(|X| + eps)`` over every frame of every clip.

    The reference (``moments`` in train_specgan.py) runs batch 1 over peak-normalised slices;
    the statistics do not depend on the batching, which only sets how many clips go through
    the STFT at once. Accumulated in float64 (Chan et al. pairwise update).

    Args:
        waves_iterable: float ``[n, samples]`` array, or an iterable of clips ``[samples]``
            and/or batches ``[b, samples]`` (all of the same length).
        batch_size: clips per STFT call.
        frame_length, frame_step, log_eps: the front-end settings (256, 128, 1e-6).

    Returns:
        ``(mean, std)``, float32 ``[frame_length // 2 + 1]`` each (129, Nyquist included).

    Raises:
        ValueError: no clips, or ``batch_size`` < 1.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    total, mean, m2 = 0, None, None
    for batch in _batches(waves_iterable, int(batch_size)):
        lmag = log_magnitude(batch, frame_length, frame_step, log_eps).numpy()
        rows = lmag.reshape(-1, lmag.shape[-1]).astype(np.float64)
        n_b = rows.shape[0]
        mean_b = rows.mean(axis=0)
        m2_b = ((rows - mean_b) ** 2).sum(axis=0)
        if mean is None:
            total, mean, m2 = n_b, mean_b, m2_b
            continue
        delta = mean_b - mean
        new_total = total + n_b
        mean = mean + delta * n_b / new_total
        m2 = m2 + m2_b + delta**2 * total * n_b / new_total
        total = new_total
    if mean is None:
        raise ValueError("compute_moments got no clips")
    return mean.astype(np.float32), np.sqrt(m2 / total).astype(np.float32)


def save_moments(path: str | os.PathLike, mean, std) -> Path:
    """Writes ``(mean, std)`` to an ``.npz`` file atomically (keys ``mean``, ``std``).

    Returns:
        The written path.
    """
    target = Path(path)
    mean = np.asarray(mean, np.float32).reshape(-1)
    std = np.asarray(std, np.float32).reshape(-1)
    if mean.shape != std.shape:
        raise ValueError(f"mean {mean.shape} and std {std.shape} differ in shape")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".npz", dir=target.parent)
    os.close(fd)
    try:
        np.savez(tmp, mean=mean, std=std)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def load_moments(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Reads ``(mean, std)`` written by :func:`save_moments`.

    Returns:
        float32 ``mean``, ``std``, each ``[bins]``.

    Raises:
        FileNotFoundError: ``path`` does not exist; the message names the command that
            creates it.
        ValueError: the file lacks ``mean`` / ``std`` or they differ in shape.
    """
    target = Path(path)
    if not target.is_file():
        raise FileNotFoundError(
            f"SpecGAN moments file '{target}' not found; create it with "
            f"`{MOMENTS_COMMAND}` (same --data_dir and --model_dir as the training run)"
        )
    with np.load(target) as data:
        if "mean" not in data or "std" not in data:
            raise ValueError(f"'{target}' is not a SpecGAN moments file (needs 'mean', 'std')")
        mean, std = data["mean"].astype(np.float32), data["std"].astype(np.float32)
    if mean.shape != std.shape:
        raise ValueError(f"'{target}': mean {mean.shape} and std {std.shape} differ in shape")
    return mean, std
