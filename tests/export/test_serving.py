"""TF Serving compatibility without the server: saved_model_cli (TF1 loader), REST rules, gRPC."""

import json
import re
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfaudiogan.audio.chunking import translate_waveform
from tfaudiogan.audio.representations import CycleGANSpectrogram
from tfaudiogan.audio.spectral import DFTSTFT
from tfaudiogan.export import saved_model as sm
from tfaudiogan.export import serving
from tfaudiogan.export.cyclegan import translator_archive
from tfaudiogan.models.cyclegan import resnet_generator

SR = 25_000  # seed-002 spectrogram settings: 25 kHz, window/FFT 511, hop 127
CHUNK, OVERLAP = 16, 4
NAMES = ("translate_a_to_b", "translate_b_to_a", "serving_default")


def _silence_archive() -> keras.export.ExportArchive:
    """Version 1: same signatures, outputs zeros (so serving version 2 is observable)."""
    archive = keras.export.ExportArchive()

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.float32, name="waveform")])
    def silence(waveform):
        return {"waveform": tf.zeros_like(waveform)}

    for name in NAMES:
        archive.add_endpoint(name, silence)
    return archive


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """Base dir with version 1 (silence) and version 2 (a tiny translator, the served one)."""
    keras.utils.set_random_seed(3)
    gens = {"translate_a_to_b": resnet_generator(ngf=4, n_blocks=1, name="gen_ab"),
            "translate_b_to_a": resnet_generator(ngf=4, n_blocks=1, name="gen_ba")}
    gens["serving_default"] = gens["translate_a_to_b"]
    rep = CycleGANSpectrogram(DFTSTFT(511, 127, 511))
    base = tmp_path_factory.mktemp("serving") / "cyclegan"
    sm.write_archive(_silence_archive(), base)
    archive = translator_archive(gens["translate_a_to_b"], gens["translate_b_to_a"], rep, CHUNK,
                                 OVERLAP)
    version_dir = sm.write_archive(archive, base, metadata={"min_samples": 511})

    def keras_side(signature, waveform):
        gen = gens[signature]
        return translate_waveform(np.asarray(waveform, np.float32),
                                  lambda s: gen(s, training=False), rep, CHUNK, OVERLAP).numpy()

    return {"base": base, "dir": version_dir, "keras": keras_side}


@pytest.fixture
def audio(rng):
    return rng.uniform(-0.5, 0.5, (2, SR)).astype(np.float32)


# ----------------------------------------------------------------- saved_model_cli


def test_cli_show_lists_the_three_signatures(served):
    text = serving.saved_model_cli_show(served["dir"])
    blocks = dict(re.findall(r"signature_def\['(\w+)'\]:(.*?)(?=signature_def\[|\Z)", text, re.S))
    assert set(NAMES) <= set(blocks)
    for name in NAMES:
        block = blocks[name]
        assert re.search(r"inputs\['waveform'\] tensor_info:\s+dtype: DT_FLOAT\s+"
                         r"shape: \(-1, -1\)", block), block
        assert re.search(r"outputs\['waveform'\] tensor_info:\s+dtype: DT_FLOAT\s+"
                         r"shape: \(-1, -1\)", block), block
        assert "Method name is: tensorflow/serving/predict" in block


def test_cli_run_matches_keras(served, audio, tmp_path):
    """saved_model_cli uses the TF1 graph-mode loader, the code path of tensorflow_model_server."""
    out = serving.saved_model_cli_run(served["dir"], "translate_b_to_a", {"waveform": audio},
                                      tmp_path)
    assert list(out) == ["waveform"] and out["waveform"].shape == audio.shape
    assert np.max(np.abs(out["waveform"] - served["keras"]("translate_b_to_a", audio))) < 1e-5


def test_cli_run_failure_carries_stderr(served, audio, tmp_path):
    with pytest.raises(RuntimeError, match="no_such_signature"):
        serving.saved_model_cli_run(served["dir"], "no_such_signature", {"waveform": audio},
                                    tmp_path)


# ----------------------------------------------------------------- REST emulation


@pytest.mark.parametrize("row_format", [True, False])
@pytest.mark.parametrize("signature", [None, "translate_b_to_a"])
def test_rest_row_and_columnar_give_keras_output(served, audio, row_format, signature):
    body = serving.request_body(audio, signature_name=signature, row_format=row_format)
    reply = serving.rest_predict(served["base"], json.loads(json.dumps(body)))  # via JSON text
    assert set(reply) == {"predictions" if row_format else "outputs"}, reply.get("error")
    out = np.asarray(reply["predictions" if row_format else "outputs"], np.float32)
    expected = served["keras"](signature or "serving_default", audio)
    assert out.shape == audio.shape  # single output: bare list per instance / bare batch
    assert np.max(np.abs(out - expected)) < 1e-5


