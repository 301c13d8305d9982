"""The export spec (declaration checks, archive endpoints) and the one input validation."""

import numpy as np
import pytest
import tensorflow as tf

from tfaudiogan.export.signatures import check_controls, check_inputs, check_latents
from tfaudiogan.export.spec import ExportSpec, Signature, build_archive

Z = tf.TensorSpec([None, 4], tf.float32, name="z")
PITCH = tf.TensorSpec([None], tf.int32, name="pitch")


def _generate(z, pitch):
    return {"audio": tf.tile(z, [1, 2]) * tf.cast(pitch[:, None], tf.float32)}


def _spec(**fields):
    signatures = fields.pop("signatures", {"generate": Signature(_generate, (Z, PITCH))})
    return ExportSpec("toy", "toy", (), signatures, **fields)


def test_declaration_errors():
    with pytest.raises(ValueError, match="default 'x' is not one of"):
        _spec(default="x")
    with pytest.raises(ValueError, match=r"unknown limits \['pitch_max'\]"):
        _spec(limits={"pitch_max": 3})
    with pytest.raises(ValueError, match="declare 'serving_default' with default="):
        _spec(signatures={"serving_default": Signature(_generate, (Z, PITCH))})
    with pytest.raises(ValueError, match="subset"):
        _spec(tflite_signatures={"other": Signature(_generate, (Z, PITCH))})


def test_archive_endpoints_and_sidecar(tmp_path):
    spec = _spec(default="generate", metadata={"sample_rate": 8}, limits={"latent_dim": 4})
    assert spec.signature_names == ["generate", "serving_default"]
    assert spec.tflite_names == ["generate"]
    assert spec.sidecar("named") == {"family": "toy", "name": "named", "sample_rate": 8,
                                     "latent_dim": 4,
                                     "signatures": ["generate", "serving_default"]}
    build_archive(spec).write_out(str(tmp_path / "m"), verbose=False)
    loaded = tf.saved_model.load(str(tmp_path / "m"))
    assert set(loaded.signatures) == {"generate", "serving_default"}
    out = loaded.signatures["serving_default"](z=tf.ones([2, 4]), pitch=tf.constant([1, 3]))
    np.testing.assert_array_equal(out["audio"].numpy()[:, 0], [1.0, 3.0])


def test_spec_check_validates_with_the_declared_limits():
    spec = _spec(default="generate", limits={"latent_dim": 4, "min_pitch": 24, "max_pitch": 84})
    inputs = spec.check({"z": np.zeros((2, 4)), "pitch": [24, 84.0]})
    assert inputs["z"].dtype == np.float32 and inputs["pitch"].dtype == np.int32
    cases = [({"z": np.zeros((1, 4)), "pitch": [23]}, r"\[23\] are outside .* 24\.\.84"),
             ({"z": np.zeros((1, 4)), "pitch": [60.5]}, "must hold integers"),
             ({"z": np.zeros((1, 5)), "pitch": [60]}, r"expects \[None, 4\]"),
             ({"z": np.zeros((1, 4)), "pitch": [60, 61]}, "z has batch 1, pitch has batch 2"),
             ({"z": np.zeros((1, 4))}, r"takes inputs \['pitch', 'z'\]"),
             ({"z": [["a"] * 4], "pitch": [60]}, "cannot be converted to float32")]
    for inputs, message in cases:
        with pytest.raises(ValueError, match=message):
            spec.check(inputs)
    with pytest.raises(ValueError, match="unknown signature 'other'"):
        spec.check({}, "other")


def test_checks_without_specs():
    assert check_inputs({"waveform": [0.1] * 600}, limits={"min_samples": 511})[
        "waveform"].shape == (1, 600)
    with pytest.raises(ValueError, match="too short"):
        check_inputs({"waveform": [0.1] * 100}, limits={"min_samples": 511})
    with pytest.raises(ValueError, match="z contains NaN"):
        check_latents([[0.0, np.nan]])
    with pytest.raises(ValueError, match=r"z must be \[batch, 3\]"):
        check_latents(np.zeros((2, 4)), 3)
    f0 = np.zeros((1, 5, 1))
    with pytest.raises(ValueError, match="n_frames=6"):
        check_controls({"f0_hz": f0, "amplitude": f0}, n_frames=6)
    with pytest.raises(ValueError, match=r"f0_hz \(1, 5, 1\) vs amplitude \(1, 4, 1\)"):
        check_inputs({"f0_hz": f0, "amplitude": f0[:, :4]})
