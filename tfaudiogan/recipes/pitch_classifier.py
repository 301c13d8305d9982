"""The NSynth pitch classifier's recipe: notes -> network -> fit -> accuracy, calibration rows.

``python -m tfaudiogan.experiments.nsynth_pitch_classifier`` runs :data:`RECIPE` through the
training driver (training/driver.py). With ``data.dataset="nsynth"`` it reads
the GANSynth subset of NSynth from ``data_dir`` (tfaudiogan.data.nsynth); with
``"synthetic"`` it uses the built-in notes (tfaudiogan.data.synthetic_notes). The trained
network is written to ``model_dir/pitch_classifier.keras`` and its accuracy, plus the
real-data calibration rows of the GANSynth metrics (IS, PA, PE), to ``metrics.json``.
Re-running the same command resumes (step-level backups / end-of-epoch checkpoints).
"""

from __future__ import annotations

import functools
import time

import keras
import numpy as np
import tensorflow as tf

from tfaudiogan import data
from tfaudiogan.configs.pitch_classifier import PitchClassifierConfig
from tfaudiogan.data.order import shuffled_examples
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
from tfaudiogan.training import cluster, driver
from tfaudiogan.training.recipe import Recipe, Run

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
    m, d = config.model, config.data
    n = d.synthetic_train if split == "train" else d.synthetic_validation
    notes = data.load("synthetic_notes", split=split, n=n, sample_rate=m.sample_rate,
                      seconds=m.audio_length / m.sample_rate,
                      pitches=range(m.min_pitch, m.max_pitch + 1), seed=config.train.seed)
    return notes["audio"], notes["pitch"].astype(np.int32) - m.min_pitch


def _nsynth(config: PitchClassifierConfig, data_dir, split: str, logger) -> tf.data.Dataset:
    m, d = config.model, config.data
    return data.pitch_labelled(
        data.load("nsynth", data_dir, split, gansynth_subset=True,
                  gansynth_splits=d.gansynth_splits or None, audio_length=m.audio_length,
                  strict=d.strict, log=logger), m.min_pitch, m.max_pitch)


def datasets(config: PitchClassifierConfig, data_dir, logger,
             strategy: tf.distribute.Strategy | None = None):
    """(train dataset of batches, steps per epoch or None, eval (audio, class) iterable).

    With several workers (``strategy``) each streams its own share of the NSynth notes
    (training/cluster.py)."""
    t, d = config.train, config.data
    if d.dataset == "synthetic":
        audio, labels = _synthetic(config, "train")
        eval_audio, eval_labels = _synthetic(config, "validation")
        logger.info("synthetic notes: %d train, %d validation", len(audio), len(eval_audio))
        train = shuffled_examples((audio, labels), t.seed)
        steps = t.steps_per_epoch or max(1, len(audio) // t.batch_size)
        evaluation = tf.data.Dataset.from_tensor_slices((eval_audio, eval_labels))
    elif d.dataset == "nsynth":
        if data_dir is None:
            raise ValueError("dataset 'nsynth' needs --data_dir (or use --preset demo)")
        if not t.steps_per_epoch:  # a finite dataset of unknown size makes Keras 3 run an
            # extra empty step at its end, so NSynth epochs are counted in steps
            raise ValueError("dataset 'nsynth' needs train.steps_per_epoch > 0 (--steps)")
        steps = t.steps_per_epoch
        train = _nsynth(config, data_dir, "train", logger)
        if strategy is not None:
            train = cluster.worker_shard(train, strategy)
        train = train.shuffle(d.shuffle_buffer, seed=t.seed).repeat()
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
    generator would reach). FD needs at least 2 notes on each side (a covariance), NDB/JSD at
    least ``2 * bins``; a row that cannot be computed is left out and ``note`` says why."""
    _, real_feats, _ = predict(classifier, train_batches)
    _, eval_feats, _ = predict(classifier, eval_batches)
    out = {"train_notes": len(real_feats), "eval_notes": len(eval_feats)}
    if min(len(real_feats), len(eval_feats)) < 2:
        out["note"] = (f"no real-data calibration: the Frechet distance needs at least 2 notes "
                       f"on each side, got {len(real_feats)} training and {len(eval_feats)} "
                       "evaluation notes")
        return out
    out["frechet_distance"] = frechet_distance(real_feats, eval_feats)
    if min(len(real_feats), len(eval_feats)) >= 2 * bins:
        real = np.concatenate([log_spectrogram_features(a) for a, _ in train_batches])
        fake = np.concatenate([log_spectrogram_features(a) for a, _ in eval_batches])
        result = ndb_jsd(real, fake, k=bins, alpha=alpha, seed=seed)
        out.update(ndb=result["ndb"], ndb_fraction=result["ndb_fraction"], jsd=result["jsd"],
                   ndb_bins=bins)
    return out


class PitchClassifierRecipe(Recipe):
    """The NSynth pitch classifier for the training driver (no serving export: its
    consumers are the GANSynth and DDSP-GAN metrics, which load ``pitch_classifier.keras``)."""

    config_cls = PitchClassifierConfig
    checkpoint_prefix = "pitch_classifier"

    def load_data(self, run: Run) -> dict:
        """``{"train": batches, "steps": steps per epoch, "eval": (audio, class) batches}``."""
        train, steps, evaluation = datasets(run.config, run.data_dir, run.logger, run.strategy)
        return {"train": train, "steps": steps, "eval": evaluation}

    def steps_per_epoch(self, run: Run, data) -> int:
        return data["steps"]

    def dataset(self, run: Run, data):
        return data["train"]

    def build_model(self, run: Run, data) -> keras.Model:
        t = run.config.train
        classifier = build_classifier(run.config)
        classifier.compile(
            optimizer=keras.optimizers.Adam(t.learning_rate, epsilon=t.epsilon),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")])
        # built now, so checkpoints restore the Adam moments and step count too
        classifier.optimizer.build(classifier.trainable_variables)
        run.logger.info("pitch classifier: %d parameters", classifier.count_params())
        return classifier

    def save(self, run: Run, model: keras.Model) -> None:
        model.save(run.model_dir / MODEL_FILE)

    def evaluate(self, run: Run, model: keras.Model, data) -> dict:
        config = run.config
        start = time.perf_counter()
        results = evaluate(model, data["eval"], config.model.min_pitch)
        results["real_data_calibration"] = calibration(
            model, train_sample(config, run.data_dir, run.logger, results["notes"]),
            data["eval"], config.model.min_pitch, seed=config.train.seed)
        run.logger.info("pitch accuracy %.4f (top-5 %.4f) on %d notes",
                        results["pitch_accuracy"], results["top5_accuracy"], results["notes"])
        return {
            "dataset": config.data.dataset,
            "eval_split": ("validation" if config.data.dataset == "synthetic"
                           else config.data.eval_split),
            "evaluation": results,
            "parameters": int(model.count_params()),
            "optimizer_iterations": int(model.optimizer.iterations.numpy()),
            "eval_seconds": round(time.perf_counter() - start, 1),
            "model": MODEL_FILE,
        }


RECIPE = PitchClassifierRecipe()
run = functools.partial(driver.run, RECIPE)  # run(config, model_dir, data_dir, strategy, export)


def load_classifier(path) -> keras.Model:
    """Loads a saved ``pitch_classifier.keras`` (the custom front-end layer is registered)."""
    import tfaudiogan.models.pitch_classifier  # noqa: F401  registers LogFrequencySpectrogram

    return keras.models.load_model(path)