def test_rest_bare_forms_and_served_version(served, audio):
    """Single-input signatures accept bare instances / inputs; version 2 (not silence) answers."""
    rows = serving.rest_predict(served["base"], {"instances": audio.tolist()})
    cols = serving.rest_predict(served["dir"], json.dumps({"inputs": audio.tolist()}))
    np.testing.assert_array_equal(rows["predictions"], cols["outputs"])
    assert np.max(np.abs(np.asarray(rows["predictions"]))) > 1e-3


def test_rest_errors_come_back_as_error_objects(served, audio):
    one = audio[:1].tolist()
    cases = {
        "both": ({"instances": one, "inputs": {"waveform": one}}, "not both"),
        "neither": ({"signature_name": "translate_a_to_b"}, "either 'instances'"),
        "signature": ({"signature_name": "translate_c_to_d", "inputs": one}, "translate_c_to_d"),
        "stereo": ({"inputs": {"waveform": np.zeros((48_000, 2)).tolist()}}, "stereo"),
        "short": ({"instances": [{"waveform": [0.1] * 100}]}, "too short"),
        "rank": ({"inputs": {"waveform": [0.1] * 2000}}, "expects"),
        "ragged": ({"instances": [[0.1] * 1000, [0.1] * 999]}, "cannot be converted"),
        "key": ({"instances": [{"audio": [0.1] * 1000}]}, "expected \\['waveform'\\]"),
    }
    for case, (body, message) in cases.items():
        reply = serving.rest_predict(served["base"], body)
        assert list(reply) == ["error"], case
        assert re.search(message, reply["error"]), (case, reply["error"])


def test_rest_several_outputs_follow_the_reference_rules(tmp_path):
    """Row format -> list of objects per instance; columnar -> one object of outputs."""
    archive = keras.export.ExportArchive()

    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32, name="x")])
    def serve(x):
        return {"double": 2.0 * x, "total": tf.reduce_sum(x, axis=1)}

    archive.add_endpoint("serving_default", serve)
    module = serving.ServedModel.load(sm.write_archive(archive, tmp_path / "two_outputs"))
    x = [[1.0, 2.0, 3.0], [0.0, -1.0, 1.0]]
    rows = serving.rest_predict(module, {"instances": [{"x": r} for r in x]})
    assert rows == {"predictions": [{"double": [2.0, 4.0, 6.0], "total": 6.0},
                                    {"double": [0.0, -2.0, 2.0], "total": 0.0}]}
    cols = serving.rest_predict(module, {"inputs": {"x": x}})
    assert cols == {"outputs": {"double": [[2.0, 4.0, 6.0], [0.0, -2.0, 2.0]],
                                "total": [6.0, 0.0]}}


def test_request_body_and_curl(tmp_path):
    body = serving.request_body(np.array([0.5, -0.25]), "translate_b_to_a")
    assert body == {"signature_name": "translate_b_to_a",
                    "instances": [{"waveform": [0.5, -0.25]}]}
    assert serving.request_body([[0.5], [0.0]], row_format=False) == {
        "inputs": {"waveform": [[0.5], [0.0]]}}
    with pytest.raises(ValueError, match="stereo"):
        serving.request_body(np.zeros((40_000, 2)))
    cmd = serving.curl_example("cyclegan", tmp_path / "body.json")
    assert cmd.startswith("curl ") and "http://localhost:8501/v1/models/cyclegan:predict" in cmd
    assert f"-d @{tmp_path / 'body.json'}" in cmd


# ----------------------------------------------------------------- gRPC


def test_grpc_loopback_serves_latest_version(served, audio):
    pytest.importorskip("tensorflow_serving.apis.prediction_service_pb2_grpc")
    import grpc
    from tensorflow_serving.apis import prediction_service_pb2_grpc

    server, port = serving.serve_grpc(served["base"], "127.0.0.1:0")
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
            request = serving.make_predict_request("cyclegan", "translate_a_to_b",
                                                   {"waveform": audio})
            response = stub.Predict(request, timeout=60.0)
            assert response.model_spec.version.value == 2
            assert response.model_spec.signature_name == "translate_a_to_b"
            out = tf.make_ndarray(response.outputs["waveform"])
            assert out.shape == audio.shape
            assert np.max(np.abs(out - served["keras"]("translate_a_to_b", audio))) < 1e-5

            old = serving.make_predict_request("cyclegan", None, {"waveform": audio}, version=1)
            with pytest.raises(grpc.RpcError) as info:
                stub.Predict(old, timeout=60.0)
            assert info.value.code() == grpc.StatusCode.NOT_FOUND
            stereo = serving.make_predict_request("cyclegan", None,
                                                  {"waveform": np.zeros((48_000, 2), np.float32)})
            with pytest.raises(grpc.RpcError) as info:
                stub.Predict(stereo, timeout=60.0)
            assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert "stereo" in info.value.details()
    finally:
        server.stop(None)


def test_grpc_stubs_missing_gives_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorflow_serving", None)
    monkeypatch.setitem(sys.modules, "tensorflow_serving.apis", None)
    with pytest.raises(ImportError, match=r"pip install -e \"\.\[serving\]\""):
        serving.make_predict_request("m", None, {"waveform": np.zeros((1, 4), np.float32)})
