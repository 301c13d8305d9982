"""sc09_eval scores with the released TF1 classifier (issue 10 item 12)."""

import logging
from pathlib import Path

import keras
import numpy as np
import pytest

from tests.models.test_tf1_classifier_import import _tf1_weights, _write_tf1_checkpoint
from tfaudiogan import configs
from tfaudiogan.configs.wavegan import FAMILY_WAVEGAN
from tfaudiogan.metrics.inception import classifier_probs, inception_score
from tfaudiogan.models import wavegan as networks
from tfaudiogan.models.classifiers import import_tf1_sc09_classifier
from tfaudiogan.recipes import sc09_eval


def test_eval_classifier_path_accepts_a_tf1_checkpoint_prefix(tmp_path, rng):
    ckpt_dir = tmp_path / "released"
    ckpt_dir.mkdir()
    prefix = _write_tf1_checkpoint(_tf1_weights(4, 10, rng), ckpt_dir)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    # Relative to the run directory, as a .keras path would be.
    (run_dir / "released").symlink_to(ckpt_dir)
    assert (sc09_eval.resolve_classifier("released/best_acc-103005", run_dir)
            == run_dir / "released" / "best_acc-103005")
    # A directory resolves to its latest checkpoint.
    assert sc09_eval.resolve_classifier(str(ckpt_dir), run_dir) == Path(prefix)
    assert sc09_eval.resolve_classifier(str(ckpt_dir / "best_acc-1"), run_dir) is None
    cfg = configs.apply_overrides(configs.get_preset(FAMILY_WAVEGAN, "smoke"),
                                  [f"eval.classifier_path={prefix}"])
    keras.utils.set_random_seed(0)
    synth = sc09_eval.Synthesizer(networks.generator(dim=2), 100, batch_size=10)
    waves = np.random.default_rng(0).uniform(-0.5, 0.5, (12, 16384)).astype("float32")
    metrics = sc09_eval.evaluate_generator(synth, waves, cfg, run_dir, logging.getLogger("t"))
    score = metrics["inception_score"]
    assert score["classifier"] == prefix and score["n"] == 20
    # The score is the imported classifier's: recompute it from the same clips.
    classifier = import_tf1_sc09_classifier(prefix)
    clips = np.concatenate(list(synth.chunks(20, cfg.train.seed + 1)))
    probs = classifier_probs(classifier, sc09_eval.as_16_bit(clips), 10)
    assert abs(inception_score(probs, 10)[0] - score["mean"]) < 1e-3


def test_real_test_split_rows_and_the_normalised_distances(tmp_path):
    cfg = configs.get_preset(FAMILY_WAVEGAN, "smoke")
    keras.utils.set_random_seed(0)
    synth = sc09_eval.Synthesizer(networks.generator(dim=2), 100, batch_size=10)
    rng = np.random.default_rng(0)
    train = rng.uniform(-0.5, 0.5, (12, 16384)).astype("float32")
    test = rng.uniform(-0.5, 0.5, (6, 16384)).astype("float32")
    metrics = sc09_eval.evaluate_generator(synth, train, cfg, tmp_path, logging.getLogger("t"),
                                           test, "SC09 test split")
    row = metrics["real_data_calibration"]["test"]
    assert row["clips"] == "SC09 test split" and row["n"] == 6 and row["inception_score"]["status"] == "not computed"
    nn = row["nearest_neighbour"]
    assert nn["n"] == 6 and nn["d_self"] > 0 and nn["d_train"] > 0
    norm = metrics["nearest_neighbour"]["normalised_by_real_test"]
    assert norm["divisor"] == nn["d_train"] and norm["real_test_d_train"] == 1.0
    raw = metrics["nearest_neighbour"]
    assert norm["d_self"] == pytest.approx(raw["d_self"] / nn["d_train"], abs=1e-4)
    assert norm["d_train"] == pytest.approx(raw["d_train"] / nn["d_train"], abs=1e-4)
    assert norm["real_test_d_self"] == pytest.approx(nn["d_self"] / nn["d_train"], abs=1e-4)
    without = sc09_eval.evaluate_generator(synth, train, cfg, tmp_path, logging.getLogger("t"),
                                           None, "dataset 'folder' has no test split")
    assert without["real_data_calibration"]["test"] == {
        "status": "not computed", "reason": "dataset 'folder' has no test split"}
    assert "normalised_by_real_test" not in without["nearest_neighbour"]


def test_synthetic_test_clips_are_not_the_training_clips():
    from tfaudiogan.recipes.wavegan import load_test_waves, load_training_waves

    cfg = configs.get_preset(FAMILY_WAVEGAN, "smoke")
    log = logging.getLogger("t")
    train = load_training_waves(cfg, None, log)
    test, note = load_test_waves(cfg, None, log)
    assert "synthetic" in note and test.shape[1] == 16384 and len(test) >= 10
    assert not any(np.array_equal(t, r) for t in test for r in train)
    off = configs.apply_overrides(cfg, ["eval.test_calibration=false"])
    assert load_test_waves(off, None, log) == (None, "eval.test_calibration is off")
