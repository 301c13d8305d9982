"""The SC09 "inception" classifier experiment (reference/wavegan.md 6.1).

``run(config, model_dir, data_dir)`` trains :func:`tfaudiogan.models.classifiers.sc09_classifier`
on SC09 (or the built-in synthetic digits), keeps the weights with the best validation accuracy
(the reference keeps its ``best_acc`` checkpoint), writes ``classifier.keras`` (what the GAN
runs' ``eval.classifier_path`` points to) and ``metrics.json`` with the validation and test
accuracy and the inception score of the real training clips under this classifier (the
calibration row; the paper's released classifier gives 9.18 +- 0.04 on SC09 train).
Re-running the same command resumes.
"""

from __future__ import annotations

import functools

import keras
import numpy as np
import tensorflow as tf

from tfaudiogan import data
from tfaudiogan.configs.wavegan import ClassifierConfig
from tfaudiogan.data.order import shuffled_examples
from tfaudiogan.metrics.inception import classifier_probs, inception_score
from tfaudiogan.models.classifiers import sc09_classifier
from tfaudiogan.training import cluster, driver
from tfaudiogan.training.recipe import Recipe, Run

SPLITS = ("train", "valid", "test")
PREFIX = "classifier"
BEST_WEIGHTS = "classifier_best.weights.h5"


def load_splits(config: ClassifierConfig, data_dir, logger) -> dict[str, tuple]:
    """``{split: (waves [n, slice_len], labels [n])}`` for train, valid and test."""
    d = config.data
    out = {}
    if d.dataset == "synthetic":
        if data_dir is not None:
            raise ValueError(f"--data_dir '{data_dir}' was given but data.dataset is "
                             "'synthetic' (built-in digits); use --preset paper or --set "
                             "data.dataset=sc09")
        sizes = {"train": d.synthetic_per_class,
                 "valid": max(1, d.synthetic_per_class // 4),
                 "test": max(1, d.synthetic_per_class // 4)}
        for split in SPLITS:  # independent clips per split (the registry's split seeds)
            out[split] = data.load("synthetic_digits", split=split, n_per_class=sizes[split],
                                   sample_rate=d.sample_rate, slice_len=d.slice_len,
                                   seed=config.train.seed)
    elif d.dataset == "sc09":
        if data_dir is None:
            raise ValueError("dataset 'sc09' needs --data_dir (or use --preset demo)")
        for split in SPLITS:
            out[split] = data.load("sc09", data_dir, split, sample_rate=d.sample_rate,
                                   slice_len=d.slice_len, normalize=d.normalize,
                                   strict=d.strict, log=logger)
    else:
        raise ValueError(f"unknown dataset '{d.dataset}'; use 'sc09' or 'synthetic'")
    logger.info("clips: %s", ", ".join(f"{k} {len(v[0])}" for k, v in out.items()))
    return out


def build_classifier(config: ClassifierConfig) -> keras.Model:
    """The compiled classifier (logits; sparse cross-entropy; accuracy). Call in scope."""
    m, o, d = config.model, config.optimizer, config.data
    model = sc09_classifier(filters=m.filters, kernel_size=m.kernel_size, n_blocks=m.n_blocks,
                            slice_len=d.slice_len, sample_rate=d.sample_rate,
                            bn_momentum=m.bn_momentum)
    if o.name == "sgd":
        optimizer = keras.optimizers.SGD(o.learning_rate, momentum=o.momentum)
    elif o.name == "adam":
        optimizer = keras.optimizers.Adam(o.learning_rate, epsilon=o.epsilon)
    else:
        raise ValueError(f"unknown optimizer '{o.name}'; use 'sgd' or 'adam'")
    model.compile(optimizer=optimizer,
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


def accuracy(model: keras.Model, waves: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of clips whose arg-max logit is the label (inference mode)."""
    probs = classifier_probs(model, waves, batch_size=100)
    return float(np.mean(np.argmax(probs, axis=1) == labels))


class SC09ClassifierRecipe(Recipe):
    """The SC09 classifier (reference/wavegan.md 6.1) for the training driver.

    It keeps the weights with the best validation accuracy and writes ``classifier.keras``;
    it is an evaluation tool, so it has no serving export.
    """

    config_cls = ClassifierConfig
    checkpoint_prefix = PREFIX

    def keep_checkpoints(self, run: Run) -> int:
        return 3

    def load_data(self, run: Run) -> dict:
        """``{split: (waves [n, slice_len], labels [n])}`` for train, valid and test."""
        splits = load_splits(run.config, run.data_dir, run.logger)
        if len(splits["train"][0]) < run.config.train.batch_size:
            raise ValueError(f"only {len(splits['train'][0])} training clips; a batch needs "
                             f"{run.config.train.batch_size}")
        return splits

    def steps_per_epoch(self, run: Run, splits) -> int:
        t = run.config.train
        return t.steps_per_epoch or max(1, len(splits["train"][0]) // t.batch_size)

    def dataset(self, run: Run, splits):
        (x, y), t = splits["train"], run.config.train
        return (shuffled_examples((x, y), t.seed)
                .batch(t.batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE))

    def validation_data(self, run: Run, splits):
        return splits["valid"]

    def build_model(self, run: Run, splits) -> keras.Model:
        return build_classifier(run.config)

    def describe_training(self, run: Run, splits, steps: int) -> str:
        t, o = run.config.train, run.config.optimizer
        return (f"{steps} steps ({cluster.batch_text(t.batch_size, run.strategy)}, "
                f"{o.name} lr {o.learning_rate:g})")

    def callbacks(self, run: Run, model, splits) -> list:
        return [keras.callbacks.ModelCheckpoint(
            str(run.model_dir / BEST_WEIGHTS), monitor="val_accuracy", mode="max",
            save_best_only=True, save_weights_only=True)]

    def save(self, run: Run, model) -> None:
        if (run.model_dir / BEST_WEIGHTS).exists():
            model.load_weights(run.model_dir / BEST_WEIGHTS)
            run.logger.info("kept the weights with the best validation accuracy")
        model.save(run.model_dir / "classifier.keras")

    def evaluate(self, run: Run, model, splits) -> dict:
        x = splits["train"][0]
        n_real = len(x) - len(x) % 10
        mean, std = inception_score(classifier_probs(model, x[:n_real]), 10)
        metrics = {
            "accuracy": {split: round(accuracy(model, *splits[split]), 4) for split in SPLITS},
            "clips": {split: len(splits[split][0]) for split in SPLITS},
            "real_data_inception_score": {"mean": round(mean, 4), "std": round(std, 4),
                                          "n": n_real, "splits": 10, "clips": "training data"},
            "trainable_params": int(sum(np.prod(v.shape) for v in model.trainable_weights)),
            "classifier": str(run.model_dir / "classifier.keras"),
        }
        run.logger.info("accuracy: %s; real-data IS %.3f +- %.3f", metrics["accuracy"], mean,
                        std)
        return metrics


RECIPE = SC09ClassifierRecipe()
run = functools.partial(driver.run, RECIPE)  # run(config, model_dir, data_dir, strategy, export)
