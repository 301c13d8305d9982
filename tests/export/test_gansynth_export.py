"""GANSynth export: generate(z, pitch) -> audio as SavedModel and builtins-only TFLite."""

import json
from dataclasses import replace

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfaudiogan.audio.gansynth import denormalise
from tfaudiogan.configs import gansynth as presets
from tfaudiogan.export import gansynth as export
from tfaudiogan.export.tflite import load_interpreter, run_tflite, tflite_signatures
from tfaudiogan.gans.progressive import new_alpha, stage_networks
from tfaudiogan.recipes import gansynth as training


def four_block_config():
    """The smoke preset with 4 resolutions (16 x 128 images) and 4 channels in every block.

    With ``ops.repeat`` upscaling and a dynamic batch, blocks 3 and 4 of this geometry lost
    their static shapes and the converter refused their convolutions (``tf.Conv2D``). Every
    block keeps >= 2 channels: over one channel the pixel norm is ``sign(x)``, and a pre-norm
    value within rounding of 0 then flips an output pixel between TF and TFLite.
    """
    config = presets.smoke()
    return replace(config, spectrogram=replace(config.spectrogram, spec_shape=(16, 128)),
                   model=replace(config.model, num_resolutions=4, fmap_base=64))


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    keras.utils.set_random_seed(0)
    config = four_block_config()
    generator = stage_networks(6, new_alpha(), **training.model_kwargs(config))["generator_ema"]
    paths = export.export_gansynth(generator, config, tmp_path_factory.mktemp("export"))
    return config, generator, paths


def reference_audio(config, generator, z, pitch):
    onehot = tf.one_hot(np.asarray(pitch) - config.model.min_pitch, config.model.num_pitches)
    images = generator({"z": tf.constant(z), "pitch": onehot})
    return training.representation(config).decode(denormalise(images)).numpy()


def assert_tflite_close(got, want, rel=1e-4):
    """TFLite audio vs TF audio: max |error| <= rel * peak.

    Convolutions sum in a different order in TFLite, and the IF phase integration of the
    inversion spreads that rounding over all later frames, so the error scales with the
    signal, not with each sample (an element-wise rtol fails at zero crossings). Measured on
    this fixture with 8 random inits: <= 3e-5 of the peak.
    """
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    assert got.shape == want.shape
    assert np.abs(got - want).max() <= rel * np.abs(want).max()


def inputs(n=3, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal([n, 8]).astype(np.float32),
            np.array([24, 60, 84][:n], np.int32))


def test_saved_model_generate_matches_the_keras_generator_and_inversion(exported):
    config, generator, paths = exported
    loaded = tf.saved_model.load(str(paths["saved_model"]))
    assert {"generate", "serving_default"} <= set(loaded.signatures)
    z, pitch = inputs()
    audio = export.generate_audio(loaded.signatures["generate"], z, pitch)
    assert audio.shape == (3, config.spectrogram.audio_length)
    np.testing.assert_allclose(audio, reference_audio(config, generator, z, pitch),
                               atol=1e-5, rtol=1e-4)
    meta = json.loads((paths["saved_model"] / "tfaudiogan.json").read_text())
    assert (meta["min_pitch"], meta["max_pitch"], meta["latent_dim"]) == (24, 84, 8)
    assert meta["audio_length"] == config.spectrogram.audio_length


def test_tflite_is_builtins_only_and_matches_the_saved_model(exported):
    _, _, paths = exported
    assert set(tflite_signatures(paths["tflite"])) == {"generate"}
    loaded = tf.saved_model.load(str(paths["saved_model"]))
    for seed, midi in ((1, 24), (2, 84)):
        z = inputs(1, seed=seed)[0]
        pitch = np.array([midi], np.int32)
        expected = loaded.signatures["generate"](z=tf.constant(z), pitch=tf.constant(pitch))
        got = run_tflite(paths["tflite"], "generate", z=z, pitch=pitch)["audio"]
        assert_tflite_close(got, expected["audio"].numpy())


