"""One registry of every dataset reader: ``load(name, data_dir, split, **options)``.

Each entry (:class:`DatasetSpec`) names the reader function it calls, a one-line
description, its return type, the splits it accepts and its per-dataset defaults. The options
of an entry are the keyword parameters of its reader (so they cannot drift apart); the
registry's ``defaults`` fill the parameters a reader requires (IRMAS sample rate and clip
length) or state the paper value next to its source. Every reader stays callable on its own
with its own signature; ``load`` only dispatches:

========================  =============================================  =======================
name                      reader                                         returns
========================  =============================================  =======================
``irmas`` ``folders``     :func:`~.two_domains.load_two_domains`         ``{domain: [n, t]}``
``synthetic``
``sc09``                  :func:`~.sc09.load_sc09`                       ``(waves, labels)``
``audio_folder``          :func:`~.slices.folder_slices`                 ``[n, slice_len]``
``nsynth``                :func:`~.nsynth.nsynth_dataset`                ``tf.data.Dataset``
``synthetic_digits``      :func:`~.synthetic_digits.digit_clips`         ``(waves, labels)``
``synthetic_notes``       :func:`~.synthetic_notes.synthetic_notes`      ``{audio, labels}``
========================  =============================================  =======================

:func:`inspect_data` reports what a file reader finds in a folder (counts, nothing decoded);
``tfaudiogan datasets`` prints it.
"""

from __future__ import annotations

import functools
import inspect
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from tfaudiogan.configs import cyclegan, gansynth, wavegan
from tfaudiogan.data import nsynth, sc09
from tfaudiogan.data.audio_files import list_audio_files
from tfaudiogan.data.irmas import INSTRUMENTS, list_irmas
from tfaudiogan.data.slices import folder_slices
from tfaudiogan.data.synthetic_digits import digit_clips
from tfaudiogan.data.synthetic_notes import synthetic_notes
from tfaudiogan.data.two_domains import SPLITS as DOMAIN_SPLITS
from tfaudiogan.data.two_domains import folder_domains, load_two_domains

__all__ = ["DATASETS", "DatasetSpec", "dataset_spec", "inspect_data", "load"]

Row = tuple[str, int, str]  # (what, count, unit), e.g. ("pia (piano)", 721, "audio files")

_IRMAS = cyclegan.irmas_paper()  # the seed-002 paper preset (configs/cyclegan.py)
_WAVEGAN_RATE = wavegan.DataConfig.sample_rate  # [W 4.3] fs = 16000 (configs/wavegan.py)
_WAVEGAN_SLICE = wavegan.ModelConfig.slice_len  # [W 1] --data_slice_len 16384
_NSYNTH = gansynth.SpectrogramConfig  # [data] NSynth: 16 kHz, 64000-sample notes


@dataclass(frozen=True)
class DatasetSpec:
    """One registry entry.

    Attributes:
        name: registry key.
        description: one line for listings.
        returns: the return type with shapes.
        reader: the function :func:`load` calls.
        splits: accepted split names (aliases included).
        defaults: options applied when the caller does not give them.
        builtin: the data is generated, no folder is read (``data_dir`` is ignored).
        data_arg: the reader's folder parameter (None: it has none).
        split_arg: the reader's split parameter; None when the reader has no split (the split
            then only picks ``split_seeds[split]``, added to ``seed``).
        split_seeds: seed offset per split, for readers without ``split_arg``.
        inspector: ``(data_dir, options) -> [Row]`` for :func:`inspect_data`, or None.
    """

    name: str
    description: str
    returns: str
    reader: Callable[..., Any]
    splits: tuple[str, ...]
    defaults: Mapping[str, Any] = field(default_factory=dict)
    builtin: bool = False
    data_arg: str | None = None
    split_arg: str | None = None
    split_seeds: Mapping[str, int] = field(default_factory=dict)
    inspector: Callable[[Path, dict], list[Row]] | None = None

    def options(self) -> dict[str, Any]:
        """Every option of the entry with its effective default (registry, else reader).

        Returns:
            ``{option: default}`` in the reader's parameter order; ``inspect.Parameter.empty``
            marks an option without any default (a registry defect: see the tests).
        """
        params = inspect.signature(self.reader).parameters
        return {name: self.defaults.get(name, p.default) for name, p in params.items()
                if name not in (self.data_arg, self.split_arg)}


