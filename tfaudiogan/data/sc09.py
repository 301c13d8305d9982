"""SC09 (the spoken digits "zero".."nine" of Speech Commands v0.01) in either of its layouts.

reference/wavegan.md section 7 and reference/ddsp.md section 6:

* **WaveGAN layout** (``sc09.tar.gz`` of the WaveGAN README):
  ``sc09/{train,valid,test}/<Word>_<speakerhash>_nohash_<k>.wav`` with a title-cased word
  (``Eight_0a2b400e_nohash_0.wav``); the label is the word before the first ``_``. Train has
  18,620 clips. ``data_dir`` may be the ``sc09`` folder or its parent.
* **Speech Commands layout**: ``<word>/<speakerhash>_nohash_<k>.wav`` plus
  ``validation_list.txt`` and ``testing_list.txt`` (paths relative to the root, one a line).
  Only the ten digit folders are read; a file named in neither list is train (the rule of
  the WaveGAN ``data/sc09/split.py`` and of Speech Commands itself).

Labels are indices into :data:`DIGITS` (``Zero`` = 0 ... ``Nine`` = 9), the label order of the
SC09 classifier. :func:`load_sc09` decodes the clips like the paper setup
(``--data_first_slice --data_pad_end``): the first ``slice_len`` samples of each file,
zero-padded (SC09 clips have at most 16000 samples, so at least 384 trailing zeros).
Peak normalisation is off by default, as in the paper-era (v1) code; the v2 loader always
normalises (reference/wavegan.md 4.4).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from tfaudiogan.data.audio_files import list_audio_files, load_clips
from tfaudiogan.data.slices import count_resampled, peak_normalize

__all__ = ["DIGITS", "SPLITS", "detect_layout", "list_sc09", "load_sc09"]

_LOG = logging.getLogger(__name__)

DIGITS = ("Zero", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine")
SPLITS = ("train", "valid", "test")
_ALIASES = {"validation": "valid", "testing": "test"}
_LIST_FILES = {"valid": "validation_list.txt", "test": "testing_list.txt"}
_INDEX = {word.lower(): i for i, word in enumerate(DIGITS)}

SAMPLE_RATE = 16000  # Speech Commands / WaveGAN loader default fs
SLICE_LEN = 16384  # WaveGAN --data_slice_len default


def _canonical_split(split: str) -> str:
    name = _ALIASES.get(str(split).lower(), str(split).lower())
    if name not in SPLITS:
        raise ValueError(
            f"unknown SC09 split '{split}'; valid splits: {', '.join(SPLITS)} "
            f"(aliases: {', '.join(_ALIASES)})"
        )
    return name


def _subdirs(path: Path) -> dict[str, Path]:
    return {p.name.lower(): p for p in path.iterdir() if p.is_dir()}


def detect_layout(data_dir: str | os.PathLike) -> tuple[str, Path]:
    """Which SC09 layout ``data_dir`` holds.

    Returns:
        ``("wavegan", root)`` where ``root`` holds ``train/ valid/ test/`` (``data_dir`` or
        ``data_dir/sc09``), or ``("speech_commands", data_dir)``.

    Raises:
        FileNotFoundError / NotADirectoryError: ``data_dir`` is missing or not a folder.
        ValueError: neither layout is recognised.
    """
    root = Path(data_dir)
    if not root.exists():
        raise FileNotFoundError(f"SC09 data directory '{root}' does not exist")
    if not root.is_dir():
        raise NotADirectoryError(f"SC09 data directory '{root}' is not a directory")
    for candidate in (root, root / "sc09"):
        if candidate.is_dir() and set(_subdirs(candidate)) & set(SPLITS):
            return "wavegan", candidate
    if set(_subdirs(root)) & set(_INDEX):
        return "speech_commands", root
    raise ValueError(
        f"'{root}' is not an SC09 folder: expected either train/ valid/ test/ sub-folders of "
        "<Word>_<hash>_nohash_<k>.wav files (WaveGAN's sc09.tar.gz) or Speech Commands "
        "digit folders zero/ ... nine/ with validation_list.txt and testing_list.txt"
    )


def _label_from_name(path: Path) -> int | None:
    return _INDEX.get(path.name.split("_", 1)[0].lower())


def _list_wavegan(root: Path, split: str, strict: bool, log: logging.Logger):
    folder = _subdirs(root).get(split)
    if folder is None:
        raise FileNotFoundError(f"SC09 split folder '{root / split}' does not exist")
    items, unknown = [], []
    for path in list_audio_files(folder):
        label = _label_from_name(path)
        if label is None:
            unknown.append(path)
        else:
            items.append((path, label))
    if unknown:
        message = (f"{len(unknown)} files in '{folder}' do not start with a digit word "
                   f"(Zero_..Nine_), e.g. '{unknown[0].name}'")
        if strict or not items:
            raise ValueError(message)
        log.warning("ignoring %s", message)
    return items


def _read_list(root: Path, split: str) -> set[str]:
    path = root / _LIST_FILES[split]
    if not path.is_file():
        raise FileNotFoundError(
            f"Speech Commands list '{path}' not found; both validation_list.txt and "
            "testing_list.txt are needed to split SC09 (files in neither list are train)"
        )
    lines = path.read_text(encoding="utf-8").splitlines()
    return {line.strip().replace("\\", "/") for line in lines if line.strip()}


def _list_speech_commands(root: Path, split: str, log: logging.Logger):
    listed = {name: _read_list(root, name) for name in _LIST_FILES}
    folders = _subdirs(root)
    missing = [w for w in _INDEX if w not in folders]
    if missing:
        log.warning("Speech Commands folder '%s' lacks digit folders: %s", root,
                    ", ".join(missing))
    items = []
    for word, label in _INDEX.items():
        if word not in folders:
            continue
        try:
            paths = list_audio_files(folders[word])
        except ValueError:  # an empty digit folder
            continue
        for path in paths:
            key = path.relative_to(root).as_posix()
            if key in listed["valid"]:
                which = "valid"
            elif key in listed["test"]:
                which = "test"
            else:
                which = "train"
            if which == split:
                items.append((path, label))
    if not items:
        raise ValueError(f"no audio files of the SC09 '{split}' split found in '{root}'")
    return sorted(items)


def list_sc09(
    data_dir: str | os.PathLike,
    split: str = "train",
    strict: bool = False,
    log: logging.Logger = _LOG,
) -> list[tuple[Path, int]]:
    """The files of one SC09 split with their digit labels, in either layout.

    Args:
        data_dir: the ``sc09`` folder (or its parent) or the Speech Commands root.
        split: ``"train"``, ``"valid"`` or ``"test"`` (``"validation"``, ``"testing"`` too).
        strict: in the WaveGAN layout, raise if a file name does not start with a digit
            word (default: such files are ignored with a warning).
        log: logger for warnings.

    Returns:
        ``[(path, label_index), ...]`` sorted by path; labels index :data:`DIGITS`.

    Raises:
        ValueError: unknown split, unrecognised layout, or no audio in the split.
        FileNotFoundError: ``data_dir``, the split folder or a Speech Commands list file is
            missing.
    """
    split = _canonical_split(split)
    layout, root = detect_layout(data_dir)
    if layout == "wavegan":
        return _list_wavegan(root, split, strict, log)
    return _list_speech_commands(root, split, log)


def load_sc09(
    data_dir: str | os.PathLike,
    split: str = "train",
    sample_rate: int = SAMPLE_RATE,
    slice_len: int = SLICE_LEN,
    normalize: bool = False,  # paper-era v1 loader: no normalisation (wavegan.md 4.4)
    strict: bool = False,
    log: logging.Logger = _LOG,
) -> tuple[np.ndarray, np.ndarray]:
    """Decodes one SC09 split as first slices, zero-padded (``--data_first_slice --data_pad_end``).

    Files at another sample rate are resampled (soxr) and their number logged; undecodable
    files are skipped with a warning and counted (``strict`` raises instead).

    Args:
        data_dir: see :func:`list_sc09`.
        split: ``"train"``, ``"valid"`` or ``"test"``.
        sample_rate: target rate (16 kHz).
        slice_len: samples per clip (16384): longer files are cut, shorter ones zero-padded.
        normalize: divide each clip by its peak (v2 loader behaviour; off for the paper).
            Applied to the clip as cut; SC09 files are shorter than a slice, so this equals
            the v2 loader's whole-file normalisation.
        strict: raise on the first bad file / unparseable name.
        log: logger for the resample / skip lines.

    Returns:
        ``(waves, labels)``: float32 ``[n, slice_len]`` and int64 ``[n]`` (indices into
        :data:`DIGITS`), in path order, bad files left out.
    """
    items = list_sc09(data_dir, split, strict=strict, log=log)
    paths = [p for p, _ in items]
    waves, skipped = load_clips(paths, sample_rate, slice_len, strict=strict, log=log)
    bad = {Path(p) for p, _ in skipped}
    labels = np.array([label for path, label in items if path not in bad], np.int64)
    n_resampled = count_resampled([p for p in paths if p not in bad], sample_rate)
    if n_resampled:
        log.info("resampled %d of %d SC09 files to %d Hz", n_resampled, len(paths), sample_rate)
    if normalize:
        waves = peak_normalize(waves)
    log.info("SC09 %s: %d clips of %d samples (%d skipped)", split, waves.shape[0], slice_len,
             len(skipped))
    return waves, labels
