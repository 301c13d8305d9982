"""Inception score of class predictions (WaveGAN's ``eval/inception/score.py``).

``IS = exp(E_x KL(p(y|x) || p(y)))`` computed on each of ``splits`` equal, consecutive groups of
the predictions (``p(y)`` is the mean prediction of that group); the reported value is the
mean and the (population, ``ddof=0``) standard deviation over the groups
(reference/wavegan.md section 6.1: k = 10 splits; 50,000 generated clips in the paper, 5,000
during training; 9.18 +- 0.04 on the 18,620 real SC09 training clips).

As in score.py, the number of predictions must be divisible by ``splits``. One deliberate
difference: a probability of exactly 0 contributes ``0 * log 0 = 0`` (score.py would return
NaN); values are computed in float64.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

__all__ = ["classifier_probs", "inception_score"]

SPLITS = 10  # score.py --k default
BATCH_SIZE = 100  # score.py --batch_size default


def inception_score(probs, splits: int = SPLITS) -> tuple[float, float]:
    """Mean and std of the inception score over ``splits`` groups.

    Args:
        probs: ``[n, classes]`` class probabilities (rows sum to 1, e.g. a softmax).
        splits: number of consecutive groups of ``n // splits`` rows (10).

    Returns:
        ``(mean, std)`` of ``exp(mean_x sum_y p(y|x) (log p(y|x) - log p(y)))`` over groups.

    Raises:
        ValueError: ``probs`` is not 2-D, has negative or non-finite entries or rows that do
            not sum to 1 (tolerance 1e-3), ``splits`` < 1, or ``n`` is not a multiple of
            ``splits`` (score.py raises the same).
    """
    p = np.asarray(probs, np.float64)
    if p.ndim != 2 or p.shape[0] == 0 or p.shape[1] == 0:
        raise ValueError(f"probs must be a non-empty [n, classes] array, got shape {p.shape}")
    if not np.isfinite(p).all() or (p < 0).any():
        raise ValueError("probs must be finite and non-negative")
    if not np.allclose(p.sum(axis=1), 1.0, atol=1e-3):
        raise ValueError("every row of probs must sum to 1 (pass softmax outputs, not logits)")
    if isinstance(splits, bool) or int(splits) != splits or splits < 1:
        raise ValueError(f"splits must be a positive integer, got {splits!r}")
    n = p.shape[0]
    if n < splits:
        raise ValueError(f"need at least splits={splits} predictions, got {n}")
    if n % splits:
        raise ValueError(
            f"the number of predictions ({n}) is not divisible by splits ({splits}); "
            f"use a multiple, e.g. the first {n - n % splits}"
        )
    size = n // splits
    scores = []
    for i in range(splits):
        group = p[i * size : (i + 1) * size]
        marginal = group.mean(axis=0, keepdims=True)
        # 0 * log(0) = 0: where p(y|x) = 0 the term vanishes (and p(y) > 0 wherever p > 0).
        log_ratio = np.log(np.where(group > 0, group, 1.0)) - np.log(np.maximum(marginal, 1e-300))
        kl = np.where(group > 0, group * log_ratio, 0.0)
        scores.append(np.exp(kl.sum(axis=1).mean()))
    return float(np.mean(scores)), float(np.std(scores))


def classifier_probs(classifier, waves, batch_size: int = BATCH_SIZE) -> np.ndarray:
    """Softmax class probabilities of a logits classifier, in batches.

    Args:
        classifier: a Keras model (e.g. :func:`tfaudiogan.models.classifiers.sc09_classifier`)
            mapping ``[batch, samples]`` waveforms to logits ``[batch, classes]``; called with
            ``training=False`` (batch norm uses its moving statistics).
        waves: float ``[n, samples]`` in [-1, 1] (int16 files: divide by 32767 as score.py).
        batch_size: clips per forward pass (100, as score.py).

    Returns:
        float32 ``[n, classes]``.
    """
    x = np.asarray(waves, np.float32)
    if x.ndim == 3 and x.shape[-1] == 1:
        x = x[..., 0]
    if x.ndim != 2 or x.shape[0] == 0:
        raise ValueError(f"waves must be a non-empty [n, samples] array, got shape {x.shape}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    out = []
    for start in range(0, x.shape[0], batch_size):
        logits = classifier(x[start : start + batch_size], training=False)
        out.append(tf.nn.softmax(tf.cast(logits, tf.float32), axis=-1).numpy())
    return np.concatenate(out)
