"""The training driver with a tiny recipe: phases, metrics, the NaN guard, run-dir faults."""

import json
import subprocess
import sys
from dataclasses import dataclass, field

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.events import tensorboard_tags
from tfaudiogan.training import backup, driver, run_dir
from tfaudiogan.training.callbacks import NonFiniteLossError, StepProgress
from tfaudiogan.training.recipe import Recipe


@dataclass(frozen=True)
class _Train:
    seed: int = 0
    epochs: int = 3
    steps_per_epoch: int = 4
    batch_size: int = 2
    nan_at_step: int = 0  # global step (1-based) whose batch holds a NaN; 0 = never


@dataclass(frozen=True)
class _Config:
    train: _Train = field(default_factory=_Train)


class _LineRecipe(Recipe):
    """Fits y = 2x with one Dense unit; optionally feeds a NaN at one global step."""

    config_cls = _Config
    checkpoint_prefix = "line"

    def load_data(self, run):
        return np.linspace(-1, 1, 8, dtype=np.float32)[:, None]

    def dataset(self, run, x):
        t = run.config.train
        n = t.epochs * t.steps_per_epoch
        xs = np.resize(x, (n * t.batch_size, 1)).reshape(n, t.batch_size, 1)
        if t.nan_at_step:
            xs[t.nan_at_step - 1, 0, 0] = np.nan
        return tf.data.Dataset.from_tensor_slices((xs, 2 * xs))

    def build_model(self, run, x):
        model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
        return model

    def evaluate(self, run, model, x):
        return {"slope": float(model.layers[-1].kernel.numpy()[0, 0])}


def test_one_phase_trains_writes_metrics_and_resumes_nothing_more(tmp_path):
    metrics = driver.run(_LineRecipe(), _Config(), tmp_path)
    assert metrics["epochs_this_session"] == 3
    assert set(metrics) >= {"slope", "final_losses", "loss_curve", "train_seconds_this_session"}
    assert metrics["loss_curve"]["epoch"] == [1, 2, 3]
    assert json.loads((tmp_path / "metrics.json").read_text())["slope"] == metrics["slope"]
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == [
        "line-0001.weights.h5", "line-0002.weights.h5", "line-0003.weights.h5"]
    log = (tmp_path / "run.log").read_text()
    assert "devices:" in log and "replica(s)" in log and "precision policy float32" in log
    again = driver.run(_LineRecipe(), _Config(), tmp_path)
    assert again["epochs_this_session"] == 0 and again["slope"] == metrics["slope"]


def test_a_nan_stops_the_run_naming_the_step_and_keeps_the_last_good_backup(tmp_path):
    config = _Config(_Train(nan_at_step=6))  # epoch 2, step 2
    with pytest.raises(NonFiniteLossError, match=r"epoch 2, step 2: loss=nan.*backup is kept"):
        driver.run(_LineRecipe(), config, tmp_path)
    assert not (tmp_path / "metrics.json").exists()
    assert (tmp_path / "backup").exists()  # written after epoch 1, not overwritten
    model = _LineRecipe().build_model(None, None)
    position = backup.restore(model, tmp_path / "backup")
    assert position == backup.Position(epoch=1, step=0, phase_step=4)  # the end of epoch 1
    assert np.isfinite(model.layers[-1].kernel.numpy()).all()
    assert not (tmp_path / "checkpoints" / "line-0002.weights.h5").exists()


def test_an_experiment_with_a_nan_exits_1_with_one_line(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "tfaudiogan.experiments.wavegan_sc09", "--preset", "smoke",
         "--model_dir", str(tmp_path), "--noexport", "--set", "optimizer.learning_rate=1e30"],
        capture_output=True, text=True, timeout=300,
        env={**__import__("os").environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert done.returncode == 1, done.stderr[-2000:]
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("error: non-finite loss at epoch 1, step 1:") and "d_loss=nan" in last
    assert not (tmp_path / "metrics.json").exists()


def test_a_run_of_another_experiment_is_refused_before_training(tmp_path):
    driver.run(_LineRecipe(), _Config(_Train(epochs=1)), tmp_path)

    @dataclass(frozen=True)
    class Other:
        model: int = 0

    with pytest.raises(run_dir.ConfigMismatchError, match="holds a run of another experiment"):
        run_dir.prepare(tmp_path, Other(), Other)


def test_a_file_as_model_dir_is_refused(tmp_path):
    path = tmp_path / "file"
    path.write_text("x")
    with pytest.raises(NotADirectoryError, match="is a file"):
        run_dir.prepare(path, _Config(), _Config)
    with pytest.raises(NotADirectoryError, match="a parent is a file"):
        run_dir.prepare(path / "run", _Config(), _Config)
    assert path.read_text() == "x"  # nothing overwritten


def test_console_has_one_line_per_epoch_and_no_keras_bar(tmp_path, capsys):
    driver.run(_LineRecipe(), _Config(), tmp_path)
    out = capsys.readouterr().out
    assert "Epoch 1/3" not in out and "/step" not in out  # Keras' own per-epoch printing
    done = [line.split()[1:3] for line in out.splitlines() if " done in " in line]
    assert done == [["epoch", "1"], ["epoch", "2"], ["epoch", "3"]]


@pytest.mark.parametrize("live", [False, True])
def test_step_progress_lines_and_live_bar(live):
    import io

    stream = io.StringIO()
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.ones((8, 1), np.float32)
    progress = StepProgress(stream, every_steps=2, every_seconds=1e9, live=live)
    model.fit(x, x, batch_size=1, epochs=2, verbose=0, callbacks=[progress])
    text = stream.getvalue()
    if live:  # redrawn in place after every step, cleared at the epoch end
        assert text.count("\r\033[K") == 2 * 8 + 2 and "\n" not in text
        assert "epoch 2/2 step 8/8 (100%), ETA 0m00s" in text
    else:  # a plain line every 2 steps
        lines = text.splitlines()
        assert len(lines) == 8 and lines[0].startswith("epoch 1/2 step 2/8 (25%), ETA ")
        assert "steps/s: loss=" in lines[0] and lines[-1].startswith("epoch 2/2 step 8/8")


def test_tensorboard_gets_step_scalars_learning_rate_and_the_config(tmp_path):
    driver.run(_LineRecipe(), _Config(), tmp_path)
    tags = tensorboard_tags(tmp_path / "tensorboard")
    assert {"batch_loss", "epoch_loss", "learning_rate/optimizer", "config"} <= tags, tags


@pytest.mark.parametrize("code", ["EROFS", "ENOSPC", "EACCES"])
def test_an_unwritable_run_directory_is_one_error_before_training(tmp_path, monkeypatch, code):
    import errno
    import os
    from pathlib import Path

    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "config.json").write_text("{}")

    def refuse(self, data):
        raise OSError(getattr(errno, code), os.strerror(getattr(errno, code)))

    monkeypatch.setattr(Path, "write_bytes", refuse)  # the probe is the first write
    with pytest.raises(PermissionError, match="cannot write to the run directory .*run'"):
        driver.run(_LineRecipe(), _Config(), tmp_path / "run")
    assert (tmp_path / "run" / "config.json").read_text() == "{}"  # nothing overwritten
    assert not (tmp_path / "run" / "run.log").exists()


