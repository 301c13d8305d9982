"""Export the DDSP-synth GAN: `generate(z)` and `synthesize(controls)` as SavedModel and TFLite.

Signatures (TF Serving layout, ``tfaudiogan.json`` sidecar with family, sample_rate, latent_dim):

    generate(z [B, latent_dim] (, pitch [B] MIDI if pitch-conditioned)) -> {"audio": [B, samples]}
    serving_default = generate
    synthesize(f0_hz [B, F, 1] Hz, amplitude [B, F, 1] linear,
               harmonic_distribution [B, F, K] >= 0 (normalised below Nyquist in-graph),
               noise_magnitudes [B, F, bands] linear) -> {"audio": [B, samples]}

`synthesize` drives the trained synth directly (e.g. F0 from MIDI notes via
``synths.core.midi_to_hz``): the learned reverb, if any, and the fixed noise excitation are
used; the CPPNs and the internal logit offsets are not (the controls are already scaled).
`F` is the generator's frame count (``n_frames``). Every op is a TFLite builtin: the synth's
matmul-DFT path is used (a generator trained with ``use_fft=True`` is rebuilt with the same
weights).
"""

from __future__ import annotations

import os
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from tfaudiogan.export.saved_model import next_version, write_archive
from tfaudiogan.export.tflite import run_tflite, write_tflite
from tfaudiogan.models.ddsp_gan import CONTROL_KEYS, check_control_frames

FAMILY = "ddsp_gan"
SIGNATURES = ("generate", "synthesize")


def _synth(generator: keras.Model):
    return generator.get_layer("synth")


def builtins_generator(generator: keras.Model) -> keras.Model:
    """`generator` itself if its synth uses the builtins path, else a copy that does."""
    if not _synth(generator).use_fft:
        return generator
    config = generator.get_config()
    for layer in config["layers"]:
        if layer["class_name"] == "DDSPSynth":
            layer["config"]["use_fft"] = False
    copy = keras.Model.from_config(config)
    copy.set_weights(generator.get_weights())
    return copy


def ddsp_archive(generator: keras.Model) -> keras.export.ExportArchive:
    """ExportArchive with `generate`, `serving_default` and `synthesize` endpoints."""
    generator = builtins_generator(generator)
    synth = _synth(generator)
    latent_dim = generator.inputs[0].shape[-1]
    frames = generator.get_layer("f0_hz").output.shape[1]
    conditioned = len(generator.inputs) == 2
    archive = keras.export.ExportArchive()
    archive.track(generator)

    z_spec = tf.TensorSpec([None, latent_dim], tf.float32, name="z")
    if conditioned:
        @tf.function(input_signature=[z_spec, tf.TensorSpec([None], tf.float32, name="pitch")])
        def generate(z, pitch):
            return {"audio": generator([z, pitch], training=False)["audio"]}
    else:
        @tf.function(input_signature=[z_spec])
        def generate(z):
            return {"audio": generator(z, training=False)["audio"]}

    @tf.function(input_signature=[
        tf.TensorSpec([None, frames, 1], tf.float32, name="f0_hz"),
        tf.TensorSpec([None, frames, 1], tf.float32, name="amplitude"),
        tf.TensorSpec([None, frames, synth.n_harmonics], tf.float32,
                      name="harmonic_distribution"),
        tf.TensorSpec([None, frames, synth.n_noise_bands], tf.float32, name="noise_magnitudes")])
    def synthesize(f0_hz, amplitude, harmonic_distribution, noise_magnitudes):
        return {"audio": synth.render(f0_hz, amplitude, harmonic_distribution, noise_magnitudes)}

    archive.add_endpoint("generate", generate)
    archive.add_endpoint("serving_default", generate)
    archive.add_endpoint("synthesize", synthesize)
    return archive


