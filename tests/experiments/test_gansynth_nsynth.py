"""GANSynth experiment: every stage of the smoke schedule, resume mid-schedule, bad input."""

import json
import logging
import subprocess
import sys
from dataclasses import replace

import keras
import numpy as np
import pytest

from tests.events import tensorboard_tags
from tfaudiogan.configs import gansynth as presets
from tfaudiogan.recipes import gansynth as training
from tfaudiogan.recipes import pitch_metrics
from tfaudiogan.recipes.gansynth_samples import asked_labels


class _KillInStage1(keras.callbacks.Callback):
    """Stops the run after the first epoch of stage 1, the second fit (after the step backup,
    an earlier callback, saved it)."""

    fits = 0

    def on_train_begin(self, logs=None):
        self.fits += 1

    def on_epoch_end(self, epoch, logs=None):
        if self.fits == 2:
            raise KeyboardInterrupt("simulated kill")


@pytest.fixture(scope="module")
def resumed_run(tmp_path_factory):
    """A smoke run killed in the middle of stage 1 (a transition), then re-run to the end."""
    model_dir = tmp_path_factory.mktemp("gansynth")
    config = presets.smoke()
    with pytest.raises(KeyboardInterrupt):
        training.run(config, model_dir, export=False, extra_callbacks=[_KillInStage1()])
    interrupted = {
        "state": json.loads((model_dir / "state.json").read_text()),
        "backup": (model_dir / "stages" / "stage_01" / "backup").exists(),
    }
    metrics = training.run(config, model_dir, export=False)
    return model_dir, interrupted, metrics


def test_the_interrupted_run_recorded_its_stage_and_left_a_backup(resumed_run):
    _, interrupted, _ = resumed_run
    assert interrupted["state"] == {"stage": 1, "finished": [0], "num_stages": 3}
    assert interrupted["backup"]


def test_every_stage_ran_on_its_images_with_one_d_and_one_g_step_per_batch(resumed_run):
    model_dir, _, metrics = resumed_run
    stages = metrics["stages"]
    assert sorted(stages) == ["0", "1", "2"]
    assert [stages[s]["blocks"] for s in "012"] == [1, 2, 2]
    assert [stages[s]["images"] for s in "012"] == [[0, 8], [8, 16], [16, 24]]
    assert [stages[s]["images_seen"] for s in "012"] == [8, 16, 24]
    for s in "012":  # 8 images / batch 4 = 2 steps; stage 1 counts its pre-kill step too,
        assert stages[s]["d_steps"] == stages[s]["g_steps"] == 2  # so Adam state was restored
    state = json.loads((model_dir / "state.json").read_text())
    assert state == {"stage": 3, "finished": [0, 1, 2], "num_stages": 3}
    assert not (model_dir / "stages" / "stage_01" / "backup").exists()


def test_resume_continued_stage_1_from_its_backup(resumed_run):
    model_dir, _, _ = resumed_run
    log = (model_dir / "run.log").read_text()
    assert "stage 1: resuming from its backup" in log
    assert log.count("stage 0/2: stable") == 1  # the finished stage was not retrained


def test_tensorboard_shows_stage_alpha_and_learning_rates_per_stage(resumed_run):
    model_dir, _, _ = resumed_run
    for stage in range(3):
        tags = tensorboard_tags(model_dir / "tensorboard" / f"stage_{stage:02d}")
        assert {"progressive/alpha", "progressive/stage", "learning_rate/g_optimizer",
                "learning_rate/d_optimizer", "batch_d_loss", "epoch_g_loss", "config"} <= tags


def test_samples_and_final_generator_are_written(resumed_run):
    model_dir, _, _ = resumed_run
    for stage in range(3):
        folder = model_dir / "samples" / f"stage_{stage:02d}"
        assert (folder / "note_00_pitch_24.wav").stat().st_size > 44
        assert (folder / "note_00_pitch_24.png").exists()
        assert any((model_dir / "tensorboard" / f"stage_{stage:02d}").rglob("events.out.*"))
    assert any((model_dir / "tensorboard" / "samples").glob("events.out.*"))  # audio per stage
    generator = keras.saving.load_model(model_dir / "generator_ema.keras")
    assert tuple(generator.output.shape[1:]) == (4, 32, 2)


def test_a_finished_run_trains_nothing_more(resumed_run):
    model_dir, _, _ = resumed_run
    before = (model_dir / "run.log").read_text().count("epoch 1 done")
    training.run(presets.smoke(), model_dir, export=False)
    assert (model_dir / "run.log").read_text().count("epoch 1 done") == before


def test_a_finished_run_is_rescored_with_a_pitch_classifier(resumed_run,
                                                             tiny_pitch_classifier):
    model_dir, _, _ = resumed_run
    config = presets.smoke()
    config = replace(config, eval=replace(config.eval, classifier=str(tiny_pitch_classifier),
                                          notes=10, is_splits=5, ndb_bins=2))
    metrics = training.run(config, model_dir, export=False)
    table = metrics["pitch_metrics"]
    assert table["generated_notes"] == table["reference_notes"] == 10
    assert table["classifier"] == str(tiny_pitch_classifier)
    for row in ("real_data", "generated"):
        assert 0.0 <= table[row]["pitch_accuracy"] <= 1.0  # conditioned: PA exists
        assert 1.0 <= table[row]["inception_score"]["mean"] <= 61.0
        assert table[row]["frechet_distance"] >= 0.0 and 0 <= table[row]["ndb"] <= 2
    assert table["generated"] != table["real_data"]
    assert json.loads((model_dir / "metrics.json").read_text())["pitch_metrics"] == table
    log = (model_dir / "run.log").read_text()
    assert "pitch metrics, generated: IS" in log and "generated 10/10 notes" in log


