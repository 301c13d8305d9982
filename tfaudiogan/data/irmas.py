"""IRMAS training-data reader: file-name tags, per-instrument file lists, train/validation split.

Facts (reference/cyclegan.md section 4): ``IRMAS-TrainingData/<inst>/`` holds 3 s, 44.1 kHz,
16-bit stereo WAV excerpts, one folder per instrument code. A file name carries the tags
``[<inst>]``, an optional drums tag ``[dru]``/``[nod]``, a genre tag, then ``<id>__<k>.wav``;
some names start with a numeric prefix ``NNN__``. ``cla`` is both an instrument (clarinet)
and a genre (classical), so tags are read by position, never by value: the genre is the
3rd tag when a drums tag is present, otherwise the 2nd.

``<id>__<k>`` is excerpt ``k`` of recording ``<id>``: the dataset's "6705 excerpts of 3 seconds
from more than 2000 distinct recordings" are named e.g. ``[cel][cla]0001__1.wav``,
``[cel][cla]0001__2.wav``, ``[cel][cla]0001__3.wav``, and ``008__[cel][nod][cla]0058__1`` to
``__3``; mirdata's IRMAS index keys the training files by ``<id>__<k>`` alone, so ``<id>`` is
unique across the training data and a numeric prefix goes with one ``<id>``. Excerpts of one
recording overlap in sound (same piece, player, room), so a split must keep them together
(:func:`recording_id`, ``group=`` of :func:`split_train_validation`).

The dataset may not be redistributed; the user supplies it with ``--data_dir``.
"""

from __future__ import annotations

import logging
import math
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tfaudiogan.data.audio_files import list_audio_files

__all__ = [
    "DRUM_TAGS",
    "GENRES",
    "INSTRUMENTS",
    "IrmasTags",
    "list_irmas",
    "parse_irmas_filename",
    "recording_id",
    "split_train_validation",
]

_LOG = logging.getLogger(__name__)

TRAINING_FOLDER = "IRMAS-TrainingData"

INSTRUMENTS = {
    "cel": "cello",
    "cla": "clarinet",
    "flu": "flute",
    "gac": "acoustic guitar",
    "gel": "electric guitar",
    "org": "organ",
    "pia": "piano",
    "sax": "saxophone",
    "tru": "trumpet",
    "vio": "violin",
    "voi": "voice",
}
GENRES = {
    "cou_fol": "country-folk",
    "cla": "classical",
    "pop_roc": "pop-rock",
    "lat_sou": "latin-soul",
    "jaz_blu": "jazz-blues",
}
DRUM_TAGS = {"dru": "drums", "nod": "no drums"}

# optional "NNN__" prefix, one or more "[tag]"s, then the identifier, then ".wav"
_NAME_RE = re.compile(r"^(?:(\d+)__)?((?:\[[^\[\]]+\])+)([^\[\]]+)\.wav$", re.IGNORECASE)
_TAG_RE = re.compile(r"\[([^\[\]]+)\]")


@dataclass(frozen=True)
class IrmasTags:
    """Tags of one IRMAS training file name.

    Attributes:
        instrument: predominant-instrument code (a key of :data:`INSTRUMENTS`).
        drums: ``"dru"``, ``"nod"`` or None when the name has no drums tag.
        genre: genre code (a key of :data:`GENRES`) or None when absent.
        prefix: the numeric ``NNN`` prefix as written, or None.
        identifier: the rest of the name without extension, e.g. ``"0829__1"``.
    """

    instrument: str
    drums: str | None
    genre: str | None
    prefix: str | None
    identifier: str