def _irmas_rows(data_dir: Path, options: dict) -> list[Row]:
    # Without explicit instruments: all 11 folders of a complete IRMAS training download.
    found = list_irmas(data_dir, tuple(options.get("instruments", INSTRUMENTS)))
    return [(f"{code} ({INSTRUMENTS[code]})", len(files), "audio files")
            for code, files in found.items()]


def _folders_rows(data_dir: Path, options: dict) -> list[Row]:
    names = options.get("instruments", DATASETS["folders"].options()["instruments"])
    return [(d.name, len(list_audio_files(d)), "audio files")
            for d in folder_domains(data_dir, names)]


def _sc09_rows(data_dir: Path, options: dict) -> list[Row]:
    layout, _ = sc09.detect_layout(data_dir)
    rows, errors = [], []
    for split in sc09.SPLITS:
        try:
            rows.append((f"{split} ({layout} layout)", len(sc09.list_sc09(data_dir, split)),
                         "audio files"))
        except (FileNotFoundError, ValueError) as err:  # e.g. only train/ was unpacked
            errors.append(err)
            rows.append((f"{split} ({layout} layout)", 0, f"audio files ({err})"))
    if len(errors) == len(sc09.SPLITS):
        raise errors[0]
    return rows


def _audio_folder_rows(data_dir: Path, options: dict) -> list[Row]:
    return [(str(data_dir), len(list_audio_files(data_dir)), "audio files")]


def _nsynth_rows(data_dir: Path, options: dict) -> list[Row]:
    if not data_dir.is_dir():
        raise FileNotFoundError(f"NSynth data directory '{data_dir}' does not exist")
    rows = []
    for split in nsynth.SPLITS:
        records = nsynth.find_tfrecords(data_dir, split)
        if records:
            rows.append((f"nsynth-{split}", len(records), "TFRecord files"))
        examples = data_dir / f"nsynth-{split}" / "examples.json"
        if examples.is_file():
            with open(examples) as handle:
                rows.append((f"nsynth-{split}", len(json.load(handle)), "notes (json+wav)"))
    if not rows:
        raise FileNotFoundError(
            f"no NSynth data in '{data_dir}': looked for nsynth-<split>.tfrecord* (also one "
            f"folder down) and nsynth-<split>/examples.json, split in {', '.join(nsynth.SPLITS)}")
    return rows


def _two_domain(name: str, description: str, inspector=None) -> DatasetSpec:
    return DatasetSpec(
        name=name,
        description=description,
        returns="{domain: float32 [n, round(clip_seconds * sample_rate)]}, two domains",
        reader=functools.partial(load_two_domains, name),
        splits=DOMAIN_SPLITS,
        defaults={
            # IRMAS paper preset (configs/cyclegan.py irmas_paper): [seed002] "sampling rate
            # 25KHz"; 3 s = the length of an IRMAS training excerpt (reference/cyclegan.md 4).
            # The seed-004 music-style preset uses 20.5 kHz and 30 s: pass them explicitly.
            "sample_rate": _IRMAS.spectrogram.sample_rate,
            "clip_seconds": _IRMAS.data.clip_seconds,
        },
        builtin=inspector is None,
        data_arg="data_dir",
        split_arg="split",
        inspector=inspector,
    )