def test_other_config_in_the_same_directory_is_refused(resumed_run):
    model_dir, _, _ = resumed_run
    config = presets.smoke()
    config = replace(config, loss=replace(config.loss, drift_weight=0.01))
    with pytest.raises(ValueError, match="drift_weight"):
        training.run(config, model_dir, export=False)


def test_paper_preset_without_data_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="needs --data_dir"):
        training.run(presets.paper(), tmp_path / "run", export=False)


def test_spectrogram_that_does_not_match_the_final_stage_is_refused(tmp_path):
    config = presets.smoke()
    config = replace(config, spectrogram=replace(config.spectrogram, audio_length=320,
                                                 spec_shape=(8, 64)))
    with pytest.raises(ValueError, match="final stage works at"):
        training.run(config, tmp_path / "run", export=False)


def test_missing_data_dir_is_one_line_with_exit_code_2(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "tfaudiogan.experiments.gansynth_nsynth",
                           "--data_dir", str(tmp_path / "missing"), "--model_dir",
                           str(tmp_path / "run")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith("error: data directory")


def _weights(path) -> list[np.ndarray]:
    """Every array of a Keras ``.weights.h5`` file, in file order."""
    import h5py

    arrays = []
    with h5py.File(path, "r") as f:
        f.visititems(lambda _, obj: arrays.append(obj[()]) if isinstance(obj, h5py.Dataset)
                     else None)
    return arrays


def _constant_classifier(path, length: int, midi: int):
    """A saved 'classifier' that names every note MIDI ``midi``: its logits layer has a zero
    kernel and a one-hot bias (the layer names are those the final scoring reads)."""
    model = keras.Sequential([keras.Input((length,)), keras.layers.Dense(4, name="embedding"),
                              keras.layers.Dense(61, name="logits")])
    bias = np.zeros(61, np.float32)
    bias[midi - 24] = 5.0
    model.get_layer("logits").set_weights([np.zeros((4, 61), np.float32), bias])
    model.save(path)
    return path


def test_each_stage_records_the_pitch_accuracy_of_its_ema_generator(tmp_path):
    config = presets.smoke()
    counts = training.load_notes(config, None, logging.getLogger("test"))[1]
    labels = asked_labels(counts, 12, config.eval.seed)
    midi = int(np.bincount(labels).argmax()) + config.model.min_pitch
    expected = float(np.mean(labels + config.model.min_pitch == midi))
    assert 0.0 < expected < 1.0  # the asked pitches differ, so a wrong count would show
    classifier = _constant_classifier(tmp_path / "constant.keras", 96, midi)
    config = replace(config, eval=replace(config.eval, classifier=str(classifier),
                                          stage_notes=12, notes=10, is_splits=5, ndb_bins=2))
    metrics = training.run(config, tmp_path / "run", export=False)
    log = (tmp_path / "run" / "run.log").read_text()
    for stage in range(3):
        assert metrics["stages"][str(stage)]["pitch_accuracy"] == pytest.approx(expected)
        assert f"stage {stage}: pitch accuracy {expected:.3f} (12 EMA-generator notes" in log
    assert metrics["pitch_metrics"]["generated"]["pitch_accuracy"] is not None


def test_stage_pitch_accuracy_scores_the_stage_models_notes(tmp_path, tiny_pitch_classifier):
    """The value of a stage equals scoring that stage's saved EMA generator again; with
    ``eval.stage_notes=0`` the stage rows carry none, and the scoring did not change training
    (loading and running the classifier would otherwise shift the next stage's initial
    weights: Keras draws default initializer seeds from Python's ``random``)."""
    config = presets.smoke()
    config = replace(config, eval=replace(config.eval, classifier=str(tiny_pitch_classifier),
                                          stage_notes=6, notes=10, is_splits=5, ndb_bins=2))
    model_dir = tmp_path / "run"
    metrics = training.run(config, model_dir, export=False)
    counts = np.asarray(metrics["pitch_counts"])
    classifier = pitch_metrics.find_classifier(str(tiny_pitch_classifier), None)
    rep = training.representation(config)
    for stage in (0, 2):  # stable stages: alpha 1 after the stage, and in a new stage model
        gan = training.build_stage(config, stage, counts, 0)
        for name in training.NETWORKS:
            getattr(gan, name).load_weights(training.stage_dir(model_dir, stage)
                                            / f"{name}.weights.h5")
        again = training.stage_pitch_accuracy(gan, rep, config, classifier, counts)
        assert metrics["stages"][str(stage)]["pitch_accuracy"] == again
    off = replace(config, eval=replace(config.eval, stage_notes=0))
    rows = training.run(off, tmp_path / "off", export=False)["stages"]
    assert all("pitch_accuracy" not in row for row in rows.values())
    for stage in range(3):
        assert rows[str(stage)]["final_losses"] == metrics["stages"][str(stage)]["final_losses"]
        for name in training.NETWORKS:
            file = f"{name}.weights.h5"
            a = _weights(training.stage_dir(model_dir, stage) / file)
            b = _weights(training.stage_dir(tmp_path / "off", stage) / file)
            assert len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))
