"""GANSynth's notes: NSynth (the GANSynth subset splits CSV) or built-in notes, encoded
to normalised ``[batch, time, freq, 2]`` spectrogram images for a stage's training dataset.

The paper preset reads the subset named by ``nsynth-gansynth_splits.csv`` (reference
``lib/datasets.py``) in a seeded order over the whole training set; see :func:`load_notes`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import tensorflow as tf

from tfaudiogan import data
from tfaudiogan.audio.batching import encode_in_batches
from tfaudiogan.audio.gansynth import (
    GANSynthSpectrogram,
    normalise,
)
from tfaudiogan.configs.gansynth import GANSynthConfig
from tfaudiogan.data.nsynth import gansynth_split_ids
from tfaudiogan.data.order import shuffled_examples
from tfaudiogan.training import cluster

SPLITS_CSV = "nsynth-gansynth_splits.csv"
SPLITS_URL = f"http://download.magenta.tensorflow.org/datasets/nsynth/{SPLITS_CSV}"


def splits_csv(config: GANSynthConfig, data_dir) -> Path | None:
    """The GANSynth subset CSV that ``data.gansynth_splits`` names, or None for "none"/"".

    Raises:
        FileNotFoundError: the CSV is missing (one line saying where to get it).
    """
    value = config.data.gansynth_splits
    if value in ("", "none"):
        return None
    path = Path(data_dir) / SPLITS_CSV if value == "auto" else Path(value)
    if not path.is_file():
        raise FileNotFoundError(
            f"GANSynth subset splits '{path}' not found: download {SPLITS_URL} into the data "
            f"directory (or --set data.gansynth_splits=PATH; 'none' trains on nsynth-train "
            "filtered to acoustic 24-84 instead, not the paper's data)")
    return path


def nsynth_notes(config: GANSynthConfig, data_dir, logger,
                 shuffle_seed: int | None = None) -> tf.data.Dataset:
    """NSynth training notes ``(audio [audio_length], label int32)``: file order, or with
    ``shuffle_seed`` a seeded permutation of all of them, new at each iteration."""
    d, m, s = config.data, config.model, config.spectrogram
    return data.pitch_labelled(
        data.load("nsynth", data_dir, "train", layout=d.layout, gansynth_subset=True,
                  gansynth_splits=splits_csv(config, data_dir), audio_length=s.audio_length,
                  strict=d.strict, log=logger, shuffle_seed=shuffle_seed),
        m.min_pitch, m.max_pitch)


def synthetic_pitches(config: GANSynthConfig) -> list[int]:
    """MIDI pitches of the built-in notes: ``data.synthetic_pitches``, or every pitch of
    ``model.min_pitch..max_pitch`` when it is empty.

    Raises:
        ValueError: a pitch outside the one-hot's range.
    """
    m = config.model
    pitches = sorted(set(int(p) for p in config.data.synthetic_pitches))
    if not pitches:
        return list(range(m.min_pitch, m.max_pitch + 1))
    if pitches[0] < m.min_pitch or pitches[-1] > m.max_pitch:
        raise ValueError(f"data.synthetic_pitches {pitches} must lie in "
                         f"{m.min_pitch}..{m.max_pitch}")
    return pitches


def load_notes(config: GANSynthConfig, data_dir, logger) -> tuple[tf.data.Dataset, np.ndarray]:
    """Training notes (file order) and the pitch histogram.

    Returns:
        ``(dataset of (audio [audio_length], label int32), counts [num_pitches] int64)`` with
        ``label = pitch - min_pitch``.
    """
    d, m, s = config.data, config.model, config.spectrogram
    pitches = synthetic_pitches(config)
    if d.dataset == "synthetic":
        notes = data.load("synthetic_notes", n=d.synthetic_notes, sample_rate=s.sample_rate,
                          seconds=s.audio_length / s.sample_rate, pitches=pitches,
                          seed=config.train.seed, noise_rms=d.synthetic_noise_rms)
        labels = notes["pitch"].astype(np.int32) - m.min_pitch
        counts = np.bincount(labels, minlength=m.num_pitches).astype(np.int64)
        logger.info("%d synthetic notes, %d distinct pitches of %s (one-hot %d-%d)",
                    len(labels), np.count_nonzero(counts),
                    pitches if config.data.synthetic_pitches else "all",
                    m.min_pitch, m.max_pitch)
        return tf.data.Dataset.from_tensor_slices((notes["audio"], labels)), counts
    if d.dataset != "nsynth":
        raise ValueError(f"unknown dataset '{d.dataset}'; use 'nsynth' or 'synthetic'")
    if data_dir is None:
        raise ValueError("dataset 'nsynth' needs --data_dir (or --preset demo)")
    if d.shuffle not in ("full", "buffer"):
        raise ValueError(f"data.shuffle must be 'full' or 'buffer', got '{d.shuffle}'")
    csv_path = splits_csv(config, data_dir)
    ds = nsynth_notes(config, data_dir, logger)
    histogram = data.pitch_histogram(ds.map(lambda audio, label: label), m.num_pitches)
    if histogram.sum() == 0:
        raise ValueError(f"no NSynth training notes in '{data_dir}' pass the GANSynth filter")
    summary = data_summary(config, data_dir, histogram)
    if csv_path is None:
        logger.info("NSynth nsynth-train filtered to acoustic %d-%d: %d training notes (no "
                    "splits CSV: not the paper's subset)", m.min_pitch, m.max_pitch,
                    summary["training_notes"])
    else:
        logger.info("NSynth GANSynth subset (%s): %d training notes read of %d train ids "
                    "listed (reference: 60,788)", csv_path, summary["training_notes"],
                    summary["csv_train_ids"])
    return ds, histogram


def data_summary(config: GANSynthConfig, data_dir, counts) -> dict:
    """What was read, for the run log and ``metrics.json["data"]``: the dataset, the number of
    training notes (the pitch histogram's sum) and, with a splits CSV, its path and the number
    of train ids it lists (a difference means notes of the CSV were not found)."""
    summary = {"dataset": config.data.dataset, "training_notes": int(np.sum(counts))}
    if config.data.dataset == "nsynth":
        csv_path = splits_csv(config, data_dir)
        summary["splits_csv"] = None if csv_path is None else str(csv_path)
        if csv_path is not None:
            summary["csv_train_ids"] = len(gansynth_split_ids(csv_path, "train"))
    return summary


def encoded_notes(notes: tf.data.Dataset, rep: GANSynthSpectrogram,
                  config: GANSynthConfig) -> tuple[np.ndarray, np.ndarray] | None:
    """The built-in synthetic notes encoded once up front (a few dozen notes):
    ``(specs [n, time, bins, 2] in [-1, 1], labels [n])``; None for NSynth, whose notes are
    encoded per batch inside the pipeline."""
    if config.data.dataset != "synthetic":
        return None
    encode = tf.function(lambda audio: normalise(rep.encode(audio)))
    audio, labels = (np.stack(a) for a in zip(*notes.as_numpy_iterator()))
    return encode_in_batches(encode, audio, 8), labels


def training_dataset(notes: tf.data.Dataset | Callable[[int], tf.data.Dataset],
                     rep: GANSynthSpectrogram,
                     config: GANSynthConfig, stage: int = 0, skip_batches: int = 0,
                     encoded: tuple[np.ndarray, np.ndarray] | None = None,
                     strategy: tf.distribute.Strategy | None = None) -> tf.data.Dataset:
    """Shuffled, repeated batches ``(specs [batch, time, bins, 2] in [-1, 1], labels [batch])``
    for one stage.

    Each stage gets a new pipeline shuffled with seed ``train.seed + stage``, so a stage's
    batches do not depend on how many sessions trained the earlier ones. ``notes``: a dataset
    in file order (shuffled through ``data.shuffle_buffer``), or a function ``seed -> dataset``
    giving the notes in a seeded order over the whole set (:func:`nsynth_notes` with
    ``shuffle_seed``; ``data.shuffle="full"``). ``encoded``: the synthetic notes from
    :func:`encoded_notes` (else NSynth notes are encoded per batch).
    ``skip_batches`` drops the first batches before they are encoded (the data position of a
    resumed stage costs no encoding). With several workers (``strategy``) each worker reads,
    decodes and encodes only its own share of the NSynth notes (training/cluster.py).
    """
    t = config.train
    seed = t.seed + stage
    if encoded is not None:
        specs, labels = encoded
        ds = shuffled_examples((specs, labels), seed)  # data/order.py: same from any iterator
        return ds.batch(t.batch_size, drop_remainder=True).skip(skip_batches).prefetch(
            tf.data.AUTOTUNE)
    encode = tf.function(lambda audio: normalise(rep.encode(audio)))
    shard = (lambda ds: ds) if strategy is None else (
        lambda ds: cluster.worker_shard(ds, strategy))
    if callable(notes):  # whole-set order (the same on every worker), a new one per epoch
        ds = shard(notes(seed)).repeat()
    else:
        ds = shard(notes).shuffle(config.data.shuffle_buffer, seed=seed).repeat()
    ds = ds.batch(t.batch_size, drop_remainder=True).skip(skip_batches)
    ds = ds.map(lambda audio, label: (encode(audio), label),  # parallel, order kept
                num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.prefetch(tf.data.AUTOTUNE)
