"""Evaluation of an SC09 generator as the WaveGAN paper does it (reference/wavegan.md 6.1).

* Inception score of generated clips with the SC09 classifier, 10 splits (mean +- std); the
  clips are quantised to 16 bits first, as the paper scored 16-bit WAV files (``x * 32767``,
  clipped, read back ``/ 32767``).
* |D|self and |D|train: mean nearest-neighbour distance of generated clips' log-mel features to
  the other generated clips and to the training set.
* The calibration rows: the same classifier's inception score on the real training clips
  (the paper's 9.18 +- 0.04 on all 18,620 SC09 train clips) and |D|self of real clips.

The classifier is a ``.keras`` file trained by ``tfaudiogan.experiments.sc09_classifier`` or the
released TF1 classifier (``eval.classifier_path=<dir>/best_acc-103005``), imported on the fly.
Without a classifier the inception scores are reported as not computed, with the reason
and the command that trains one; no number is made up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import keras
import numpy as np

from tfaudiogan.export.generator import INT16_SCALE, generator_function, to_int16
from tfaudiogan.metrics.inception import classifier_probs, inception_score
from tfaudiogan.metrics.nearest_neighbour import nearest_neighbour_distances, similarity_features
from tfaudiogan.models.classifiers import tf1_checkpoint_prefix

CLASSIFIER_COMMAND = "python -m tfaudiogan.experiments.sc09_classifier"


class Synthesizer:
    """Latents -> waveforms with the generator's current weights (inference mode).

    Args:
        generator: z `[batch, latent_dim]` -> waveforms `[batch, samples, 1]`, or features that
            `postprocess` turns into waveforms (SpecGAN images -> Griffin-Lim).
        latent_dim: size of z.
        postprocess: optional in-graph generator-output -> `[batch, samples]` function.
        batch_size: latents per generator call.
    """

    def __init__(self, generator: keras.Model, latent_dim: int,
                 postprocess: Callable | None = None, batch_size: int = 100):
        self.latent_dim = int(latent_dim)
        self.batch_size = max(1, int(batch_size))
        self.postprocess = postprocess
        self._fn = generator_function(generator, self.latent_dim, postprocess)

    def __call__(self, z) -> np.ndarray:
        """float32 `[n, samples]` for latents `[n, latent_dim]`."""
        z = np.asarray(z, np.float32)
        return np.concatenate([self._fn(z[i:i + self.batch_size])["audio"].numpy()
                               for i in range(0, len(z), self.batch_size)])

    def chunks(self, n: int, seed: int) -> Iterator[np.ndarray]:
        """`n` clips for z ~ U(-1, 1) from `seed`, as `[<= batch_size, samples]` chunks."""
        rng = np.random.default_rng(seed)
        for start in range(0, n, self.batch_size):
            size = min(self.batch_size, n - start)
            z = rng.uniform(-1, 1, (size, self.latent_dim)).astype(np.float32)
            yield self._fn(z)["audio"].numpy()


def as_16_bit(waves) -> np.ndarray:
    """Waves as the paper's scorer reads its 16-bit files: `to_int16(x) / 32767`."""
    return to_int16(waves).astype(np.float32) / INT16_SCALE


def resolve_classifier(path: str, model_dir) -> Path | None:
    """The classifier: `path` as given (absolute or from the working directory), else relative
    to the run directory; None if neither exists or `path` is empty.

    `path` is a Keras classifier file (``classifier.keras`` from
    ``tfaudiogan.experiments.sc09_classifier``) or the released TF1 classifier: its checkpoint
    prefix (``.../best_acc-103005``, beside ``.index`` / ``.data-*``) or the directory holding
    it (see :func:`load_classifier`).
    """
    if not path:
        return None
    for candidate in (Path(path), Path(model_dir) / path):
        if candidate.is_file():
            return candidate
        prefix = tf1_checkpoint_prefix(candidate)
        if prefix is not None:
            return Path(prefix)
    return None


def load_classifier(path) -> keras.Model:
    """A classifier from :func:`resolve_classifier`'s path: a ``.keras`` file is loaded, a TF1
    checkpoint (the released ``best_acc-103005``) is imported with
    :func:`tfaudiogan.models.classifiers.import_tf1_sc09_classifier`."""
    from tfaudiogan.models import classifiers  # registers LogMelSpectrogram

    prefix = tf1_checkpoint_prefix(path)
    if prefix is not None and not Path(path).is_file():
        return classifiers.import_tf1_sc09_classifier(prefix)
    return keras.saving.load_model(path, compile=False)


def _multiple(n: int, splits: int) -> int:
    return max(splits, n - n % splits)


def _score(probs: np.ndarray, splits: int) -> dict:
    mean, std = inception_score(probs, splits)
    return {"mean": round(mean, 4), "std": round(std, 4), "n": len(probs), "splits": splits}


def generated_inception(synth: Synthesizer, classifier, n: int, splits: int, seed: int,
                        batch_size: int) -> dict:
    """Inception score of ``n`` generated clips (z from ``seed``, quantised to 16 bits as the
    paper's WAV files): ``{"mean", "std", "n", "splits"}``."""
    n = _multiple(n, splits)
    probs = np.concatenate([classifier_probs(classifier, as_16_bit(chunk), batch_size)
                            for chunk in synth.chunks(n, seed)])
    return _score(probs, splits)


