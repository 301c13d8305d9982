"""What every experiment entry point shares: --help, --data_dir with any preset."""

import json
import os
import subprocess
import sys

import pytest
from absl import flags

from tests.datasets import write_irmas_tree
from tfaudiogan import configs
from tfaudiogan.experiments import common

FLAGS = flags.FLAGS
FAMILIES = ("cyclegan_irmas", "cyclegan_music_style", "wavegan_sc09", "specgan_sc09",
            "gansynth_nsynth", "ddsp_gan_nsynth", "sc09_classifier", "nsynth_pitch_classifier")


def _python(*args, timeout=300):
    return subprocess.run([sys.executable, *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})


@pytest.mark.parametrize("module, family", [("cyclegan_irmas", "cyclegan_irmas"),
                                            ("gansynth_nsynth", "gansynth_nsynth")])
def test_help_lists_every_shared_flag_with_defaults_and_the_presets(module, family):
    done = _python("-m", f"tfaudiogan.experiments.{module}", "--help")
    assert "Traceback" not in done.stderr and "flags:" in done.stdout, done.stderr[-2000:]
    for name in common.SHARED_FLAGS:
        assert f"--{name}" in done.stdout or f"--[no]{name}" in done.stdout, name
    assert "(default: 'auto')" in done.stdout  # --strategy's default
    # absl wraps long help lines: compare with whitespace runs collapsed
    assert " | ".join(configs.preset_names(family)) in " ".join(done.stdout.split())


@pytest.fixture
def parsed():
    common.define_flags()
    yield lambda *args: FLAGS(["prog", *args])
    FLAGS.unparse_flags()


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("preset", ["demo", "smoke"])
def test_data_dir_is_never_ignored(parsed, family, preset):
    parsed("--data_dir", "somewhere", "--preset", preset)
    config, chosen = common.resolve_config(family)
    paper = configs.get_preset(family, "paper")
    assert chosen == preset and config.data == paper.data  # the paper's data settings
    assert config.model == configs.get_preset(family, preset).model  # demo-size networks
    parsed("--data_dir", "somewhere", "--preset", preset, "--set", "data.strict=true")
    assert common.resolve_config(family)[0].data.strict  # --set still wins


def test_demo_preset_on_a_data_dir_trains_on_it(tmp_path):
    root = write_irmas_tree(tmp_path / "IRMAS-TrainingData", per_instrument=3, seconds=1.0,
                            sample_rate=8000)
    run = tmp_path / "run"
    done = _python("-m", "tfaudiogan.experiments.cyclegan_irmas", "--preset", "smoke",
                   "--data_dir", str(root), "--model_dir", str(run), "--noexport")
    assert done.returncode == 0, done.stderr[-2000:]
    log = (run / "run.log").read_text()
    assert f"data: irmas from {root}" in log
    assert "preset: smoke" in log  # which preset made config.json, also in metrics.json
    assert json.loads((run / "metrics.json").read_text())["preset"] == "smoke"
    assert "train split: pia 2 clips, gel 2 clips" in log