_ENTRIES = (
    _two_domain("irmas", "IRMAS training excerpts, two instrument folders (default piano "
                "<-> electric guitar), 600/50 train/validation per instrument", _irmas_rows),
    _two_domain("folders", "any two folders of audio as two domains (seed-004 setup), "
                "validation_fraction of each held out", _folders_rows),
    _two_domain("synthetic", "built-in two-timbre clips, piano-like <-> guitar-like "
                "(CycleGAN demo)"),
    DatasetSpec(
        name="sc09",
        description="SC09 spoken digits, WaveGAN sc09/{train,valid,test} or Speech Commands "
                    "layout; first slice of each file, zero-padded",
        returns="(float32 [n, slice_len], int64 labels [n] indexing sc09.DIGITS)",
        reader=sc09.load_sc09,
        splits=sc09.SPLITS + ("validation", "testing"),  # load_sc09's names and aliases
        defaults={
            "sample_rate": _WAVEGAN_RATE,  # [W 4.3] Speech Commands 16 kHz
            "slice_len": _WAVEGAN_SLICE,  # [W 1] 16384 samples (~1 s)
        },
        data_arg="data_dir",
        split_arg="split",
        inspector=_sc09_rows,
    ),
    DatasetSpec(
        name="audio_folder",
        description="any folder of audio cut into fixed-length slices (WaveGAN v2 loader); "
                    "one split: the whole folder",
        returns="float32 [n_slices, slice_len]",
        reader=folder_slices,
        splits=("train",),
        defaults={
            "sample_rate": _WAVEGAN_RATE,  # [W 4.3] fs = 16000
            "slice_len": _WAVEGAN_SLICE,  # [W 1] --data_slice_len 16384
        },
        data_arg="directory",
        inspector=_audio_folder_rows,
    ),
    DatasetSpec(
        name="nsynth",
        description="NSynth notes at 16 kHz, TFRecord or json+wav layout; GANSynth subset "
                    "and nsynth-gansynth_splits.csv re-split on request",
        returns="tf.data.Dataset of dicts: audio float32 [audio_length], note_str, int32 "
                "pitch/velocity/instrument/instrument_family/instrument_source, qualities [10]",
        reader=nsynth.nsynth_dataset,
        splits=nsynth.SPLITS + ("validation",),  # nsynth_dataset's names and alias
        defaults={
            "audio_length": _NSYNTH.audio_length,  # [data] 4 s notes at 16 kHz (ddsp.md 5.1)
        },
        data_arg="data_dir",
        split_arg="split",
        inspector=_nsynth_rows,
    ),
    DatasetSpec(
        name="synthetic_digits",
        builtin=True,
        description="built-in spoken-digit-like bursts, ten classes (SC09 stand-in)",
        returns="(float32 [10 * n_per_class, slice_len], int64 labels [10 * n_per_class])",
        reader=digit_clips,
        # recipes/sc09_classifier.py: split i of (train, valid, test) uses seed + 1000 * i
        split_seeds={"train": 0, "valid": 1000, "validation": 1000, "test": 2000,
                     "testing": 2000},
        splits=("train", "valid", "test", "validation", "testing"),
        defaults={
            "n_per_class": wavegan.DataConfig.synthetic_per_class,  # [chosen] configs/wavegan.py
            "sample_rate": _WAVEGAN_RATE,  # [W 4.3] as SC09
            "slice_len": _WAVEGAN_SLICE,  # [W 1]
        },
    ),
    DatasetSpec(
        name="synthetic_notes",
        builtin=True,
        description="built-in pitched notes with NSynth-style labels (NSynth stand-in)",
        returns="{audio: float32 [n, round(seconds * sample_rate)], pitch, velocity, "
                "instrument_family, instrument_source: int32 [n]}",
        reader=synthetic_notes,
        # recipes/pitch_classifier.py: validation notes use seed + 1
        split_seeds={"train": 0, "valid": 1, "validation": 1},
        splits=("train", "valid", "validation"),
        defaults={
            "n": gansynth.DataConfig.synthetic_notes,  # [chosen] configs/gansynth.py demo size
            "sample_rate": _NSYNTH.sample_rate,  # [data] NSynth 16 kHz
            "seconds": _NSYNTH.audio_length / _NSYNTH.sample_rate,  # [data] 4 s notes
        },
    ),
)

DATASETS: Mapping[str, DatasetSpec] = MappingProxyType({e.name: e for e in _ENTRIES})