def test_tflite_takes_any_batch(exported):
    config, generator, paths = exported
    meta = json.loads((paths["saved_model"] / "tfaudiogan.json").read_text())
    assert meta["tflite"]["batch"] is None
    z, pitch = inputs(3, seed=4)
    batch = run_tflite(paths["tflite"], "generate", z=z, pitch=pitch)["audio"]
    assert batch.shape == (3, config.spectrogram.audio_length)
    assert_tflite_close(batch, reference_audio(config, generator, z, pitch))
    for i in range(3):  # each note as in a call of its own
        one = run_tflite(paths["tflite"], "generate", z=z[i:i + 1], pitch=pitch[i:i + 1])
        np.testing.assert_allclose(one["audio"][0], batch[i], atol=1e-6)


def test_tflite_batch_can_still_be_fixed(tmp_path):
    keras.utils.set_random_seed(1)
    config = presets.smoke()
    generator = stage_networks(2, new_alpha(), **training.model_kwargs(config))["generator_ema"]
    paths = export.export_gansynth(generator, config, tmp_path, tflite_batch=2)
    runner = load_interpreter(paths["tflite"]).get_signature_runner("generate")
    assert list(runner.get_input_details()["z"]["shape_signature"]) == [2, 8]
    z, pitch = inputs(2, seed=5)
    assert_tflite_close(run_tflite(paths["tflite"], "generate", z=z, pitch=pitch)["audio"],
                        reference_audio(config, generator, z, pitch))


@pytest.mark.parametrize("pitch", [[10, 24], [60, 99]])
def test_out_of_range_pitch_is_a_clear_error_in_the_saved_model(exported, pitch):
    _, _, paths = exported
    fn = tf.saved_model.load(str(paths["saved_model"])).signatures["generate"]
    z = np.repeat(inputs(1)[0], 2, axis=0)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"MIDI number in 24\.\.84"):
        fn(z=tf.constant(z), pitch=tf.constant(pitch))


def test_out_of_range_pitch_is_clipped_in_tflite_never_a_zero_one_hot(exported):
    _, _, paths = exported
    z = inputs(1)[0]
    out = {p: run_tflite(paths["tflite"], "generate", z=z, pitch=np.array([p], np.int32))["audio"]
           for p in (10, 24, 99, 84)}
    np.testing.assert_allclose(out[10], out[24], atol=1e-6)
    np.testing.assert_allclose(out[99], out[84], atol=1e-6)


@pytest.mark.parametrize("pitch, message", [([23, 60], r"\[23\] are outside the model's range"),
                                            ([85], r"\[85\] are outside"),
                                            ([60.5], "integer MIDI"),
                                            ([[60]], "1-D")])
def test_python_client_rejects_bad_pitches(pitch, message):
    with pytest.raises(ValueError, match=message):
        export.check_pitches(pitch)


def test_client_checks_pitches_before_calling_the_model():
    def never(**kwargs):
        raise AssertionError("the model must not be called")

    with pytest.raises(ValueError, match="outside"):
        export.generate_audio(never, np.zeros([1, 8], np.float32), [100])
    with pytest.raises(ValueError, match="batch 2"):
        export.generate_audio(never, np.zeros([1, 8], np.float32), [30, 40])


def test_cli_renders_a_midi_file_and_skips_notes_outside_the_range(exported, tmp_path, capsys):
    import soundfile as sf

    from tfaudiogan import cli
    from tfaudiogan.generation.midi import Note, write_midi

    config, _, paths = exported
    notes = [Note(60, 100, 0.0, 0.5), Note(64, 80, 0.5, 1.0), Note(100, 90, 1.0, 1.5)]
    write_midi(tmp_path / "song.mid", notes)
    code = cli.main(["generate", "--model", str(paths["saved_model"]), "--midi",
                     str(tmp_path / "song.mid"), "--interpolate_timbre", "--batch_size", "2",
                     str(tmp_path / "song.wav")])
    out = capsys.readouterr().out
    assert code == 0 and "rendered 2 of 3 notes (1 outside the range skipped)" in out
    audio, rate = sf.read(tmp_path / "song.wav")
    assert rate == config.spectrogram.sample_rate and np.abs(audio).max() > 0
    assert len(audio) >= 1.0 * rate  # the last rendered note ends at 1.0 s, then its release


