"""Builtins-only TFLite conversion of exported SavedModels, and a LiteRT runner.

Since TF 2.20 the Python wheels cannot run Flex (``SELECT_TF_OPS``) models, so a graph that
needs TF kernels would convert and then fail at run time (reference/ecosystem.md section 2.3).
The converter here allows ``TFLITE_BUILTINS`` only, so such a graph fails at export time with a
message naming the offending ops.
"""

from __future__ import annotations

import os
import re
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import tensorflow as tf

# Converter messages name unsupported ops as "'tf.IRFFT' op is neither a custom op nor a flex
# op" and summarise them as "TF Select ops: IRFFT, Pad".
_OP_PATTERN = re.compile(r"'tf\.(\w+)' op is neither a custom op nor a flex op")
_SUMMARY_PATTERN = re.compile(r"TF Select ops: ([\w, ]+)")


def _unsupported_ops(error: Exception) -> list[str]:
    """Names of the non-builtin TF ops reported by a ConverterError (sorted, de-duplicated)."""
    ops = set()
    for item in getattr(error, "errors", None) or []:
        name = getattr(getattr(item, "operator", None), "name", "")
        if name:
            ops.add(name.removeprefix("tf."))
    text = str(error)
    ops.update(_OP_PATTERN.findall(text))
    for summary in _SUMMARY_PATTERN.findall(text):
        ops.update(op.strip() for op in summary.split(",") if op.strip())
    return sorted(ops)


def convert_tflite(saved_model_dir: str | os.PathLike,
                   signature_keys: Sequence[str] | None = None) -> bytes:
    """Converts a SavedModel to a TFLite flatbuffer using built-in ops only.

    Args:
        saved_model_dir: a SavedModel version directory (written by ExportArchive).
        signature_keys: signatures to convert (each becomes a TFLite signature runner);
            default every signature of the SavedModel.

    Returns:
        The ``.tflite`` flatbuffer.

    Raises:
        ValueError: the graph needs ops that are not TFLite builtins (IRFFT, Complex, Angle,
            ...); the message names them.
    """
    keys = list(signature_keys) if signature_keys is not None else None
    converter = tf.lite.TFLiteConverter.from_saved_model(str(saved_model_dir),
                                                         signature_keys=keys)
    converter.target_spec.supported_ops = {tf.lite.OpsSet.TFLITE_BUILTINS}
    try:
        return converter.convert()
    except Exception as error:  # tf.lite ConverterError (no stable public import path)
        ops = _unsupported_ops(error)
        if not ops:
            raise
        raise ValueError(
            f"'{saved_model_dir}' cannot be converted to TFLite with built-in ops only: "
            f"{', '.join(ops)} {'is not a builtin' if len(ops) == 1 else 'are not builtins'}. "
            "Flex (SELECT_TF_OPS) models do not run in the TF >= 2.20 / LiteRT Python "
            "interpreters; replace inverse FFT / complex / angle ops with a matmul DFT and atan2"
        ) from error


def write_tflite(saved_model_dir: str | os.PathLike, path: str | os.PathLike,
                 signature_keys: Sequence[str] | None = None) -> Path:
    """Converts (builtins only, see :func:`convert_tflite`) and writes ``path`` atomically.

    Returns:
        ``path`` as a Path; no partial file is left if conversion or writing fails.
    """
    content = convert_tflite(saved_model_dir, signature_keys)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(content)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def _interpreter(model: str | os.PathLike | bytes):
    """A LiteRT interpreter (ai_edge_litert), or the deprecated tf.lite one as a fallback.

    An object that already is an interpreter (has ``get_signature_runner``) is returned as is.
    """
    if hasattr(model, "get_signature_runner"):
        return model
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:  # pragma: no cover - ai-edge-litert is in the test extra
        Interpreter = tf.lite.Interpreter
    source = ({"model_content": bytes(model)} if isinstance(model, bytes | bytearray)
              else {"model_path": str(model)})
    with warnings.catch_warnings():
        # tf.lite.Interpreter warns on every construction that it is deprecated (the fallback).
        warnings.simplefilter("ignore")
        return Interpreter(**source)


def load_interpreter(model: str | os.PathLike | bytes):
    """A reusable interpreter for :func:`run_tflite` (ai_edge_litert, else tf.lite)."""
    return _interpreter(model)


def tflite_signatures(model: str | os.PathLike | bytes) -> dict[str, dict[str, list[str]]]:
    """``{signature: {"inputs": [...], "outputs": [...]}}`` of a TFLite model."""
    return _interpreter(model).get_signature_list()


def run_tflite(model: str | os.PathLike | bytes, signature: str | None = None,
               **inputs: np.ndarray) -> dict[str, np.ndarray]:
    """Runs one signature of a TFLite model.

    The signature runner resizes its inputs to the given arrays, so dynamic dimensions (batch,
    samples) accept any size on every call.

    Args:
        model: a ``.tflite`` path, the flatbuffer bytes, or an interpreter from
            :func:`load_interpreter` (reused, so repeated calls skip model loading).
        signature: signature key (e.g. ``"translate_a_to_b"``); may be None when the model has
            exactly one signature.
        **inputs: named input arrays, e.g. ``waveform=[batch, samples] float32``.

    Returns:
        ``{output name: array}``.

    Raises:
        ValueError: unknown signature or missing/unknown input names.
    """
    interpreter = _interpreter(model)
    signatures = interpreter.get_signature_list()
    if signature is None:
        if len(signatures) != 1:
            raise ValueError(f"the model has signatures {sorted(signatures)}; name one")
        signature = next(iter(signatures))
    if signature not in signatures:
        raise ValueError(f"unknown TFLite signature '{signature}'; the model has "
                         f"{sorted(signatures)}")
    expected = set(signatures[signature]["inputs"])
    if set(inputs) != expected:
        raise ValueError(f"signature '{signature}' takes inputs {sorted(expected)}; got "
                         f"{sorted(inputs)}")
    runner = interpreter.get_signature_runner(signature)
    details = runner.get_input_details()
    feed = {name: np.ascontiguousarray(value, dtype=details[name]["dtype"])
            for name, value in inputs.items()}
    outputs = runner(**feed)
    return {name: np.array(value) for name, value in outputs.items()}
