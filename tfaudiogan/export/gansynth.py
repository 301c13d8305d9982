"""Export a GANSynth generator: ``generate(z, pitch) -> audio`` with the inversion in the graph.

Signatures of the SavedModel (TF Serving layout, ``tfaudiogan.json`` sidecar) and of the
builtins-only TFLite file (any batch by default; see :func:`export_gansynth`):

    generate(z [batch, latent] float32, pitch [batch] int32 MIDI) -> {"audio": [batch, samples]}
    serving_default = generate

Inside the graph: one-hot of ``pitch - min_pitch`` -> EMA generator (normalised images) ->
box-upscale to the full size if the generator is an earlier stage -> denormalise -> mel to
linear, phase = cumsum(IF), matmul inverse DFT, overlap-add
(:meth:`tfaudiogan.audio.gansynth.GANSynthSpectrogram.decode`, builtins only).

Out-of-range pitches: the SavedModel (what TF Serving runs) fails with an InvalidArgumentError
whose message says "pitch must be a MIDI number in 24..84" (TF Serving returns that text in its
error reply). ``tf.debugging.assert_*`` is not a TFLite builtin, so the TFLite graph instead
**clips** ``pitch`` to ``[min_pitch, max_pitch]`` (never an out-of-range or all-zero
one-hot). The Python clients (:func:`check_pitches`, :func:`generate_audio`, the CLI) reject such
pitches with a clear ``ValueError`` before calling either model.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from tfaudiogan.audio.gansynth import GANSynthSpectrogram, denormalise, spectrogram_from_config
from tfaudiogan.export.saved_model import next_version, write_archive
from tfaudiogan.export.tflite import write_tflite
from tfaudiogan.layers.fade_in import upscale

SIGNATURE = "generate"
DEFAULT_SIGNATURE = "serving_default"
OUTPUT_NAME = "audio"


def check_pitches(pitch, min_pitch: int = 24, max_pitch: int = 84) -> np.ndarray:
    """Validates MIDI pitches for the ``generate`` signature.

    Args:
        pitch: int array-like ``[batch]``.
        min_pitch, max_pitch: the model's inclusive range (paper 24..84).

    Returns:
        int32 ``[batch]``.

    Raises:
        ValueError: non-integer values or pitches outside the range (named in the message).
    """
    values = np.asarray(pitch)
    if values.ndim != 1:
        raise ValueError(f"pitch must be a 1-D list of MIDI numbers, got shape {values.shape}")
    if values.size and not np.all(np.equal(np.mod(values, 1), 0)):
        raise ValueError(f"pitch must hold integer MIDI numbers, got {values.tolist()}")
    values = values.astype(np.int64)
    bad = sorted({int(p) for p in values if not min_pitch <= p <= max_pitch})
    if bad:
        raise ValueError(f"pitches {bad} are outside the model's range {min_pitch}..{max_pitch}")
    return values.astype(np.int32)


def generate_function(generator: keras.Model, rep: GANSynthSpectrogram, latent_size: int,
                      min_pitch: int, num_pitches: int, batch: int | None = None,
                      range_check: bool = True):
    """The tf.function ``(z [batch, latent], pitch [batch] int32) -> {"audio": [batch, n]}``.

    ``batch=None`` gives a dynamic batch, an int a fixed one. ``range_check=True`` fails on
    out-of-range pitches (SavedModel / TF Serving); ``False`` only clips them (TFLite, where
    ``tf.debugging.assert_*`` is not a builtin; see :func:`export_gansynth`).
    """
    full_time = rep.output_shape[0]
    max_pitch = min_pitch + num_pitches - 1
    message = f"pitch must be a MIDI number in {min_pitch}..{max_pitch}"

    @tf.function(input_signature=[tf.TensorSpec([batch, latent_size], tf.float32, name="z"),
                                  tf.TensorSpec([batch], tf.int32, name="pitch")])
    def generate(z, pitch):
        if range_check:  # SavedModel: a clear error instead of a silent clip
            checks = [tf.debugging.assert_greater_equal(pitch, min_pitch, message=message),
                      tf.debugging.assert_less_equal(pitch, max_pitch, message=message)]
            with tf.control_dependencies(checks):
                pitch = tf.identity(pitch)
        index = tf.clip_by_value(pitch - min_pitch, 0, num_pitches - 1)  # TFLite: documented clip
        onehot = tf.one_hot(index, num_pitches, dtype=tf.float32)
        images = generator({"z": z, "pitch": onehot}, training=False)
        factor = full_time // int(images.shape[1])
        images = upscale(images, factor) if factor > 1 else images
        return {OUTPUT_NAME: rep.decode(denormalise(images))}

    return generate


def gansynth_archive(generator: keras.Model, rep: GANSynthSpectrogram, latent_size: int,
                     min_pitch: int, num_pitches: int, batch: int | None = None,
                     range_check: bool = True) -> keras.export.ExportArchive:
    """ExportArchive with ``generate`` and ``serving_default`` (arguments as above)."""
    archive = keras.export.ExportArchive()
    archive.track(generator)
    fn = generate_function(generator, rep, latent_size, min_pitch, num_pitches, batch,
                           range_check)
    archive.add_endpoint(SIGNATURE, fn)
    archive.add_endpoint(DEFAULT_SIGNATURE, fn)
    return archive


def export_gansynth(generator: keras.Model, config, export_root: str | os.PathLike,
                    name: str | None = None, version: int | None = None,
                    tflite: bool = True, tflite_batch: int | None = None) -> dict[str, Path]:
    """SavedModel version ``export_root/<name>/<version>/`` plus ``<name>_<version>.tflite``.

    The SavedModel takes any batch. The TFLite file is converted from the same function
    without the range check (pitches are clipped) and, by default, also takes any batch (the
    signature runner resizes its inputs per call). This needs a generator whose upscaling
    keeps static height / width / channels under a dynamic batch
    (:class:`tfaudiogan.layers.fade_in.Upscale`); a generator built with
    ``keras.layers.UpSampling2D`` (``repeat``, e.g. a ``generator_ema.keras`` saved before
    that change) only converts with a fixed ``tflite_batch``, otherwise the converter refuses
    the convolutions after the upscaling as non-builtin ``tf.Conv2D``.

    Parity: TF and TFLite sum convolutions in different orders, so the generator images
    differ by float rounding (~2e-6 relative RMS), which the IF phase integration of the
    inversion turns into ~1e-4 relative RMS of audio. A generator block with ONE channel
    makes its pixel norm ``x / sqrt(x**2 + eps) = sign(x)``: a pre-norm value within
    rounding of 0 then flips an output pixel, and one flipped IF pixel shifts the phase of
    all later frames of its band (percent-level audio differences). Use >= 3 channels.

    Args:
        generator: the (EMA) generator, normally of the final stage.
        config: the run's ``GANSynthConfig``.
        export_root: destination directory.
        name: model name (default ``config.name``).
        version: integer version (default the next free one).
        tflite: also write the builtins-only TFLite file.
        tflite_batch: None (any batch) or a fixed number of notes per TFLite call.

    Returns:
        ``{"saved_model": version dir[, "tflite": path]}``.
    """
    from tfaudiogan.configs import to_dict

    m, s = config.model, config.spectrogram
    rep = spectrogram_from_config(s)
    name = name or config.name
    root = Path(export_root)
    if version is None:
        version = next_version(root / name)
    tflite_path = root / f"{name}_{version}.tflite"
    meta = {
        "family": "gansynth", "name": name, "sample_rate": s.sample_rate,
        "latent_size": m.latent_size, "latent_distribution": "normal(0, 1)",
        "min_pitch": m.min_pitch, "max_pitch": m.max_pitch, "audio_length": s.audio_length,
        "signatures": [SIGNATURE, DEFAULT_SIGNATURE],
        "inputs": {"z": "float32 [batch, latent_size]",
                   "pitch": f"int32 [batch] MIDI, clipped to {m.min_pitch}..{m.max_pitch} "
                            "in the graph; validate with check_pitches"},
        "outputs": {OUTPUT_NAME: "float32 [batch, audio_length]"},
        "config": to_dict(config),
    }
    if tflite:
        meta["tflite"] = {"file": tflite_path.name, "signatures": [SIGNATURE],
                          "batch": tflite_batch}
    archive = gansynth_archive(generator, rep, m.latent_size, m.min_pitch, m.num_pitches)
    version_dir = write_archive(archive, root / name, version=version, metadata=meta)
    paths = {"saved_model": version_dir}
    if tflite:
        lite = gansynth_archive(generator, rep, m.latent_size, m.min_pitch, m.num_pitches,
                                batch=tflite_batch, range_check=False)
        with tempfile.TemporaryDirectory(dir=root) as tmp:
            lite.write_out(os.path.join(tmp, "tflite_source"), verbose=False)
            paths["tflite"] = write_tflite(os.path.join(tmp, "tflite_source"), tflite_path,
                                           signature_keys=[SIGNATURE])
    return paths


def generate_audio(signature, z, pitch, min_pitch: int = 24, max_pitch: int = 84) -> np.ndarray:
    """Python client: validates pitches, then calls a loaded ``generate`` signature.

    Args:
        signature: ``tf.saved_model.load(dir).signatures["generate"]`` (or any callable with
            the keyword inputs ``z`` and ``pitch``).
        z: float ``[batch, latent]``.
        pitch: int ``[batch]`` MIDI.

    Returns:
        float32 ``[batch, audio_length]``.
    """
    pitch = check_pitches(pitch, min_pitch, max_pitch)
    z = np.asarray(z, np.float32)
    if z.ndim != 2 or z.shape[0] != pitch.shape[0]:
        raise ValueError(f"z must be [batch, latent] with batch {pitch.shape[0]}, got {z.shape}")
    out = signature(z=tf.constant(z), pitch=tf.constant(pitch))
    return np.asarray(out[OUTPUT_NAME])
