"""TFRecord files read in order or in a seeded random order over all their records.

A random order over a whole set that does not fit in memory needs random access: :func:`tfrecord_index`
finds each record's byte range from the 12-byte headers, and :func:`shuffled_tfrecord_reader` reads
records by seeking to them (uncompressed files only).
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import numpy as np
import tensorflow as tf

__all__ = ["shuffled_tfrecord_reader", "tfrecord_index", "tfrecord_reader"]


def tfrecord_reader(files: list[Path]) -> tf.data.Dataset:
    """The serialized records of ``files`` in file order; GZIP when every name ends in ``.gz``.

    Raises:
        ValueError: some files are GZIP and others are not.
    """
    gz = [f.name.endswith(".gz") for f in files]
    if any(gz) and not all(gz):
        raise ValueError(f"mixed GZIP and plain TFRecord files: {[str(f) for f in files]}")
    return tf.data.TFRecordDataset([str(f) for f in files], "GZIP" if all(gz) else "")


def tfrecord_index(path: str | os.PathLike) -> np.ndarray:
    """Where each record of an uncompressed TFRecord file lies: ``[n, 2]`` int64 rows of
    ``(byte offset of the record's data, its length)``. Reads only the 12-byte headers (each
    record is ``uint64 length, uint32 crc, data, uint32 crc``), seeking over the data.

    Raises:
        ValueError: a GZIP file (no random access) or a truncated record.
    """
    path = Path(path)
    if path.name.endswith(".gz"):
        raise ValueError(f"'{path}' is GZIP-compressed: a whole-set shuffle needs random "
                         "access; decompress it (gunzip) first")
    rows, size = [], path.stat().st_size
    with open(path, "rb") as handle:
        pos = 0
        while pos < size:
            header = handle.read(12)
            (length,) = struct.unpack("<Q", header[:8]) if len(header) == 12 else (size,)
            if pos + 12 + length + 4 > size:
                raise ValueError(f"'{path}': truncated TFRecord at byte {pos}")
            rows.append((pos + 12, length))
            pos += 12 + length + 4
            handle.seek(pos)
    return np.array(rows, np.int64).reshape(-1, 2)


def shuffled_tfrecord_reader(files: list[Path], seed: int) -> tf.data.Dataset:
    """The serialized records of ``files`` in a seeded random order over all of them, a new
    order at every iteration (``repeat``): each record is read by seeking to it, so the
    whole set is permuted without holding it in memory (the published files are ordered by
    instrument, which a bounded shuffle buffer does not mix)."""
    index = [tfrecord_index(f) for f in files]
    file_ids = np.concatenate([np.full(len(ix), i, np.int64) for i, ix in enumerate(index)])
    table = np.concatenate(index) if index else np.zeros([0, 2], np.int64)
    names = [str(f) for f in files]

    def read(file_id, offset, length) -> bytes:
        with open(names[int(file_id)], "rb") as handle:
            handle.seek(int(offset))
            return handle.read(int(length))

    def load(file_id, offset, length):
        record = tf.numpy_function(read, [file_id, offset, length], tf.string, stateful=False)
        return tf.ensure_shape(record, [])

    ds = tf.data.Dataset.from_tensor_slices((file_ids, table[:, 0], table[:, 1]))
    ds = ds.shuffle(max(len(file_ids), 1), seed=seed, reshuffle_each_iteration=True)
    return ds.map(load, num_parallel_calls=tf.data.AUTOTUNE)
