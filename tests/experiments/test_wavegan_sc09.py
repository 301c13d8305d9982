"""WaveGAN, SpecGAN and the SC09 classifier end to end at smoke size: entry points, run
directory, metrics (inception score with a trained classifier), export, resume, bad input."""

import json
import logging
import os
import signal
import subprocess
import sys

import keras
import numpy as np
import pytest
import soundfile as sf
from absl import flags

from tests.entry_points import entry_point
from tests.processes import kill_after_first_epoch
from tfaudiogan import configs
from tfaudiogan.configs.wavegan import FAMILY_SPECGAN, FAMILY_WAVEGAN
from tfaudiogan.models import wavegan as networks
from tfaudiogan.recipes import sc09_eval
from tfaudiogan.recipes import wavegan as training

FLAGS = flags.FLAGS

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}


def _start(module, *flags):
    return subprocess.Popen([sys.executable, "-m", f"tfaudiogan.experiments.{module}", *flags],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)


def _finish(proc, timeout=300):
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The classifier through its entry point (a subprocess, in parallel), SpecGAN moments and
    bad input through the entry points in process, then the WaveGAN and SpecGAN smoke runs
    scored by that classifier."""
    root = tmp_path_factory.mktemp("sc09")
    empty = root / "empty"
    empty.mkdir()
    classifier_proc = _start("sc09_classifier", "--preset", "smoke", "--model_dir",
                             str(root / "classifier"))
    done = {
        "moments": entry_point("specgan_sc09", "--preset", "smoke", "--moments_only",
                                "--model_dir", str(root / "specgan")),
        "no_moments": entry_point("specgan_sc09", "--preset", "smoke", "--model_dir",
                                   str(root / "specgan_without_moments")),
        "no_audio": entry_point("wavegan_sc09", "--preset", "smoke", "--data_dir", str(empty),
                                 "--set", "data.dataset=folder", "--model_dir",
                                 str(root / "bad")),
        "not_sc09": entry_point("wavegan_sc09", "--preset", "smoke", "--data_dir", str(empty),
                                 "--set", "data.dataset=sc09", "--model_dir",
                                 str(root / "bad_sc09")),
        "data_dir_with_synthetic": entry_point("wavegan_sc09", "--preset", "smoke",
                                                "--data_dir", str(empty), "--set",
                                                "data.dataset=synthetic", "--model_dir",
                                                str(root / "bad_synthetic")),
    }
    done["classifier"] = _finish(classifier_proc)
    assert done["classifier"][0] == 0, done["classifier"][2][-2000:]
    assert done["moments"][0] == 0, done["moments"][2][-2000:]
    classifier = root / "classifier" / "classifier.keras"
    metrics = {}
    for family, name in ((FAMILY_WAVEGAN, "wavegan"), (FAMILY_SPECGAN, "specgan")):
        cfg = configs.apply_overrides(configs.get_preset(family, "smoke"),
                                      [f"eval.classifier_path={classifier}"])
        # The export itself is tested in tests/export; here once, through the WaveGAN run.
        metrics[name] = training.run(cfg, root / name, strategy="default",
                                     export=name == "wavegan")
    return {"root": root, "done": done, "metrics": metrics, "classifier": classifier}


def test_classifier_run_writes_model_and_accuracies(runs):
    metrics = json.loads((runs["root"] / "classifier" / "metrics.json").read_text())
    assert runs["classifier"].is_file()
    assert set(metrics["accuracy"]) == {"train", "valid", "test"}
    assert all(0.0 <= a <= 1.0 for a in metrics["accuracy"].values())
    assert metrics["clips"] == {"train": 40, "valid": 10, "test": 10}
    assert 1.0 <= metrics["real_data_inception_score"]["mean"] <= 10.0
    assert metrics["loss_curve"]["epoch"] == [1, 2]


@pytest.mark.parametrize("name", ["wavegan", "specgan"])
def test_run_directory_samples_and_export(runs, name):
    model_dir = runs["root"] / name
    for path in ("config.json", "run.log", "metrics.json", "history.csv",
                 "generators/generator.keras", f"checkpoints/{name}-0002.weights.h5",
                 "samples/epoch_0002/preview.wav", "samples/epoch_0002/sample_1.png"):
        assert (model_dir / path).exists(), path
    assert not (model_dir / "backup").exists()
    audio, rate = sf.read(model_dir / "samples" / "epoch_0001" / "sample_0.wav")
    assert rate == 16000 and audio.shape == (16384,)
    preview, _ = sf.read(model_dir / "samples" / "epoch_0001" / "preview.wav")
    assert preview.shape == (2 * (16384 + 8000),)  # 2 clips, 0.5 s of silence after each
    if name == "wavegan":
        export = runs["metrics"][name]["export"]
        assert export["saved_model"].endswith("wavegan_sc09/1")
        assert os.path.isfile(export["tflite"])


@pytest.mark.parametrize("name", ["wavegan", "specgan"])
def test_metrics_hold_losses_scores_and_calibration(runs, name):
    metrics = runs["metrics"][name]
    assert json.loads((runs["root"] / name / "metrics.json").read_text()) == metrics
    curve = metrics["loss_curve"]
    assert curve["epoch"] == [1, 2]
    assert {"d_loss", "g_loss", "gp", "w_distance"} <= set(curve)
    assert metrics["optimizer_iterations"] == {"generator": 4, "discriminator": 8}
    score = metrics["inception_score"]
    assert score["n"] == 20 and score["splits"] == 10 and 1.0 <= score["mean"] <= 10.0
    real = metrics["real_data_calibration"]
    assert real["inception_score"]["n"] == 10 and real["inception_score"]["mean"] >= 1.0
    nn = metrics["nearest_neighbour"]
    assert nn["n_generated"] == 10 and nn["n_train"] == 20
    assert nn["d_self"] > 0 and nn["d_train"] > 0 and real["nearest_neighbour"]["d_self"] > 0


def test_moments_only_writes_moments_and_training_uses_them(runs):
    assert runs["done"]["moments"][0] == 0
    assert "moments written to" in runs["done"]["moments"][1]
    with np.load(runs["root"] / "specgan" / "moments.npz") as moments:
        assert moments["mean"].shape == moments["std"].shape == (129,)


def test_without_a_classifier_the_score_is_not_made_up(tmp_path):
    cfg = configs.apply_overrides(configs.get_preset(FAMILY_WAVEGAN, "smoke"),
                                  ["eval.classifier_path=missing.keras"])
    keras.utils.set_random_seed(0)
    synth = sc09_eval.Synthesizer(networks.generator(dim=2), 100, batch_size=10)
    waves = np.random.default_rng(0).uniform(-0.5, 0.5, (12, 16384)).astype("float32")
    metrics = sc09_eval.evaluate_generator(synth, waves, cfg, tmp_path, logging.getLogger("t"))
    for note in (metrics["inception_score"], metrics["real_data_calibration"]["inception_score"]):
        assert note["status"] == "not computed" and "missing.keras" in note["reason"]
        assert "sc09_classifier" in note["reason"] and "mean" not in note
    assert metrics["nearest_neighbour"]["n_generated"] == 10


def test_longer_rerun_continues_from_the_last_checkpoint(runs):
    model_dir = runs["root"] / "wavegan"
    cfg = configs.apply_overrides(configs.get_preset(FAMILY_WAVEGAN, "smoke"),
                                  ["train.epochs=3", f"eval.classifier_path={runs['classifier']}"])
    metrics = training.run(cfg, model_dir, strategy="default", export=False)
    assert metrics["epochs_this_session"] == 1
    assert metrics["optimizer_iterations"] == {"generator": 6, "discriminator": 12}
    assert metrics["loss_curve"]["epoch"] == [1, 2, 3]
    kept = sorted(p.name for p in (model_dir / "checkpoints").iterdir())
    assert kept == ["wavegan-0002.weights.h5", "wavegan-0003.weights.h5"]  # keep_checkpoints=2


@pytest.mark.parametrize("key, message", [
    ("no_audio", "no audio"),
    ("not_sc09", "is not an SC09 folder"),
    ("data_dir_with_synthetic", "data.dataset is 'synthetic'"),
    ("no_moments", "python -m tfaudiogan.experiments.specgan_sc09 --moments_only"),
])
def test_bad_input_is_one_line_with_exit_code_2(runs, key, message):
    code, _, err = runs["done"][key]
    lines = err.strip().splitlines()
    assert code == 2 and lines[-1].startswith("error:") and message in lines[-1]
    assert "Traceback" not in err


def test_generate_count_error_exits_before_loading_anything(tmp_path):
    result = subprocess.run([sys.executable, "-m", "tfaudiogan.cli", "generate", "--model",
                             str(tmp_path), "--n", "0", str(tmp_path / "out")],
                            capture_output=True, text=True, timeout=60, env=ENV)
    assert result.returncode == 2
    assert result.stderr.strip() == "error: --n must be a positive number of clips, got 0"


@pytest.mark.slow
def test_resume_after_kill_restores_epoch_and_optimizer_state(tmp_path):
    flags = ["--preset", "smoke", "--model_dir", str(tmp_path), "--noexport",
             "--set", "train.epochs=4", "--steps", "10"]
    code = kill_after_first_epoch("wavegan_sc09", flags, tmp_path, env=ENV)
    assert code == -signal.SIGKILL, "the run ended before it could be killed"
    assert not (tmp_path / "metrics.json").exists()
    code, _, err = _finish(_start("wavegan_sc09", *flags))
    assert code == 0, err[-2000:]
    text = (tmp_path / "run.log").read_text()
    # killed just after epoch 1's log line: from its backup, or from its checkpoint when the
    # backup (the last callback at an epoch end) was not written yet
    assert "resuming an interrupted run" in text or "1 epoch(s) already trained" in text
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["epochs_this_session"] < 4
    assert metrics["optimizer_iterations"] == {"generator": 40, "discriminator": 80}
    assert metrics["loss_curve"]["epoch"] == [1, 2, 3, 4]


def test_paper_presets_are_the_published_setup():
    wave = configs.get_preset(FAMILY_WAVEGAN, "paper")
    assert (wave.train.batch_size, wave.loss.kind, wave.loss.gp_weight, wave.loss.d_updates) == (
        64, "wgan-gp", 10.0, 5)
    o = wave.optimizer
    assert (o.name, o.learning_rate, o.beta_1, o.beta_2, o.epsilon) == ("adam", 1e-4, 0.5, 0.9,
                                                                        1e-8)
    m = wave.model
    assert (m.slice_len, m.dim, m.kernel_size, m.latent_dim, m.phaseshuffle_rad) == (
        16384, 64, 25, 100, 2)
    assert (wave.data.dataset, wave.data.sample_rate, wave.data.normalize) == ("sc09", 16000,
                                                                               False)
    assert (wave.eval.inception_n, wave.eval.inception_splits) == (50000, 10)
    spec = configs.get_preset(FAMILY_SPECGAN, "paper")
    assert (spec.model.kind, spec.model.kernel_size, spec.model.phaseshuffle_rad) == (
        "specgan", 5, 0)
    assert spec.spectrogram.griffin_lim_iters == 16
    classifier = configs.get_preset("sc09_classifier", "paper")
    assert (classifier.optimizer.name, classifier.optimizer.learning_rate,
            classifier.train.batch_size, classifier.model.filters) == ("sgd", 1e-4, 64, 128)


@pytest.mark.parametrize("family", [FAMILY_WAVEGAN, FAMILY_SPECGAN])
def test_paper_networks_have_the_reference_parameter_counts(family):
    g, d = training.build_networks(configs.get_preset(family, "paper"))
    assert (g.count_params(), d.count_params()) == (19_065_345, 17_427_969)
