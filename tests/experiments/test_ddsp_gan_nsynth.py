"""DDSP-GAN experiment at smoke size: run directory, samples and control plots, metrics,
export, resume of a finished run, NSynth input, bad input."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from tfaudiogan import configs
from tfaudiogan.configs.ddsp_gan import FAMILY
from tfaudiogan.data.nsynth_writer import write_tfrecord
from tfaudiogan.data.synthetic_notes import synthetic_notes, to_examples
from tfaudiogan.export.ddsp import generate
from tfaudiogan.recipes.ddsp_gan import run

SMOKE = configs.get_preset(FAMILY, "smoke")


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    model_dir = tmp_path_factory.mktemp("ddsp_smoke")
    return model_dir, run(SMOKE, model_dir, strategy="default", export=True)


def test_run_directory_samples_and_plots(smoke_run):
    model_dir, metrics = smoke_run
    for name in ("config.json", "run.log", "metrics.json", "generator.keras",
                 "checkpoints/ddsp_gan-0002.weights.h5"):
        assert (model_dir / name).exists(), name
    assert not (model_dir / "backup").exists()
    folder = model_dir / "samples" / "epoch_0002"
    audio, rate = sf.read(folder / "sample_0.wav")
    assert rate == 16000 and len(audio) == 4000
    png = (folder / "controls_0.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert metrics["optimizer_iterations"] == {"generator": 4, "discriminator": 4}
    assert all(np.isfinite(v) for v in metrics["final_losses"].values())
    assert json.loads((model_dir / "metrics.json").read_text())["export"]


def test_export_of_the_run_generates(smoke_run):
    model_dir, metrics = smoke_run
    z = np.zeros((2, SMOKE.model.latent_dim), np.float32)
    audio = generate(metrics["export"]["tflite"], z)
    assert audio.shape == (2, 4000) and np.isfinite(audio).all()


def test_rerun_of_a_finished_run_trains_nothing_more(smoke_run):
    model_dir, _ = smoke_run
    again = run(SMOKE, model_dir, strategy="default", export=False)
    assert again["epochs_this_session"] == 0
    assert again["optimizer_iterations"] == {"generator": 4, "discriminator": 4}


def test_nsynth_tfrecords_pitch_conditioned_and_scored(tmp_path, tiny_pitch_classifier):
    notes = synthetic_notes(8, 16000, 4.0, pitches=[60, 64], seed=1)
    write_tfrecord(tmp_path / "nsynth-train.tfrecord", to_examples(notes))
    cfg = configs.apply_overrides(SMOKE, [
        "data.dataset=nsynth", "train.epochs=1", "model.pitch_conditioned=true",
        f"eval.classifier={tiny_pitch_classifier}", "eval.notes=4", "eval.is_splits=2",
        "eval.ndb_bins=2"])
    metrics = run(cfg, tmp_path / "run", data_dir=tmp_path, export=False)
    assert metrics["optimizer_iterations"]["generator"] == 2
    table = metrics["pitch_metrics"]  # reference: 8 NSynth training notes, 4 + 4
    assert table["reference_notes"] == table["generated_notes"] == 4
    assert 0.0 <= table["generated"]["pitch_accuracy"] <= 1.0
    assert np.isfinite(table["generated"]["frechet_distance"])


def test_unconditional_run_scores_without_pitch_accuracy(tmp_path, tiny_pitch_classifier):
    cfg = configs.apply_overrides(SMOKE, [
        "train.epochs=1", f"eval.classifier={tiny_pitch_classifier}", "eval.notes=4",
        "eval.is_splits=2", "eval.ndb_bins=2"])
    table = run(cfg, tmp_path / "run", export=False)["pitch_metrics"]
    assert table["generated"]["pitch_accuracy"] is None
    assert table["real_data"]["pitch_accuracy"] is not None
    assert {"ndb", "jsd", "pitch_entropy"} <= set(table["generated"])


def test_bad_input(tmp_path):
    cfg = configs.apply_overrides(SMOKE, ["data.dataset=nsynth"])
    with pytest.raises(ValueError, match="--data_dir"):
        run(cfg, tmp_path / "a", export=False)
    with pytest.raises(FileNotFoundError, match="no NSynth"):
        run(cfg, tmp_path / "b", data_dir=tmp_path, export=False)
    result = subprocess.run(
        [sys.executable, "-m", "tfaudiogan.experiments.ddsp_gan_nsynth", "--preset", "smoke",
         "--data_dir", str(tmp_path / "missing"), "--model_dir", str(tmp_path / "c")],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("error: data directory")


def test_presets_round_trip_and_paper_defaults():
    from tfaudiogan.configs.ddsp_gan import DDSPGANConfig

    for name in ("paper", "demo", "smoke"):
        cfg = configs.get_preset(FAMILY, name)
        assert configs.from_dict(DDSPGANConfig, configs.to_dict(cfg)) == cfg
    paper = configs.get_preset(FAMILY, "paper").model
    assert (paper.n_samples, paper.n_frames, paper.n_harmonics, paper.n_noise_bands) == (
        64000, 1000, 100, 65)
    assert configs.get_preset(FAMILY, "paper").loss.kind == "dcgan"
