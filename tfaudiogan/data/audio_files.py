"""Folders of audio files -> fixed-length waveform arrays, skipping (or rejecting) bad files.

Decoding goes through :func:`tfaudiogan.audio.io.load_audio` (soundfile + soxr). A file that
cannot be decoded (truncated, empty, not audio, NaN samples) is skipped by the one policy of
:mod:`tfaudiogan.data.bad_files`: a warning that names it and the reason, and the count logged
as ``"skipped N of M files"``. ``strict=True`` raises the first error instead.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from tfaudiogan.data.bad_files import SkipPolicy

__all__ = ["AUDIO_EXTENSIONS", "list_audio_files", "load_clips", "load_two_folders"]

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3")

_LOG = logging.getLogger(__name__)


def _is_hidden(path: Path, root: Path) -> bool:
    """Hidden files and folders (``.name``) and macOS zip debris (``__MACOSX``, ``._name``)."""
    parts = path.relative_to(root).parts
    return any(p.startswith(".") or p == "__MACOSX" for p in parts)


def list_audio_files(directory: str | os.PathLike) -> list[Path]:
    """All audio files under ``directory`` (recursive), sorted.

    Matches ``.wav .flac .ogg .mp3`` in any letter case. Hidden files and folders (names that
    start with ``.``, including macOS ``._x.wav`` resource forks) and ``__MACOSX`` folders are
    ignored.

    Args:
        directory: folder to search.

    Returns:
        Sorted list of paths.

    Raises:
        FileNotFoundError: ``directory`` does not exist.
        NotADirectoryError: ``directory`` is a file.
        ValueError: no audio file was found.
    """
    root = Path(directory)
    if not root.exists():
        raise FileNotFoundError(f"data directory '{root}' does not exist")
    if not root.is_dir():
        raise NotADirectoryError(f"data directory '{root}' is not a directory")
    files = sorted(
        p
        for p in root.rglob("*")
        if p.suffix.lower() in AUDIO_EXTENSIONS and p.is_file() and not _is_hidden(p, root)
    )
    if not files:
        exts = ", ".join(AUDIO_EXTENSIONS)
        raise ValueError(f"no audio files ({exts}) found in '{root}'")
    return files


def _fit_length(waveform: np.ndarray, clip_samples: int) -> np.ndarray:
    """Crop from the start or zero-pad at the end to ``[clip_samples]``."""
    out = np.zeros(clip_samples, np.float32)
    n = min(clip_samples, waveform.shape[0])
    out[:n] = waveform[:n]
    return out


def _describe(paths: Sequence[Path]) -> str:
    try:
        common = os.path.commonpath([str(Path(p).parent) for p in paths])
    except ValueError:  # different drives on Windows
        common = "several directories"
    return f"'{common}'"


def load_clips(
    paths: Sequence[str | os.PathLike],
    sample_rate: int,
    clip_samples: int,
    strict: bool = False,
    log: logging.Logger = _LOG,
) -> tuple[np.ndarray, list[tuple[Path, str]]]:
    """Decode audio files as mono clips of a fixed length.

    Each file is loaded with ``load_audio(path, sample_rate, mono=True)`` (resampled if its
    rate differs, channels averaged), then cropped from the start or zero-padded at the end
    to ``clip_samples``.

    Args:
        paths: audio files, in the order wanted.
        sample_rate: target sample rate.
        clip_samples: samples per clip.
        strict: if True, the first :class:`AudioDecodeError` is raised; if False, bad files
            are skipped with a warning.
        log: logger for the warnings and the summary line.

    Returns:
        ``(clips, skipped)``: float32 ``[n_loaded, clip_samples]`` in the order of ``paths``
        (bad files left out), and ``[(path, reason), ...]`` for every skipped file.

    Raises:
        AudioDecodeError: ``strict`` and a file cannot be decoded.
        ValueError: ``paths`` is empty, ``clip_samples`` < 1, or every file failed.
    """
    paths = [Path(p) for p in paths]
    if clip_samples < 1:
        raise ValueError(f"clip_samples must be >= 1, got {clip_samples}")
    if not paths:
        raise ValueError("load_clips got no files to load")
    clips = np.zeros((len(paths), clip_samples), np.float32)
    policy = SkipPolicy(strict, log)
    n = 0
    for path in paths:
        waveform = policy.decode(path, sample_rate)
        if waveform is None:
            continue
        clips[n] = _fit_length(waveform.reshape(-1), clip_samples)
        n += 1
    policy.finish(len(paths), _describe(paths))
    return clips[:n], policy.skipped


def load_two_folders(
    dir_a: str | os.PathLike,
    dir_b: str | os.PathLike,
    sample_rate: int,
    clip_samples: int,
    strict: bool = False,
    log: logging.Logger = _LOG,
) -> tuple[np.ndarray, np.ndarray, list[tuple[Path, str]]]:
    """:func:`list_audio_files` + :func:`load_clips` for two unpaired domains.

    Returns:
        ``(a, b, skipped)``: float32 ``[n_a, clip_samples]``, ``[n_b, clip_samples]`` and the
        skipped files of both folders.
    """
    a, skipped_a = load_clips(list_audio_files(dir_a), sample_rate, clip_samples, strict, log)
    b, skipped_b = load_clips(list_audio_files(dir_b), sample_rate, clip_samples, strict, log)
    return a, b, skipped_a + skipped_b
