"""The run directory: a re-run resumes; a different config is refused; eval may change."""

import json
from dataclasses import replace

import pytest

from tfaudiogan.configs import gansynth
from tfaudiogan.configs.gansynth import GANSynthConfig
from tfaudiogan.training import run_dir


def test_fresh_directory_gets_the_config_and_a_rerun_resumes(tmp_path):
    config = gansynth.smoke()
    assert run_dir.prepare(tmp_path, config, GANSynthConfig) == config
    assert json.loads((tmp_path / "config.json").read_text())["model"]["latent_size"] == 8
    assert run_dir.prepare(tmp_path, config, GANSynthConfig) == config


def test_a_different_training_config_is_refused_naming_the_field(tmp_path):
    config = gansynth.smoke()
    run_dir.prepare(tmp_path, config, GANSynthConfig)
    other = replace(config, optimizer=replace(config.optimizer, beta_2=0.9))
    with pytest.raises(run_dir.ConfigMismatchError,
                       match=r"optimizer.beta_2: stored 0.99, requested 0.9"):
        run_dir.prepare(tmp_path, other, GANSynthConfig)


def test_epochs_and_the_eval_section_may_change_and_are_saved(tmp_path):
    config = gansynth.smoke()
    run_dir.prepare(tmp_path, config, GANSynthConfig)
    rescored = replace(config, eval=replace(config.eval, classifier="runs/x", notes=20),
                       train=replace(config.train, epochs=7))
    assert run_dir.prepare(tmp_path, rescored, GANSynthConfig) == rescored
    stored = json.loads((tmp_path / "config.json").read_text())
    assert stored["eval"]["classifier"] == "runs/x" and stored["train"]["epochs"] == 7


def test_a_config_json_written_before_the_eval_section_existed_still_resumes(tmp_path):
    config = gansynth.smoke()
    run_dir.prepare(tmp_path, config, GANSynthConfig)
    stored = json.loads((tmp_path / "config.json").read_text())
    del stored["eval"]
    (tmp_path / "config.json").write_text(json.dumps(stored))
    assert run_dir.prepare(tmp_path, config, GANSynthConfig) == config
