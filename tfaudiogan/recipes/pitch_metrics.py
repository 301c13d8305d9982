"""Scores a trained generator with the NSynth pitch classifier, beside a real-data row.

GANSynth (reference/gansynth.md section 4) and the DDSP-GAN use this after training. Two rows
come out, each measured against the same reference set ``A`` of real notes:

* ``real_data``: a second, disjoint set ``B`` of real notes with their true pitches (the
  calibration row: the values a perfect generator would reach at this sample size);
* ``generated``: as many generated notes, with the pitches they were asked for (or none, for
  an unconditional generator: then pitch accuracy is left out).

Each row holds the inception score (y = pitch), pitch accuracy, pitch entropy, the Frechet
distance on the classifier's embedding and, with at least ``2 * ndb_bins`` notes, NDB / JSD
(:func:`tfaudiogan.metrics.gansynth.gansynth_metrics`). Notes whose length differs from the
classifier's input are cut or padded with zeros at the end (NSynth notes fade to silence).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from tfaudiogan import data
from tfaudiogan.configs.pitch_classifier import FAMILY, PitchMetricsConfig
from tfaudiogan.metrics.gansynth import MIN_PITCH, gansynth_metrics
from tfaudiogan.recipes.pitch_classifier import MODEL_FILE, load_classifier


def find_classifier(path: str, logger: logging.Logger) -> keras.Model | None:
    """Loads the classifier at ``path`` (the .keras file or its run directory).

    Returns:
        The model, or None when ``path`` is empty (scoring off) or does not exist (a warning
        names the path and the command that trains a classifier).
    """
    if not path:
        return None
    file = Path(path)
    if file.is_dir():
        file = file / MODEL_FILE
    if not file.is_file():
        logger.warning("pitch metrics skipped: no classifier at '%s'. Train one with `python -m "
                       "tfaudiogan.experiments.%s` (add --data_dir for NSynth) and pass --set "
                       "eval.classifier=<its run directory>", path, FAMILY)
        return None
    return load_classifier(file)


def fit_length(audio, length: int) -> np.ndarray:
    """``[n, samples]`` -> ``[n, length]``: cut at the end or padded with zeros."""
    audio = np.asarray(audio, np.float32)
    if audio.shape[1] >= length:
        return audio[:, :length]
    return np.pad(audio, [(0, 0), (0, length - audio.shape[1])])


def synthetic_reference(n: int, sample_rate: int, samples: int, pitches, seed: int
                        ) -> tuple[np.ndarray, np.ndarray]:
    """``n`` fresh built-in synthetic notes (``tfaudiogan.data.synthetic_notes``).

    Returns:
        ``(audio [n, samples] float32, pitch [n] int32 MIDI)``. Use a seed other than the
        training notes' so the reference is disjoint from them.
    """
    notes = data.load("synthetic_notes", n=n, sample_rate=sample_rate,
                      seconds=samples / sample_rate, pitches=pitches, seed=seed)
    return np.asarray(notes["audio"], np.float32)[:, :samples], notes["pitch"].astype(np.int32)


def dataset_reference(notes: tf.data.Dataset, n: int, seed: int, shuffle_buffer: int
                      ) -> tuple[np.ndarray, np.ndarray]:
    """``n`` notes of a dataset of ``(audio [samples], MIDI pitch)`` after a seeded shuffle.

    Raises:
        ValueError: the dataset holds fewer than ``n`` notes.
    """
    audio, pitch = [], []
    for a, p in notes.shuffle(shuffle_buffer, seed=seed).take(n).as_numpy_iterator():
        audio.append(a)
        pitch.append(p)
    if len(audio) < n:
        raise ValueError(f"the reference needs {n} real notes, the dataset has {len(audio)}; "
                         "lower eval.notes")
    return np.stack(audio).astype(np.float32), np.asarray(pitch, np.int32)


def generate_notes(generate: Callable, latent_size: int, n: int, batch_size: int,
                   pitches: np.ndarray | None, seed: int,
                   logger: logging.Logger | None = None) -> np.ndarray:
    """Calls ``generate(z [b, latent_size], pitch [b] or None) -> audio [b, samples]`` in batches.

    Latents are standard normal from ``seed``. Returns ``[n, samples]`` float32.
    """
    z = np.random.default_rng(seed).standard_normal([n, latent_size]).astype(np.float32)
    out, start = [], time.perf_counter()
    for i in range(0, n, batch_size):
        part = None if pitches is None else pitches[i:i + batch_size]
        out.append(np.asarray(generate(z[i:i + batch_size], part), np.float32))
        if logger is not None and (len(out) % 25 == 0 or i + batch_size >= n):
            logger.info("pitch metrics: generated %d/%d notes (%.0f s)", min(i + batch_size, n),
                        n, time.perf_counter() - start)
    return np.concatenate(out)


def score(classifier: keras.Model, fake_audio, fake_pitches, real_audio, real_pitches,
          config: PitchMetricsConfig) -> dict:
    """The ``real_data`` and ``generated`` rows (see the module docstring).

    Args:
        classifier: the trained pitch classifier (input ``[batch, length]``).
        fake_audio: ``[n, samples]`` generated notes; ``fake_pitches`` ``[n]`` MIDI or None.
        real_audio: ``[2m, samples]`` real notes; the first half is the reference ``A``, the
            second the calibration set ``B``; ``real_pitches`` ``[2m]`` MIDI.
        config: splits and NDB settings.

    The classifier's classes are MIDI 24..84 (class 0 = ``MIN_PITCH``), as trained by
    recipes/pitch_classifier.py.

    Returns:
        ``{"real_data": row, "generated": row, "reference_notes": m, "generated_notes": n}``.
    """
    length = int(classifier.inputs[0].shape[-1])
    real = fit_length(real_audio, length)
    half = len(real) // 2
    if half < config.is_splits or len(fake_audio) < config.is_splits:
        raise ValueError(f"need at least {config.is_splits} notes per set (is_splits), got "
                         f"{half} real and {len(fake_audio)} generated")
    settings = dict(splits=config.is_splits, ndb_bins=config.ndb_bins, alpha=config.ndb_alpha,
                    seed=config.seed, min_pitch=MIN_PITCH)
    reference = real[:half]
    rows = {"real_data": gansynth_metrics(classifier, real[half:2 * half],
                                          np.asarray(real_pitches)[half:2 * half], reference,
                                          **settings),
            "generated": gansynth_metrics(classifier, fit_length(fake_audio, length),
                                          fake_pitches, reference, **settings)}
    return {**rows, "reference_notes": half, "generated_notes": len(fake_audio)}


def row_summary(row: dict) -> str:
    """One log line: ``IS 35.3 PA 1.000 PE 0.018 FD 57.5 NDB 2 JSD 0.015``."""
    parts = [f"IS {row['inception_score']['mean']:.2f}"]
    if row.get("pitch_accuracy") is not None:
        parts.append(f"PA {row['pitch_accuracy']:.3f}")
    parts += [f"PE {row['pitch_entropy']:.3f}", f"FD {row['frechet_distance']:.1f}"]
    if "ndb" in row:
        parts += [f"NDB {row['ndb']}", f"JSD {row['jsd']:.3f}"]
    return " ".join(parts)
