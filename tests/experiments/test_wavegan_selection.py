"""Checkpoint selection by inception score on a tiny WaveGAN run (issue 10 item 11)."""

import numpy as np

from tfaudiogan import configs
from tfaudiogan.configs.wavegan import FAMILY_WAVEGAN
from tfaudiogan.models import wavegan as networks
from tfaudiogan.models.classifiers import sc09_classifier
from tfaudiogan.recipes import sc09_eval
from tfaudiogan.recipes import wavegan as training


def test_the_kept_generator_is_the_best_scoring_one(tmp_path):
    classifier_path = tmp_path / "classifier.keras"
    sc09_classifier(filters=4).save(classifier_path)
    cfg = configs.apply_overrides(configs.get_preset(FAMILY_WAVEGAN, "smoke"), [
        f"eval.classifier_path={classifier_path}", "eval.checkpoint_selection=best_inception",
        "eval.select_every=1", "eval.select_n=30", "train.epochs=4",
        "optimizer.learning_rate=0.02"])  # large steps: the scores differ between epochs
    model_dir = tmp_path / "run"
    metrics = training.run(cfg, model_dir, strategy="default", export=False)
    sel = metrics["checkpoint_selection"]
    means = [s["mean"] for s in sel["scores"]]
    assert [s["epoch"] for s in sel["scores"]] == [1, 2, 3, 4]
    assert len(set(means)) > 1  # a real choice was made
    assert sel["mode"] == "best_inception" and sel["epoch"] == 1 + int(np.argmax(means))
    assert sel["selection_inception_score"]["mean"] == max(means)
    assert sel["generator_step"] == 2 * sel["epoch"]  # 2 G steps per smoke epoch
    # The kept weights score what was recorded, and they are the run's final generator.
    best = networks.generator(dim=2)
    best.load_weights(model_dir / training.BEST_GENERATOR)
    synth = sc09_eval.Synthesizer(best, 100, batch_size=10)
    again = sc09_eval.generated_inception(synth, sc09_eval.load_classifier(classifier_path),
                                          30, 10, cfg.train.seed + 5, 10)
    assert again["mean"] == max(means)
    final = sc09_eval.keras.saving.load_model(model_dir / "generators" / "generator.keras")
    for a, b in zip(final.get_weights(), best.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert metrics["inception_score"]["n"] == 20  # the end-of-run score of the kept one


def test_last_weights_mode_and_the_fallback_without_a_classifier(tmp_path):
    cfg = configs.get_preset(FAMILY_WAVEGAN, "smoke")  # no classifier
    assert cfg.eval.checkpoint_selection == "best_inception"
    metrics = training.run(cfg, tmp_path / "a", strategy="default", export=False)
    assert metrics["checkpoint_selection"]["mode"] == "last"
    assert "needs a classifier" in metrics["checkpoint_selection"]["reason"]
    assert not (tmp_path / "a" / training.BEST_GENERATOR).exists()
    cfg = configs.apply_overrides(cfg, ["eval.checkpoint_selection=last"])
    metrics = training.run(cfg, tmp_path / "b", strategy="default", export=False)
    assert metrics["checkpoint_selection"] == {"mode": "last"}
