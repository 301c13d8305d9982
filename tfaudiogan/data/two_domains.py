"""The two unpaired domains of the CycleGAN families: IRMAS, two folders, synthetic timbres.

Behind the registry entries ``"irmas"``, ``"folders"`` and ``"synthetic"`` of
:func:`tfaudiogan.data.load`. The result is in-memory waveform arrays per domain rather than a
``tf.data.Dataset``: the two-domain CycleGAN path encodes every clip once
(:func:`~tfaudiogan.data.pipelines.spectrogram_crops`) and needs the raw clips again for
evaluation (relative cycle loss, audio samples), so plain ``{domain: [n, samples]}`` arrays
keep it simple. Turn them into a training stream with
:func:`~tfaudiogan.data.pipelines.spectrogram_crops` and
:func:`~tfaudiogan.data.pipelines.unaligned_pairs`.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from tfaudiogan.data.audio_files import list_audio_files, load_clips
from tfaudiogan.data.irmas import list_irmas, recording_id, split_train_validation
from tfaudiogan.data.synthetic import two_timbre_clips

__all__ = ["NAMES", "SPLITS", "SYNTHETIC_CLIPS", "folder_domains", "load_two_domains"]

_LOG = logging.getLogger(__name__)

NAMES = ("irmas", "folders", "synthetic")
SPLITS = ("train", "validation")
SYNTHETIC_CLIPS = {"train": 64, "validation": 8}  # demo-sized synthetic sets (project choice)


def _split_seed(seed: int, split: str) -> int:
    """Train uses ``seed``; validation a seed derived from it, so the two sets never share clips."""
    if split == "train":
        return seed
    return int(np.random.SeedSequence([seed, 1]).generate_state(1)[0])


def folder_domains(data_dir: str | os.PathLike,
                   names: Sequence[str] | None = None) -> list[Path]:
    """The domain folders of the ``"folders"`` dataset.

    Args:
        data_dir: folder holding one sub-folder per domain.
        names: wanted sub-folder names (domain A first).

    Returns:
        ``data_dir / name`` for each of ``names`` when all exist, else the two sub-folders
        (hidden and ``__MACOSX`` ones ignored) sorted by name.

    Raises:
        FileNotFoundError: ``data_dir`` is not a folder.
        ValueError: ``names`` are not all present and there are not exactly two sub-folders.
    """
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise FileNotFoundError(f"data directory '{data_dir}' does not exist")
    subdirs = sorted(
        p for p in data_dir.iterdir()
        if p.is_dir() and not p.name.startswith(".") and p.name != "__MACOSX"
    )
    found = [p.name for p in subdirs]
    if names and all(n in found for n in names):
        return [data_dir / n for n in names]
    if len(subdirs) != 2:
        raise ValueError(
            f"'folders' needs sub-folders named {list(names or [])} or exactly two sub-folders "
            f"(one per domain) in '{data_dir}', "
            f"found {len(subdirs)}: {[p.name for p in subdirs]}"
        )
    return subdirs


def load_two_domains(
    name: str,
    data_dir: str | os.PathLike | None = None,
    split: str = "train",
    *,
    sample_rate: int,
    clip_seconds: float,
    instruments: Sequence[str] = ("pia", "gel"),  # seed 002: piano <-> electric guitar
    strict: bool = False,
    seed: int = 0,
    n_train: int = 600,  # seed 002 section 3 (IRMAS: 600 train per instrument)
    n_validation: int = 50,  # seed 002 section 3 (IRMAS: 50 validation per instrument)
    validation_fraction: float = 0.1,  # 'folders' only; project choice
    n_per_domain: int | None = None,
    log: logging.Logger = _LOG,
) -> dict[str, np.ndarray]:
    """Two unpaired domains as waveform arrays.

    * ``"irmas"``: ``data_dir`` is ``IRMAS-TrainingData`` or its parent. Domains are the
      ``instruments`` codes, in that order. Each instrument's files go through
      :func:`split_train_validation` (``n_train``, ``n_validation``, ``seed``) grouped by
      :func:`recording_id`, so the excerpts of one recording are all in one split.
    * ``"folders"``: the domains are the sub-folders of ``data_dir`` named by ``instruments``
      (searched recursively); when those names are absent and there are exactly two
      sub-folders, those two, sorted by name. Each domain's files are
      split like IRMAS with ``n_validation = floor(n * validation_fraction + 0.5)``, at least
      1 and at most ``n - 1`` when ``validation_fraction > 0`` and ``n >= 2``
      (``n_train`` and ``n_validation`` are ignored).
    * ``"synthetic"``: :func:`two_timbre_clips`, domains ``"piano"`` and ``"guitar"``;
      ``n_per_domain`` clips (default 64 for train, 8 for validation); validation uses a seed
      derived from ``seed`` so it shares no clip with train. ``data_dir`` is ignored.

    Every clip is mono, resampled to ``sample_rate``, and cropped from the start or
    zero-padded to ``round(clip_seconds * sample_rate)`` samples. Undecodable files are
    skipped with a warning unless ``strict`` (:class:`~tfaudiogan.data.bad_files.SkipPolicy`).
    ``sample_rate`` and ``clip_seconds`` are required here; :func:`tfaudiogan.data.load`
    fills them from the IRMAS paper preset.

    Returns:
        ``{domain: float32 [n, samples]}`` with two entries (domain A first).

    Raises:
        ValueError: unknown ``name`` or ``split``, ``data_dir`` missing for a file dataset,
            or the dataset-specific errors of :func:`list_irmas`, :func:`list_audio_files`,
            :func:`load_clips`.
    """
    if name not in NAMES:
        raise ValueError(f"unknown dataset '{name}'; valid names: {', '.join(NAMES)}")
    if split not in SPLITS:
        raise ValueError(f"unknown split '{split}'; valid splits: {', '.join(SPLITS)}")
    clip_samples = int(round(clip_seconds * sample_rate))
    if clip_samples < 1:
        raise ValueError(f"clip_seconds * sample_rate must give >= 1 sample, got {clip_samples}")

    if name == "synthetic":
        n = SYNTHETIC_CLIPS[split] if n_per_domain is None else n_per_domain
        a, b = two_timbre_clips(n, sample_rate, clip_seconds, _split_seed(seed, split))
        return {"piano": a, "guitar": b}

    if data_dir is None:
        raise ValueError(f"dataset '{name}' needs data_dir (the folder holding the audio)")
    data_dir = Path(data_dir)
    group = None
    if name == "irmas":
        files = list_irmas(data_dir, instruments, log=log)
        counts = {code: (n_train, n_validation) for code in files}
        group = recording_id  # excerpts <id>__1, <id>__2, ... of one recording stay together
    else:
        files = {d.name: list_audio_files(d) for d in folder_domains(data_dir, instruments)}
        counts = {}
        for domain, paths in files.items():
            n = len(paths)
            n_val = int(math.floor(n * validation_fraction + 0.5))
            if validation_fraction > 0 and n >= 2:
                n_val = min(max(n_val, 1), n - 1)
            counts[domain] = (n - n_val, n_val)

    out = {}
    for domain, paths in files.items():
        n_tr, n_val = counts[domain]
        train, validation = split_train_validation(paths, n_tr, n_val, seed, log=log, group=group)
        chosen = train if split == "train" else validation
        if not chosen:
            raise ValueError(
                f"the {split} split of domain '{domain}' is empty ({len(paths)} files)"
            )
        out[domain], _ = load_clips(chosen, sample_rate, clip_samples, strict, log)
    return out
