"""Export a trained CycleGAN translator: waveform in, waveform out, any length.

The two generators work on normalised magnitude spectrograms; the exported signatures contain
the whole pipeline (matmul STFT -> chunked generator with cross-faded overlap -> inverse with the
input phase), so clients send and receive mono audio ``[batch, samples]``:

    translate_a_to_b(waveform) -> {"waveform": [batch, samples]}
    translate_b_to_a(waveform) -> {"waveform": [batch, samples]}
    serving_default            = translate_a_to_b

Every op is a TFLite builtin (DFTSTFT uses matmuls and atan2, no FFT/complex ops), so the same
graphs convert to one ``.tflite`` file holding both directions.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from tfaudiogan.audio.chunking import translate_waveform
from tfaudiogan.audio.representations import CycleGANSpectrogram, spectrogram_from_config
from tfaudiogan.export.saved_model import next_version, write_archive
from tfaudiogan.export.tflite import write_tflite

FAMILY = "cyclegan"
SIGNATURE_A_TO_B = "translate_a_to_b"
SIGNATURE_B_TO_A = "translate_b_to_a"
DEFAULT_SIGNATURE = "serving_default"
INPUT_NAME = "waveform"
OUTPUT_NAME = "waveform"
# Interleaved stereo read as a 2-D array looks like [samples, channels] with a few channels and
# many more samples than channels; surround formats go up to 8 channels (7.1).
_MAX_CHANNELS = 8
_MIN_SAMPLES_PER_CHANNEL = 1000


def check_waveform_batch(array, min_samples: int = 1) -> np.ndarray:
    """Validates client audio and returns it as float32 ``[batch, samples]``.

    Args:
        array: mono audio ``[samples]`` (a batch of one is added) or ``[batch, samples]``.
        min_samples: shortest accepted clip; exports use one STFT frame (``frame_length``,
            stored as ``min_samples`` in the export metadata).

    Returns:
        C-contiguous float32 ``[batch, samples]``.

    Raises:
        ValueError: not numeric, rank 0 or > 2, shaped like interleaved stereo
            ``[samples, channels]``, empty, shorter than ``min_samples``, or not finite.
    """
    try:
        a = np.asarray(array, dtype=np.float32)
    except (TypeError, ValueError) as error:
        raise ValueError(f"expected mono audio [batch, samples] of numbers: {error}") from error
    if a.ndim == 2 and 2 <= a.shape[1] <= _MAX_CHANNELS and (
            a.shape[0] > _MIN_SAMPLES_PER_CHANNEL * a.shape[1]):
        raise ValueError(
            f"expected mono audio [batch, samples]; got an array of shape {a.shape} that looks "
            "like stereo (samples, channels): downmix to mono first")
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2:
        raise ValueError(f"expected mono audio [batch, samples] (or [samples]); got an array of "
                         f"shape {a.shape} (rank {a.ndim})")
    if a.shape[0] == 0 or a.shape[1] == 0:
        raise ValueError(f"expected mono audio [batch, samples]; got an empty array of shape "
                         f"{a.shape}")
    if a.shape[1] < min_samples:
        raise ValueError(f"audio too short: {a.shape[1]} samples; the model needs at least "
                         f"{min_samples} samples (one STFT frame)")
    if not np.all(np.isfinite(a)):
        raise ValueError("audio contains NaN or Inf samples")
    return np.ascontiguousarray(a)


def _translator_fn(generator: keras.Model, representation: CycleGANSpectrogram,
                   chunk_frames: int, overlap_frames: int) -> Callable:
    """A tf.function ``waveform [batch, samples] -> {"waveform": [batch, samples]}``."""

    def run_generator(spec):
        return generator(spec, training=False)

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.float32, name=INPUT_NAME)])
    def translate(waveform):
        out = translate_waveform(waveform, run_generator, representation, chunk_frames,
                                 overlap_frames)
        return {OUTPUT_NAME: out}

    return translate


def translator_archive(gen_ab: keras.Model, gen_ba: keras.Model,
                       representation: CycleGANSpectrogram, chunk_frames: int,
                       overlap_frames: int) -> keras.export.ExportArchive:
    """An ExportArchive with the two translation endpoints and ``serving_default``.

    Args:
        gen_ab: generator domain a -> b on ``[batch, freq, frames, 1]`` spectrograms.
        gen_ba: generator domain b -> a.
        representation: the waveform <-> spectrogram front-end used in training.
        chunk_frames: frames per generator call (the training crop width).
        overlap_frames: frames shared by neighbouring chunks (cross-faded).

    Returns:
        The archive; each endpoint maps ``waveform [batch, samples] float32`` to
        ``{"waveform": [batch, samples]}`` of the same length (any batch, any length).
    """
    archive = keras.export.ExportArchive()
    archive.track(gen_ab)
    archive.track(gen_ba)
    a_to_b = _translator_fn(gen_ab, representation, chunk_frames, overlap_frames)
    b_to_a = _translator_fn(gen_ba, representation, chunk_frames, overlap_frames)
    archive.add_endpoint(SIGNATURE_A_TO_B, a_to_b)
    archive.add_endpoint(SIGNATURE_B_TO_A, b_to_a)
    archive.add_endpoint(DEFAULT_SIGNATURE, a_to_b)
    return archive


def translator_metadata(config, domains: Sequence[str], chunk_frames: int,
                        overlap_frames: int) -> dict:
    """The ``tfaudiogan.json`` sidecar for a translator export."""
    from tfaudiogan.configs import to_dict

    a, b = domains
    s = config.spectrogram
    return {
        "family": FAMILY,
        "name": config.name,
        "sample_rate": s.sample_rate,
        "domains": [a, b],
        "directions": {SIGNATURE_A_TO_B: {"from": a, "to": b},
                       SIGNATURE_B_TO_A: {"from": b, "to": a},
                       DEFAULT_SIGNATURE: {"from": a, "to": b}},
        "signatures": [SIGNATURE_A_TO_B, SIGNATURE_B_TO_A, DEFAULT_SIGNATURE],
        "inputs": {INPUT_NAME: "float32 [batch, samples], mono, in [-1, 1]"},
        "outputs": {OUTPUT_NAME: "float32 [batch, samples], same length as the input"},
        "min_samples": s.frame_length,  # shortest accepted input: one STFT frame
        "frame_length": s.frame_length,
        "frame_step": s.frame_step,
        "chunk_frames": chunk_frames,
        "overlap_frames": overlap_frames,
        "config": to_dict(config),
    }


def export_translator(gen_ab: keras.Model, gen_ba: keras.Model, config,
                      export_root: str | os.PathLike, domains: Sequence[str] = ("a", "b"),
                      version: int | None = None) -> dict[str, Path]:
    """Exports both translation directions as a SavedModel version and a TFLite file.

    Writes ``export_root/<config.name>/<version>/`` (TF Serving layout, with the
    ``tfaudiogan.json`` sidecar) and ``export_root/<config.name>_<version>.tflite`` holding the
    ``translate_a_to_b`` and ``translate_b_to_a`` signature runners.

    Args:
        gen_ab, gen_ba: the trained generators.
        config: the run's ``tfaudiogan.configs.cyclegan.CycleGANConfig``; its spectrogram
            section defines the front-end, ``train.crop_frames`` the chunk width and
            ``train.chunk_overlap_frames`` the overlap.
        export_root: directory receiving the model directory and the ``.tflite`` file.
        domains: names of domain a and domain b (e.g. ``("pia", "gel")``).
        version: integer version; default one above the highest existing.

    Returns:
        ``{"saved_model": version dir, "tflite": .tflite path}``.

    Raises:
        FileExistsError: the version directory or the .tflite file already exists.
        ValueError: the graph is not TFLite-builtin-only, or ``domains`` is not two names.
    """
    if len(domains) != 2:
        raise ValueError(f"domains must be two names (a, b); got {domains!r}")
    root = Path(export_root)
    base_dir = root / config.name
    if version is None:
        version = next_version(base_dir)
    tflite_path = root / f"{config.name}_{version}.tflite"
    if tflite_path.exists():
        raise FileExistsError(f"'{tflite_path}' already exists; refusing to overwrite it")
    chunk_frames = config.train.crop_frames
    overlap_frames = config.train.chunk_overlap_frames
    archive = translator_archive(gen_ab, gen_ba, spectrogram_from_config(config.spectrogram),
                                 chunk_frames, overlap_frames)
    metadata = translator_metadata(config, domains, chunk_frames, overlap_frames)
    metadata["tflite"] = {"file": tflite_path.name,
                          "signatures": [SIGNATURE_A_TO_B, SIGNATURE_B_TO_A]}
    version_dir = write_archive(archive, base_dir, version=version, metadata=metadata)
    write_tflite(version_dir, tflite_path, signature_keys=[SIGNATURE_A_TO_B, SIGNATURE_B_TO_A])
    return {"saved_model": version_dir, "tflite": tflite_path}
