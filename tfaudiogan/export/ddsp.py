"""Export the DDSP-synth GAN: `generate(z)` and `synthesize(controls)` as SavedModel and TFLite.

Signatures (TF Serving layout, ``tfaudiogan.json`` sidecar with family, sample_rate, latent_dim,
audio_length, n_frames):

    generate(z [B, latent_dim] (, pitch [B] MIDI if pitch-conditioned)) -> {"audio": [B, samples]}
    serving_default = generate
    synthesize(f0_hz [B, F, 1] Hz, amplitude [B, F, 1] linear,
               harmonic_distribution [B, F, K] >= 0 (normalised below Nyquist in-graph),
               noise_magnitudes [B, F, bands] linear) -> {"audio": [B, samples]}

`synthesize` drives the trained synth directly (e.g. F0 from MIDI notes via
``audio.pitch.midi_to_hz``): the learned reverb, if any, and the fixed noise excitation are
used; the CPPNs and the internal logit offsets are not (the controls are already scaled).
`F` is the generator's frame count (``n_frames``). Every op is a TFLite builtin: the synth's
matmul-DFT path is used, and the noise excitation is the synth's fixed U(-1, 1) buffer (its
``noise_buffer`` weight, drawn from ``noise_seed``; random ops are not TFLite built-ins), which
is what the Keras generator uses at inference with the default
``noise_excitation="fresh_in_training"`` (fresh noise only in training). A generator trained
with ``use_fft=True`` or ``noise_excitation="fresh"`` is rebuilt with the same weights
(:func:`builtins_generator`).
"""

from __future__ import annotations

import os
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from tfaudiogan.export.signatures import (
    AUDIO,
    GENERATE,
    LATENT,
    PITCH,
    SYNTHESIZE,
    check_controls,
    check_inputs,
)
from tfaudiogan.export.spec import ExportSpec, Signature, export_model
from tfaudiogan.export.tflite import run_tflite
from tfaudiogan.models.ddsp_gan import CONTROL_KEYS

FAMILY = "ddsp_gan"
SIGNATURES = (GENERATE, SYNTHESIZE)


def _synth(generator: keras.Model):
    return generator.get_layer("synth")


def builtins_generator(generator: keras.Model) -> keras.Model:
    """`generator` itself if its synth uses the builtins path and the fixed noise buffer at
    inference, else a copy (same weights) that does."""
    synth = _synth(generator)
    if not synth.use_fft and not synth.fresh_noise(training=False):
        return generator
    config = generator.get_config()
    for layer in config["layers"]:
        if layer["class_name"] == "DDSPSynth":
            layer["config"]["use_fft"] = False
            if layer["config"].get("noise_excitation") == "fresh":
                layer["config"]["noise_excitation"] = "fixed"
    copy = keras.Model.from_config(config)
    copy.set_weights(generator.get_weights())
    return copy


def _signatures(generator: keras.Model) -> dict[str, Signature]:
    """`generate` (with `pitch` if the generator takes one) and `synthesize`."""
    synth = _synth(generator)
    latent_dim = generator.inputs[0].shape[-1]
    frames = generator.get_layer("f0_hz").output.shape[1]
    z_spec = tf.TensorSpec([None, latent_dim], tf.float32, name=LATENT)
    if len(generator.inputs) == 2:
        def generate(z, pitch):
            return {AUDIO: generator([z, pitch], training=False)[AUDIO]}

        generate_inputs = (z_spec, tf.TensorSpec([None], tf.float32, name=PITCH))
    else:
        def generate(z):
            return {AUDIO: generator(z, training=False)[AUDIO]}

        generate_inputs = (z_spec,)

    def synthesize(f0_hz, amplitude, harmonic_distribution, noise_magnitudes):
        return {AUDIO: synth.render(f0_hz, amplitude, harmonic_distribution, noise_magnitudes)}

    channels = (1, 1, synth.n_harmonics, synth.n_noise_bands)
    controls = tuple(tf.TensorSpec([None, frames, c], tf.float32, name=k)
                     for k, c in zip(CONTROL_KEYS, channels))
    return {GENERATE: Signature(generate, generate_inputs),
            SYNTHESIZE: Signature(synthesize, controls)}


def ddsp_spec(generator: keras.Model, config=None) -> ExportSpec:
    """The export of a DDSP-GAN generator (rebuilt on the builtins path if needed).

    Args:
        generator: the trained generator (``tfaudiogan.models.ddsp_gan.generator``).
        config: the run's ``DDSPGANConfig`` (name and the sidecar's ``config``), or None.
    """
    generator = builtins_generator(generator)
    synth = _synth(generator)
    n_frames = int(generator.get_layer("f0_hz").output.shape[1])
    metadata = {
        "sample_rate": synth.sample_rate,
        "latent_distribution": "normal(0, 1)",
        "pitch_conditioned": len(generator.inputs) == 2,
        "audio_length": synth.n_samples,
        "n_harmonics": synth.n_harmonics,
        "n_noise_bands": synth.n_noise_bands,
        "inputs": {GENERATE: {LATENT: "float32 [batch, latent_dim]",
                              PITCH: "float32 [batch] MIDI (pitch-conditioned only)"},
                   SYNTHESIZE: {k: "float32 [batch, n_frames, ...]" for k in CONTROL_KEYS}},
        "outputs": {AUDIO: "float32 [batch, audio_length]"},
    }
    if config is not None:
        from tfaudiogan.configs import to_dict

        metadata["config"] = to_dict(config)
    limits = {"latent_dim": int(generator.inputs[0].shape[-1]), "n_frames": n_frames}
    return ExportSpec(FAMILY, getattr(config, "name", None) or FAMILY, (generator,),
                      _signatures(generator), default=GENERATE, metadata=metadata,
                      limits=limits)


def export_ddsp(generator: keras.Model, config, export_root: str | os.PathLike,
                name: str | None = None, version: int | None = None) -> dict[str, Path]:
    """Writes `export_root/<name>/<version>/` (SavedModel) and `<name>_<version>.tflite`.

    Returns:
        `{"saved_model": version dir, "tflite": .tflite path}`.

    Raises:
        FileExistsError: the version or the .tflite file exists already.
    """
    return export_model(ddsp_spec(generator, config), export_root, name=name, version=version)


def _run(model, signature: str, inputs: dict[str, np.ndarray]) -> np.ndarray:
    """Runs one signature of an exported model (SavedModel dir/object or `.tflite` path)."""
    if isinstance(model, (str, os.PathLike)) and str(model).endswith(".tflite"):
        return run_tflite(model, signature, **inputs)[AUDIO]
    if isinstance(model, (str, os.PathLike)):
        model = tf.saved_model.load(str(model))
    return model.signatures[signature](
        **{k: tf.constant(v) for k, v in inputs.items()})[AUDIO].numpy()


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
    values = (f0_hz, amplitude, harmonic_distribution, noise_magnitudes)
    return _run(model, SYNTHESIZE, check_controls(dict(zip(CONTROL_KEYS, values))))


def generate(model, z, pitch=None) -> np.ndarray:
    """`z [B, latent]` (and `pitch [B]` MIDI) -> audio `[B, samples]` with an exported model."""
    inputs = {LATENT: z} if pitch is None else {LATENT: z, PITCH: np.asarray(pitch, np.float32)}
    return _run(model, GENERATE, check_inputs(inputs))
