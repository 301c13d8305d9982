"""Trains the NSynth pitch classifier: config -> notes -> network -> fit -> metrics.json.

``run(config, model_dir, data_dir)`` is what ``python -m
tfaudiogan.experiments.nsynth_pitch_classifier`` calls. With ``data.dataset="nsynth"`` it reads
the GANSynth subset of NSynth from ``data_dir`` (tfaudiogan.data.nsynth); with
``"synthetic"`` it uses the built-in notes (tfaudiogan.data.synthetic_notes). The trained
network is written to ``model_dir/pitch_classifier.keras`` and its accuracy, plus the
real-data calibration rows of the GANSynth metrics (IS, PA, PE), to ``metrics.json``.
Re-running the same command resumes (BackupAndRestore / end-of-epoch checkpoints).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from tfaudiogan.configs.pitch_classifier import PitchClassifierConfig
from tfaudiogan.metrics.gansynth import (
    NDB_ALPHA,
    NDB_BINS,
    frechet_distance,
    log_spectrogram_features,
    ndb_jsd,
    pitch_accuracy,
    pitch_entropy,
)
from tfaudiogan.models.pitch_classifier import feature_model, pitch_classifier
from tfaudiogan.training import run_dir
from tfaudiogan.training.callbacks import EpochLog
from tfaudiogan.training.strategy import get_strategy

MODEL_FILE = "pitch_classifier.keras"


def build_classifier(config: PitchClassifierConfig) -> keras.Model:
    """The network described by ``config.model``."""
    m = config.model
    return pitch_classifier(
        n_classes=m.max_pitch - m.min_pitch + 1, audio_length=m.audio_length,
        sample_rate=m.sample_rate, fft_length=m.fft_length, frame_step=m.frame_step,
        min_midi=m.min_midi, bins_per_semitone=m.bins_per_semitone, n_bins=m.n_bins,
        log_floor=m.log_floor, channels=tuple(m.channels), freq_channels=m.freq_channels,
        freq_kernel=m.freq_kernel, embedding_dim=m.embedding_dim)


def _synthetic(config: PitchClassifierConfig, split: str):
    from tfaudiogan.data.synthetic_notes import synthetic_notes

    m, d = config.model, config.data
    n = d.synthetic_train if split == "train" else d.synthetic_validation
    notes = synthetic_notes(n, m.sample_rate, m.audio_length / m.sample_rate,
                            pitches=range(m.min_pitch, m.max_pitch + 1),
                            seed=config.train.seed + (0 if split == "train" else 1))
    return notes["audio"], notes["pitch"].astype(np.int32) - m.min_pitch


def _nsynth(config: PitchClassifierConfig, data_dir, split: str, logger) -> tf.data.Dataset:
    from tfaudiogan.data.nsynth import nsynth_dataset

    m, d = config.model, config.data
    ds = nsynth_dataset(data_dir, split, gansynth_subset=True,
                        gansynth_splits=d.gansynth_splits or None,
                        audio_length=m.audio_length, strict=d.strict, log=logger)
    ds = ds.filter(lambda e: (e["pitch"] >= m.min_pitch) & (e["pitch"] <= m.max_pitch))
    return ds.map(lambda e: (e["audio"], e["pitch"] - m.min_pitch))


def datasets(config: PitchClassifierConfig, data_dir, logger):
    """(train dataset of batches, steps per epoch or None, eval (audio, class) iterable)."""
    t, d = config.train, config.data
    if d.dataset == "synthetic":
        audio, labels = _synthetic(config, "train")
        eval_audio, eval_labels = _synthetic(config, "validation")
        logger.info("synthetic notes: %d train, %d validation", len(audio), len(eval_audio))
        train = tf.data.Dataset.from_tensor_slices((audio, labels)).shuffle(
            len(audio), seed=t.seed).repeat()
        steps = t.steps_per_epoch or max(1, len(audio) // t.batch_size)
        evaluation = tf.data.Dataset.from_tensor_slices((eval_audio, eval_labels))
    elif d.dataset == "nsynth":
        if data_dir is None:
            raise ValueError("dataset 'nsynth' needs --data_dir (or use --preset demo)")
        if not t.steps_per_epoch:  # a finite dataset of unknown size makes Keras 3 run an
            # extra empty step at its end, so NSynth epochs are counted in steps
            raise ValueError("dataset 'nsynth' needs train.steps_per_epoch > 0 (--steps)")
        steps = t.steps_per_epoch
        train = _nsynth(config, data_dir, "train", logger).shuffle(
            d.shuffle_buffer, seed=t.seed).repeat()
        evaluation = _nsynth(config, data_dir, d.eval_split, logger)
    else:
        raise ValueError(f"unknown dataset '{d.dataset}'; use 'nsynth' or 'synthetic'")
    if d.max_eval:
        evaluation = evaluation.take(d.max_eval)
    train = train.batch(t.batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)
    return train, steps, evaluation.batch(t.batch_size)


def train_sample(config: PitchClassifierConfig, data_dir, logger, n: int) -> tf.data.Dataset:
    """Up to ``n`` training notes in file order, batched: the real side of the calibration."""
    if config.data.dataset == "synthetic":
        audio, labels = _synthetic(config, "train")
        ds = tf.data.Dataset.from_tensor_slices((audio, labels))
    else:
        ds = _nsynth(config, data_dir, "train", logger)
    return ds.take(n).batch(config.train.batch_size)


def predict(classifier: keras.Model, batches) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(softmax probs [n, classes], embeddings [n, dim], labels [n]) over (audio, label) batches."""
    features = feature_model(classifier)
    probs, embeds, labels = [], [], []
    for audio, label in batches:
        logits, embedding = features(audio, training=False)
        probs.append(tf.nn.softmax(logits).numpy())
        embeds.append(np.asarray(embedding))
        labels.append(np.asarray(label))
    if not probs:
        raise ValueError("the evaluation split is empty")
    return np.concatenate(probs), np.concatenate(embeds), np.concatenate(labels)


