"""GANSynth Table 1 rows as presets: each builds, matches the table and trains a step."""

import math
from dataclasses import replace

import numpy as np
import pytest
import tensorflow as tf

from tfaudiogan import configs
from tfaudiogan.configs import gansynth as presets
from tfaudiogan.recipes import gansynth as training

ROWS = {  # Table 1 row -> (mel, IF, H)
    "if_mel_h": (True, True, True), "if_h": (False, True, True),
    "phase_h": (False, False, True), "if_mel": (True, True, False),
    "if": (False, True, False), "phase": (False, False, False),
}
NAMES = [row + suffix for row in ROWS for suffix in ("", "_no_prog")]


@pytest.mark.parametrize("name", NAMES)
def test_table1_preset_matches_the_row_and_its_shapes(name):
    assert name in configs.preset_names(presets.FAMILY)  # listed by --help
    config = configs.get_preset(presets.FAMILY, name)
    row = name.removesuffix("_no_prog")
    mel, ifreq, high_res = ROWS[row]
    s = config.spectrogram
    assert (s.mel, s.ifreq, s.high_res) == (mel, ifreq, high_res)
    assert tuple(config.model.start_shape) == ((2, 16) if high_res else (4, 8))
    rep = training.representation(config)
    assert tuple(rep.output_shape) == ((128, 1024, 2) if high_res else (256, 512, 2))
    training.check_config(config, rep)  # the final stage is the spectrogram's shape
    # everything else is the paper's mel_prog_hires
    paper = presets.paper()
    assert (config.loss, config.optimizer, config.data) == (paper.loss, paper.optimizer,
                                                            paper.data)
    if name.endswith("_no_prog"):
        assert not config.train.progressive
        assert training.stages(config) == [(12, 0, 4_000_000)]  # one stage, all 7 blocks
    else:
        assert config.train == paper.train
        assert [s for s, _, _ in training.stages(config)] == list(range(13))
    assert configs.get_preset(presets.FAMILY, "if_mel_h") == paper


@pytest.mark.parametrize("row", list(ROWS))
def test_table1_representation_round_trips_a_tone(row):
    mel, ifreq, high_res = ROWS[row]
    rep = training.representation(configs.get_preset(presets.FAMILY, row))
    n = np.arange(64000)
    wave = tf.constant((0.5 * np.sin(2 * np.pi * 440 * n / 16000))[None], tf.float32)
    spec = rep.encode(wave)
    assert spec.shape[1:] == rep.output_shape
    if not ifreq:  # phase / pi of a stationary tone changes from frame to frame
        channel = spec[0, 40:60, 27 if not high_res else 55, 1].numpy()
        assert np.ptp(channel) > 0.5
    back = rep.decode(spec)[0, 4096:60000].numpy()
    rms = np.sqrt(np.mean((back - wave[0, 4096:60000].numpy()) ** 2))
    assert rms < (0.05 if mel else 1e-4)


def _tiny(config):
    return replace(config, model=replace(config.model, latent_size=8, fmap_base=512,
                                         fmap_max=4))


@pytest.mark.parametrize("name", NAMES)
def test_table1_preset_trains_one_step_at_tiny_width(name):
    config = _tiny(configs.get_preset(presets.FAMILY, name))
    stage, start, _ = training.stages(config)[0]
    gan = training.build_stage(config, stage, np.ones(61), start)
    h, w, _ = training.representation(config).output_shape
    specs = tf.random.uniform([2, h, w, 2], -0.9, 0.9, seed=1)
    logs = gan.train_step((specs, tf.constant([3, 40])))
    assert all(math.isfinite(float(v)) for v in logs.values())
    assert float(gan.alpha.numpy()) == 1.0
    assert int(gan.g_optimizer.iterations.numpy()) == 1


def test_non_progressive_run_trains_only_the_last_stage_with_all_blocks(tmp_path):
    config = presets.smoke()
    config = replace(config, train=replace(config.train, progressive=False, total_images=16))
    metrics = training.run(config, tmp_path / "run", export=False)
    assert list(metrics["stages"]) == ["2"]  # 2 resolutions: stages 0, 1, 2; only the last
    row = metrics["stages"]["2"]
    assert row["blocks"] == 2 and row["images"] == [0, 16] and row["images_seen"] == 16
    assert row["final_losses"]["alpha"] == pytest.approx(1.0)
    assert not (tmp_path / "run" / "stages" / "stage_00").exists()