def _test_row(test_waves: np.ndarray, train_feats: np.ndarray, classifier, path, e,
              seed: int) -> dict:
    """The paper's "Real (test)" row: IS, |D|self and |D|train of held-out real clips."""
    splits = e.inception_splits
    row: dict = {"n": len(test_waves)}
    if classifier is None:
        row["inception_score"] = {"status": "not computed", "reason": "no classifier"}
    else:
        n = min(len(test_waves), _multiple(len(test_waves), splits))
        probs = classifier_probs(classifier, test_waves[:n], e.batch_size)
        row["inception_score"] = {**_score(probs, splits), "classifier": str(path)}
    subset = np.random.default_rng(seed + 6).permutation(len(test_waves))[:e.nearest_n]
    feats = similarity_features(test_waves[subset])
    row["nearest_neighbour"] = {"d_self": round(nearest_neighbour_distances(feats), 4),
                                "d_train": round(nearest_neighbour_distances(feats, train_feats),
                                                 4),
                                "n": len(subset)}
    return row


def evaluate_generator(synth: Synthesizer, train_waves: np.ndarray, config, model_dir,
                       logger, test_waves: np.ndarray | None = None,
                       test_note: str = "no test split given") -> dict:
    """Inception score, |D|self, |D|train and the real-data calibration rows.

    Args:
        synth: the trained generator as a :class:`Synthesizer`.
        train_waves: float32 `[n, samples]` training clips.
        config: a WaveGANConfig (its `eval` section and `train.seed` are used).
        model_dir: run directory (for a relative classifier path).
        logger: run logger.
        test_waves: float32 `[m, samples]` held-out real clips (SC09 test split) for the
            paper's "Real (test)" row; None: that row says why it is missing (`test_note`).
        test_note: the reason given when `test_waves` is None.

    Returns:
        `{"inception_score": ..., "nearest_neighbour": ..., "real_data_calibration": ...}`.
        `real_data_calibration` has the training-data row (IS, |D|self) and, with
        `test_waves`, `"test"`: IS, |D|self and |D|train of the test clips.
        `nearest_neighbour["normalised_by_real_test"]` divides every |D| by the real test
        clips' |D|train (the paper's table lists 1.0 there; its normalisation is not
        documented, so the raw values are kept beside it).
    """
    e, seed = config.eval, config.train.seed
    splits = e.inception_splits
    out: dict = {}
    path = resolve_classifier(e.classifier_path, model_dir)
    classifier = None
    if path is None:
        reason = ("no classifier configured (eval.classifier_path is empty)"
                  if not e.classifier_path else
                  f"classifier file '{e.classifier_path}' not found")
        note = {"status": "not computed",
                "reason": f"{reason}; train one with `{CLASSIFIER_COMMAND}` and pass "
                          "--set eval.classifier_path=<its run dir>/classifier.keras, or pass "
                          "the released TF1 classifier's checkpoint prefix "
                          "(.../best_acc-103005)"}
        out["inception_score"] = note
        calibration = {"inception_score": note}
        logger.info("inception score not computed: %s", reason)
    else:
        classifier = load_classifier(path)
        n = _multiple(e.inception_n, splits)
        out["inception_score"] = {**generated_inception(synth, classifier, n, splits, seed + 1,
                                                        e.batch_size),
                                  "classifier": str(path)}
        real_n = _multiple(e.real_inception_n or len(train_waves), splits)
        real = train_waves[np.random.default_rng(seed + 3).permutation(len(train_waves))[:real_n]]
        real_probs = classifier_probs(classifier, real, e.batch_size)
        calibration = {"inception_score": {**_score(real_probs, splits), "classifier": str(path),
                                           "clips": "training data"}}
        logger.info("inception score %.3f +- %.3f (n=%d); real training data %.3f +- %.3f",
                    out["inception_score"]["mean"], out["inception_score"]["std"], n,
                    calibration["inception_score"]["mean"], calibration["inception_score"]["std"])
    generated = as_16_bit(np.concatenate(list(synth.chunks(e.nearest_n, seed + 2))))
    gen_feats = similarity_features(generated)
    train_feats = similarity_features(train_waves)
    out["nearest_neighbour"] = {
        "d_self": round(nearest_neighbour_distances(gen_feats), 4),
        "d_train": round(nearest_neighbour_distances(gen_feats, train_feats), 4),
        "n_generated": len(generated), "n_train": len(train_waves)}
    subset = np.random.default_rng(seed + 4).permutation(len(train_waves))[:e.nearest_n]
    calibration["nearest_neighbour"] = {
        "d_self": round(nearest_neighbour_distances(train_feats[subset]), 4),
        "n": len(subset)}
    if test_waves is None or len(test_waves) < 2:
        calibration["test"] = {"status": "not computed", "reason": test_note}
    else:
        calibration["test"] = {**_test_row(test_waves, train_feats, classifier, path, e, seed),
                               "clips": test_note}
        ref = calibration["test"]["nearest_neighbour"]["d_train"]
        nn = out["nearest_neighbour"]
        if ref > 0:
            nn["normalised_by_real_test"] = {
                "divisor": ref, "d_self": round(nn["d_self"] / ref, 4),
                "d_train": round(nn["d_train"] / ref, 4),
                "real_train_d_self": round(calibration["nearest_neighbour"]["d_self"] / ref, 4),
                "real_test_d_self": round(calibration["test"]["nearest_neighbour"]["d_self"]
                                          / ref, 4),
                "real_test_d_train": 1.0,
                "note": "every |D| divided by the real test clips' |D|train (1.0 in the "
                        "paper's Table 1); the paper's normalisation is not documented"}
    out["real_data_calibration"] = calibration
    logger.info("|D|self %.3f, |D|train %.3f (real |D|self %.3f)",
                out["nearest_neighbour"]["d_self"], out["nearest_neighbour"]["d_train"],
                calibration["nearest_neighbour"]["d_self"])
    return out