def evaluate(classifier: keras.Model, batches, min_pitch: int) -> dict:
    """Accuracy and the real-data calibration rows (IS over 10 splits when n >= 10, PA, PE)."""
    probs, _, labels = predict(classifier, batches)
    pitches = labels + min_pitch
    top5 = np.argsort(-probs, axis=1)[:, :5]
    out = {"notes": int(len(labels)),
           "pitch_accuracy": pitch_accuracy(probs, pitches, min_pitch),
           "top5_accuracy": float(np.mean((top5 == labels[:, None]).any(axis=1))),
           "within_one_semitone": float(np.mean(np.abs(probs.argmax(1) - labels) <= 1)),
           "octave_errors": float(np.mean(np.abs(probs.argmax(1) - labels) == 12)),
           "pitch_entropy_mean": pitch_entropy(probs, "mean"),
           "pitch_entropy_histogram": pitch_entropy(probs, "histogram")}
    try:
        from tfaudiogan.metrics.inception import inception_score

        splits = 10 if len(probs) >= 10 else 1
        usable = len(probs) - len(probs) % splits
        mean, std = inception_score(probs[:usable], splits)
        out["inception_score"] = {"mean": mean, "std": std, "splits": splits}
    except ImportError:  # pragma: no cover - metrics.inception is written in parallel
        pass
    return out


def calibration(classifier: keras.Model, train_batches, eval_batches, min_pitch: int,
                bins: int = NDB_BINS, alpha: float = NDB_ALPHA, seed: int = 0) -> dict:
    """Real-vs-real rows of the GANSynth table: FD on the classifier embedding and NDB/JSD on
    log spectrograms between training notes and evaluation notes (the floor a perfect
    generator would reach). NDB/JSD need at least ``2 * bins`` notes on each side."""
    _, real_feats, _ = predict(classifier, train_batches)
    _, eval_feats, _ = predict(classifier, eval_batches)
    out = {"train_notes": len(real_feats), "eval_notes": len(eval_feats),
           "frechet_distance": frechet_distance(real_feats, eval_feats)}
    if min(len(real_feats), len(eval_feats)) >= 2 * bins:
        real = np.concatenate([log_spectrogram_features(a) for a, _ in train_batches])
        fake = np.concatenate([log_spectrogram_features(a) for a, _ in eval_batches])
        result = ndb_jsd(real, fake, k=bins, alpha=alpha, seed=seed)
        out.update(ndb=result["ndb"], ndb_fraction=result["ndb_fraction"], jsd=result["jsd"],
                   ndb_bins=bins)
    return out


