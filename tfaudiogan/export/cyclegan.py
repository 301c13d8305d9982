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
from collections.abc import Sequence
from pathlib import Path

import keras
import tensorflow as tf

from tfaudiogan.audio.chunking import translate_waveform
from tfaudiogan.audio.representations import CycleGANSpectrogram, spectrogram_from_config
from tfaudiogan.export.signatures import (
    DEFAULT_SIGNATURE,
    TRANSLATE_A_TO_B,
    TRANSLATE_B_TO_A,
    WAVEFORM,
)
from tfaudiogan.export.spec import ExportSpec, Signature, build_archive, export_model

FAMILY = "cyclegan"


def _translate(generator: keras.Model, representation: CycleGANSpectrogram,
               chunk_frames: int, overlap_frames: int) -> Signature:
    """``waveform [batch, samples] -> {"waveform": [batch, samples]}`` through ``generator``."""

    def run_generator(spec):
        return generator(spec, training=False)

    def translate(waveform):
        out = translate_waveform(waveform, run_generator, representation, chunk_frames,
                                 overlap_frames)
        return {WAVEFORM: out}

    return Signature(translate, (tf.TensorSpec([None, None], tf.float32, name=WAVEFORM),))


def _spec(gen_ab: keras.Model, gen_ba: keras.Model, representation: CycleGANSpectrogram,
          chunk_frames: int, overlap_frames: int, name: str = FAMILY, **fields) -> ExportSpec:
    """Both directions; a_to_b is also ``serving_default``."""
    signatures = {
        TRANSLATE_A_TO_B: _translate(gen_ab, representation, chunk_frames, overlap_frames),
        TRANSLATE_B_TO_A: _translate(gen_ba, representation, chunk_frames, overlap_frames)}
    return ExportSpec(FAMILY, name, (gen_ab, gen_ba), signatures, default=TRANSLATE_A_TO_B,
                      **fields)


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
    return build_archive(_spec(gen_ab, gen_ba, representation, chunk_frames, overlap_frames))


def translator_spec(gen_ab: keras.Model, gen_ba: keras.Model, config,
                    domains: Sequence[str] = ("a", "b")) -> ExportSpec:
    """The translator export of a ``CycleGANConfig`` run.

    Args:
        gen_ab, gen_ba: the trained generators.
        config: the run's config; its spectrogram section defines the front-end,
            ``train.crop_frames`` the chunk width and ``train.chunk_overlap_frames`` the overlap.
        domains: names of domain a and domain b (e.g. ``("pia", "gel")``).

    Raises:
        ValueError: ``domains`` is not two names.
    """
    from tfaudiogan.configs import to_dict

    if len(domains) != 2:
        raise ValueError(f"domains must be two names (a, b); got {domains!r}")
    a, b = domains
    s, t = config.spectrogram, config.train
    metadata = {
        "sample_rate": s.sample_rate,
        "domains": [a, b],
        "directions": {TRANSLATE_A_TO_B: {"from": a, "to": b},
                       TRANSLATE_B_TO_A: {"from": b, "to": a},
                       DEFAULT_SIGNATURE: {"from": a, "to": b}},
        "inputs": {WAVEFORM: "float32 [batch, samples], mono, in [-1, 1]"},
        "outputs": {WAVEFORM: "float32 [batch, samples], same length as the input"},
        "frame_length": s.frame_length,
        "frame_step": s.frame_step,
        "chunk_frames": t.crop_frames,
        "overlap_frames": t.chunk_overlap_frames,
        "config": to_dict(config),
    }
    return _spec(gen_ab, gen_ba, spectrogram_from_config(s), t.crop_frames,
                 t.chunk_overlap_frames, name=config.name, metadata=metadata,
                 limits={"min_samples": s.frame_length})  # shortest input: one STFT frame


def export_translator(gen_ab: keras.Model, gen_ba: keras.Model, config,
                      export_root: str | os.PathLike, domains: Sequence[str] = ("a", "b"),
                      version: int | None = None) -> dict[str, Path]:
    """Exports both translation directions as a SavedModel version and a TFLite file.

    Writes ``export_root/<config.name>/<version>/`` (TF Serving layout, with the
    ``tfaudiogan.json`` sidecar) and ``export_root/<config.name>_<version>.tflite`` holding the
    ``translate_a_to_b`` and ``translate_b_to_a`` signature runners (see :func:`translator_spec`
    and :func:`tfaudiogan.export.spec.export_model`).

    Returns:
        ``{"saved_model": version dir, "tflite": .tflite path}``.

    Raises:
        FileExistsError: the version directory or the .tflite file already exists.
        ValueError: the graph is not TFLite-builtin-only, or ``domains`` is not two names.
    """
    return export_model(translator_spec(gen_ab, gen_ba, config, domains), export_root,
                        version=version)
