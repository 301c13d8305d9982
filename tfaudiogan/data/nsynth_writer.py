"""Writes NSynth notes in both published layouts (TFRecord, json+wav): test trees and tools.

Notes are dicts of NSynth fields (:data:`tfaudiogan.data.nsynth.FEATURE_SPEC`) with ``audio`` a
float ``[samples]`` array; :func:`complete_example` fills the fields not given by NSynth's naming rules.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import soundfile as sf
import tensorflow as tf

from tfaudiogan.data.nsynth import FAMILIES, FEATURE_SPEC, QUALITIES, SAMPLE_RATE, SOURCES

__all__ = ["complete_example", "to_tf_example", "write_json_wav", "write_tfrecord"]

_PROTO_LISTS = {tf.float32: ("float_list", tf.train.FloatList),
                tf.int64: ("int64_list", tf.train.Int64List),
                tf.string: ("bytes_list", tf.train.BytesList)}


def complete_example(example: dict, index: int = 0) -> dict:
    """Fills the NSynth fields not given (needs ``audio``, ``pitch``): velocity 100, family,
    source, instrument and qualities 0, note ``index``, sample_rate 16000, and ``*_str`` by the
    NSynth naming rules (``<family>_<source>_<NNN>-<pitch:03d>-<velocity:03d>`` for note_str)."""
    ex = {"velocity": 100, "instrument_family": 0, "instrument_source": 0, "instrument": 0,
          "note": index, "sample_rate": SAMPLE_RATE, "qualities": [0] * len(QUALITIES),
          **example}
    ex.setdefault("qualities_str", [q for q, v in zip(QUALITIES, ex["qualities"]) if v])
    ex.setdefault("instrument_family_str", FAMILIES[int(ex["instrument_family"])])
    ex.setdefault("instrument_source_str", SOURCES[int(ex["instrument_source"])])
    ex.setdefault("instrument_str", f"{ex['instrument_family_str']}_"
                  f"{ex['instrument_source_str']}_{int(ex['instrument']):03d}")
    ex.setdefault("note_str", f"{ex['instrument_str']}-{int(ex['pitch']):03d}-"
                  f"{int(ex['velocity']):03d}")
    return ex


def to_tf_example(example: dict, complete: bool = True) -> tf.train.Example:
    """A ``tf.train.Example`` of the given fields (completed unless ``complete=False``)."""
    ex = complete_example(example) if complete else example
    feature = {}
    for key, value in ex.items():
        if key not in FEATURE_SPEC:
            raise ValueError(f"'{key}' is not an NSynth field; valid: {list(FEATURE_SPEC)}")
        values = np.asarray(value).reshape(-1).tolist()
        kind, cls = _PROTO_LISTS[FEATURE_SPEC[key].dtype]
        if cls is tf.train.BytesList:
            values = [v if isinstance(v, bytes) else str(v).encode() for v in values]
        feature[key] = tf.train.Feature(**{kind: cls(value=values)})
    return tf.train.Example(features=tf.train.Features(feature=feature))


def write_tfrecord(path: str | os.PathLike, examples: Sequence[dict],
                   complete: bool = True) -> None:
    """Writes notes (dicts of NSynth fields, ``audio`` float ``[samples]``) as TFRecords, GZIP
    when ``path`` ends in ``.gz``. ``complete=False`` writes exactly the given fields (e.g. a
    malformed record for a test) instead of :func:`complete_example`'s."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    options = tf.io.TFRecordOptions("GZIP" if path.name.endswith(".gz") else "")
    with tf.io.TFRecordWriter(str(path), options) as writer:
        for i, ex in enumerate(examples):
            ex = complete_example(ex, i) if complete else ex
            writer.write(to_tf_example(ex, complete=False).SerializeToString())


def write_json_wav(directory: str | os.PathLike, examples: Sequence[dict]) -> None:
    """Writes notes in the json+wav layout of one split folder (e.g. ``<root>/nsynth-train``):
    ``examples.json`` (every field but audio) and ``audio/<note_str>.wav``, 16-bit PCM at the
    note's sample_rate (floats are rounded to ``k / 32768``, which reads back exactly)."""
    directory = Path(directory)
    (directory / "audio").mkdir(parents=True, exist_ok=True)
    notes = {}
    for i, ex in enumerate(examples):
        ex = complete_example(ex, i)
        pcm = np.clip(np.round(np.asarray(ex["audio"], np.float64) * 32768), -32768, 32767)
        sf.write(directory / "audio" / f"{ex['note_str']}.wav", pcm.astype(np.int16),
                 int(ex["sample_rate"]), subtype="PCM_16", format="WAV")
        notes[ex["note_str"]] = {k: np.asarray(v).tolist() for k, v in ex.items() if k != "audio"}
    with open(directory / "examples.json", "w") as handle:
        json.dump(notes, handle, indent=1)
