"""Fixed-length slices from a folder of recordings of any length (WaveGAN's v2 loader).

The official v2 loader (``loader.py``, reference/wavegan.md section 4.3) decodes each file,
optionally peak-normalises it, then frames it into ``slice_len`` windows with hop
``slice_len * (1 - overlap)``:

* ``first_slice=True`` (``--data_first_slice``, used for SC09 and drums): only the first
  window, zero-padded to ``slice_len`` when the file is shorter.
* otherwise the framing starts at a random offset in ``[0, slice_len)`` (so slice boundaries
  differ between epochs), and with ``pad_end`` a last partial window is zero-padded.

Two deliberate differences: the random offset never skips a whole slice of a file that is
only slightly longer than one slice (it is drawn from ``[0, min(slice_len, L - slice_len + 1))``
for a file of ``L`` samples), and a file shorter than one slice always gives one zero-padded
slice (the reference would give none without ``pad_end``). Offsets come from a seeded NumPy
generator, so a call is reproducible.

Decoding goes through :func:`tfaudiogan.audio.io.load_audio`; undecodable files are skipped
with a warning and counted by :class:`~tfaudiogan.data.bad_files.SkipPolicy` (``strict=True``
raises instead), and files at another sample rate are resampled with one log line giving
their number.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import soundfile as sf

from tfaudiogan.data.audio_files import list_audio_files
from tfaudiogan.data.bad_files import SkipPolicy

__all__ = ["count_resampled", "folder_slices", "peak_normalize", "slice_waveform"]

_LOG = logging.getLogger(__name__)


def peak_normalize(waves: np.ndarray) -> np.ndarray:
    """Divides each row (or a single 1-D waveform) by its peak ``max |x|``; silent rows stay 0.

    loader.py ``decode_audio(normalize=True)``.

    Args:
        waves: float ``[samples]`` or ``[n, samples]``.

    Returns:
        float32 array of the same shape.
    """
    x = np.asarray(waves, np.float32)
    if x.shape[-1] == 0:
        return x.copy()
    peak = np.max(np.abs(x), axis=-1, keepdims=True)
    return (x / np.where(peak > 0, peak, 1.0)).astype(np.float32)


def count_resampled(paths: Sequence[str | os.PathLike], sample_rate: int) -> int:
    """How many of ``paths`` are stored at a rate other than ``sample_rate`` (header only).

    Files whose header cannot be read are not counted (they fail to decode anyway).
    """
    count = 0
    for path in paths:
        try:
            count += int(sf.info(os.fspath(path)).samplerate != int(sample_rate))
        except (sf.SoundFileError, RuntimeError, TypeError, ValueError):
            continue
    return count


def slice_waveform(
    waveform: np.ndarray,
    slice_len: int,
    offset: int = 0,
    hop: int | None = None,
    first_slice: bool = False,
    pad_end: bool = True,
) -> np.ndarray:
    """Frames one waveform into ``[n, slice_len]`` windows.

    Args:
        waveform: float ``[samples]``.
        slice_len: window length.
        offset: first sample of the first window (ignored with ``first_slice``).
        hop: distance between window starts (default ``slice_len``: no overlap).
        first_slice: only the first window (from sample 0), zero-padded.
        pad_end: keep a last partial window, zero-padded (else only full windows).

    Returns:
        float32 ``[n, slice_len]``; a waveform shorter than one window (after ``offset``)
        always gives one zero-padded window.
    """
    x = np.asarray(waveform, np.float32).reshape(-1)
    hop = slice_len if hop is None else int(hop)
    if slice_len < 1 or hop < 1:
        raise ValueError(f"slice_len and hop must be >= 1, got {slice_len}, {hop}")
    if first_slice:
        offset = 0
    x = x[offset:]
    n = x.shape[0]
    if first_slice or n <= slice_len:
        starts = [0]
    else:
        last = n - 1 if pad_end else n - slice_len  # window starts allowed
        starts = list(range(0, last + 1, hop))
    out = np.zeros((len(starts), slice_len), np.float32)
    for i, s in enumerate(starts):
        piece = x[s : s + slice_len]
        out[i, : piece.shape[0]] = piece
    return out


def folder_slices(
    directory: str | os.PathLike,
    slice_len: int,
    sample_rate: int,
    n_slices_per_file: int | None = None,
    seed: int = 0,
    first_slice: bool = False,
    pad_end: bool = True,
    normalize: bool = False,
    strict: bool = False,
    overlap: float = 0.0,
    log: logging.Logger = _LOG,
) -> np.ndarray:
    """All (or up to ``n_slices_per_file`` random) slices of every audio file in a folder.

    Args:
        directory: folder searched recursively (:func:`list_audio_files`).
        slice_len: samples per slice (16384, 32768 or 65536 for WaveGAN).
        sample_rate: target rate; other rates are resampled (soxr) and counted in the log.
        n_slices_per_file: keep at most this many slices per file, chosen at random
            (None: all).
        seed: seeds the random offsets and the slice choice.
        first_slice: only the first slice of each file (``--data_first_slice``).
        pad_end: zero-pad a last partial slice (``--data_pad_end``).
        normalize: peak-normalise each whole file before slicing (loader.py
            ``decode_normalize``; the v2 loader always does, the paper-era v1 loader never).
        strict: raise on the first undecodable file instead of skipping it.
        overlap: fraction of overlap between consecutive slices (0: hop = ``slice_len``).
        log: logger for the skip / resample lines.

    Returns:
        float32 ``[n_slices, slice_len]`` in file order, slices in time order within a file.

    Raises:
        FileNotFoundError / NotADirectoryError / ValueError: from :func:`list_audio_files`
            (missing folder, no audio).
        AudioDecodeError: ``strict`` and a file cannot be decoded.
        ValueError: bad ``slice_len`` / ``overlap`` / ``n_slices_per_file``, or every file
            failed to decode.
    """
    if slice_len < 1:
        raise ValueError(f"slice_len must be >= 1, got {slice_len}")
    if not 0.0 <= overlap < 1.0:
        raise ValueError(f"overlap must be in [0, 1), got {overlap}")
    if n_slices_per_file is not None and n_slices_per_file < 1:
        raise ValueError(f"n_slices_per_file must be >= 1 or None, got {n_slices_per_file}")
    hop = max(1, int(round(slice_len * (1.0 - overlap))))  # loader.py slice_hop
    paths = list_audio_files(directory)
    rng = np.random.default_rng(seed)
    out: list[np.ndarray] = []
    policy = SkipPolicy(strict, log)
    for path in paths:
        wave = policy.decode(path, sample_rate)
        if wave is None:
            continue
        if normalize:
            wave = peak_normalize(wave)
        n = wave.shape[0]
        offset = 0
        if not first_slice and n > slice_len:
            offset = int(rng.integers(0, min(slice_len, n - slice_len + 1)))
        slices = slice_waveform(wave, slice_len, offset, hop, first_slice, pad_end)
        if n_slices_per_file is not None and slices.shape[0] > n_slices_per_file:
            keep = np.sort(rng.choice(slices.shape[0], n_slices_per_file, replace=False))
            slices = slices[keep]
        out.append(slices)
    policy.finish(len(paths), f"'{directory}'")
    n_resampled = count_resampled(paths, sample_rate)
    if n_resampled:
        log.info("resampled %d of %d files to %d Hz", n_resampled, len(paths), sample_rate)
    result = np.concatenate(out)
    log.info("%d slices of %d samples from %d files in '%s'", result.shape[0], slice_len,
             len(paths) - len(policy), Path(directory))
    return result
