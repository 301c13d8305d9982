"""Export an unconditional audio generator: latent in, waveform out.

Signatures of the SavedModel (TF Serving layout, ``tfaudiogan.json`` sidecar):

    generate(z [batch, latent_dim] float32) -> {"audio": [batch, samples] float32}
    serving_default                          = generate

Any post-processing runs inside the graph, so clients always receive waveforms: SpecGAN's
un-normalisation and 16-iteration Griffin-Lim inversion (:meth:`tfaudiogan.audio.specgan.
SpecGANSpectrogram.decode`, matmul DFTs only) are part of the exported function. Every op is a
TFLite builtin, so the same graph becomes a ``.tflite`` file with one ``generate`` runner.

Audio is float in about [-1, 1] (WaveGAN's optional post-processing filter runs after the tanh
and may exceed it). To write 16-bit files as the reference does, use :func:`to_int16`
(``x * 32767``, clipped to +-32767, truncated; reference/wavegan.md 4.5).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from tfaudiogan.export.saved_model import next_version, write_archive
from tfaudiogan.export.tflite import write_tflite

SIGNATURE = "generate"
DEFAULT_SIGNATURE = "serving_default"
INPUT_NAME = "z"
OUTPUT_NAME = "audio"
INT16_SCALE = 32767.0  # train_wavegan.py float_to_int16: x * 32767, clip +-32767, cast


def to_int16(audio) -> np.ndarray:
    """Float audio -> int16 exactly as the reference export (`G_z_int16`).

    Args:
        audio: float array of any shape, nominally in [-1, 1].

    Returns:
        int16 array: `clip(x * 32767, -32767, 32767)` truncated toward zero.
    """
    x = np.nan_to_num(np.asarray(audio, np.float32)) * INT16_SCALE
    return np.clip(x, -INT16_SCALE, INT16_SCALE).astype(np.int16)


def generator_function(generator: keras.Model, latent_dim: int,
                       postprocess: Callable | None = None) -> Callable:
    """A tf.function `z [batch, latent_dim] -> {"audio": [batch, samples]}`.

    Args:
        generator: z `[batch, latent_dim]` -> `[batch, samples, channels]` waveforms or
            `[batch, ...]` features that `postprocess` turns into waveforms.
        latent_dim: size of z.
        postprocess: optional in-graph function generator output -> `[batch, samples]` audio
            (e.g. `SpecGANSpectrogram.decode`). Without it a trailing channel axis of size 1 is
            dropped (`[batch, samples, 1] -> [batch, samples]`).

    Returns:
        The tf.function (one input `z`, output dict with key `audio`).
    """

    @tf.function(input_signature=[tf.TensorSpec([None, latent_dim], tf.float32, name=INPUT_NAME)])
    def generate(z):
        out = generator(z, training=False)
        if postprocess is not None:
            out = postprocess(out)
        elif out.shape.rank == 3 and out.shape[-1] == 1:
            out = tf.squeeze(out, axis=-1)
        return {OUTPUT_NAME: tf.cast(out, tf.float32)}

    return generate


def generator_archive(generator: keras.Model, latent_dim: int,
                      postprocess: Callable | None = None) -> keras.export.ExportArchive:
    """An ExportArchive with the `generate` endpoint and `serving_default`.

    Args:
        generator: the trained generator (see :func:`generator_function`).
        latent_dim: size of z.
        postprocess: optional in-graph conversion of the generator output to audio.

    Returns:
        The archive: `generate(z [batch, latent_dim]) -> {"audio": [batch, samples]}`.
    """
    archive = keras.export.ExportArchive()
    archive.track(generator)
    fn = generator_function(generator, latent_dim, postprocess)
    archive.add_endpoint(SIGNATURE, fn)
    archive.add_endpoint(DEFAULT_SIGNATURE, fn)
    return archive


def generator_metadata(config, extra: dict | None = None) -> dict:
    """The `tfaudiogan.json` sidecar of a generator export.

    Reads `model.kind` (family), `model.latent_dim`, `model.slice_len` and `data.sample_rate`
    from a WaveGAN/SpecGAN config; `extra` adds or overrides keys (other families).
    """
    from tfaudiogan.configs import to_dict

    model = getattr(config, "model", None)
    data = getattr(config, "data", None)
    meta = {
        "family": getattr(model, "kind", None),
        "name": getattr(config, "name", None),
        "sample_rate": getattr(data, "sample_rate", None),
        "latent_dim": getattr(model, "latent_dim", None),
        "slice_len": getattr(model, "slice_len", None),
        "channels": getattr(model, "channels", 1),
        "latent_distribution": "uniform(-1, 1)",  # reference/wavegan.md 4.2
        "signatures": [SIGNATURE, DEFAULT_SIGNATURE],
        "inputs": {INPUT_NAME: "float32 [batch, latent_dim]"},
        "outputs": {OUTPUT_NAME: "float32 [batch, samples] (mono) in about [-1, 1]"},
        "config": to_dict(config),
    }
    meta.update(extra or {})
    return meta


def export_generator(generator: keras.Model, config, export_root: str | os.PathLike,
                     name: str | None = None, version: int | None = None,
                     postprocess: Callable | None = None,
                     metadata: dict | None = None) -> dict[str, Path]:
    """Exports a generator as a SavedModel version and a builtins-only TFLite file.

    Writes `export_root/<name>/<version>/` and `export_root/<name>_<version>.tflite` (one
    `generate` signature runner).

    Args:
        generator: the trained generator.
        config: the run config (see :func:`generator_metadata`).
        export_root: directory receiving the model directory and the `.tflite` file.
        name: model name (default `config.name`).
        version: integer version; default one above the highest existing.
        postprocess: optional in-graph generator-output -> audio function (SpecGAN inversion).
        metadata: extra sidecar keys.

    Returns:
        `{"saved_model": version dir, "tflite": .tflite path}`.

    Raises:
        FileExistsError: the version directory or the .tflite file already exists.
        ValueError: the graph is not TFLite-builtin-only, or no latent size is known.
    """
    meta = generator_metadata(config, metadata)
    latent_dim = meta.get("latent_dim")
    if not latent_dim:
        raise ValueError("export_generator needs a latent size (config.model.latent_dim or "
                         "metadata={'latent_dim': ...})")
    name = name or meta.get("name") or "generator"
    root = Path(export_root)
    base_dir = root / name
    if version is None:
        version = next_version(base_dir)
    tflite_path = root / f"{name}_{version}.tflite"
    if tflite_path.exists():
        raise FileExistsError(f"'{tflite_path}' already exists; refusing to overwrite it")
    archive = generator_archive(generator, int(latent_dim), postprocess)
    meta["tflite"] = {"file": tflite_path.name, "signatures": [SIGNATURE]}
    version_dir = write_archive(archive, base_dir, version=version, metadata=meta)
    write_tflite(version_dir, tflite_path, signature_keys=[SIGNATURE])
    return {"saved_model": version_dir, "tflite": tflite_path}
