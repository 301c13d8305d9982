"""DDSP-GAN export: SavedModel and builtins-only TFLite parity with Keras for generate and
synthesize, metadata, and the frame-mismatch error."""

import numpy as np
import pytest
import tensorflow as tf

from tfaudiogan.export import ddsp as export
from tfaudiogan.export.saved_model import read_metadata
from tfaudiogan.export.tflite import tflite_signatures
from tfaudiogan.models import ddsp_gan

SMALL = dict(latent_dim=5, n_samples=2000, n_frames=25, timbre_frames=4, n_harmonics=10,
             n_noise_bands=9, cppn_units=8, cppn_depth=2, n_periodic=1)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    g = ddsp_gan.generator(**SMALL, use_fft=True)  # exercises the builtins rebuild
    g.get_layer("synth").noise_gain.assign(5.0)  # audible noise path
    paths = export.export_ddsp(g, None, tmp_path_factory.mktemp("export"), name="ddsp")
    return g, paths


def _controls(frames=25):
    f0 = np.full((2, frames, 1), 220.0, np.float32)
    f0[1] = 0.0  # silent harmonic part
    amp = np.full((2, frames, 1), 0.3, np.float32)
    dist = np.random.RandomState(0).uniform(0, 1, (2, frames, 10)).astype(np.float32)
    noise = np.full((2, frames, 9), 0.01, np.float32)
    return f0, amp, dist, noise


def test_metadata_and_signatures(exported):
    _, paths = exported
    meta = read_metadata(paths["saved_model"])
    assert meta["family"] == "ddsp_gan" and meta["sample_rate"] == 16000
    assert meta["latent_dim"] == 5 and meta["n_frames"] == 25
    assert set(tflite_signatures(paths["tflite"])) == {"generate", "synthesize"}


def test_generate_parity(exported):
    g, paths = exported
    z = np.random.RandomState(1).standard_normal((3, 5)).astype(np.float32)
    want = tf.function(lambda x: g(x)["audio"])(z).numpy()  # Keras, in a graph as exported
    # The export runs the matmul-DFT noise path; float32 phase accumulation and fused kernels
    # round differently (reference/ddsp.md 1.4: drift grows along the clip), hence 1e-4 / 5e-4.
    np.testing.assert_allclose(export.generate(paths["saved_model"], z), want, atol=1e-4)
    np.testing.assert_allclose(export.generate(paths["tflite"], z), want, atol=5e-4)


def test_synthesize_parity_and_silence(exported):
    g, paths = exported
    controls = _controls()
    want = g.get_layer("synth").render(*map(tf.constant, controls)).numpy()
    assert np.abs(want[0]).max() > 0.05
    sm = export.synthesize(paths["saved_model"], *controls)
    tfl = export.synthesize(paths["tflite"], *controls)
    np.testing.assert_allclose(sm, want, atol=1e-5)
    np.testing.assert_allclose(tfl, want, atol=1e-4)
    # f0 = 0: only the (quiet) noise remains.
    assert np.abs(tfl[1]).max() < 0.5 * np.abs(tfl[0]).max()


def test_mismatched_frames_error(exported):
    _, paths = exported
    f0, amp, dist, noise = _controls()
    with pytest.raises(ValueError, match=r"f0_hz \(2, 25, 1\) vs harmonic_distribution "
                                         r"\(2, 20, 10\)"):
        export.synthesize(paths["tflite"], f0, amp, dist[:, :20], noise)


def test_fresh_noise_generator_exports_with_the_fixed_buffer(tmp_path):
    """issue 10 item 15: random ops are not TFLite built-ins, so a generator that draws fresh
    noise at inference (noise_excitation="fresh") is exported with its fixed noise buffer."""
    g = ddsp_gan.generator(**SMALL, noise_excitation="fresh")
    g.get_layer("synth").noise_gain.assign(5.0)
    twin = export.builtins_generator(g)
    assert twin is not g and twin.get_layer("synth").noise_excitation == "fixed"
    paths = export.export_ddsp(g, None, tmp_path, name="fresh")  # builtins only, else raises
    z = np.random.RandomState(2).standard_normal((2, 5)).astype(np.float32)
    want = tf.function(lambda x: twin(x)["audio"])(z).numpy()
    np.testing.assert_allclose(export.generate(paths["tflite"], z), want, atol=5e-4)
    np.testing.assert_allclose(export.generate(paths["saved_model"], z), want, atol=1e-4)
    assert np.abs(g(z)["audio"].numpy() - g(z)["audio"].numpy()).max() > 1e-2  # Keras: fresh