def test_cli_renders_midi_with_random_instruments_by_default(exported, tmp_path, capsys):
    import soundfile as sf

    from tfaudiogan import cli
    from tfaudiogan.generation.midi import Note, write_midi

    _, _, paths = exported
    write_midi(tmp_path / "song.mid", [Note(60 + i, 100, 0.5 * i, 0.5 * i + 0.4)
                                       for i in range(4)])
    args = ["generate", "--model", str(paths["saved_model"]), "--midi",
            str(tmp_path / "song.mid"), "--seconds_per_instrument", "0.5", "--batch_size", "2"]
    code = cli.main(args + [str(tmp_path / "a.wav")])
    out = capsys.readouterr().out
    assert code == 0 and "with random timbre" in out and "rendered 4 of 4 notes" in out
    audio, _ = sf.read(tmp_path / "a.wav", dtype="float32")
    assert audio.max() == pytest.approx(0.5, abs=1e-4)  # x / x.max() * 0.5 (16-bit file)
    assert cli.main(args + ["--seed", "0", str(tmp_path / "b.wav")]) == 0
    np.testing.assert_array_equal(audio, sf.read(tmp_path / "b.wav", dtype="float32")[0])


def test_cli_midi_needs_an_existing_file(exported, tmp_path, capsys):
    from tfaudiogan import cli

    _, _, paths = exported
    code = cli.main(["generate", "--model", str(paths["saved_model"]), "--midi",
                     str(tmp_path / "missing.mid"), str(tmp_path / "o.wav")])
    assert code == 2 and "does not exist" in capsys.readouterr().err


def test_cli_sweeps_one_latent_over_pitches(exported, tmp_path, capsys):
    import soundfile as sf

    from tfaudiogan import cli

    config, _, paths = exported
    signature = tf.saved_model.load(str(paths["saved_model"])).signatures["generate"]
    code = cli.main(["generate", "--model", str(paths["saved_model"]), "--sweep", "40", "42",
                     "--batch_size", "2", "--seed", "3", str(tmp_path / "sweep")])
    assert code == 0, capsys.readouterr().err
    names = sorted(p.name for p in (tmp_path / "sweep").glob("*.wav"))
    assert names == ["sweep_pitch_40.wav", "sweep_pitch_41.wav", "sweep_pitch_42.wav"]
    z = np.load(tmp_path / "sweep" / "z.npy")
    assert z.shape == (3, config.model.latent_size) and (z == z[0]).all()  # one timbre
    want = signature(z=tf.constant(z), pitch=tf.constant([40, 41, 42]))["audio"].numpy()
    for pitch, expected in zip((40, 41, 42), want):
        audio, _ = sf.read(tmp_path / "sweep" / f"sweep_pitch_{pitch}.wav", dtype="int16")
        peak = np.abs(expected).max()
        np.testing.assert_allclose(audio / 32767.0, np.clip(expected, -1, 1),
                                   atol=2.0 / 32767 + 1e-4 * peak)


@pytest.mark.parametrize("flags, message", [
    (["--sweep", "50", "40"], "LOW <= HIGH"),
    (["--sweep", "20", "40"], "outside"),
    (["--pitch", "90", "--n", "1"], "outside"),
    (["--n", "1"], "pass --pitch"),
])
def test_cli_bad_pitch_requests_are_one_line(exported, tmp_path, capsys, flags, message):
    from tfaudiogan import cli

    _, _, paths = exported
    code = cli.main(["generate", "--model", str(paths["saved_model"]), *flags,
                     str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not any((tmp_path / "out").glob("*.wav"))
