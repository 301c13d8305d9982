"""Versioned SavedModel writing and the CycleGAN translator signatures after a reload."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfaudiogan.audio.chunking import translate_waveform
from tfaudiogan.audio.representations import CycleGANSpectrogram
from tfaudiogan.audio.spectral import DFTSTFT
from tfaudiogan.export import saved_model as sm
from tfaudiogan.export.cyclegan import translator_archive
from tfaudiogan.models.cyclegan import resnet_generator

SR = 25_000  # seed-002 spectrogram settings: 25 kHz, window/FFT 511, hop 127
CHUNK, OVERLAP = 16, 4


def _scale_archive(scale: float) -> keras.export.ExportArchive:
    """A trivial archive: waveform -> scale * waveform (one Dense-free endpoint)."""
    archive = keras.export.ExportArchive()

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.float32, name="waveform")])
    def fn(waveform):
        return {"waveform": waveform * scale}

    archive.add_endpoint("serving_default", fn)
    return archive


@pytest.fixture(scope="module")
def translator(tmp_path_factory):
    """Two tiny generators (seeded init, not the identity), exported once and reloaded."""
    keras.utils.set_random_seed(7)
    gen_ab = resnet_generator(ngf=4, n_blocks=1, name="gen_ab")
    gen_ba = resnet_generator(ngf=4, n_blocks=1, name="gen_ba")
    rep = CycleGANSpectrogram(DFTSTFT(511, 127, 511))
    archive = translator_archive(gen_ab, gen_ba, rep, CHUNK, OVERLAP)
    version_dir = sm.write_archive(archive, tmp_path_factory.mktemp("sm") / "cyclegan",
                                   metadata={"sample_rate": SR})

    def keras_side(gen, waveform):
        return translate_waveform(waveform, lambda s: gen(s, training=False), rep, CHUNK,
                                  OVERLAP).numpy()

    return {"dir": version_dir, "loaded": tf.saved_model.load(str(version_dir)),
            "a_to_b": lambda w: keras_side(gen_ab, w), "b_to_a": lambda w: keras_side(gen_ba, w)}


def test_next_version_ignores_non_integer_names(tmp_path):
    assert sm.next_version(tmp_path / "missing") == 1
    assert sm.next_version(tmp_path) == 1
    for name in ("1", "3", "tmp", "10.bak", ".tmp-4-x"):
        (tmp_path / name).mkdir()
    (tmp_path / "7").write_text("a file, not a version")
    assert sm.next_version(tmp_path) == 4
    assert sm.latest_version(tmp_path) == 3


def test_versions_one_and_two_with_metadata(tmp_path):
    base = tmp_path / "toy"
    first = sm.write_archive(_scale_archive(2.0), base, metadata={"sample_rate": SR,
                                                                  "domains": ("a", "b")})
    second = sm.export_saved_model(_scale_archive(3.0), base)
    assert (first.name, second.name) == ("1", "2")
    assert sm.next_version(base) == 3
    assert sorted(p.name for p in base.iterdir()) == ["1", "2"]  # no staging dir left behind
    for d in (first, second):
        assert (d / "saved_model.pb").is_file() and (d / "variables").is_dir()
    assert sm.read_metadata(first) == {"sample_rate": SR, "domains": ["a", "b"], "version": 1}
    assert sm.read_metadata(second) == {"version": 2}
    assert sm.resolve_version_dir(base) == second  # the one TF Serving would serve
    x = tf.constant([[1.0, -0.5]])
    out = tf.saved_model.load(str(second)).signatures["serving_default"](waveform=x)
    np.testing.assert_allclose(out["waveform"].numpy(), [[3.0, -1.5]])


def test_refuses_to_overwrite_a_version(tmp_path):
    base = tmp_path / "toy"
    first = sm.write_archive(_scale_archive(2.0), base, version=5, metadata={"tag": "old"})
    before = (first / "saved_model.pb").read_bytes()
    with pytest.raises(FileExistsError, match="version 5 already exists"):
        sm.write_archive(_scale_archive(3.0), base, version=5, metadata={"tag": "new"})
    assert (first / "saved_model.pb").read_bytes() == before
    assert json.loads((first / sm.METADATA_FILE).read_text())["tag"] == "old"
    with pytest.raises(ValueError, match="positive integer"):
        sm.write_archive(_scale_archive(3.0), base, version=0)


def test_failed_export_leaves_no_version(tmp_path):
    base = tmp_path / "toy"
    with pytest.raises(ValueError, match="endpoint"):
        sm.write_archive(keras.export.ExportArchive(), base)  # no endpoints: write_out fails
    assert list(base.iterdir()) == []
    assert sm.next_version(base) == 1
    with pytest.raises(FileNotFoundError, match="not a tfaudiogan export"):
        sm.read_metadata(base)


def test_translator_signature_specs(translator):
    signatures = translator["loaded"].signatures
    assert set(signatures) == {"translate_a_to_b", "translate_b_to_a", "serving_default"}
    for fn in signatures.values():
        spec = fn.structured_input_signature[1]["waveform"]
        assert spec.dtype == tf.float32 and spec.shape.as_list() == [None, None]
        assert list(fn.structured_outputs) == ["waveform"]
    assert sm.read_metadata(translator["dir"])["sample_rate"] == SR


@pytest.mark.parametrize("batch,seconds", [(2, 1.0), (1, 2.3)])
def test_reloaded_signatures_equal_keras_for_any_length(translator, rng, batch, seconds):
    """One loaded model, two lengths (the second is not a multiple of the hop)."""
    x = rng.uniform(-0.5, 0.5, (batch, int(seconds * SR))).astype(np.float32)
    signatures = translator["loaded"].signatures
    for name, direction in [("translate_a_to_b", "a_to_b"), ("translate_b_to_a", "b_to_a"),
                            ("serving_default", "a_to_b")]:
        out = signatures[name](waveform=tf.constant(x))["waveform"].numpy()
        expected = translator[direction](x)
        assert out.shape == x.shape
        assert np.max(np.abs(out - expected)) < 1e-5, name
        assert np.max(np.abs(out - x)) > 1e-2  # the generator really changes the audio
    a_to_b = signatures["translate_a_to_b"](waveform=tf.constant(x))["waveform"].numpy()
    b_to_a = signatures["translate_b_to_a"](waveform=tf.constant(x))["waveform"].numpy()
    assert np.max(np.abs(a_to_b - b_to_a)) > 1e-3  # two different generators
