"""Builtins-only TFLite conversion, parity with Keras at two lengths, and loud Flex rejection."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfaudiogan.audio.chunking import translate_waveform
from tfaudiogan.audio.representations import CycleGANSpectrogram
from tfaudiogan.audio.spectral import DFTSTFT
from tfaudiogan.export import saved_model as sm
from tfaudiogan.export import tflite
from tfaudiogan.export.cyclegan import translator_archive
from tfaudiogan.models.cyclegan import resnet_generator

SR = 25_000  # seed-002 spectrogram settings: 25 kHz, window/FFT 511, hop 127
CHUNK, OVERLAP = 16, 4
SIGNATURES = ["translate_a_to_b", "translate_b_to_a"]


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    """Tiny translator exported once and converted to TFLite (both directions in one file)."""
    keras.utils.set_random_seed(11)
    gens = {"translate_a_to_b": resnet_generator(ngf=4, n_blocks=1, name="gen_ab"),
            "translate_b_to_a": resnet_generator(ngf=4, n_blocks=1, name="gen_ba")}
    rep = CycleGANSpectrogram(DFTSTFT(511, 127, 511))
    archive = translator_archive(gens["translate_a_to_b"], gens["translate_b_to_a"], rep, CHUNK,
                                 OVERLAP)
    version_dir = sm.write_archive(archive, tmp_path_factory.mktemp("tfl") / "cyclegan")
    path = tflite.write_tflite(version_dir, version_dir.parent.parent / "cyclegan_1.tflite",
                               signature_keys=SIGNATURES)

    def keras_side(signature, waveform):
        gen = gens[signature]
        return translate_waveform(waveform, lambda s: gen(s, training=False), rep, CHUNK,
                                  OVERLAP).numpy()

    return {"dir": version_dir, "path": path, "keras": keras_side}


def _flex_archive(op: str) -> keras.export.ExportArchive:
    """An archive whose only endpoint needs a non-builtin op (IRFFT or Angle)."""
    archive = keras.export.ExportArchive()

    @tf.function(input_signature=[tf.TensorSpec([None, 64], tf.float32, name="waveform")])
    def fn(waveform):
        spectrum = tf.signal.rfft(waveform)
        if op == "IRFFT":
            return {"waveform": tf.signal.irfft(spectrum)}
        return {"phase": tf.math.angle(spectrum)}

    archive.add_endpoint("serving_default", fn)
    return archive


def test_both_signatures_in_one_builtins_only_file(converted):
    content = converted["path"].read_bytes()
    assert content == tflite.convert_tflite(converted["dir"], SIGNATURES)  # deterministic
    assert content[4:8] == b"TFL3"  # flatbuffer file identifier
    assert [p.name for p in converted["path"].parent.iterdir() if p.name.endswith(".tmp")] == []
    assert tflite.tflite_signatures(converted["path"]) == {
        name: {"inputs": ["waveform"], "outputs": ["waveform"]} for name in SIGNATURES}


def test_runners_match_keras_at_two_lengths(converted, rng):
    """One interpreter: each signature runner is resized to 1 s, then 2 s, then 1 s again."""
    interpreter = tflite.load_interpreter(converted["path"])
    one = rng.uniform(-0.5, 0.5, (2, SR)).astype(np.float32)
    two = rng.uniform(-0.5, 0.5, (1, 2 * SR + 77)).astype(np.float32)
    for signature in SIGNATURES:
        for x in (one, two, one):
            out = tflite.run_tflite(interpreter, signature, waveform=x)["waveform"]
            assert out.shape == x.shape
            err = np.max(np.abs(out - converted["keras"](signature, x)))
            assert err < 1e-4, (signature, x.shape, err)
            assert np.max(np.abs(out - x)) > 1e-2  # not a pass-through


def test_run_tflite_from_bytes_and_bad_requests(converted, rng):
    content = converted["path"].read_bytes()
    x = rng.uniform(-0.5, 0.5, (1, SR // 2)).astype(np.float64)  # cast to float32 by the runner
    out = tflite.run_tflite(content, "translate_b_to_a", waveform=x)["waveform"]
    assert out.dtype == np.float32 and out.shape == x.shape
    with pytest.raises(ValueError, match="unknown TFLite signature 'serving_default'"):
        tflite.run_tflite(content, "serving_default", waveform=x)
    with pytest.raises(ValueError, match="takes inputs"):
        tflite.run_tflite(content, "translate_b_to_a", audio=x)
    with pytest.raises(ValueError, match="name one"):
        tflite.run_tflite(content, None, waveform=x)


@pytest.mark.parametrize("op", ["IRFFT", "Angle"])
def test_non_builtin_op_is_rejected_by_name(tmp_path, op):
    version_dir = sm.write_archive(_flex_archive(op), tmp_path / "flex")
    target = tmp_path / "flex.tflite"
    with pytest.raises(ValueError, match=rf"built-in ops only: .*\b{op}\b"):
        tflite.write_tflite(version_dir, target)
    assert list(tmp_path.glob("*.tflite*")) == [] and list(tmp_path.glob(".flex*")) == []
