"""Generator export (WaveGAN and SpecGAN with in-graph Griffin-Lim): SavedModel, the TF1
loader of saved_model_cli (as TF Serving), and builtins-only TFLite run by LiteRT."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfaudiogan import configs
from tfaudiogan.audio.specgan import SpecGANSpectrogram
from tfaudiogan.configs import wavegan as wavegan_configs  # noqa: F401 (registers presets)
from tfaudiogan.export import saved_model as sm
from tfaudiogan.export import tflite
from tfaudiogan.export.generator import export_generator, to_int16
from tfaudiogan.export.serving import saved_model_cli_run
from tfaudiogan.models import specgan, wavegan

LATENT = 8


def _exported(tmp_path_factory, family):
    config = configs.apply_overrides(configs.get_preset(family, "smoke"),
                                     [f"model.latent_dim={LATENT}"])
    keras.utils.set_random_seed(4)
    if family == "wavegan_sc09":
        gen, post = wavegan.generator(dim=2, latent_dim=LATENT), None
    else:
        rng = np.random.default_rng(0)
        moments = (rng.normal(-4, 1, 129).astype("float32"),
                   rng.uniform(0.5, 2, 129).astype("float32"))
        post = SpecGANSpectrogram(moments).decode
        gen = specgan.generator(dim=2, latent_dim=LATENT)
    root = tmp_path_factory.mktemp(family)
    paths = export_generator(gen, config, root, postprocess=post)
    z = np.random.default_rng(1).uniform(-1, 1, (3, LATENT)).astype("float32")
    out = gen(z, training=False)
    expected = (post(out) if post else out[..., 0]).numpy()
    return {"paths": paths, "z": z, "expected": expected, "root": root, "gen": gen,
            "config": config, "post": post}


@pytest.fixture(scope="module", params=["wavegan_sc09", "specgan_sc09"])
def exported(request, tmp_path_factory):
    return _exported(tmp_path_factory, request.param)


def test_layout_metadata_and_saved_model_parity(exported):
    paths = exported["paths"]
    name = exported["config"].name
    assert paths == {"saved_model": exported["root"] / name / "1",
                     "tflite": exported["root"] / f"{name}_1.tflite"}
    meta = sm.read_metadata(paths["saved_model"])
    assert meta["latent_dim"] == LATENT and meta["sample_rate"] == 16000
    assert meta["audio_length"] == 16384 and meta["family"] == exported["config"].model.kind
    assert meta["signatures"] == ["generate", "serving_default"]
    loaded = tf.saved_model.load(str(paths["saved_model"]))
    for key in ("generate", "serving_default"):
        audio = loaded.signatures[key](z=tf.constant(exported["z"]))["audio"].numpy()
        assert audio.shape == (3, 16384)
        np.testing.assert_allclose(audio, exported["expected"], atol=1e-5)


def test_saved_model_cli_runs_generate_like_the_server(exported, tmp_path):
    out = saved_model_cli_run(exported["paths"]["saved_model"], "generate",
                              {"z": exported["z"]}, tmp_path)
    np.testing.assert_allclose(out["audio"], exported["expected"], atol=1e-5)


def test_tflite_builtins_only_parity(exported):
    path = exported["paths"]["tflite"]
    assert sorted(tflite.tflite_signatures(path)) == ["generate"]
    for z in (exported["z"], exported["z"][:1]):  # the batch dimension stays dynamic
        audio = tflite.run_tflite(path, "generate", z=z)["audio"]
        expected = exported["expected"][: len(z)]
        assert audio.shape == expected.shape
        np.testing.assert_allclose(audio, expected, atol=2e-4 * max(1, np.abs(expected).max()))


def test_refuses_to_overwrite(exported):
    with pytest.raises(FileExistsError, match="_1.tflite"):
        export_generator(exported["gen"], exported["config"], exported["root"], version=1,
                         postprocess=exported["post"])


def test_to_int16_matches_the_reference_conversion():
    x = np.array([0.0, 0.5, -0.5, 1.0, -1.0, 1.7, -3.0, 1e-5, np.nan], np.float32)
    np.testing.assert_array_equal(to_int16(x),
                                  [0, 16383, -16383, 32767, -32767, 32767, -32767, 0, 0])
