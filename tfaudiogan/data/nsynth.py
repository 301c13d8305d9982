"""NSynth reader for both published layouts and the GANSynth subset (writer: nsynth_writer).

Layouts under ``data_dir`` (reference/ddsp.md section 5), for split ``s`` in train/valid/test:
* TFRecord: ``nsynth-s.tfrecord``, shards ``nsynth-s.tfrecord-*``, a folder of that name holding
  shards, or any of these one folder down (an extracted ``.tfrecord.tar``). The published files
  are uncompressed; a name ending in ``.gz`` is read as GZIP (like Beam's AUTO).
* json+wav: ``nsynth-s/examples.json`` (dict keyed by note_str, every field but audio) and
  ``nsynth-s/audio/<note_str>.wav`` (16-bit PCM, 16 kHz, 64000 samples).
Both give the same elements, dicts of :data:`OUTPUT_KEYS`.

Decisions:
* A record lacking a required field is an error naming the field (issue 4), never skipped:
  ValueError from an eager :func:`parse_example`, the same message as
  ``tf.errors.InvalidArgumentError`` inside tf.data (TF escapes its quotes as ``\\'``).
* Audio of a length other than ``audio_length`` is an error too (not padded or cropped): every
  NSynth note has exactly 64000 samples, so another length means a foreign or corrupt dataset.
* json+wav: ``examples.json`` is held in memory (metadata only; filters run on it before any
  audio is decoded); wavs are decoded by soundfile (``audio.io.load_audio``, resampled to
  16 kHz if needed) in a parallel ``tf.numpy_function`` map, since the train split's audio
  (~74 GB as float32) does not fit in memory. Undecodable wavs are skipped with the warning
  of :class:`~tfaudiogan.data.bad_files.SkipPolicy` (naming the file) unless ``strict``.
"""

from __future__ import annotations

import csv
import json
import logging
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import tensorflow as tf

from tfaudiogan.data.bad_files import SkipPolicy
from tfaudiogan.data.tfrecord_files import shuffled_tfrecord_reader, tfrecord_index, tfrecord_reader

__all__ = ["AUDIO_LENGTH", "FAMILIES", "FEATURE_SPEC", "OUTPUT_KEYS", "QUALITIES", "SAMPLE_RATE",
           "SOURCES", "SPLITS", "find_tfrecords", "gansynth_filter", "gansynth_split_ids",
           "nsynth_dataset", "parse_example", "pitch_histogram", "tfrecord_index"]

_LOG = logging.getLogger(__name__)

SAMPLE_RATE = 16000  # ddsp.md section 5: 4 s mono at 16 kHz
AUDIO_LENGTH = 64000  # ddsp.md section 5.1: audio FixedLen [64000] float32
SPLITS = ("train", "valid", "test")  # ddsp.md section 5 (file names use "valid")
FAMILIES = ("bass", "brass", "flute", "guitar", "keyboard", "mallet", "organ", "reed", "string",
            "synth_lead", "vocal")  # ddsp.md section 5.2, ids 0..10
SOURCES = ("acoustic", "electronic", "synthetic")  # ddsp.md section 5.2, ids 0..2
QUALITIES = ("bright", "dark", "distortion", "fast_decay", "long_release", "multiphonic",
             "nonlinear_env", "percussive", "reverb", "tempo-synced")  # ddsp.md 5.2, vector order
GANSYNTH_PITCHES = (24, 84)  # gansynth.md section 3: MIDI 24-84 inclusive
GANSYNTH_SOURCES = (0,)  # gansynth.md section 3: instrument_source == 0 (acoustic)

