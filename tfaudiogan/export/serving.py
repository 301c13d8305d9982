"""TF Serving clients and a faithful local emulation (no server binary is needed).

The real server is ``docker run -p 8501:8501 -p 8500:8500 -v $PWD/saved_models/NAME:/models/NAME
-e MODEL_NAME=NAME tensorflow/serving`` (reference/ecosystem.md section 3.4). Here:

- :func:`saved_model_cli_show` / :func:`saved_model_cli_run` load a version directory through
  the TF1 graph-mode loader, the server's code path (it catches "Could not find variable").
- :func:`rest_predict` applies the REST ``:predict`` rules (row ``instances`` -> ``predictions``,
  columnar ``inputs`` -> ``outputs``, errors as ``{"error": ...}``) to a loaded SavedModel.
- :func:`make_predict_request` / :func:`PredictionServicer` speak gRPC (tensorflow-serving-api).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from tfaudiogan.export.saved_model import read_metadata, resolve_version_dir
from tfaudiogan.export.signatures import (
    DEFAULT_SIGNATURE,
    INPUT_NAME,
    PITCH,
    WAVEFORM,
    check_inputs,
    check_waveform_batch,
)

# ------------------------------------------------------------------ saved_model_cli (TF1 loader)


def _saved_model_cli() -> list[str]:
    """The ``saved_model_cli`` console script of this environment (next to the interpreter)."""
    script = Path(sys.executable).parent / "saved_model_cli"
    if script.is_file():
        return [str(script)]
    found = shutil.which("saved_model_cli")
    if found:
        return [found]
    return [sys.executable, "-m", "tensorflow.python.tools.saved_model_cli"]


def _run_cli(args: list[str]) -> str:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    proc = subprocess.run(_saved_model_cli() + args, capture_output=True, text=True, env=env,
                          check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"saved_model_cli {args[0]} failed (exit {proc.returncode}):\n"
                           f"{proc.stderr.strip()}")
    return proc.stdout


def saved_model_cli_show(version_dir: str | os.PathLike) -> str:
    """``saved_model_cli show --dir D --all``: every SignatureDef with dtypes and shapes."""
    return _run_cli(["show", "--dir", str(version_dir), "--all"])


def saved_model_cli_run(version_dir: str | os.PathLike, signature: str,
                        inputs: dict[str, np.ndarray],
                        workdir: str | os.PathLike) -> dict[str, np.ndarray]:
    """Runs one signature with ``saved_model_cli run`` (TF1 graph-mode loader, like the server).

    Args:
        version_dir: a SavedModel version directory.
        signature: SignatureDef key, e.g. ``"translate_a_to_b"``.
        inputs: ``{input name: array}``; each is saved as ``workdir/<name>.npy``.
        workdir: scratch directory for the input and output ``.npy`` files.

    Returns:
        ``{output name: array}`` read back from ``--outdir``.

    Raises:
        RuntimeError: the command failed; the message carries its stderr.
    """
    in_dir, out_dir = Path(workdir) / "inputs", Path(workdir) / "outputs"
    for d in (in_dir, out_dir):
        d.mkdir(parents=True, exist_ok=True)
    specs = []
    for name, value in inputs.items():
        path = in_dir / f"{name}.npy"
        np.save(path, np.asarray(value))
        specs.append(f"{name}={path}")
    _run_cli(["run", "--dir", str(version_dir), "--tag_set", "serve", "--signature_def",
              signature, "--inputs", ";".join(specs), "--outdir", str(out_dir), "--overwrite"])
    return {p.stem: np.load(p) for p in sorted(out_dir.glob("*.npy"))}


# ------------------------------------------------------------------ loaded model + predict rules


@dataclass
class ServedModel:
    """A loaded SavedModel version plus its ``tfaudiogan.json`` metadata (may be empty)."""

    loaded: Any
    version_dir: Path | None = None
    metadata: dict = field(default_factory=dict)

    @classmethod
    def load(cls, model_dir: str | os.PathLike) -> ServedModel:
        """Loads a version dir, or the highest integer version of a base dir (tf.saved_model)."""
        version_dir = resolve_version_dir(model_dir)
        try:
            metadata = read_metadata(version_dir)
        except FileNotFoundError:
            metadata = {}
        return cls(tf.saved_model.load(str(version_dir)), version_dir, metadata)

    @property
    def version(self) -> int | None:
        name = self.version_dir.name if self.version_dir is not None else ""
        return int(name) if name.isdigit() else None

    def signature(self, name: str | None):
        """The concrete signature function; ValueError naming the known keys if absent."""
        name = name or DEFAULT_SIGNATURE
        signatures = self.loaded.signatures
        if name not in signatures:
            raise ValueError(f'Serving signature key "{name}" not found; the model has '
                             f"{sorted(signatures)}")
        return signatures[name]

    def output_names(self, signature_name: str | None) -> list[str]:
        return sorted(self.signature(signature_name).structured_outputs)

    def predict(self, signature_name: str | None,
                inputs: dict[str, Any]) -> dict[str, np.ndarray]:
        """Validates ``inputs`` against the signature and the export's limits, then runs it.

        Validation is :func:`tfaudiogan.export.signatures.check_inputs`: names, dtypes and
        shapes of the signature, then the limits of the ``tfaudiogan.json`` sidecar (audio
        that looks stereo, is empty, too short for one STFT frame or NaN; latent size; MIDI
        pitch range; control frames) and one batch size for all inputs.

        Raises:
            ValueError: unknown signature, missing/extra inputs, bad dtype/shape/values, or
                a TF runtime error (its message).
        """
        fn = self.signature(signature_name)
        values = check_inputs(inputs, fn.structured_input_signature[1], self.metadata,
                              signature_name or DEFAULT_SIGNATURE)
        feed = {name: tf.constant(value) for name, value in values.items()}
        try:
            outputs = fn(**feed)
        except tf.errors.OpError as error:
            raise ValueError(error.message) from error
        return {name: t.numpy() for name, t in outputs.items()}


_CACHE: dict[str, ServedModel] = {}
_CACHE_LOCK = threading.Lock()


def _served(model_or_dir) -> ServedModel:
    """ServedModel from a ServedModel, a tf.saved_model.load() object, or a directory (cached:
    written versions are immutable)."""
    if isinstance(model_or_dir, ServedModel):
        return model_or_dir
    if hasattr(model_or_dir, "signatures"):
        return ServedModel(model_or_dir)
    key = str(resolve_version_dir(model_or_dir).resolve())
    with _CACHE_LOCK:
        if key not in _CACHE:
            _CACHE[key] = ServedModel.load(key)
        return _CACHE[key]


# ------------------------------------------------------------------ REST (JSON) emulation


def _columnar_inputs(value, input_names: list[str]) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    if len(input_names) != 1:
        raise ValueError(f"'inputs' must be an object naming each input {input_names}")
    return {input_names[0]: value}


def _row_inputs(instances, input_names: list[str]) -> dict[str, Any]:
    if not isinstance(instances, list) or not instances:
        raise ValueError("'instances' must be a non-empty list")
    named = [isinstance(row, dict) for row in instances]
    if any(named) and not all(named):
        raise ValueError("'instances' mixes objects and bare values")
    if not all(named):
        if len(input_names) != 1:
            raise ValueError(f"each instance must be an object naming the inputs {input_names}")
        return {input_names[0]: instances}
    columns: dict[str, list] = {name: [] for name in input_names}
    for i, row in enumerate(instances):
        if set(row) != set(input_names):
            raise ValueError(f"instance {i} has keys {sorted(row)}; expected {input_names}")
        for name in input_names:
            columns[name].append(row[name])
    return columns


def _jsonable(array: np.ndarray):
    if array.dtype == object or array.dtype.kind in "SU":  # the server would b64-encode them
        raise ValueError("string outputs are not supported by this emulation")
    return array.tolist()


def rest_predict(model_or_dir, body: dict | str) -> dict:
    """Emulates ``POST /v1/models/NAME:predict`` of TF Serving's REST API.

    Args:
        model_or_dir: a :class:`ServedModel`, a ``tf.saved_model.load`` object, a version dir
            or a base dir (its highest integer version is served, like the server).
        body: the JSON request (dict or text): ``{"signature_name"?: str, "instances": [...]}``
            (row format) or ``{"signature_name"?: str, "inputs": ...}`` (columnar), never both.

    Returns:
        Row format: ``{"predictions": [...]}``, one entry per instance, the bare value when the
        signature has one output, else ``{output name: value}`` objects. Columnar:
        ``{"outputs": value}`` for one output, else ``{"outputs": {name: value}}``. Any failure:
        ``{"error": message}`` (the server answers HTTP 400 with such a body).
    """
    try:
        if isinstance(body, str | bytes):
            body = json.loads(body)
        if not isinstance(body, dict):
            raise ValueError("the request body must be a JSON object")
        has_rows, has_cols = "instances" in body, "inputs" in body
        if has_rows == has_cols:
            raise ValueError("the request must have either 'instances' (row format) or "
                             "'inputs' (columnar format), and not both")
        unknown = set(body) - {"signature_name", "instances", "inputs"}
        if unknown:
            raise ValueError(f"unknown request fields {sorted(unknown)}")
        served = _served(model_or_dir)
        signature_name = body.get("signature_name") or DEFAULT_SIGNATURE
        input_names = sorted(served.signature(signature_name).structured_input_signature[1])
        if has_rows:
            inputs = _row_inputs(body["instances"], input_names)
        else:
            inputs = _columnar_inputs(body["inputs"], input_names)
        outputs = served.predict(signature_name, inputs)
        names = sorted(outputs)
        if has_cols:
            if len(names) == 1:
                return {"outputs": _jsonable(outputs[names[0]])}
            return {"outputs": {name: _jsonable(outputs[name]) for name in names}}
        if len(names) == 1:
            return {"predictions": _jsonable(outputs[names[0]])}
        batch = len(outputs[names[0]])
        return {"predictions": [{name: _jsonable(outputs[name][i]) for name in names}
                                for i in range(batch)]}
    except (ValueError, TypeError, KeyError) as error:
        return {"error": str(error)}


def request_body(waveform, signature_name: str | None = None, row_format: bool = True,
                 input_name: str = INPUT_NAME) -> dict:
    """The JSON body of a REST ``:predict`` call for mono audio.

    Args:
        waveform: ``[samples]`` or ``[batch, samples]`` mono float audio (validated by
            :func:`check_waveform_batch`).
        signature_name: e.g. ``"translate_b_to_a"``; omitted means ``serving_default``.
        row_format: ``{"instances": [{"waveform": [...]}, ...]}`` if True, else
            ``{"inputs": {"waveform": [[...], ...]}}``.
        input_name: the signature's input key.

    Returns:
        A dict ready for ``json.dumps``.
    """
    batch = check_waveform_batch(waveform)
    body: dict[str, Any] = {}
    if signature_name:
        body["signature_name"] = signature_name
    if row_format:
        body["instances"] = [{input_name: row.tolist()} for row in batch]
    else:
        body["inputs"] = {input_name: batch.tolist()}
    return body


# Probe values per input name: a quiet 440 Hz tone, a mid-range note, audible DDSP controls.
_PROBE_FILL = {"f0_hz": 220.0, "amplitude": 0.1, "harmonic_distribution": 1.0,
               "noise_magnitudes": 0.01}


def probe_body(served: ServedModel, signature_name: str | None = None) -> dict:
    """A valid columnar REST body for one signature of any export (batch 1), to smoke-test it.

    Inputs by name: ``waveform`` one second of a 0.1 x 440 Hz sine at the export's sample rate;
    ``pitch`` the middle of ``min_pitch..max_pitch`` (MIDI 60 without limits); DDSP controls
    a 220 Hz note; anything else (``z``) zeros. Every other dimension is the signature's.
    """
    name = signature_name or DEFAULT_SIGNATURE
    meta = served.metadata
    rate = int(meta.get("sample_rate", 16_000))
    inputs = {}
    for key, spec in served.signature(name).structured_input_signature[1].items():
        if key == WAVEFORM:
            t = np.arange(max(rate, int(meta.get("min_samples", 1)))) / rate
            inputs[key] = (0.1 * np.sin(2 * np.pi * 440 * t))[None]
            continue
        shape = [1] + [d or 1 for d in spec.shape.as_list()[1:]]
        fill = _PROBE_FILL.get(key, 0.0)
        if key == PITCH:
            fill = (int(meta.get("min_pitch", 60)) + int(meta.get("max_pitch", 60))) // 2
        inputs[key] = np.full(shape, fill, spec.dtype.as_numpy_dtype)
    return {"signature_name": name, "inputs": {k: v.tolist() for k, v in inputs.items()}}


def curl_example(model_name: str, body_path: str | os.PathLike, host: str = "localhost",
                 port: int = 8501) -> str:
    """A ``curl`` command posting ``body_path`` to a TF Serving REST endpoint (port 8501)."""
    return (f"curl -s -X POST http://{host}:{port}/v1/models/{model_name}:predict "
            f"-H 'Content-Type: application/json' -d @{body_path}")


# ------------------------------------------------------------------ gRPC


def _serving_apis():
    """(predict_pb2, prediction_service_pb2_grpc), imported lazily with an install hint."""
    try:
        from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc
    except ImportError as error:
        raise ImportError(
            "the gRPC client needs the TF Serving stubs: pip install -e \".[serving]\" "
            "(or pip install tensorflow-serving-api)") from error
    return predict_pb2, prediction_service_pb2_grpc


def make_predict_request(model_name: str, signature_name: str | None,
                         inputs: dict[str, np.ndarray], version: int | None = None):
    """A ``tensorflow_serving.apis.predict_pb2.PredictRequest``.

    Args:
        model_name: the served model's name (``MODEL_NAME`` of the server).
        signature_name: SignatureDef key; None means ``serving_default``.
        inputs: ``{input name: array}`` (e.g. ``{"waveform": float32 [batch, samples]}``).
        version: pin a version; default the one the server serves (the highest).
    """
    predict_pb2, _ = _serving_apis()
    request = predict_pb2.PredictRequest()
    request.model_spec.name = model_name
    request.model_spec.signature_name = signature_name or DEFAULT_SIGNATURE
    if version is not None:
        request.model_spec.version.value = int(version)
    for name, value in inputs.items():
        request.inputs[name].CopyFrom(tf.make_tensor_proto(np.asarray(value)))
    return request


def PredictionServicer(model_base_path: str | os.PathLike, model_name: str | None = None):  # noqa: N802
    """A gRPC ``PredictionServiceServicer`` serving the highest version under a base path.

    Like ``tensorflow_model_server`` with the default "latest" version policy, it answers
    ``Predict`` for ``model_name`` (default the base directory's name) at the highest integer
    version; other names/versions get NOT_FOUND, bad inputs INVALID_ARGUMENT. Register it with
    ``prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server``.

    Raises:
        ImportError: tensorflow-serving-api is not installed (the message says how).
        FileNotFoundError: no integer version under ``model_base_path``.
    """
    predict_pb2, service_grpc = _serving_apis()
    import grpc

    class _Servicer(service_grpc.PredictionServiceServicer):
        def __init__(self):
            self.served = ServedModel.load(model_base_path)
            self.model_name = model_name or Path(model_base_path).name

        def Predict(self, request, context):  # noqa: N802 (gRPC method name)
            spec = request.model_spec
            if spec.name != self.model_name or (
                    spec.HasField("version") and spec.version.value != self.served.version):
                context.abort(grpc.StatusCode.NOT_FOUND,
                              f"Servable not found for request: {spec.name} "
                              f"version {spec.version.value or 'latest'}")
            signature_name = spec.signature_name or DEFAULT_SIGNATURE
            try:
                inputs = {k: tf.make_ndarray(v) for k, v in request.inputs.items()}
                outputs = self.served.predict(signature_name, inputs)
            except ValueError as error:
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(error))
            response = predict_pb2.PredictResponse()
            response.model_spec.name = self.model_name
            response.model_spec.version.value = self.served.version or 0
            response.model_spec.signature_name = signature_name
            wanted = set(request.output_filter) or set(outputs)
            for name, value in outputs.items():
                if name in wanted:
                    response.outputs[name].CopyFrom(tf.make_tensor_proto(value))
            return response

    return _Servicer()


def serve_grpc(model_base_path: str | os.PathLike, address: str = "127.0.0.1:0",
               model_name: str | None = None, max_workers: int = 2):
    """Starts a loopback gRPC PredictionService; returns ``(server, port)``.

    Port 0 picks a free port; call ``server.stop(None)`` when done.
    """
    from concurrent import futures

    import grpc

    _, service_grpc = _serving_apis()
    servicer = PredictionServicer(model_base_path, model_name)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=max_workers))
    service_grpc.add_PredictionServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port(address)
    server.start()
    return server, port
