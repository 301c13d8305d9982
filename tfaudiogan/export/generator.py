"""Export an unconditional audio generator (WaveGAN / SpecGAN): latent in, waveform out.

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

import functools
import os
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from tfaudiogan.audio.specgan import spectrogram_from_config
from tfaudiogan.export.signatures import AUDIO, GENERATE, LATENT
from tfaudiogan.export.spec import ExportSpec, Signature, export_model

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


def generator_signature(generator: keras.Model, latent_dim: int,
                        postprocess: Callable | None = None) -> Signature:
    """`generate(z [batch, latent_dim]) -> {"audio": [batch, samples]}`.

    Args:
        generator: z `[batch, latent_dim]` -> `[batch, samples, channels]` waveforms or
            `[batch, ...]` features that `postprocess` turns into waveforms.
        latent_dim: size of z.
        postprocess: optional in-graph function generator output -> `[batch, samples]` audio
            (e.g. `SpecGANSpectrogram.decode`). Without it a trailing channel axis of size 1 is
            dropped (`[batch, samples, 1] -> [batch, samples]`).
    """

    def generate(z):
        out = generator(z, training=False)
        if postprocess is not None:
            out = postprocess(out)
        elif out.shape.rank == 3 and out.shape[-1] == 1:
            out = tf.squeeze(out, axis=-1)
        return {AUDIO: tf.cast(out, tf.float32)}

    return Signature(generate, (tf.TensorSpec([None, latent_dim], tf.float32, name=LATENT),))


def generator_function(generator: keras.Model, latent_dim: int,
                       postprocess: Callable | None = None) -> Callable:
    """The tf.function of :func:`generator_signature` (one input `z`, output key `audio`)."""
    return generator_signature(generator, latent_dim, postprocess).function()


def moments_path(config, run_dir) -> Path:
    """A SpecGAN run's moments file (``spectrogram.moments_file``, relative to the run)."""
    path = Path(config.spectrogram.moments_file)
    return path if path.is_absolute() else Path(run_dir) / path


def specgan_postprocess(config, run_dir) -> Callable:
    """The in-graph SpecGAN inversion of a run: its moments and Griffin-Lim settings.

    Args:
        config: the run's ``WaveGANConfig`` with ``model.kind == "specgan"``.
        run_dir: the run directory (holds the moments file, see :func:`moments_path`).

    Returns:
        ``images [batch, frames, 128, 1] -> audio [batch, slice_len]``.
    """
    s = config.spectrogram
    rep = spectrogram_from_config(s, config.model.slice_len, moments_path(config, run_dir))
    return functools.partial(rep.decode, n_iter=s.griffin_lim_iters)


def generator_spec(generator: keras.Model, config, postprocess: Callable | None = None,
                   metadata: dict | None = None) -> ExportSpec:
    """The export of a WaveGAN / SpecGAN generator.

    Args:
        generator: the trained generator (see :func:`generator_signature`).
        config: the run config: `model.kind` (family), `model.latent_dim`, `model.slice_len`
            (audio_length), `data.sample_rate`, `name`; missing sections are allowed when
            `metadata` supplies the values.
        postprocess: optional in-graph generator-output -> audio function (SpecGAN inversion).
        metadata: extra sidecar keys (they override the ones read from `config`).

    Raises:
        ValueError: no latent size is known.
    """
    from tfaudiogan.configs import to_dict

    model = getattr(config, "model", None)
    data = getattr(config, "data", None)
    meta = {
        "sample_rate": getattr(data, "sample_rate", None),
        "audio_length": getattr(model, "slice_len", None),
        "channels": getattr(model, "channels", 1),
        "latent_distribution": "uniform(-1, 1)",  # reference/wavegan.md 4.2
        "inputs": {LATENT: "float32 [batch, latent_dim]"},
        "outputs": {AUDIO: "float32 [batch, audio_length] (mono) in about [-1, 1]"},
        "config": to_dict(config),
        **(metadata or {}),
    }
    latent_dim = meta.pop("latent_dim", getattr(model, "latent_dim", None))
    if not latent_dim:
        raise ValueError("exporting a generator needs a latent size (config.model.latent_dim or "
                         "metadata={'latent_dim': ...})")
    family = meta.pop("family", getattr(model, "kind", None))
    name = meta.pop("name", getattr(config, "name", None)) or "generator"
    return ExportSpec(family, name, (generator,),
                      {GENERATE: generator_signature(generator, int(latent_dim), postprocess)},
                      default=GENERATE, metadata=meta, limits={"latent_dim": int(latent_dim)})


def export_generator(generator: keras.Model, config, export_root: str | os.PathLike,
                     name: str | None = None, version: int | None = None,
                     postprocess: Callable | None = None,
                     metadata: dict | None = None) -> dict[str, Path]:
    """Exports a generator as a SavedModel version and a builtins-only TFLite file.

    Writes `export_root/<name>/<version>/` and `export_root/<name>_<version>.tflite` (one
    `generate` signature runner); see :func:`generator_spec` for the arguments.

    Args:
        name: model name (default `config.name`).
        version: integer version; default one above the highest existing.

    Returns:
        `{"saved_model": version dir, "tflite": .tflite path}`.

    Raises:
        FileExistsError: the version directory or the .tflite file already exists.
        ValueError: the graph is not TFLite-builtin-only, or no latent size is known.
    """
    return export_model(generator_spec(generator, config, postprocess, metadata), export_root,
                        name=name, version=version)
