"""One export path for every family: an :class:`ExportSpec` in, SavedModel + TFLite out.

A family declares what differs (its signatures, metadata and input limits); :func:`export_model`
does the rest the same way for all of them::

    spec = ExportSpec(
        family="wavegan", name="wavegan_sc09", models=(generator,),
        signatures={"generate": Signature(generate_fn, (tf.TensorSpec([None, 100], tf.float32,
                                                                      name="z"),))},
        default="generate",                                 # also served as serving_default
        metadata={"sample_rate": 16000, "audio_length": 16384, ...},
        limits={"latent_dim": 100})                         # input checks (signatures.py)
    paths = export_model(spec, "saved_models")
    # {"saved_model": saved_models/wavegan_sc09/1, "tflite": saved_models/wavegan_sc09_1.tflite}

Layout (TF Serving, reference/ecosystem.md section 3.2): ``<root>/<name>/<integer version>/``
written by ``keras.export.ExportArchive`` (export/saved_model.py) with the ``tfaudiogan.json``
sidecar, and ``<root>/<name>_<version>.tflite`` converted with built-in ops only
(export/tflite.py).

Every graph is float32 (inputs, outputs and compute), whatever precision policy the models
were trained under: the signatures are traced with every layer of ``spec.models`` switched to
float32 (:func:`tfaudiogan.layers.mixed_precision.compute_in_float32`). TFLite has no bfloat16
kernels, and clients send and receive float32.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from tfaudiogan.export.saved_model import next_version, write_archive
from tfaudiogan.export.signatures import DEFAULT_SIGNATURE, LIMIT_KEYS, check_inputs
from tfaudiogan.export.tflite import write_tflite
from tfaudiogan.layers.mixed_precision import compute_in_float32


@dataclasses.dataclass(frozen=True, eq=False)
class Signature:
    """One serving endpoint.

    Attributes:
        fn: ``fn(**inputs) -> {output name: tensor}``; its parameters are the input names, in
            the order of ``inputs``.
        inputs: one named ``tf.TensorSpec`` per parameter (``None`` dimensions take any size,
            e.g. ``[None, latent_dim]`` for a dynamic batch).
    """

    fn: Callable[..., dict]
    inputs: tuple[tf.TensorSpec, ...]

    @property
    def input_specs(self) -> dict[str, tf.TensorSpec]:
        """Input name -> spec."""
        return {spec.name: spec for spec in self.inputs}

    def function(self, models: tuple[keras.Model, ...] = ()):
        """The traceable ``tf.function`` with this input signature.

        Args:
            models: networks ``fn`` calls; every trace of the function runs them in float32
                (a mixed-precision policy's 16-bit layers are switched back for the trace).
        """
        fn = self.fn
        if models:
            @functools.wraps(self.fn)
            def fn(*args, **kwargs):
                with compute_in_float32(*models):
                    return self.fn(*args, **kwargs)
        return tf.function(fn, input_signature=list(self.inputs))


@dataclasses.dataclass(frozen=True, eq=False)
class ExportSpec:
    """What a family exports.

    Attributes:
        family: the sidecar's ``family`` (``"cyclegan"``, ``"wavegan"``, ``"gansynth"``, ...).
        name: default model name (the directory under the export root).
        models: the Keras models whose variables the signatures use (tracked by the archive).
        signatures: name -> :class:`Signature`, in order.
        default: the signature also served as ``serving_default`` (None: no default).
        metadata: family entries of the sidecar (sample_rate, audio_length, config, ...).
        limits: input bounds checked by :func:`tfaudiogan.export.signatures.check_inputs`
            (keys from ``LIMIT_KEYS``); written to the sidecar as top-level keys.
        tflite_signatures: separate graphs for the TFLite file (e.g. without ops that are not
            builtins, or with a fixed batch); None converts the SavedModel's signatures.
        tflite_metadata: extra entries of the sidecar's ``tflite`` section.
    """

    family: str
    name: str
    models: tuple[keras.Model, ...]
    signatures: Mapping[str, Signature]
    default: str | None = None
    metadata: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    limits: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    tflite_signatures: Mapping[str, Signature] | None = None
    tflite_metadata: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        if DEFAULT_SIGNATURE in self.signatures:
            raise ValueError(f"declare '{DEFAULT_SIGNATURE}' with default=<signature name>")
        if self.default is not None and self.default not in self.signatures:
            raise ValueError(f"default '{self.default}' is not one of {list(self.signatures)}")
        unknown = set(self.limits) - set(LIMIT_KEYS)
        if unknown:
            raise ValueError(f"unknown limits {sorted(unknown)}; use {list(LIMIT_KEYS)}")
        if self.tflite_signatures is not None and (
                not set(self.tflite_signatures) <= set(self.signatures)):
            raise ValueError("tflite_signatures must be a subset of the signatures")

    @property
    def signature_names(self) -> list[str]:
        """Every SignatureDef key of the SavedModel: the declared ones, then serving_default."""
        return list(self.signatures) + ([DEFAULT_SIGNATURE] if self.default else [])

    @property
    def tflite_names(self) -> list[str]:
        """The signature runners of the TFLite file."""
        return list(self.tflite_signatures or self.signatures)

    def check(self, inputs: Mapping[str, Any], signature: str | None = None
              ) -> dict[str, np.ndarray]:
        """Validates a call of ``signature`` (default: the default one); see ``check_inputs``."""
        name = signature or self.default
        if name not in self.signatures:
            raise ValueError(f"unknown signature '{name}'; the export has {self.signature_names}")
        return check_inputs(inputs, self.signatures[name].input_specs, self.limits, name)

    def sidecar(self, name: str) -> dict:
        """The ``tfaudiogan.json`` contents (``version`` and ``tflite`` are added on export)."""
        return {"family": self.family, "name": name, **self.metadata, **self.limits,
                "signatures": self.signature_names}


def build_archive(spec: ExportSpec, signatures: Mapping[str, Signature] | None = None
                  ) -> keras.export.ExportArchive:
    """An ExportArchive tracking ``spec.models`` with one endpoint per signature.

    Args:
        spec: the family's declaration.
        signatures: endpoints to add instead of ``spec.signatures`` (the TFLite variant).

    Returns:
        The archive; ``serving_default`` is the default signature's own function.
    """
    archive = keras.export.ExportArchive()
    for model in spec.models:
        archive.track(model)
    functions = {key: sig.function(spec.models)
                 for key, sig in (signatures or spec.signatures).items()}
    for key, fn in functions.items():
        archive.add_endpoint(key, fn)
    if spec.default in functions:
        archive.add_endpoint(DEFAULT_SIGNATURE, functions[spec.default])
    return archive


def export_model(spec: ExportSpec, export_root: str | os.PathLike, name: str | None = None,
                 version: int | None = None, tflite: bool = True) -> dict[str, Path]:
    """Writes ``export_root/<name>/<version>/`` (SavedModel) and ``<name>_<version>.tflite``.

    The SavedModel holds ``spec.signature_names`` and the ``tfaudiogan.json`` sidecar
    (:meth:`ExportSpec.sidecar` plus ``version`` and, with ``tflite``, ``{"tflite": {"file",
    "signatures", **spec.tflite_metadata}}``). The TFLite file is converted with built-in ops
    only, from the SavedModel or from ``spec.tflite_signatures``.

    Args:
        spec: the family's declaration.
        export_root: directory receiving the model directory and the ``.tflite`` file.
        name: model name (default ``spec.name``).
        version: integer version; default one above the highest existing.
        tflite: also write the TFLite file.

    Returns:
        ``{"saved_model": version dir[, "tflite": .tflite path]}``.

    Raises:
        FileExistsError: the version directory or the .tflite file already exists.
        ValueError: a graph is not TFLite-builtin-only (the message names the ops).
    """
    name = name or spec.name
    root = Path(export_root)
    if version is None:
        version = next_version(root / name)
    tflite_path = root / f"{name}_{version}.tflite"
    meta = spec.sidecar(name)
    if tflite:
        if tflite_path.exists():
            raise FileExistsError(f"'{tflite_path}' already exists; refusing to overwrite it")
        meta["tflite"] = {"file": tflite_path.name, "signatures": spec.tflite_names,
                          **spec.tflite_metadata}
    version_dir = write_archive(build_archive(spec), root / name, version=version, metadata=meta)
    paths = {"saved_model": version_dir}
    if not tflite:
        return paths
    if spec.tflite_signatures is None:
        paths["tflite"] = write_tflite(version_dir, tflite_path, signature_keys=spec.tflite_names)
        return paths
    with tempfile.TemporaryDirectory(dir=root) as tmp:
        source = os.path.join(tmp, "tflite_source")
        build_archive(spec, spec.tflite_signatures).write_out(source, verbose=False)
        paths["tflite"] = write_tflite(source, tflite_path, signature_keys=spec.tflite_names)
    return paths