def parse_irmas_filename(name: str | os.PathLike) -> IrmasTags:
    """Parse the tags of an IRMAS training file name (a bare name or a path).

    Examples:
        ``001__[gel][dru][pop_roc]0829__1.wav`` -> ``IrmasTags("gel", "dru", "pop_roc", "001",
        "0829__1")``; ``[pia][cla]1283__1.wav`` -> instrument ``"pia"``, genre ``"cla"``
        (classical), no drums tag, no prefix.

    Raises:
        ValueError: the name does not follow the IRMAS pattern (message names the file).
    """
    base = Path(name).name
    match = _NAME_RE.match(base)
    if match is None:
        raise ValueError(
            f"'{base}' is not an IRMAS training file name "
            "(expected e.g. '001__[gel][dru][pop_roc]0829__1.wav' or '[pia][cla]1283__1.wav')"
        )
    prefix, tag_block, identifier = match.groups()
    tags = _TAG_RE.findall(tag_block)
    instrument = tags[0]
    if instrument not in INSTRUMENTS:
        raise ValueError(
            f"'{base}': unknown IRMAS instrument tag [{instrument}] "
            f"(valid: {', '.join(INSTRUMENTS)})"
        )
    # genre by position: 3rd tag after a drums tag, else 2nd (cla = clarinet or classical)
    rest = tags[1:]
    drums = rest.pop(0) if rest and rest[0] in DRUM_TAGS else None
    genre = rest.pop(0) if rest else None
    if genre is not None and genre not in GENRES:
        raise ValueError(
            f"'{base}': unknown IRMAS genre tag [{genre}] (valid: {', '.join(GENRES)})"
        )
    if rest:
        raise ValueError(f"'{base}': unexpected extra IRMAS tags {rest}")
    return IrmasTags(instrument, drums, genre, prefix, identifier)


def recording_id(name: str | os.PathLike) -> str:
    """The recording an IRMAS training excerpt comes from: ``<id>`` of ``...<id>__<k>.wav``.

    Examples:
        ``008__[cel][nod][cla]0058__2.wav`` -> ``"0058"``; ``[pia][cla]1283__1.wav`` ->
        ``"1283"``; an identifier without ``__<k>`` is its own recording.

    Raises:
        ValueError: not an IRMAS training file name (see :func:`parse_irmas_filename`).
    """
    identifier = parse_irmas_filename(name).identifier
    head, sep, excerpt = identifier.rpartition("__")
    return head if sep and head and excerpt.isdigit() else identifier


def _training_root(data_dir: Path) -> Path:
    """``data_dir`` itself, or its ``IRMAS-TrainingData`` child when that exists."""
    nested = data_dir / TRAINING_FOLDER
    return nested if nested.is_dir() else data_dir


def list_irmas(
    data_dir: str | os.PathLike,
    instruments: Sequence[str] = ("pia", "gel"),  # the seed's piano <-> electric guitar pair
    log: logging.Logger = _LOG,
) -> dict[str, list[Path]]:
    """Training files per instrument, checked against their file-name tags.

    A file whose instrument tag disagrees with its folder, or whose name cannot be parsed, is
    skipped with a warning (it would put the wrong instrument into a domain).

    Args:
        data_dir: the ``IRMAS-TrainingData`` folder or the folder that contains it.
        instruments: instrument codes (keys of :data:`INSTRUMENTS`), one per domain.
        log: logger for skip warnings.

    Returns:
        ``{code: sorted list of paths}`` in the order of ``instruments``.

    Raises:
        FileNotFoundError: ``data_dir`` does not exist.
        ValueError: unknown instrument code; an instrument folder is missing (the message
            names the missing codes, the directory and the folders found); or no usable file
            is left for an instrument.
    """
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise FileNotFoundError(f"IRMAS data directory '{data_dir}' does not exist")
    unknown = [c for c in instruments if c not in INSTRUMENTS]
    if unknown:
        raise ValueError(
            f"unknown IRMAS instrument code(s) {unknown}; valid codes: "
            + ", ".join(f"{k} ({v})" for k, v in INSTRUMENTS.items())
        )
    root = _training_root(data_dir)
    missing = [c for c in instruments if not (root / c).is_dir()]
    if missing:
        found = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
        raise ValueError(
            f"IRMAS instrument folder(s) {missing} not found in '{root}' "
            f"(found folders: {found or 'none'}); pass the '{TRAINING_FOLDER}' folder "
            "(one sub-folder per instrument code) or its parent as data_dir"
        )
    result: dict[str, list[Path]] = {}
    for code in instruments:
        kept = []
        for path in list_audio_files(root / code):
            try:
                tags = parse_irmas_filename(path)
            except ValueError as err:
                log.warning("skipping IRMAS file: %s", err)
                continue
            if tags.instrument != code:
                log.warning(
                    "skipping IRMAS file '%s': its tag [%s] disagrees with its folder '%s'",
                    path, tags.instrument, code,
                )
                continue
            kept.append(path)
        if not kept:
            raise ValueError(f"no usable IRMAS files tagged [{code}] in '{root / code}'")
        result[code] = sorted(kept)
    return result


