"""Signature and input names of every export, and the one validation of their inputs.

Every family's SavedModel / TFLite signatures use these names::

    generate(z [batch, latent_dim] float32 (, pitch [batch] MIDI)) -> {"audio": [batch, samples]}
    synthesize(f0_hz, amplitude, harmonic_distribution, noise_magnitudes [batch, frames, ...])
        -> {"audio": [batch, samples]}                                            (DDSP-GAN)
    translate_a_to_b / translate_b_to_a(waveform [batch, samples]) -> {"waveform": [...]}
    serving_default = the family's main signature

:func:`check_inputs` validates a request the same way for the Python clients, the CLI, the
TF Serving emulation and the gRPC servicer (export/serving.py): the input names, dtypes and
ranks of the signature, then per input name the export's limits (the ``tfaudiogan.json`` keys in
:data:`LIMIT_KEYS`): audio length and shape, latent size, MIDI pitch range, control frames.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import tensorflow as tf

from tfaudiogan.audio.pitch import check_pitches
from tfaudiogan.models.ddsp_gan import CONTROL_KEYS, check_control_frames

DEFAULT_SIGNATURE = "serving_default"
GENERATE = "generate"
SYNTHESIZE = "synthesize"
TRANSLATE_A_TO_B = "translate_a_to_b"
TRANSLATE_B_TO_A = "translate_b_to_a"
WAVEFORM = "waveform"  # input and output of the translate signatures
INPUT_NAME = WAVEFORM
AUDIO = "audio"  # output of generate / synthesize
LATENT = "z"
PITCH = "pitch"
#: Sidecar keys that bound the inputs (declared by each family's ExportSpec.limits).
LIMIT_KEYS = ("min_samples", "latent_dim", "min_pitch", "max_pitch", "n_frames")

# Interleaved stereo read as a 2-D array looks like [samples, channels] with a few channels and
# many more samples than channels; surround formats go up to 8 channels (7.1).
_MAX_CHANNELS = 8
_MIN_SAMPLES_PER_CHANNEL = 1000


def check_waveform_batch(array, min_samples: int = 1) -> np.ndarray:
    """Validates client audio and returns it as float32 ``[batch, samples]``.

    Args:
        array: mono audio ``[samples]`` (a batch of one is added) or ``[batch, samples]``.
        min_samples: shortest accepted clip; translators need one STFT frame
            (``frame_length``, stored as ``min_samples`` in the export metadata).

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


def check_latents(z, latent_dim: int | None = None) -> np.ndarray:
    """Validates latent vectors: float32 ``[batch, latent_dim]``, finite.

    Raises:
        ValueError: wrong rank or size, or NaN / Inf entries.
    """
    z = np.asarray(z, np.float32)
    if z.ndim != 2 or (latent_dim is not None and z.shape[1] != latent_dim):
        raise ValueError(f"z must be [batch, {latent_dim or 'latent_dim'}], got shape {z.shape}")
    if not np.all(np.isfinite(z)):
        raise ValueError("z contains NaN or Inf")
    return z


def check_controls(controls: Mapping[str, Any], n_frames: int | None = None
                   ) -> dict[str, np.ndarray]:
    """Validates DDSP synth controls ``[batch, frames, channels]`` and returns them as float32.

    Args:
        controls: name -> array; the frame axis (1) must agree between all of them.
        n_frames: the model's frame count, if known.

    Raises:
        ValueError: rank != 3, or frame counts that disagree (the message names both shapes)
            or differ from ``n_frames``.
    """
    values = {k: np.asarray(v, np.float32) for k, v in controls.items()}
    check_control_frames(**values)
    for name, value in values.items():
        if n_frames is not None and value.shape[1] != n_frames:
            raise ValueError(f"control '{name}' has {value.shape[1]} frames; the model takes "
                             f"n_frames={n_frames}")
    return values


def _cast(name: str, value, spec: tf.TensorSpec) -> np.ndarray:
    """``value`` as the spec's dtype with a compatible shape (an integer dtype refuses fractions)."""
    dtype = spec.dtype.as_numpy_dtype
    try:
        raw = np.asarray(value)
        exact = not (np.issubdtype(dtype, np.integer) and raw.dtype.kind == "f"
                     and not np.all(np.equal(np.mod(raw, 1), 0)))
        cast = raw.astype(dtype)
    except (TypeError, ValueError) as error:
        raise ValueError(f"input '{name}' cannot be converted to {spec.dtype.name} "
                         f"{spec.shape}: {error}") from error
    if not exact:
        raise ValueError(f"input '{name}' must hold integers ({spec.dtype.name}), got "
                         f"{raw.ravel()[:8].tolist()}")
    if not spec.shape.is_compatible_with(cast.shape):
        raise ValueError(f"input '{name}' has shape {cast.shape}; the signature expects "
                         f"{spec.shape.as_list()} (None = any size)")
    return cast


def check_inputs(inputs: Mapping[str, Any], specs: Mapping[str, tf.TensorSpec] | None = None,
                 limits: Mapping[str, Any] | None = None,
                 signature: str | None = None) -> dict[str, np.ndarray]:
    """Validates the inputs of one signature call; every client goes through here.

    Order: the input names (when ``specs`` is given), each input's dtype and shape against
    its spec, the DDSP controls together (:func:`check_controls`, ``n_frames``), then by input
    name: ``waveform`` (:func:`check_waveform_batch`, ``min_samples``), ``z``
    (:func:`check_latents`, ``latent_dim``), ``pitch`` (:func:`check_pitches` when the limits
    hold ``min_pitch`` and ``max_pitch``); last, every input must have the same batch size
    (axis 0).

    Args:
        inputs: input name -> array-like.
        specs: input name -> ``tf.TensorSpec`` of the signature (None: name checks only, e.g. a
            Python client before it has loaded the model).
        limits: the export's metadata (or any mapping holding :data:`LIMIT_KEYS`).
        signature: the signature's name, for messages.

    Returns:
        input name -> numpy array of the spec's dtype (float32 / int32 without specs).

    Raises:
        ValueError: a message naming the input and what is wrong.
    """
    limits = limits or {}
    if specs is not None and set(inputs) != set(specs):
        raise ValueError(f"signature '{signature or DEFAULT_SIGNATURE}' takes inputs "
                         f"{sorted(specs)}; got {sorted(inputs)}")
    values = {name: (_cast(name, value, specs[name]) if specs is not None else value)
              for name, value in inputs.items()}
    controls = {k: values[k] for k in CONTROL_KEYS if k in values}
    if controls:
        values.update(check_controls(controls, limits.get("n_frames")))
    for name, value in values.items():
        if name == WAVEFORM:
            value = check_waveform_batch(value, int(limits.get("min_samples", 1)))
        elif name == LATENT:
            value = check_latents(value, limits.get("latent_dim"))
        elif name == PITCH and "min_pitch" in limits and "max_pitch" in limits:
            value = check_pitches(value, int(limits["min_pitch"]), int(limits["max_pitch"]))
        value = np.asarray(value)
        values[name] = value.astype(specs[name].dtype.as_numpy_dtype) if specs else value
    batches = {name: np.shape(value)[0] for name, value in values.items() if np.ndim(value)}
    if len(set(batches.values())) > 1:
        (a, n), *rest = batches.items()
        b, m = next((k, v) for k, v in rest if v != n)
        raise ValueError(f"inputs disagree on the batch size (axis 0): {a} has batch {n}, "
                         f"{b} has batch {m}")
    return values