_int = tf.io.FixedLenFeature([], tf.int64)
_str = tf.io.FixedLenFeature([], tf.string)
FEATURE_SPEC = {  # the tf.train.Example features of one NSynth note (ddsp.md section 5.1)
    "note": _int, "note_str": _str, "instrument": _int, "instrument_str": _str, "pitch": _int,
    "velocity": _int, "sample_rate": _int,
    "audio": tf.io.FixedLenFeature([AUDIO_LENGTH], tf.float32),
    "qualities": tf.io.FixedLenFeature([len(QUALITIES)], tf.int64),
    "qualities_str": tf.io.VarLenFeature(tf.string),
    "instrument_family": _int, "instrument_family_str": _str,
    "instrument_source": _int, "instrument_source_str": _str,
}
OUTPUT_KEYS = ("note_str", "audio", "pitch", "velocity", "instrument", "instrument_family",
               "instrument_source", "qualities")
_INT_OUTPUTS = OUTPUT_KEYS[2:]
_FILTER_KEYS = ("pitch", "instrument_source")


def parse_example(serialized: tf.Tensor, fields: Iterable[str] | None = None,
                  audio_length: int = AUDIO_LENGTH) -> dict[str, tf.Tensor]:
    """Parses one serialized NSynth ``tf.train.Example``, checking every field is present.

    Args:
        serialized: scalar string tensor; fields: FEATURE_SPEC keys to parse (default all);
        audio_length: samples the ``audio`` field must hold.

    Returns:
        Dict with FEATURE_SPEC's dtypes: scalars ``[]``, ``audio`` ``[audio_length]`` float32,
        ``qualities`` ``[10]`` int64, ``qualities_str`` ``[n]`` string (may be empty).

    Raises:
        ValueError (eager) / tf.errors.InvalidArgumentError (in a graph or tf.data map):
            "NSynth record is missing field 'pitch'", or a field holding the wrong number of
            values (e.g. audio not ``audio_length`` samples).
    """
    keys = list(FEATURE_SPEC) if fields is None else list(fields)
    unknown = [k for k in keys if k not in FEATURE_SPEC]
    if unknown:
        raise ValueError(f"unknown NSynth fields {unknown}; valid: {list(FEATURE_SPEC)}")
    # Ragged features never fail on a missing key (they give 0 values), so the check below can
    # name the field instead of TF's generic "is required but could not be found".
    spec = {k: tf.io.RaggedFeature(FEATURE_SPEC[k].dtype) for k in keys}
    raw = tf.io.parse_single_example(serialized, spec)
    eager = tf.executing_eagerly()
    checks, shapes = [], {}
    for key in (k for k in keys if isinstance(FEATURE_SPEC[k], tf.io.FixedLenFeature)):
        shapes[key] = [audio_length] if key == "audio" else FEATURE_SPEC[key].shape
        expected, size = int(np.prod(shapes[key])), tf.size(raw[key])
        missing = f"NSynth record is missing field '{key}'"
        wrong = f"NSynth record field '{key}' must hold {expected} values, found"
        if eager:
            if int(size) == 0:
                raise ValueError(missing)
            if int(size) != expected:
                raise ValueError(f"{wrong} {int(size)}")
        else:
            checks.append(tf.debugging.Assert(size > 0, [missing]))
            checks.append(tf.debugging.Assert(tf.equal(size, expected), [wrong, size]))
    with tf.control_dependencies(checks):  # reshape only after the checks named the field
        return {k: tf.reshape(raw[k], shapes[k]) if k in shapes else tf.identity(raw[k])
                for k in keys}


def gansynth_filter(example: dict, pitches: Sequence[int] = GANSYNTH_PITCHES,
                    sources: Sequence[int] = GANSYNTH_SOURCES) -> tf.Tensor:
    """The GANSynth subset predicate, for ``Dataset.filter`` (gansynth.md section 3).

    Keeps acoustic instruments (``instrument_source`` in ``sources``; the first GANSynth code
    used 1 = electronic by mistake, magenta#1607) with ``pitches[0] <= pitch <= pitches[1]``.

    Args:
        example: dict with integer ``pitch`` and ``instrument_source``, scalars or ``[batch]``.
        pitches: inclusive MIDI range; sources: instrument_source ids to keep.

    Returns:
        bool tensor shaped like ``pitch``.
    """
    pitch, source = (tf.cast(example[k], tf.int64) for k in _FILTER_KEYS)
    allowed = tf.equal(tf.expand_dims(source, -1), tf.constant(list(sources), tf.int64))
    return tf.reduce_any(allowed, axis=-1) & (pitch >= pitches[0]) & (pitch <= pitches[1])


