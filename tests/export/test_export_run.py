"""``tfaudiogan export --run DIR`` for every family.

Each test builds a tiny finished run directory (a smoke config in ``config.json`` and the
``.keras`` files the family's recipe leaves), exports it through the CLI, and checks the
SavedModel's signatures and that its outputs equal the Keras generator's (with the family's
in-graph pre/post-processing).
"""

import functools
import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfaudiogan import cli, configs
from tfaudiogan.audio import gansynth as gansynth_audio
from tfaudiogan.audio import representations
from tfaudiogan.audio import specgan as specgan_audio
from tfaudiogan.audio.chunking import translate_waveform
from tfaudiogan.export.runs import export_run as export_run_api
from tfaudiogan.export.saved_model import read_metadata
from tfaudiogan.export.serving import rest_predict
from tfaudiogan.export.tflite import tflite_signatures
from tfaudiogan.gans.progressive import new_alpha, stage_networks
from tfaudiogan.models import cyclegan, ddsp_gan, specgan, wavegan

LATENT = 8


def make_run(tmp_path, config, models: dict) -> object:
    """``tmp_path/run`` with ``config.json`` and each model saved at its relative path."""
    run = tmp_path / "run"
    run.mkdir()
    configs.save_json(config, run / "config.json")
    for relative, model in models.items():
        (run / relative).parent.mkdir(parents=True, exist_ok=True)
        model.save(run / relative)
    return run


