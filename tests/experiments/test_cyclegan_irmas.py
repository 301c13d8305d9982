"""The main job end to end at smoke size: train, samples, metrics, export, translate, resume."""

import json
import os
import signal
import subprocess
import sys

import pytest
import soundfile as sf

from tests.processes import kill_after_first_epoch
from tfaudiogan import configs
from tfaudiogan.configs.cyclegan import FAMILY_IRMAS, FAMILY_MUSIC_STYLE
from tfaudiogan.recipes.cyclegan import run
from tfaudiogan.training.strategy import new_mirrored_strategy

SMOKE = configs.get_preset(FAMILY_IRMAS, "smoke")  # also what the smoke_run fixture trained


def test_run_directory_layout(smoke_run):
    model_dir, _ = smoke_run
    for name in ("config.json", "run.log", "metrics.json", "generators/gen_ab.keras",
                 "checkpoints/cyclegan-0002.weights.h5"):
        assert (model_dir / name).exists(), name
    assert not (model_dir / "backup").exists()  # removed once training finished
    assert any((model_dir / "tensorboard").rglob("events.out.tfevents*"))


def test_samples_follow_the_seed_naming(smoke_run):
    model_dir, _ = smoke_run
    folder = model_dir / "samples" / "epoch_002"
    for src, dst in (("piano", "guitar"), ("guitar", "piano")):
        for stem in (f"rec_{src}", f"rec_{src}_to_{dst}", f"rec_{src}_to_{dst}_to_{src}"):
            audio, rate = sf.read(folder / f"{stem}.wav")
            assert rate == 25_000 and len(audio) == 25_000  # smoke clips are 1 s
            assert (folder / f"{stem}.png").stat().st_size > 100


def test_metrics_hold_the_relative_cycle_loss_per_domain_and_split(smoke_run):
    model_dir, metrics = smoke_run
    assert json.loads((model_dir / "metrics.json").read_text())["domains"] == metrics["domains"]
    for domain in ("piano", "guitar"):
        for split in ("train", "validation"):
            row = metrics["domains"][domain][split]
            assert 0.0 < row["relative_forward_cycle_loss"] < 10.0
            assert 0.0 < row["relative_forward_cycle_loss_linear"] < 10.0
            assert row["clips"] == 2  # the smoke preset's eval_clips cap
    assert metrics["optimizer_iterations"] == {"generators": 4, "discriminators": 4}


def test_seed_order_runs_and_resumes_with_four_optimizers(tmp_path):
    cfg = configs.apply_overrides(SMOKE, ["train.update_order=seed"])
    metrics = run(cfg, tmp_path, strategy="default", export=False)
    # 2 epochs x 2 iterations; each discriminator steps on the real, then the fake batch.
    expected = {"gen_ab": 4, "gen_ba": 4, "disc_a": 8, "disc_b": 8}
    assert metrics["optimizer_iterations"] == expected
    again = run(cfg, tmp_path, strategy="default", export=False)
    assert again["epochs_this_session"] == 0 and again["optimizer_iterations"] == expected


def test_rerun_of_a_finished_run_trains_nothing_more(smoke_run):
    model_dir, _ = smoke_run
    again = run(SMOKE, model_dir, strategy="default", export=False)
    assert again["epochs_this_session"] == 0
    assert again["optimizer_iterations"] == {"generators": 4, "discriminators": 4}


def test_other_config_in_the_same_directory_is_refused(smoke_run):
    model_dir, _ = smoke_run
    other = configs.apply_overrides(SMOKE, ["loss.identity_weight=5"])
    with pytest.raises(ValueError, match="identity_weight"):
        run(other, model_dir, strategy="default", export=False)


@pytest.mark.distributed
def test_smoke_run_under_mirrored_strategy(tmp_path):
    cfg = configs.apply_overrides(SMOKE, ["train.epochs=1"])
    strategy = new_mirrored_strategy(["/cpu:0", "/cpu:1"])
    metrics = run(cfg, tmp_path, strategy=strategy, export=False)
    assert metrics["optimizer_iterations"]["generators"] == 2
    assert "2 replica(s)" in (tmp_path / "run.log").read_text()


def test_music_style_variant_trains(tmp_path):
    cfg = configs.get_preset(FAMILY_MUSIC_STYLE, "smoke")
    metrics = run(cfg, tmp_path, strategy="default", export=False)
    assert set(metrics["domains"]) == {"piano", "guitar"}


def _experiment(*flags, timeout=300):
    return subprocess.run([sys.executable, "-m", "tfaudiogan.experiments.cyclegan_irmas", *flags],
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})


@pytest.mark.slow
def test_resume_after_kill_restores_epoch_and_optimizer_state(tmp_path):
    flags = ["--preset", "smoke", "--model_dir", str(tmp_path), "--noexport",
             "--set", "train.epochs=4", "--steps", "6"]
    code = kill_after_first_epoch("cyclegan_irmas", flags, tmp_path)
    assert code == -signal.SIGKILL, "the run ended before it could be killed"
    assert not (tmp_path / "metrics.json").exists()
    done = _experiment(*flags)
    assert done.returncode == 0, done.stderr[-2000:]
    text = (tmp_path / "run.log").read_text()
    # killed just after epoch 1's log line: from its backup, or from its checkpoint when the
    # backup (the last callback at an epoch end) was not written yet
    assert "resuming an interrupted run" in text or "1 epoch(s) already trained" in text
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["epochs_this_session"] < 4  # restarted after the finished epoch(s)
    assert metrics["optimizer_iterations"] == {"generators": 24, "discriminators": 24}


@pytest.mark.parametrize("make_dir, message", [
    (lambda root: root / "missing", "does not exist"),
    (lambda root: root, "no audio files"),
])
def test_bad_data_dir_is_one_line_with_exit_code_2(tmp_path, make_dir, message):
    root = tmp_path / "data"
    (root / "a").mkdir(parents=True)
    (root / "b").mkdir()
    result = _experiment("--data_dir", str(make_dir(root)), "--preset", "smoke", "--set",
                         "data.dataset=folders", "--set", "data.domain_a=a", "--set",
                         "data.domain_b=b", "--model_dir", str(tmp_path / "run"))
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and lines[-1].startswith("error:") and message in lines[-1]
    assert "Traceback" not in result.stderr


def test_irmas_without_the_chosen_instruments(tmp_path):
    (tmp_path / "IRMAS-TrainingData" / "cel").mkdir(parents=True)
    result = _experiment("--data_dir", str(tmp_path / "IRMAS-TrainingData"), "--preset", "smoke",
                         "--set", "data.dataset=irmas", "--set", "data.domain_a=pia",
                         "--set", "data.domain_b=gel", "--model_dir", str(tmp_path / "run"))
    err = result.stderr.strip().splitlines()[-1]
    assert result.returncode == 2 and "pia" in err and "gel" in err and "Traceback" not in result.stderr
