"""export_translator end to end (smoke preset) and client-side waveform validation."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfaudiogan.audio.chunking import translate_waveform
from tfaudiogan.audio.representations import spectrogram_from_config
from tfaudiogan.configs import from_dict, get_preset
from tfaudiogan.configs.cyclegan import CycleGANConfig
from tfaudiogan.export import saved_model as sm
from tfaudiogan.export import tflite
from tfaudiogan.export.cyclegan import export_translator
from tfaudiogan.export.signatures import check_waveform_batch
from tfaudiogan.models.cyclegan import resnet_generator

STEREO_MESSAGE = ("expected mono audio [batch, samples]; got an array of shape (48000, 2) that "
                  "looks like stereo (samples, channels): downmix to mono first")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """The smoke preset's generators exported with export_translator into a fresh root."""
    config = get_preset("cyclegan_irmas", "smoke")
    keras.utils.set_random_seed(5)
    m = config.model
    gen_ab = resnet_generator(m.channels, m.ngf, m.n_blocks, name="gen_ab")
    gen_ba = resnet_generator(m.channels, m.ngf, m.n_blocks, name="gen_ba")
    root = tmp_path_factory.mktemp("export")
    paths = export_translator(gen_ab, gen_ba, config, root, domains=("pia", "gel"))
    return {"config": config, "root": root, "paths": paths, "gens": (gen_ab, gen_ba)}


def test_layout_and_metadata(exported):
    config, root, paths = exported["config"], exported["root"], exported["paths"]
    assert paths == {"saved_model": root / "cyclegan_irmas" / "1",
                     "tflite": root / "cyclegan_irmas_1.tflite"}
    assert (paths["saved_model"] / "saved_model.pb").is_file()
    assert paths["tflite"].stat().st_size > 0
    meta = sm.read_metadata(paths["saved_model"])
    assert meta["family"] == "cyclegan" and meta["version"] == 1
    assert meta["sample_rate"] == 25_000 and meta["domains"] == ["pia", "gel"]
    assert meta["directions"]["translate_a_to_b"] == {"from": "pia", "to": "gel"}
    assert meta["directions"]["translate_b_to_a"] == {"from": "gel", "to": "pia"}
    assert (meta["chunk_frames"], meta["overlap_frames"]) == (
        config.train.crop_frames, config.train.chunk_overlap_frames)
    assert meta["min_samples"] == 511  # one STFT frame
    assert from_dict(CycleGANConfig, meta["config"]) == config
    assert sorted(tflite.tflite_signatures(paths["tflite"])) == ["translate_a_to_b",
                                                                  "translate_b_to_a"]


def test_refuses_to_overwrite_an_export(exported):
    gen_ab, gen_ba = exported["gens"]
    with pytest.raises(FileExistsError, match="cyclegan_irmas_1.tflite"):
        export_translator(gen_ab, gen_ba, exported["config"], exported["root"], version=1)
    with pytest.raises(ValueError, match="two names"):
        export_translator(gen_ab, gen_ba, exported["config"], exported["root"],
                          domains=("a", "b", "c"))


def test_thirty_seconds_through_the_saved_model(exported, rng):
    config = exported["config"]
    sr = config.spectrogram.sample_rate
    t = np.arange(30 * sr) / sr
    x = (0.3 * np.sin(2 * np.pi * 440.0 * t) + 0.01 * rng.standard_normal(t.size))[None]
    x = check_waveform_batch(x.astype(np.float32), config.spectrogram.frame_length)
    loaded = tf.saved_model.load(str(exported["paths"]["saved_model"]))
    out = loaded.signatures["translate_b_to_a"](waveform=tf.constant(x))["waveform"].numpy()
    assert out.shape == x.shape == (1, 750_000)
    assert np.all(np.isfinite(out))
    rep = spectrogram_from_config(config.spectrogram)
    gen_ba = exported["gens"][1]
    expected = translate_waveform(x, lambda s: gen_ba(s, training=False), rep,
                                  config.train.crop_frames,
                                  config.train.chunk_overlap_frames).numpy()
    assert np.max(np.abs(out - expected)) < 1e-5


def test_check_waveform_batch_accepts_mono():
    one = check_waveform_batch(np.zeros(1000, np.float64))
    assert one.shape == (1, 1000) and one.dtype == np.float32 and one.flags.c_contiguous
    assert check_waveform_batch(np.zeros((2, 48_000))).shape == (2, 48_000)  # batch of 2 clips
    assert check_waveform_batch([[0.1] * 600], min_samples=511).shape == (1, 600)


def test_check_waveform_batch_rejects_bad_audio():
    with pytest.raises(ValueError) as info:
        check_waveform_batch(np.zeros((48_000, 2)))
    assert str(info.value) == STEREO_MESSAGE
    with pytest.raises(ValueError, match=r"looks like stereo \(samples, channels\)"):
        check_waveform_batch(np.zeros((100_000, 6)))  # 5.1 surround
    with pytest.raises(ValueError, match="rank 3"):
        check_waveform_batch(np.zeros((1, 1000, 1)))
    with pytest.raises(ValueError, match="rank 0"):
        check_waveform_batch(0.5)
    with pytest.raises(ValueError, match="empty"):
        check_waveform_batch(np.zeros((1, 0)))
    with pytest.raises(ValueError, match="empty"):
        check_waveform_batch([])
    with pytest.raises(ValueError, match="too short: 300 samples.*at least 511"):
        check_waveform_batch(np.zeros(300), min_samples=511)
    with pytest.raises(ValueError, match="NaN"):
        check_waveform_batch(np.array([0.0, np.nan] * 600))
    with pytest.raises(ValueError, match="of numbers"):
        check_waveform_batch(["a", "b"])