def _round_half_up(x: float) -> int:
    return int(math.floor(x + 0.5))


def _take(groups: Sequence[list[Path]], order: Sequence[int], wanted: int,
          taken: set[int]) -> list[Path]:
    """Whole groups in ``order`` (first fit): a group joins while it does not overshoot
    ``wanted``; stops once ``wanted`` files are reached. Marks the groups used in ``taken``."""
    chosen: list[Path] = []
    for i in order:
        if len(chosen) == wanted:
            break
        if i not in taken and len(chosen) + len(groups[i]) <= wanted:
            chosen += groups[i]
            taken.add(i)
    return chosen


def split_train_validation(
    files: Sequence[str | os.PathLike],
    n_train: int = 600,  # seed 002 section 3: 600 training excerpts per instrument
    n_validation: int = 50,  # seed 002 section 3: 50 validation excerpts per instrument
    seed: int = 0,
    log: logging.Logger = _LOG,
    group: Callable[[Path], str] | None = None,
) -> tuple[list[Path], list[Path]]:
    """Deterministic, disjoint train/validation split that never divides a group.

    The files are sorted and gathered into groups (``group(path)``, e.g. :func:`recording_id`
    so all excerpts of one recording land in the same split; None: every file alone). The
    groups, ordered by their first file, are permuted with
    ``np.random.default_rng(seed).permutation``. Validation takes whole groups in that order
    while they fit into ``n_validation`` files (a group that would overshoot is passed over),
    then training takes the remaining groups in the same order up to ``n_train`` files
    (validation first, so the validation set does not change with ``n_train``); groups beyond
    that are unused. Without grouping this is: validation = the first ``n_validation``
    permuted files, training = the next ``n_train``. With groups the counts can fall short of
    the request when no remaining group fits (a warning says so).

    With fewer files than ``n_train + n_validation`` (``n`` files), the validation share is
    kept: ``n_val = floor(n * n_validation / (n_train + n_validation) + 0.5)``, clamped to
    ``[1, n - 1]`` when both requested counts are positive and ``n >= 2``; training gets every
    group validation did not take. A warning is logged.

    Args:
        files: paths (any order; duplicates are not removed).
        n_train: training files wanted.
        n_validation: validation files wanted.
        seed: permutation seed.
        log: logger for the shortfall warning.
        group: path -> group key; files with one key always share a split.

    Returns:
        ``(train, validation)``: two sorted lists of paths.

    Raises:
        ValueError: no files, negative counts, or both counts zero.
    """
    if n_train < 0 or n_validation < 0 or n_train + n_validation == 0:
        raise ValueError(
            f"need n_train >= 0, n_validation >= 0, not both 0; got {n_train}, {n_validation}"
        )
    ordered = sorted(Path(f) for f in files)
    n = len(ordered)
    if n == 0:
        raise ValueError("split_train_validation got no files")
    shortfall = n < n_train + n_validation
    if not shortfall:
        n_val, n_tr = n_validation, n_train
    else:
        n_val = _round_half_up(n * n_validation / (n_train + n_validation))
        if n_train > 0 and n_validation > 0 and n >= 2:
            n_val = min(max(n_val, 1), n - 1)
        n_tr = n - n_val
        log.warning(
            "only %d files for %d train + %d validation; using %d train + %d validation "
            "(same validation share)", n, n_train, n_validation, n_tr, n_val,
        )
    by_key: dict[object, list[Path]] = {}
    for i, path in enumerate(ordered):
        by_key.setdefault(i if group is None else group(path), []).append(path)
    groups = list(by_key.values())  # in the order of their first (sorted) file
    order = np.random.default_rng(seed).permutation(len(groups))
    taken: set[int] = set()
    validation = _take(groups, order, n_val, taken)
    train = _take(groups, order, n - len(validation) if shortfall else n_tr, taken)
    if group is not None and (len(validation), len(train)) != (n_val, n_tr):
        log.warning(
            "whole recordings give %d train + %d validation files instead of %d + %d",
            len(train), len(validation), n_tr, n_val,
        )
    return sorted(train), sorted(validation)