def export_run(run, out, capsys):
    """Runs ``tfaudiogan export --run run --out out``; returns (version dir, loaded, meta)."""
    code = cli.main(["export", "--run", str(run), "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    lines = dict(line.split(": ", 1) for line in captured.out.splitlines() if ": " in line)
    version_dir = lines["saved_model"]
    assert lines["tflite"].endswith("_1.tflite")
    return version_dir, tf.saved_model.load(version_dir), read_metadata(version_dir)


def input_specs(loaded, signature) -> dict:
    """``{input: (dtype name, shape list)}`` of a loaded signature."""
    specs = loaded.signatures[signature].structured_input_signature[1]
    return {k: (s.dtype.name, s.shape.as_list()) for k, s in specs.items()}


@pytest.mark.parametrize("family", ["cyclegan_irmas", "cyclegan_music_style"])
def test_cyclegan_run(tmp_path, capsys, family):
    config = configs.get_preset(family, "smoke")
    m = config.model
    build = (cyclegan.resnet_generator if m.architecture == "resnet"
             else cyclegan.music_style_generator)
    keras.utils.set_random_seed(1)
    gens = {n: build(m.channels, m.ngf, m.n_blocks, name=n) for n in ("gen_ab", "gen_ba")}
    run = make_run(tmp_path, config, {f"generators/{n}.keras": g for n, g in gens.items()})
    version_dir, loaded, meta = export_run(run, tmp_path / "out", capsys)
    assert version_dir == str(tmp_path / "out" / family / "1")
    names = ["translate_a_to_b", "translate_b_to_a"]
    assert set(loaded.signatures) == {*names, "serving_default"}
    for name in names:
        assert input_specs(loaded, name) == {"waveform": ("float32", [None, None])}
    assert meta["family"] == "cyclegan" and meta["domains"] == [config.data.domain_a,
                                                                 config.data.domain_b]
    assert meta["min_samples"] == config.spectrogram.frame_length
    assert sorted(tflite_signatures(tmp_path / "out" / f"{family}_1.tflite")) == names
    rate = config.spectrogram.sample_rate
    x = np.random.default_rng(0).uniform(-0.3, 0.3, (1, rate)).astype(np.float32)
    out = loaded.signatures["translate_b_to_a"](waveform=tf.constant(x))["waveform"].numpy()
    rep = representations.spectrogram_from_config(config.spectrogram)
    want = translate_waveform(x, lambda s: gens["gen_ba"](s, training=False), rep,
                              config.train.crop_frames, config.train.chunk_overlap_frames)
    np.testing.assert_allclose(out, want.numpy(), atol=1e-5)


@pytest.mark.parametrize("family", ["wavegan_sc09", "specgan_sc09"])
def test_wavegan_and_specgan_runs(tmp_path, capsys, family):
    config = configs.apply_overrides(configs.get_preset(family, "smoke"),
                                     [f"model.latent_dim={LATENT}"])
    keras.utils.set_random_seed(2)
    network = wavegan if config.model.kind == "wavegan" else specgan
    gen = network.generator(dim=config.model.dim, latent_dim=LATENT)
    run = make_run(tmp_path, config, {"generators/generator.keras": gen})
    post = None
    if config.model.kind == "specgan":
        rng = np.random.default_rng(0)
        moments = run / config.spectrogram.moments_file
        specgan_audio.save_moments(moments, rng.normal(-4, 1, 129).astype("float32"),
                                   rng.uniform(0.5, 2, 129).astype("float32"))
        rep = specgan_audio.spectrogram_from_config(config.spectrogram, config.model.slice_len,
                                                    moments)
        post = functools.partial(rep.decode, n_iter=config.spectrogram.griffin_lim_iters)
    _, loaded, meta = export_run(run, tmp_path / "out", capsys)
    assert set(loaded.signatures) == {"generate", "serving_default"}
    assert input_specs(loaded, "generate") == {"z": ("float32", [None, LATENT])}
    assert (meta["family"], meta["latent_dim"], meta["audio_length"], meta["sample_rate"]) == (
        config.model.kind, LATENT, config.model.slice_len, config.data.sample_rate)
    z = np.random.default_rng(1).uniform(-1, 1, (2, LATENT)).astype(np.float32)
    images = gen(z, training=False)
    want = (post(images) if post else images[..., 0]).numpy()
    got = loaded.signatures["generate"](z=tf.constant(z))["audio"].numpy()
    np.testing.assert_allclose(got, want, atol=1e-5)
    paths = export_run_api(run, tmp_path / "out", tflite=False)  # the Python API: version 2
    assert paths == {"saved_model": tmp_path / "out" / config.name / "2"}
    again = tf.saved_model.load(str(paths["saved_model"])).signatures["generate"]
    np.testing.assert_array_equal(again(z=tf.constant(z))["audio"].numpy(), got)


def test_specgan_run_without_moments_names_the_file(tmp_path, capsys):
    config = configs.apply_overrides(configs.get_preset("specgan_sc09", "smoke"),
                                     [f"model.latent_dim={LATENT}"])
    run = make_run(tmp_path, config,
                   {"generators/generator.keras": specgan.generator(dim=2, latent_dim=LATENT)})
    assert cli.main(["export", "--run", str(run), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "\n" not in err and str(run / "moments.npz") in err
    assert not (tmp_path / "out").exists()


def test_gansynth_run_and_check_serving(tmp_path, capsys):
    config = configs.gansynth.smoke()
    m = config.model
    keras.utils.set_random_seed(3)
    last = 2 * m.num_resolutions - 2  # the final stage: full-size images
    gen = stage_networks(last, new_alpha(), latent_size=m.latent_size,
                         num_pitches=m.num_pitches, start_shape=tuple(m.start_shape),
                         num_resolutions=m.num_resolutions, fmap_base=m.fmap_base,
                         fmap_decay=m.fmap_decay, fmap_max=m.fmap_max,
                         kernel_size=m.kernel_size)["generator_ema"]
    run = make_run(tmp_path, config, {"generator_ema.keras": gen})
    version_dir, loaded, meta = export_run(run, tmp_path / "out", capsys)
    assert set(loaded.signatures) == {"generate", "serving_default"}
    assert input_specs(loaded, "generate") == {"z": ("float32", [None, m.latent_size]),
                                               "pitch": ("int32", [None])}
    assert (meta["latent_dim"], meta["min_pitch"], meta["max_pitch"], meta["audio_length"]) == (
        m.latent_size, m.min_pitch, m.max_pitch, config.spectrogram.audio_length)
    z = np.random.default_rng(2).standard_normal((2, m.latent_size)).astype(np.float32)
    pitch = np.array([m.min_pitch, 60], np.int32)
    got = loaded.signatures["generate"](z=tf.constant(z), pitch=tf.constant(pitch))["audio"]
    onehot = tf.one_hot(pitch - m.min_pitch, m.num_pitches)
    rep = gansynth_audio.spectrogram_from_config(config.spectrogram)
    want = rep.decode(gansynth_audio.denormalise(gen({"z": tf.constant(z), "pitch": onehot})))
    np.testing.assert_allclose(got.numpy(), want.numpy(), atol=1e-5, rtol=1e-4)
    reply = rest_predict(version_dir, {"inputs": {"z": z[:1].tolist(), "pitch": [100]}})
    assert reply == {"error": f"pitches [100] are outside the model's range {m.min_pitch}.."
                              f"{m.max_pitch}"}  # checked before TF Serving's graph
    assert cli.main(["check-serving", version_dir]) == 0
    out = capsys.readouterr().out
    assert "generate: REST request ok, output shape (1, 96)" in out
    assert "ready for TensorFlow Serving" in out


def test_ddsp_run_and_check_serving(tmp_path, capsys):
    config = configs.get_preset("ddsp_gan_nsynth", "smoke")
    m = config.model
    keras.utils.set_random_seed(4)
    gen = ddsp_gan.generator(m.latent_dim, m.n_samples, m.sample_rate, m.n_frames,
                             m.timbre_frames, m.n_harmonics, m.n_noise_bands, m.cppn_units,
                             m.cppn_depth, m.n_periodic)
    run = make_run(tmp_path, config, {"generator.keras": gen})
    version_dir, loaded, meta = export_run(run, tmp_path / "out", capsys)
    assert set(loaded.signatures) == {"generate", "synthesize", "serving_default"}
    assert input_specs(loaded, "generate") == {"z": ("float32", [None, m.latent_dim])}
    assert input_specs(loaded, "synthesize") == {
        "f0_hz": ("float32", [None, m.n_frames, 1]),
        "amplitude": ("float32", [None, m.n_frames, 1]),
        "harmonic_distribution": ("float32", [None, m.n_frames, m.n_harmonics]),
        "noise_magnitudes": ("float32", [None, m.n_frames, m.n_noise_bands])}
    assert (meta["latent_dim"], meta["audio_length"], meta["n_frames"]) == (
        m.latent_dim, m.n_samples, m.n_frames)
    z = np.random.default_rng(3).standard_normal((2, m.latent_dim)).astype(np.float32)
    got = loaded.signatures["generate"](z=tf.constant(z))["audio"].numpy()
    want = tf.function(lambda x: gen(x)["audio"])(z).numpy()  # Keras, in a graph as exported
    np.testing.assert_allclose(got, want, atol=1e-4)  # see test_ddsp_export: matmul-DFT noise
    assert cli.main(["check-serving", version_dir]) == 0
    out = capsys.readouterr().out
    for signature in ("generate", "synthesize", "serving_default"):
        assert f"{signature}: REST request ok, output shape (1, {m.n_samples})" in out


def test_missing_generator_and_unknown_config_are_one_line_errors(tmp_path, capsys):
    config = configs.gansynth.smoke()
    run = make_run(tmp_path, config, {})
    assert cli.main(["export", "--run", str(run)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and f"'{run / 'generator_ema.keras'}' is missing" in err
    (run / "config.json").write_text(json.dumps({"name": "x", "model": {"depth": 3}}))
    assert cli.main(["export", "--run", str(run)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "matches no exportable family" in err