def ddsp_metadata(generator: keras.Model, config=None) -> dict:
    """The ``tfaudiogan.json`` sidecar (what ``tfaudiogan generate`` needs to drive the model)."""
    synth = _synth(generator)
    meta = {
        "family": FAMILY,
        "name": getattr(config, "name", None),
        "sample_rate": synth.sample_rate,
        "latent_dim": int(generator.inputs[0].shape[-1]),
        "latent_distribution": "normal(0, 1)",
        "pitch_conditioned": len(generator.inputs) == 2,
        "slice_len": synth.n_samples,
        "n_frames": int(generator.get_layer("f0_hz").output.shape[1]),
        "n_harmonics": synth.n_harmonics,
        "n_noise_bands": synth.n_noise_bands,
        "signatures": ["generate", "serving_default", "synthesize"],
        "inputs": {"generate": {"z": "float32 [batch, latent_dim]",
                                "pitch": "float32 [batch] MIDI (pitch-conditioned only)"},
                   "synthesize": {k: "float32 [batch, n_frames, ...]" for k in CONTROL_KEYS}},
        "outputs": {"audio": "float32 [batch, samples]"},
    }
    if config is not None:
        from tfaudiogan.configs import to_dict

        meta["config"] = to_dict(config)
    return meta


def export_ddsp(generator: keras.Model, config, export_root: str | os.PathLike,
                name: str | None = None, version: int | None = None) -> dict[str, Path]:
    """Writes `export_root/<name>/<version>/` (SavedModel) and `<name>_<version>.tflite`.

    Returns:
        `{"saved_model": version dir, "tflite": .tflite path}`.

    Raises:
        FileExistsError: the version or the .tflite file exists already.
    """
    meta = ddsp_metadata(generator, config)
    name = name or meta.get("name") or FAMILY
    root = Path(export_root)
    base_dir = root / name
    version = next_version(base_dir) if version is None else version
    tflite_path = root / f"{name}_{version}.tflite"
    if tflite_path.exists():
        raise FileExistsError(f"'{tflite_path}' already exists; refusing to overwrite it")
    meta["tflite"] = {"file": tflite_path.name, "signatures": list(SIGNATURES)}
    version_dir = write_archive(ddsp_archive(generator), base_dir, version, meta)
    write_tflite(version_dir, tflite_path, signature_keys=list(SIGNATURES))
    return {"saved_model": version_dir, "tflite": tflite_path}


def _controls(f0_hz, amplitude, harmonic_distribution, noise_magnitudes) -> dict:
    values = dict(zip(CONTROL_KEYS, (f0_hz, amplitude, harmonic_distribution, noise_magnitudes)))
    values = {k: np.asarray(v, np.float32) for k, v in values.items()}
    check_control_frames(**values)
    return values


def synthesize(model, f0_hz, amplitude, harmonic_distribution, noise_magnitudes) -> np.ndarray:
    """Renders controls with an exported model (SavedModel dir/object or `.tflite` path).

    Args:
        model: a SavedModel version directory, a loaded SavedModel, or a `.tflite` file.
        f0_hz, amplitude: `[B, F, 1]`; harmonic_distribution `[B, F, K]`; noise_magnitudes
            `[B, F, bands]`; F must equal the model's frame count.

    Returns:
        float32 `[B, samples]`.

    Raises:
        ValueError: the controls disagree on the frame count (the message names both shapes).
    """
    values = _controls(f0_hz, amplitude, harmonic_distribution, noise_magnitudes)
    if isinstance(model, (str, os.PathLike)) and str(model).endswith(".tflite"):
        return run_tflite(model, "synthesize", **values)["audio"]
    if isinstance(model, (str, os.PathLike)):
        model = tf.saved_model.load(str(model))
    return model.signatures["synthesize"](
        **{k: tf.constant(v) for k, v in values.items()})["audio"].numpy()


def generate(model, z, pitch=None) -> np.ndarray:
    """`z [B, latent]` (and `pitch [B]`) -> audio `[B, samples]` with an exported model."""
    inputs = {"z": np.asarray(z, np.float32)}
    if pitch is not None:
        inputs["pitch"] = np.asarray(pitch, np.float32)
    if isinstance(model, (str, os.PathLike)) and str(model).endswith(".tflite"):
        return run_tflite(model, "generate", **inputs)["audio"]
    if isinstance(model, (str, os.PathLike)):
        model = tf.saved_model.load(str(model))
    return model.signatures["generate"](
        **{k: tf.constant(v) for k, v in inputs.items()})["audio"].numpy()