def dataset_spec(name: str) -> DatasetSpec:
    """The registry entry ``name``.

    Raises:
        ValueError: unknown name; the message lists the valid ones.
    """
    if name not in DATASETS:
        raise ValueError(f"unknown dataset '{name}'; valid names: {', '.join(DATASETS)}")
    return DATASETS[name]


def _check_options(spec: DatasetSpec, options: Mapping[str, Any]) -> None:
    valid = spec.options()
    unknown = [k for k in options if k not in valid]
    if unknown:
        raise ValueError(f"unknown option(s) {', '.join(unknown)} for dataset '{spec.name}'; "
                         f"valid options: {', '.join(valid)}")


def load(name: str, data_dir: str | os.PathLike | None = None, split: str = "train",
         **options: Any) -> Any:
    """Reads dataset ``name`` with its per-dataset defaults (see :data:`DATASETS`).

    ``load(name, data_dir, split, **options)`` calls the entry's reader with
    ``{**spec.defaults, **options}``, the folder and the split, so explicit options give
    exactly what the reader gives. For the built-in synthetic entries ``data_dir`` is
    ignored; ``synthetic_digits`` / ``synthetic_notes`` have no split parameter, so the split
    adds a fixed offset to ``seed`` (``spec.split_seeds``; train adds 0).

    Args:
        name: a key of :data:`DATASETS`.
        data_dir: the folder holding the dataset (file readers only).
        split: one of ``DATASETS[name].splits``.
        **options: keyword parameters of the entry's reader (``DATASETS[name].options()``).

    Returns:
        What the entry's reader returns (``DATASETS[name].returns``).

    Raises:
        ValueError: unknown name, split or option (the message lists the valid ones), a file
            dataset without ``data_dir``, or the reader's own errors.
    """
    spec = dataset_spec(name)
    if split not in spec.splits:
        raise ValueError(f"unknown split '{split}' for dataset '{name}'; valid splits: "
                         f"{', '.join(spec.splits)}")
    _check_options(spec, options)
    kwargs = {**spec.defaults, **options}
    if not spec.builtin and data_dir is None:
        raise ValueError(f"dataset '{name}' needs data_dir (the folder holding the audio)")
    if spec.data_arg is not None:
        kwargs[spec.data_arg] = data_dir
    if spec.split_arg is not None:
        kwargs[spec.split_arg] = split
    elif spec.split_seeds:
        kwargs["seed"] = int(kwargs.get("seed", spec.options()["seed"])) + spec.split_seeds[split]
    return spec.reader(**kwargs)


def inspect_data(name: str, data_dir: str | os.PathLike, **options: Any) -> list[Row]:
    """What the reader of ``name`` finds in ``data_dir``: file counts, nothing decoded.

    * ``irmas``: audio files per instrument folder (all 11 IRMAS instruments unless
      ``instruments=`` is given; a missing one is an error, as for the reader).
    * ``folders``: audio files per domain folder (as the reader picks them).
    * ``sc09``: files per split (train / valid / test) and the layout.
    * ``audio_folder``: audio files in the folder (recursive).
    * ``nsynth``: TFRecord files and json+wav notes per split.

    Args:
        name: a file dataset of :data:`DATASETS`.
        data_dir: the folder to inspect.
        **options: reader options that change what is listed (``instruments``).

    Returns:
        ``[(what, count, unit), ...]``, e.g. ``[("pia (piano)", 721, "audio files"), ...]``.

    Raises:
        ValueError: unknown name or option, a built-in dataset, or the reader's listing
            errors; FileNotFoundError: the folder or its expected files are missing.
    """
    spec = dataset_spec(name)
    if spec.builtin or spec.inspector is None:
        file_sets = ", ".join(n for n, s in DATASETS.items() if not s.builtin)
        raise ValueError(f"dataset '{name}' is built in and reads no files; "
                         f"datasets read from a folder: {file_sets}")
    _check_options(spec, options)
    return spec.inspector(Path(data_dir), dict(options))