def gansynth_split_ids(csv_path: str | os.PathLike, split: str) -> list[str]:
    """note_str ids of one split of ``nsynth-gansynth_splits.csv`` (columns ``id,split``)."""
    split = _split_name(split)
    with open(csv_path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    if rows and not {"id", "split"} <= set(rows[0]):
        raise ValueError(f"'{csv_path}' needs columns 'id' and 'split', got {list(rows[0])}")
    return [r["id"] for r in rows if r["split"] == split]


def _split_name(split: str) -> str:
    split = {"validation": "valid"}.get(split, split)
    if split not in SPLITS:
        raise ValueError(f"unknown NSynth split '{split}'; valid splits: {', '.join(SPLITS)}")
    return split


def find_tfrecords(data_dir: str | os.PathLike, split: str) -> list[Path]:
    """TFRecord files of a split (see the module docstring), sorted; [] if there are none."""
    split, root = _split_name(split), Path(data_dir)
    found = []
    for pattern in (f"nsynth-{split}.tfrecord*", f"*/nsynth-{split}.tfrecord*"):
        for path in sorted(root.glob(pattern)):
            if path.is_dir():
                found += sorted(p for p in path.iterdir() if p.is_file()
                                and not p.name.startswith("."))
            elif not path.name.endswith(".tar"):
                found.append(path)
    return found


def _read_examples_json(split_dir: Path) -> list[dict]:
    path = split_dir / "examples.json"
    with open(path) as handle:
        notes = json.load(handle)
    if not isinstance(notes, dict):
        raise ValueError(f"'{path}' must hold a dict keyed by note_str")
    rows = []
    for key, value in notes.items():
        missing = [f for f in _INT_OUTPUTS if f not in value]
        if missing:
            raise ValueError(f"NSynth record '{key}' in '{path}' is missing field '{missing[0]}'")
        if np.shape(value["qualities"]) != (len(QUALITIES),):
            raise ValueError(f"NSynth record '{key}' in '{path}': qualities must hold "
                             f"{len(QUALITIES)} values, found {np.shape(value['qualities'])}")
        note = value.get("note_str", key)
        rows.append({**{f: value[f] for f in _INT_OUTPUTS}, "note_str": note,
                     "path": str(split_dir / "audio" / f"{note}.wav")})
    return rows


def _json_wav_dataset(rows: list[dict], audio_length: int, strict: bool,
                      log: logging.Logger, shuffle_seed: int | None = None) -> tf.data.Dataset:
    meta = {k: np.array([r[k] for r in rows], np.int32).reshape(-1) for k in _INT_OUTPUTS[:-1]}
    meta["qualities"] = np.array([r["qualities"] for r in rows], np.int32).reshape(-1, 10)
    for key in ("note_str", "path"):
        meta[key] = np.array([r[key].encode() for r in rows] or [b""])[:len(rows)]

    policy = SkipPolicy(strict, log)  # no summary line: the dataset may be read many times

    def decode(path: bytes) -> tuple[np.ndarray, bool]:
        audio = policy.decode(path.decode(), SAMPLE_RATE)
        if audio is None:
            return np.zeros([audio_length], np.float32), False
        if audio.shape[0] != audio_length:
            raise ValueError(f"NSynth audio file '{path.decode()}' has {audio.shape[0]} samples "
                             f"at {SAMPLE_RATE} Hz, expected {audio_length}")
        return audio, True

    def load(row):
        audio, ok = tf.numpy_function(decode, [row["path"]], [tf.float32, tf.bool])
        row = {k: tf.ensure_shape(audio, [audio_length]) if k == "audio" else row[k]
               for k in OUTPUT_KEYS}
        return row, ok

    ds = tf.data.Dataset.from_tensor_slices(meta)
    if shuffle_seed is not None:  # every note's metadata: the whole set, before decoding
        ds = ds.shuffle(max(len(rows), 1), seed=shuffle_seed, reshuffle_each_iteration=True)
    ds = ds.map(load, num_parallel_calls=tf.data.AUTOTUNE)
    ds = ds.filter(lambda row, ok: ok)  # one lambda per line: autograph needs to tell them apart
    return ds.map(lambda row, ok: row)


def nsynth_dataset(data_dir: str | os.PathLike, split: str = "train", *, layout: str = "auto",
                   gansynth_subset: bool = False,
                   gansynth_splits: str | os.PathLike | None = None,
                   audio_length: int = AUDIO_LENGTH, strict: bool = False,
                   log: logging.Logger = _LOG,
                   shuffle_seed: int | None = None) -> tf.data.Dataset:
    """NSynth notes as a dataset of OUTPUT_KEYS dicts, in file order unless ``shuffle_seed``.

    Args:
        data_dir: folder holding ``nsynth-<split>.tfrecord*`` or ``nsynth-<split>/``.
        split: "train", "valid" (alias "validation") or "test".
        layout: "tfrecord", "jsonwav", or "auto" (TFRecord when found, else json+wav).
        gansynth_subset: keep only :func:`gansynth_filter` notes (filtered before decoding).
        gansynth_splits: path of ``nsynth-gansynth_splits.csv``: read every original split
            present and keep the notes the CSV assigns to ``split`` (the GANSynth re-split,
            instruments shared across splits; gansynth.md section 3).
        audio_length: samples per note; any other length is an error.
        strict: raise on an undecodable wav instead of skipping it with a warning.
        log: logger for skipped files.
        shuffle_seed: None = file order; an int = a seeded random order over every note read
            (all files of the split(s)), a new order each time the dataset is iterated (for
            ``repeat``), permuted before any audio is read or decoded: json+wav shuffles the
            metadata rows, TFRecord the index of record positions (uncompressed files only;
            :func:`tfrecord_index`). Filters then keep the permutation's order.

    Returns:
        ``tf.data.Dataset`` of dicts: ``audio [audio_length]`` float32, ``note_str`` string,
        int32 scalars ``pitch, velocity, instrument, instrument_family, instrument_source``,
        ``qualities [10]`` int32.

    Raises:
        FileNotFoundError: ``data_dir`` missing, or no files of the layout (names the search).
        ValueError: unknown split or layout, or a json record missing a field.
    """
    root = Path(data_dir)
    if not root.is_dir():
        raise FileNotFoundError(f"NSynth data directory '{root}' does not exist")
    if layout not in ("auto", "tfrecord", "jsonwav"):
        raise ValueError(f"unknown NSynth layout '{layout}'; use auto, tfrecord or jsonwav")
    split = _split_name(split)
    sources = list(SPLITS) if gansynth_splits is not None else [split]
    records = {s: find_tfrecords(root, s) for s in sources}
    jsons = {s: root / f"nsynth-{s}" / "examples.json" for s in sources}
    use_tf = layout == "tfrecord" or (layout == "auto" and any(records.values()))
    if not (any(records.values()) if use_tf else any(p.is_file() for p in jsons.values())):
        searched = [f"{root}/nsynth-{s}.tfrecord*, {root}/*/nsynth-{s}.tfrecord*"
                    for s in sources if layout != "jsonwav"]
        searched += [str(p) for p in jsons.values() if layout != "tfrecord"]
        raise FileNotFoundError(f"no NSynth {split} data found; searched {'; '.join(searched)}")
    keep_ids = None
    if gansynth_splits is not None:
        keep_ids = gansynth_split_ids(gansynth_splits, split)
        if not keep_ids:
            raise ValueError(f"'{gansynth_splits}' assigns no notes to split '{split}'")
        log.info("GANSynth split '%s': %d ids; reading original splits %s", split,
                 len(keep_ids), [s for s in sources if records[s] or jsons[s].is_file()])

    if not use_tf:
        rows = [r for s in sources if jsons[s].is_file()
                for r in _read_examples_json(jsons[s].parent)]
        wanted = set(keep_ids or ())
        rows = [r for r in rows if keep_ids is None or r["note_str"] in wanted]
        if gansynth_subset and rows:
            keep = gansynth_filter({k: [r[k] for r in rows] for k in _FILTER_KEYS}).numpy()
            rows = [r for r, k in zip(rows, keep) if k]
        return _json_wav_dataset(rows, audio_length, strict, log, shuffle_seed)

    files = [f for s in sources for f in records[s]]
    ds = (tfrecord_reader(files) if shuffle_seed is None
          else shuffled_tfrecord_reader(files, shuffle_seed))
    if keep_ids is not None:
        table = tf.lookup.StaticHashTable(tf.lookup.KeyValueTensorInitializer(
            tf.constant(keep_ids, tf.string), tf.ones([len(keep_ids)], tf.int32)), default_value=0)
        ds = ds.filter(lambda s: tf.equal(
            table.lookup(parse_example(s, ["note_str"])["note_str"]), 1))
    if gansynth_subset:  # parse two scalars first, so skipped notes' audio is never parsed
        ds = ds.filter(lambda s: gansynth_filter(parse_example(s, _FILTER_KEYS)))

    def outputs(serialized):  # OUTPUT_KEYS, integers as int32
        parsed = parse_example(serialized, OUTPUT_KEYS, audio_length)
        return {k: tf.cast(v, tf.int32) if k in _INT_OUTPUTS else v for k, v in parsed.items()}

    return ds.map(outputs, num_parallel_calls=tf.data.AUTOTUNE)


def pitch_labelled(notes: tf.data.Dataset, min_pitch: int, max_pitch: int) -> tf.data.Dataset:
    """Notes of :func:`nsynth_dataset` with a pitch in ``[min_pitch, max_pitch]`` as
    ``(audio [audio_length], pitch - min_pitch)``: the class index of GANSynth's conditioning
    and of the pitch classifier."""
    notes = notes.filter(lambda e: (e["pitch"] >= min_pitch) & (e["pitch"] <= max_pitch))
    return notes.map(lambda e: (e["audio"], e["pitch"] - min_pitch),
                     num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)


def pitch_histogram(data: tf.data.Dataset | Iterable[int], num_pitches: int = 128) -> np.ndarray:
    """Counts of each MIDI pitch: GANSynth draws fake pitches from the train histogram.

    Args:
        data: a dataset of dicts with ``pitch`` (scalar or ``[batch]``) or of pitch tensors, or
            an array-like of pitches; num_pitches: histogram length (MIDI: 128).

    Returns:
        int64 ``[num_pitches]``; entry p counts notes of pitch p.

    Raises:
        ValueError / tf.errors.InvalidArgumentError: a pitch outside ``[0, num_pitches)``.
    """
    if not isinstance(data, tf.data.Dataset):
        pitches = np.asarray(list(data), np.int64).reshape(-1)
        if pitches.size and (pitches.min() < 0 or pitches.max() >= num_pitches):
            raise ValueError(f"pitches must lie in [0, {num_pitches}), found "
                             f"{pitches.min()}..{pitches.max()}")
        return np.bincount(pitches, minlength=num_pitches).astype(np.int64)

    def count(acc, element):
        pitch = element["pitch"] if isinstance(element, dict) else element
        pitch = tf.reshape(tf.cast(pitch, tf.int32), [-1])
        ok = tf.debugging.Assert(tf.reduce_all((pitch >= 0) & (pitch < num_pitches)),
                                 [f"pitches must lie in [0, {num_pitches}), found", pitch])
        with tf.control_dependencies([ok]):
            return acc + tf.math.bincount(pitch, minlength=num_pitches, maxlength=num_pitches,
                                          dtype=tf.int64)

    return data.reduce(tf.zeros([num_pitches], tf.int64), count).numpy()
