"""Export a GANSynth generator: ``generate(z, pitch) -> audio`` with the inversion in the graph.

Signatures of the SavedModel (TF Serving layout, ``tfaudiogan.json`` sidecar) and of the
builtins-only TFLite file (any batch by default; see :func:`export_gansynth`):

    generate(z [batch, latent_dim] float32, pitch [batch] int32 MIDI) -> {"audio": [batch, samples]}
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
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from tfaudiogan.audio.gansynth import GANSynthSpectrogram, denormalise, spectrogram_from_config
from tfaudiogan.export.signatures import AUDIO, GENERATE, LATENT, PITCH, check_inputs
from tfaudiogan.export.signatures import check_pitches as check_pitches
from tfaudiogan.export.spec import ExportSpec, Signature, export_model
from tfaudiogan.layers.fade_in import upscale

FAMILY = "gansynth"


def generate_signature(generator: keras.Model, rep: GANSynthSpectrogram, latent_dim: int,
                       min_pitch: int, num_pitches: int, batch: int | None = None,
                       range_check: bool = True) -> Signature:
    """``generate(z [batch, latent_dim], pitch [batch] int32) -> {"audio": [batch, n]}``.

    ``batch=None`` gives a dynamic batch, an int a fixed one. ``range_check=True`` fails on
    out-of-range pitches (SavedModel / TF Serving); ``False`` only clips them (TFLite, where
    ``tf.debugging.assert_*`` is not a builtin; see :func:`export_gansynth`).
    """
    full_time = rep.output_shape[0]
    max_pitch = min_pitch + num_pitches - 1
    message = f"pitch must be a MIDI number in {min_pitch}..{max_pitch}"

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
        return {AUDIO: rep.decode(denormalise(images))}

    return Signature(generate, (tf.TensorSpec([batch, latent_dim], tf.float32, name=LATENT),
                                tf.TensorSpec([batch], tf.int32, name=PITCH)))


def gansynth_spec(generator: keras.Model, config, tflite_batch: int | None = None
                  ) -> ExportSpec:
    """The export of a GANSynth (EMA) generator of a ``GANSynthConfig`` run.

    The SavedModel signature checks the pitch range; the TFLite one clips it and takes
    ``tflite_batch`` notes per call (None: any batch). See :func:`export_gansynth`.
    """
    from tfaudiogan.configs import to_dict

    m, s = config.model, config.spectrogram
    rep = spectrogram_from_config(s, exportable=True)  # matmul (i)DFT: TFLite builtins only

    def generate(batch, range_check):
        return {GENERATE: generate_signature(generator, rep, m.latent_size, m.min_pitch,
                                             m.num_pitches, batch, range_check)}

    metadata = {
        "sample_rate": s.sample_rate, "audio_length": s.audio_length,
        "latent_distribution": "normal(0, 1)",
        "inputs": {LATENT: "float32 [batch, latent_dim]",
                   PITCH: f"int32 [batch] MIDI, clipped to {m.min_pitch}..{m.max_pitch} "
                          "in the graph; validate with check_pitches"},
        "outputs": {AUDIO: "float32 [batch, audio_length]"},
        "config": to_dict(config),
    }
    limits = {"latent_dim": m.latent_size, "min_pitch": m.min_pitch, "max_pitch": m.max_pitch}
    return ExportSpec(FAMILY, config.name, (generator,), generate(None, True), default=GENERATE,
                      metadata=metadata, limits=limits,
                      tflite_signatures=generate(tflite_batch, False),
                      tflite_metadata={"batch": tflite_batch})


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
    return export_model(gansynth_spec(generator, config, tflite_batch), export_root, name=name,
                        version=version, tflite=tflite)


def generate_audio(signature, z, pitch, min_pitch: int = 24, max_pitch: int = 84) -> np.ndarray:
    """Python client: validates the inputs, then calls a loaded ``generate`` signature.

    Args:
        signature: ``tf.saved_model.load(dir).signatures["generate"]`` (or any callable with
            the keyword inputs ``z`` and ``pitch``).
        z: float ``[batch, latent_dim]``.
        pitch: int ``[batch]`` MIDI in ``min_pitch..max_pitch``.

    Returns:
        float32 ``[batch, audio_length]``.

    Raises:
        ValueError: bad pitches or shapes (see :func:`tfaudiogan.export.signatures.check_inputs`).
    """
    inputs = check_inputs({LATENT: z, PITCH: pitch},
                          limits={"min_pitch": min_pitch, "max_pitch": max_pitch})
    out = signature(**{k: tf.constant(v) for k, v in inputs.items()})
    return np.asarray(out[AUDIO])
