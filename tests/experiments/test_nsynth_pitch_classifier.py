"""Pitch-classifier experiment at smoke size: synthetic notes, NSynth TFRecords, resume and
bad input."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from tfaudiogan import configs
from tfaudiogan.configs.pitch_classifier import FAMILY
from tfaudiogan.data.nsynth_writer import write_tfrecord
from tfaudiogan.recipes.pitch_classifier import MODEL_FILE, load_classifier, run

SMOKE = configs.get_preset(FAMILY, "smoke")


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    model_dir = tmp_path_factory.mktemp("pitch_classifier")
    return model_dir, run(SMOKE, model_dir, strategy="default")


def test_smoke_run_writes_model_and_metrics(smoke_run):
    model_dir, metrics = smoke_run
    for name in ("config.json", "run.log", "metrics.json", MODEL_FILE,
                 "checkpoints/pitch_classifier-0002.weights.h5"):
        assert (model_dir / name).exists(), name
    stored = json.loads((model_dir / "metrics.json").read_text())
    assert stored["evaluation"]["notes"] == SMOKE.data.synthetic_validation
    assert 0.0 <= stored["evaluation"]["pitch_accuracy"] <= 1.0
    assert stored["optimizer_iterations"] == 4  # 2 epochs x 2 steps
    classifier = load_classifier(model_dir / MODEL_FILE)
    assert classifier.output_shape == (None, 61)
    assert classifier.count_params() == stored["parameters"]


def test_rerun_of_a_finished_run_trains_nothing_more(smoke_run):
    model_dir, first = smoke_run
    again = run(SMOKE, model_dir, strategy="default")
    assert again["epochs_this_session"] == 0
    assert again["optimizer_iterations"] == 4  # optimizer state restored with the weights
    # the last checkpoint's weights were restored: same predictions, same accuracy
    assert again["evaluation"]["pitch_entropy_mean"] == pytest.approx(
        first["evaluation"]["pitch_entropy_mean"], rel=1e-5)


def test_trains_on_nsynth_tfrecords_gansynth_subset(tmp_path):
    rng = np.random.default_rng(0)
    t = np.arange(64000) / 16000
    notes = []
    for i, (pitch, source) in enumerate([(60, 0), (62, 0), (64, 0), (67, 0), (70, 1), (90, 0)]):
        audio = 0.5 * np.sin(2 * np.pi * 440 * 2 ** ((pitch - 69) / 12) * t) + 0.01 * rng.normal(
            size=t.size)
        notes.append({"audio": audio.astype(np.float32), "pitch": pitch,
                      "instrument_source": source, "instrument": i})
    data_dir = tmp_path / "nsynth"
    write_tfrecord(data_dir / "nsynth-train.tfrecord", notes)
    write_tfrecord(data_dir / "nsynth-valid.tfrecord", notes)
    cfg = configs.apply_overrides(SMOKE, ["data.dataset=nsynth", "model.audio_length=64000",
                                          "train.steps_per_epoch=1", "train.epochs=1"])
    metrics = run(cfg, tmp_path / "run", data_dir=data_dir, strategy="default")
    # electronic (source 1) and out-of-range (pitch 90) notes are filtered out: 4 remain
    assert metrics["evaluation"]["notes"] == 4
    assert metrics["optimizer_iterations"] == 1  # one step of 4 notes at batch 4
    assert metrics["final_losses"]["accuracy"] in (0.0, 0.25, 0.5, 0.75, 1.0)


def _experiment(*flags):
    return subprocess.run([sys.executable, "-m", "tfaudiogan.experiments.nsynth_pitch_classifier",
                           *flags], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})


def test_missing_data_dir_is_one_line_with_exit_code_2(tmp_path):
    result = _experiment("--data_dir", str(tmp_path / "missing"), "--model_dir",
                         str(tmp_path / "run"))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("error:")
    assert "does not exist" in result.stderr


def test_paper_preset_needs_data(tmp_path):
    with pytest.raises(ValueError, match="--data_dir"):
        run(configs.get_preset(FAMILY, "paper"), tmp_path, strategy="default")
    keras.backend.clear_session()
