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

import json
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from tfaudiogan.configs.wavegan import ClassifierConfig
from tfaudiogan.metrics.inception import classifier_probs, inception_score
from tfaudiogan.models.classifiers import sc09_classifier
from tfaudiogan.training import run_dir
from tfaudiogan.training.callbacks import EpochLog
from tfaudiogan.training.strategy import get_strategy
from tfaudiogan.training.wavegan import PruneCheckpoints, loss_curve

SPLITS = ("train", "valid", "test")
PREFIX = "classifier"


def load_splits(config: ClassifierConfig, data_dir, logger) -> dict[str, tuple]:
    """``{split: (waves [n, slice_len], labels [n])}`` for train, valid and test."""
    d = config.data
    out = {}
    if d.dataset == "synthetic":
        if data_dir is not None:
            raise ValueError(f"--data_dir '{data_dir}' was given but data.dataset is "
                             "'synthetic' (built-in digits); use --preset paper or --set "
                             "data.dataset=sc09")
        from tfaudiogan.data.synthetic_digits import digit_clips

        sizes = {"train": d.synthetic_per_class,
                 "valid": max(1, d.synthetic_per_class // 4),
                 "test": max(1, d.synthetic_per_class // 4)}
        for i, split in enumerate(SPLITS):  # independent clips per split (other seeds)
            out[split] = digit_clips(sizes[split], d.sample_rate, d.slice_len,
                                     seed=config.train.seed + 1000 * i)
    elif d.dataset == "sc09":
        if data_dir is None:
            raise ValueError("dataset 'sc09' needs --data_dir (or use --preset demo)")
        from tfaudiogan.data.sc09 import load_sc09

        for split in SPLITS:
            out[split] = load_sc09(data_dir, split, d.sample_rate, d.slice_len, d.normalize,
                                   d.strict, log=logger)
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


def run(config: ClassifierConfig, model_dir, data_dir=None, strategy="default",
        export: bool = True) -> dict:
    """Trains (or resumes) the classifier and writes ``classifier.keras`` and ``metrics.json``.

    ``export`` is accepted for the common entry-point signature; the artefact is the
    ``.keras`` file (the classifier is an evaluation tool, not a served model).
    """
    del export
    model_dir = Path(model_dir)
    config = run_dir.prepare(model_dir, config, ClassifierConfig)
    logger = run_dir.run_logger(model_dir)
    logger.info("run directory %s (config.json written)", model_dir)
    strategy = get_strategy(strategy) if isinstance(strategy, str) else strategy
    keras.utils.set_random_seed(config.train.seed)
    splits = load_splits(config, data_dir, logger)
    (x, y), t = splits["train"], config.train
    if len(x) < t.batch_size:
        raise ValueError(f"only {len(x)} training clips; a batch needs {t.batch_size}")
    steps = t.steps_per_epoch or max(1, len(x) // t.batch_size)
    dataset = (tf.data.Dataset.from_tensor_slices((x, y))
               .shuffle(len(x), seed=t.seed, reshuffle_each_iteration=True).repeat()
               .batch(t.batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE))
    with strategy.scope():
        model = build_classifier(config)
    best = model_dir / "classifier_best.weights.h5"
    callbacks = [
        keras.callbacks.BackupAndRestore(str(model_dir / "backup")),
        keras.callbacks.ModelCheckpoint(
            str(model_dir / "checkpoints" / f"{PREFIX}-{{epoch:04d}}.weights.h5"),
            save_weights_only=True),
        PruneCheckpoints(model_dir, PREFIX, 3),
        keras.callbacks.ModelCheckpoint(str(best), monitor="val_accuracy", mode="max",
                                        save_best_only=True, save_weights_only=True),
        keras.callbacks.TensorBoard(str(model_dir / "tensorboard")),
        keras.callbacks.CSVLogger(str(model_dir / "history.csv"), append=True),
        EpochLog(logger),
    ]
    initial_epoch = run_dir.restore_finished_epochs(model, model_dir, logger, PREFIX)
    logger.info("training epochs %d-%d x %d steps (batch %d, %s lr %g, %d replica(s))",
                initial_epoch + 1, t.epochs, steps, t.batch_size, config.optimizer.name,
                config.optimizer.learning_rate, strategy.num_replicas_in_sync)
    start = time.perf_counter()
    history = model.fit(dataset, epochs=t.epochs, initial_epoch=initial_epoch,
                        steps_per_epoch=steps, validation_data=splits["valid"],
                        callbacks=callbacks, verbose=2, shuffle=False)
    train_seconds = time.perf_counter() - start
    if best.exists():
        model.load_weights(best)
        logger.info("kept the weights with the best validation accuracy")
    model.save(model_dir / "classifier.keras")
    n_real = len(x) - len(x) % 10
    mean, std = inception_score(classifier_probs(model, x[:n_real]), 10)
    metrics = {
        "accuracy": {split: round(accuracy(model, *splits[split]), 4) for split in SPLITS},
        "clips": {split: len(splits[split][0]) for split in SPLITS},
        "real_data_inception_score": {"mean": round(mean, 4), "std": round(std, 4),
                                      "n": n_real, "splits": 10, "clips": "training data"},
        "trainable_params": int(sum(np.prod(v.shape) for v in model.trainable_weights)),
        "loss_curve": loss_curve(model_dir),
        "epochs_this_session": len(history.history.get("loss", [])),
        "train_seconds_this_session": round(train_seconds, 1),
        "classifier": str(model_dir / "classifier.keras"),
    }
    (model_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    logger.info("accuracy: %s; real-data IS %.3f +- %.3f", metrics["accuracy"], mean, std)
    return metrics
