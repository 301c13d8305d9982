"""Config presets, overrides and JSON round trips."""

import dataclasses

import pytest

from tfaudiogan import configs
from tfaudiogan.configs.cyclegan import FAMILY_IRMAS, FAMILY_MUSIC_STYLE, CycleGANConfig


def test_paper_preset_holds_the_seed_values():
    cfg = configs.get_preset(FAMILY_IRMAS, "paper")
    assert cfg.spectrogram.sample_rate == 25_000
    assert cfg.spectrogram.frame_length == cfg.spectrogram.fft_length == 511
    assert (cfg.loss.lambda_a, cfg.loss.lambda_b, cfg.loss.identity_weight) == (10.0, 10.0, 4.0)
    assert cfg.loss.d_loss_factor == 0.5
    assert cfg.optimizer.learning_rate == 2e-4 and cfg.optimizer.epsilon == 1e-8
    assert cfg.train.batch_size == 2 and cfg.train.pool_size == 50
    assert (cfg.data.n_train, cfg.data.n_validation) == (600, 50)
    assert (cfg.data.domain_a, cfg.data.domain_b) == ("pia", "gel")


def test_music_style_preset_uses_the_slides_stft():
    cfg = configs.get_preset(FAMILY_MUSIC_STYLE, "paper")
    s = cfg.spectrogram
    assert (s.sample_rate, s.fft_length, s.frame_step) == (20_500, 512, 205)
    assert cfg.model.architecture == "music_style" and cfg.loss.adversarial == "bce"


def test_every_preset_exists():
    assert configs.preset_names(FAMILY_IRMAS) == ["demo", "paper", "seed", "smoke"]
    assert configs.preset_names(FAMILY_MUSIC_STYLE) == ["demo", "paper", "smoke"]


def test_paper_preset_follows_the_reference_and_seed_preset_the_seed():
    paper = configs.get_preset(FAMILY_IRMAS, "paper")
    assert paper.train.update_order == "reference"
    assert (paper.train.epochs, paper.optimizer.n_epochs, paper.optimizer.n_epochs_decay) == (
        200, 100, 100)
    assert paper.train.eval_clips == 0  # every clip of both splits is scored
    seed = configs.get_preset(FAMILY_IRMAS, "seed")
    assert seed.train.update_order == "seed" and seed.train.seed_d_steps == 2
    # 27 h at 5-10 s per iteration = 9,720-19,440 iterations; 300 iterations per epoch.
    iterations = seed.train.epochs * seed.data.n_train // seed.train.batch_size
    assert 27 * 3600 / 10 <= iterations <= 27 * 3600 / 5
    assert seed.optimizer.n_epochs == seed.train.epochs and seed.optimizer.n_epochs_decay == 0
    # Everything else is the paper preset's.
    for section in ("spectrogram", "model", "loss", "data"):
        assert getattr(seed, section) == getattr(paper, section), section


def test_unknown_preset_lists_the_valid_names():
    with pytest.raises(ValueError, match=r"demo.*paper.*seed.*smoke"):
        configs.get_preset(FAMILY_IRMAS, "fast")


def test_overrides_parse_types_and_nest():
    cfg = configs.get_preset(FAMILY_IRMAS, "paper")
    out = configs.apply_overrides(
        cfg, ["train.batch_size=4", "loss.identity_weight=5", "data.strict=true", "name=x"]
    )
    assert out.train.batch_size == 4 and isinstance(out.train.batch_size, int)
    assert out.loss.identity_weight == 5.0 and out.data.strict is True and out.name == "x"
    assert cfg.train.batch_size == 2  # the original is untouched (frozen)


@pytest.mark.parametrize(
    "item, message",
    [
        ("train.batchsize=4", "unknown config field 'batchsize'"),
        ("train.batch_size=four", "expected a value of type int"),
        ("train=3", "names a whole section"),
        ("nokey", "key=value"),
    ],
)
def test_bad_overrides_name_the_problem(item, message):
    with pytest.raises(ValueError, match=message):
        configs.apply_overrides(configs.get_preset(FAMILY_IRMAS, "paper"), [item])


def test_json_round_trip(tmp_path):
    cfg = configs.apply_overrides(configs.get_preset(FAMILY_IRMAS, "demo"), ["model.ngf=12"])
    configs.save_json(cfg, tmp_path / "config.json")
    back = configs.load_json(CycleGANConfig, tmp_path / "config.json")
    assert back == cfg and dataclasses.is_dataclass(back.model)