@pytest.mark.parametrize("choice, shown", [("on", "on"), ("off", "off")])
def test_jit_compile_switch_reaches_the_train_step(tmp_path, choice, shown):
    metrics = driver.run(_LineRecipe(), _Config(), tmp_path, jit_compile=choice)
    assert f"XLA (jit_compile): {shown}" in (tmp_path / "run.log").read_text()
    assert np.isfinite(metrics["slope"]) and metrics["epochs_this_session"] == 3


def test_jit_compile_rejects_other_values(tmp_path):
    with pytest.raises(ValueError, match="jit_compile must be one of auto, on, off"):
        driver.run(_LineRecipe(), _Config(), tmp_path, jit_compile="yes")


def test_serial_inter_op_only_before_tensorflow_starts():
    """One inter-op thread can be set in a fresh process, not once an op has run (the driver
    then logs a warning instead of claiming bit-exact runs)."""
    code = ("import sys, tensorflow as tf\n"
            "from tfaudiogan.training.driver import serial_inter_op\n"
            "if sys.argv[1] == 'late':\n"
            "    tf.constant(1.0) + 1.0\n"
            "print(serial_inter_op(), tf.config.threading.get_inter_op_parallelism_threads())\n")
    for when, expected in (("fresh", "True 1"), ("late", "False 0")):
        done = subprocess.run([sys.executable, "-c", code, when], capture_output=True,
                              text=True, timeout=120,
                              env={**__import__("os").environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
        assert done.returncode == 0, done.stderr[-2000:]
        assert done.stdout.strip().splitlines()[-1] == expected


def test_deterministic_switches_on_op_determinism(tmp_path):
    """In child processes: op determinism (with one inter-op thread and TensorFloat-32 off) is
    process-wide and cannot be switched off; two deterministic runs repeat (the run without it
    is run once, for its log)."""
    code = (
        "import json, sys\n"
        "from tensorflow.python.framework import config\n"
        "from tfaudiogan import configs\n"
        "from tfaudiogan.recipes.ddsp_gan import run\n"
        "on = sys.argv[2] == 'on'\n"
        "out = [run(configs.get_preset('ddsp_gan_nsynth', 'smoke'), sys.argv[1] + f'/{i}',\n"
        "           export=False, deterministic=on)['final_losses'] for i in (1, 2)[:1 + on]]\n"
        "import tensorflow as tf\n"
        "print(json.dumps([config.is_op_determinism_enabled(),\n"
        "                  tf.config.threading.get_inter_op_parallelism_threads(),\n"
        "                  tf.config.experimental.tensor_float_32_execution_enabled(), *out]))\n")
    env = {k: v for k, v in __import__("os").environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"}
    results = {}
    for switch in ("on", "off"):
        done = subprocess.run([sys.executable, "-c", code, str(tmp_path / switch), switch],
                              capture_output=True, text=True, timeout=300,
                              env={**env, "TF_CPP_MIN_LOG_LEVEL": "3"})
        assert done.returncode == 0, done.stderr[-2000:]
        results[switch] = json.loads(done.stdout.strip().splitlines()[-1])
    # op determinism, inter-op threads, TensorFloat-32
    assert results["on"][:3] == [True, 1, False] and results["off"][:3] == [False, 0, True]
    assert results["on"][3] == results["on"][4]  # the smoke run repeats
    for i in (1, 2):  # the second run's process had TensorFlow started: the setting holds
        log = (tmp_path / "on" / str(i) / "run.log").read_text()
        assert "deterministic ops: on" in log and "one inter-op thread" in log
        assert "TensorFloat-32 off" in log
        assert "TF_ENABLE_ONEDNN_OPTS=0 before starting Python" in log  # not set here
    assert "deterministic ops" not in (tmp_path / "off" / "1" / "run.log").read_text()