def run(config: PitchClassifierConfig, model_dir, data_dir=None, strategy="default",
        export: bool = True) -> dict:
    """Trains (or resumes) the classifier, saves it and writes ``metrics.json``.

    ``export`` is accepted for the common flags; the classifier is saved as a ``.keras`` file
    (its consumers are the metrics), not exported for serving.

    Returns:
        The metrics dict also written to ``model_dir/metrics.json``.
    """
    model_dir = Path(model_dir)
    config = run_dir.prepare(model_dir, config, PitchClassifierConfig)
    logger = run_dir.run_logger(model_dir)
    logger.info("run directory %s (config.json written)", model_dir)
    strategy = get_strategy(strategy) if isinstance(strategy, str) else strategy
    keras.utils.set_random_seed(config.train.seed)
    t = config.train
    train, steps, evaluation = datasets(config, data_dir, logger)
    with strategy.scope():
        classifier = build_classifier(config)
        classifier.compile(
            optimizer=keras.optimizers.Adam(t.learning_rate, epsilon=t.epsilon),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")])
        # built now, so checkpoints restore the Adam moments and step count too
        classifier.optimizer.build(classifier.trainable_variables)
    logger.info("pitch classifier: %d parameters", classifier.count_params())
    callbacks = [
        keras.callbacks.BackupAndRestore(str(model_dir / "backup")),
        keras.callbacks.ModelCheckpoint(
            str(model_dir / "checkpoints" / "pitch_classifier-{epoch:03d}.weights.h5"),
            save_weights_only=True),
        keras.callbacks.TensorBoard(str(model_dir / "tensorboard")),
        EpochLog(logger),
    ]
    initial_epoch = run_dir.restore_finished_epochs(classifier, model_dir, logger,
                                                    "pitch_classifier")
    start = time.perf_counter()
    history = classifier.fit(train, epochs=t.epochs, initial_epoch=initial_epoch,
                             steps_per_epoch=steps, callbacks=callbacks, verbose=2,
                             shuffle=False)  # the dataset shuffles itself
    train_seconds = time.perf_counter() - start
    classifier.save(model_dir / MODEL_FILE)

    start = time.perf_counter()
    results = evaluate(classifier, evaluation, config.model.min_pitch)
    results["real_data_calibration"] = calibration(
        classifier, train_sample(config, data_dir, logger, results["notes"]), evaluation,
        config.model.min_pitch, seed=t.seed)
    metrics = {
        "dataset": config.data.dataset,
        "eval_split": ("validation" if config.data.dataset == "synthetic"
                       else config.data.eval_split),
        "evaluation": results,
        "parameters": int(classifier.count_params()),
        "final_losses": {k: float(v[-1]) for k, v in history.history.items()},
        "epochs_this_session": len(history.history.get("loss", [])),
        "optimizer_iterations": int(classifier.optimizer.iterations.numpy()),
        "train_seconds_this_session": round(train_seconds, 1),
        "eval_seconds": round(time.perf_counter() - start, 1),
        "model": MODEL_FILE,
    }
    (model_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    logger.info("pitch accuracy %.4f (top-5 %.4f) on %d notes", results["pitch_accuracy"],
                results["top5_accuracy"], results["notes"])
    return metrics


def load_classifier(path) -> keras.Model:
    """Loads a saved ``pitch_classifier.keras`` (the custom front-end layer is registered)."""
    import tfaudiogan.models.pitch_classifier  # noqa: F401  registers LogFrequencySpectrogram

    return keras.models.load_model(path)
