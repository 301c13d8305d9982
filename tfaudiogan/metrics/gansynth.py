"""GANSynth evaluation metrics (reference/gansynth.md section 4; the paper's code is unreleased).

* :func:`pitch_accuracy` (PA): accuracy of a pitch classifier w.r.t. the conditioning pitch.
* :func:`pitch_entropy` (PE): entropy of the classifier's pitch predictions, in nats; by default
  the mean over samples of ``H(p(y|x))`` ("lower = more confident", gansynth.md 4), with
  ``kind="histogram"`` the entropy of the histogram of predicted (argmax) pitches.
* :func:`frechet_distance` (FID): Frechet distance between Gaussians fitted to classifier
  features, ``|mu1 - mu2|^2 + tr(C1 + C2 - 2 (C1 C2)^(1/2))``. The trace of the matrix square
  root is computed as ``sum sqrt(eig(C1^(1/2) C2 C1^(1/2)))`` (a symmetric PSD matrix with the
  same eigenvalues as ``C1 C2``), NumPy only and free of complex round-off.
* :func:`ndb_jsd` (Richardson & Weiss 2018): k-means (k = 50) on real samples' features (log
  spectrograms, :func:`log_spectrogram_features`), real and generated samples assigned to the
  nearest centre, a two-sided two-proportion z-test per bin at alpha = 0.05 -> the number of
  statistically different bins (NDB), and the Jensen-Shannon divergence (nats) of the two bin
  histograms. k-means is a NumPy k-means++ / Lloyd implementation (seeded).

The inception score is :func:`tfaudiogan.metrics.inception.inception_score` (IS with y = pitch).
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import tensorflow as tf

__all__ = ["classifier_outputs", "frechet_distance", "frechet_distance_gaussians",
           "gansynth_metrics", "jensen_shannon", "kmeans", "log_spectrogram_features", "ndb_jsd",
           "pitch_accuracy", "pitch_entropy"]

MIN_PITCH = 24  # GANSynth subset: class 0 = MIDI 24 (gansynth.md section 3)
NDB_BINS = 50  # gansynth.md section 4: k-means with k = 50
NDB_ALPHA = 0.05  # gansynth.md section 4: R&W default significance level


def _as_probs(scores) -> np.ndarray:
    """Rows that are already distributions pass through; anything else gets a softmax."""
    x = np.asarray(scores, np.float64)
    if x.ndim != 2 or x.shape[0] == 0:
        raise ValueError(f"expected a non-empty [n, classes] array, got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("scores must be finite")
    if (x >= 0).all() and np.allclose(x.sum(axis=1), 1.0, atol=1e-3):
        return x
    x = np.exp(x - x.max(axis=1, keepdims=True))
    return x / x.sum(axis=1, keepdims=True)


def pitch_accuracy(scores, pitches, min_pitch: int = MIN_PITCH) -> float:
    """Fraction of samples whose predicted pitch equals the requested one.

    Args:
        scores: ``[n, classes]`` logits or probabilities; class ``c`` is MIDI ``min_pitch + c``.
        pitches: ``[n]`` MIDI pitches the samples were generated (or recorded) at.
        min_pitch: MIDI number of class 0 (24).

    Raises:
        ValueError: shapes disagree, or a pitch lies outside the classifier's classes.
    """
    x = np.asarray(scores)
    p = np.asarray(pitches).reshape(-1)
    if x.ndim != 2 or x.shape[0] != p.shape[0] or p.size == 0:
        raise ValueError(f"scores [n, classes] and pitches [n] disagree: {x.shape} vs {p.shape}")
    if p.min() < min_pitch or p.max() >= min_pitch + x.shape[1]:
        raise ValueError(f"pitches must lie in {min_pitch}..{min_pitch + x.shape[1] - 1}")
    return float(np.mean(np.argmax(x, axis=1) + min_pitch == p))


def pitch_entropy(scores, kind: str = "mean") -> float:
    """Entropy (nats) of pitch predictions.

    Args:
        scores: ``[n, classes]`` logits or probabilities.
        kind: ``"mean"``: mean over samples of the entropy of ``p(y|x)`` (0 for fully confident
            predictions); ``"histogram"``: entropy of the histogram of argmax classes (0 when
            every sample is classified as the same pitch, ``log(classes)`` when uniform).
    """
    p = _as_probs(scores)
    if kind == "mean":
        terms = np.where(p > 0, -p * np.log(np.where(p > 0, p, 1.0)), 0.0)
        return float(terms.sum(axis=1).mean())
    if kind == "histogram":
        counts = np.bincount(np.argmax(p, axis=1), minlength=p.shape[1]) / p.shape[0]
        nz = counts[counts > 0]
        return float(-(nz * np.log(nz)).sum())
    raise ValueError(f"unknown kind '{kind}'; use 'mean' or 'histogram'")


def _sqrt_psd(c: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh(c)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def frechet_distance_gaussians(mu1, cov1, mu2, cov2) -> float:
    """Frechet (2-Wasserstein squared) distance between N(mu1, cov1) and N(mu2, cov2)."""
    mu1 = np.atleast_1d(np.asarray(mu1, np.float64))
    mu2 = np.atleast_1d(np.asarray(mu2, np.float64))
    c1 = np.atleast_2d(np.asarray(cov1, np.float64))
    c2 = np.atleast_2d(np.asarray(cov2, np.float64))
    if mu1.shape != mu2.shape or c1.shape != c2.shape or c1.shape != (mu1.size, mu1.size):
        raise ValueError(f"shape mismatch: mu {mu1.shape}/{mu2.shape}, cov {c1.shape}/{c2.shape}")
    s1 = _sqrt_psd((c1 + c1.T) / 2)
    middle = s1 @ ((c2 + c2.T) / 2) @ s1
    tr_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0.0, None)).sum()
    value = np.sum((mu1 - mu2) ** 2) + np.trace(c1) + np.trace(c2) - 2.0 * tr_sqrt
    return float(max(value, 0.0))


def frechet_distance(features_a, features_b) -> float:
    """Frechet distance between Gaussians fitted to two feature sets.

    Args:
        features_a, features_b: ``[n_a, d]`` and ``[n_b, d]`` (e.g. the classifier's
            ``embedding`` layer); covariances with ``ddof=1`` as FID does (np.cov).

    Raises:
        ValueError: not 2-D, different widths, or fewer than 2 rows.
    """
    a, b = np.asarray(features_a, np.float64), np.asarray(features_b, np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or min(len(a), len(b)) < 2:
        raise ValueError(f"need two [n >= 2, d] feature arrays of one width, got {a.shape} "
                         f"and {b.shape}")
    return frechet_distance_gaussians(a.mean(0), np.cov(a, rowvar=False),
                                      b.mean(0), np.cov(b, rowvar=False))


def _sq_distances(x: np.ndarray, c: np.ndarray) -> np.ndarray:
    d = (x**2).sum(1)[:, None] - 2.0 * x @ c.T + (c**2).sum(1)[None, :]
    return np.maximum(d, 0.0)


def kmeans(x, k: int, seed: int = 0, max_iter: int = 100) -> np.ndarray:
    """k-means++ initialisation then Lloyd iterations until the assignment stops changing.

    Args:
        x: ``[n, d]`` points, ``n >= k``.
        k: number of centres.
        seed: initialisation seed.
        max_iter: Lloyd iterations at most.

    Returns:
        float64 ``[k, d]`` centres. An emptied cluster is re-seeded at the point farthest
        from its centre.
    """
    x = np.asarray(x, np.float64)
    if x.ndim != 2 or len(x) < k or k < 1:
        raise ValueError(f"need [n >= k, d] points for k={k}, got shape {x.shape}")
    rng = np.random.default_rng(seed)
    centres = [x[rng.integers(len(x))]]
    closest = _sq_distances(x, np.array(centres))[:, 0]
    for _ in range(1, k):
        total = closest.sum()
        idx = rng.choice(len(x), p=closest / total) if total > 0 else rng.integers(len(x))
        centres.append(x[idx])
        closest = np.minimum(closest, _sq_distances(x, x[idx : idx + 1])[:, 0])
    centres = np.array(centres)
    labels = None
    for _ in range(max_iter):
        dist = _sq_distances(x, centres)
        new = dist.argmin(1)
        if labels is not None and np.array_equal(new, labels):
            break
        labels = new
        for j in range(k):
            members = x[labels == j]
            if len(members):
                centres[j] = members.mean(0)
            else:
                far = dist[np.arange(len(x)), labels].argmax()
                centres[j], labels[far] = x[far], j
    return centres


def jensen_shannon(p, q) -> float:
    """Jensen-Shannon divergence (nats) between two histograms (normalised here)."""
    p, q = np.asarray(p, np.float64), np.asarray(q, np.float64)
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2

    def kl(a):
        nz = a > 0
        return float((a[nz] * np.log(a[nz] / m[nz])).sum())

    return 0.5 * kl(p) + 0.5 * kl(q)


def ndb_jsd(real_features, fake_features, k: int = NDB_BINS, alpha: float = NDB_ALPHA,
            seed: int = 0, max_iter: int = 100) -> dict:
    """Number of statistically different bins and the JSD of the bin histograms.

    Args:
        real_features: ``[n_real, d]`` training-data features (flattened log spectrograms).
        fake_features: ``[n_fake, d]`` generated-sample features.
        k: k-means bins (50).
        alpha: two-sided significance level of each bin's two-proportion z-test (0.05).
        seed: k-means seed.
        max_iter: k-means iterations at most.

    Returns:
        dict: ``ndb`` (int), ``ndb_fraction`` (ndb / k), ``jsd`` (nats), ``real_proportions``
        and ``fake_proportions`` (``[k]`` lists), ``different`` (``[k]`` bools).
    """
    real, fake = np.asarray(real_features, np.float64), np.asarray(fake_features, np.float64)
    if real.ndim != 2 or fake.ndim != 2 or real.shape[1] != fake.shape[1] or not len(fake):
        raise ValueError(f"need [n, d] real and fake features of one width, got {real.shape} "
                         f"and {fake.shape}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    centres = kmeans(real, k, seed, max_iter)
    p = np.bincount(_sq_distances(real, centres).argmin(1), minlength=k) / len(real)
    q = np.bincount(_sq_distances(fake, centres).argmin(1), minlength=k) / len(fake)
    n1, n2 = len(real), len(fake)
    pooled = (p * n1 + q * n2) / (n1 + n2)
    se = np.sqrt(pooled * (1 - pooled) * (1.0 / n1 + 1.0 / n2))
    z = np.divide(np.abs(p - q), se, out=np.zeros_like(se), where=se > 0)
    different = z > NormalDist().inv_cdf(1 - alpha / 2)
    return {"ndb": int(different.sum()), "ndb_fraction": float(different.mean()),
            "jsd": jensen_shannon(p, q), "real_proportions": p.tolist(),
            "fake_proportions": q.tolist(), "different": different.tolist()}


def log_spectrogram_features(waves, fft_length: int = 1024, frame_step: int = 512,
                             freq_pool: int = 8, log_eps: float = 1e-6) -> np.ndarray:
    """Flattened log-magnitude spectrograms for NDB: ``log(|STFT| + eps)``, frequency-pooled.

    Args:
        waves: float ``[n, samples]``.
        fft_length, frame_step: STFT (periodic Hann, no padding). [chosen]
        freq_pool: adjacent frequency bins averaged (magnitudes) to keep ``d`` small. [chosen]
        log_eps: added before the log (GANSynth's 1e-6).

    Returns:
        float32 ``[n, frames * (fft_length // 2 // freq_pool)]`` (Nyquist bin dropped).
    """
    x = tf.convert_to_tensor(np.asarray(waves, np.float32))
    mag = tf.abs(tf.signal.stft(x, fft_length, frame_step))[..., : fft_length // 2]
    shape = tf.shape(mag)
    mag = tf.reduce_mean(tf.reshape(mag, [shape[0], shape[1], -1, freq_pool]), axis=-1)
    logmag = tf.math.log(mag + log_eps)
    return tf.reshape(logmag, [shape[0], -1]).numpy()


def classifier_outputs(classifier, waves, batch_size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Softmax probabilities ``[n, classes]`` and ``embedding`` features ``[n, dim]``.

    Args:
        classifier: a :func:`tfaudiogan.models.pitch_classifier.pitch_classifier` model (any
            Keras model with layers named ``logits`` and ``embedding``).
        waves: float ``[n, samples]``.
        batch_size: clips per forward pass.
    """
    import keras

    features = keras.Model(classifier.inputs, [classifier.get_layer("logits").output,
                                               classifier.get_layer("embedding").output])
    x = np.asarray(waves, np.float32)
    if x.ndim != 2 or not len(x):
        raise ValueError(f"waves must be a non-empty [n, samples] array, got shape {x.shape}")
    probs, embeds = [], []
    for i in range(0, len(x), batch_size):
        logits, embedding = features([x[i : i + batch_size]], training=False)
        probs.append(tf.nn.softmax(logits).numpy())
        embeds.append(np.asarray(embedding))
    return np.concatenate(probs), np.concatenate(embeds)


def gansynth_metrics(classifier, fake_audio, fake_pitches, real_audio, splits: int = 10,
                     ndb_bins: int = NDB_BINS, alpha: float = NDB_ALPHA, seed: int = 0,
                     min_pitch: int = MIN_PITCH) -> dict:
    """One row of the paper's Table 1 (minus the listening test) for a set of generated notes.

    Args:
        classifier: the trained pitch classifier.
        fake_audio: ``[n, samples]`` generated notes; ``fake_pitches`` ``[n]`` their
            conditioning MIDI pitches, or None for an unconditional generator (no PA).
        real_audio: ``[m, samples]`` real training notes (FD reference and NDB bins).
        splits: inception-score groups (the largest multiple of ``splits`` notes is used).
        ndb_bins, alpha, seed: NDB settings (50, 0.05); NDB/JSD are left out when either set
            has fewer than ``2 * ndb_bins`` notes.
        min_pitch: MIDI number of class 0.

    Returns:
        dict with ``inception_score`` (mean, std), ``pitch_accuracy`` (None without
        ``fake_pitches``), ``pitch_entropy``
        (mean per-note, nats), ``frechet_distance`` and, when enough notes, ``ndb``, ``jsd``.
    """
    from tfaudiogan.metrics.inception import inception_score

    probs, fake_feats = classifier_outputs(classifier, fake_audio)
    _, real_feats = classifier_outputs(classifier, real_audio)
    usable = len(probs) - len(probs) % splits
    if usable < splits:
        raise ValueError(f"need at least splits={splits} generated notes, got {len(probs)}")
    mean, std = inception_score(probs[:usable], splits)
    out = {"inception_score": {"mean": mean, "std": std},
           "pitch_accuracy": (None if fake_pitches is None
                              else pitch_accuracy(probs, fake_pitches, min_pitch)),
           "pitch_entropy": pitch_entropy(probs),
           "frechet_distance": frechet_distance(real_feats, fake_feats)}
    if min(len(real_feats), len(fake_feats)) >= 2 * ndb_bins:
        result = ndb_jsd(log_spectrogram_features(real_audio),
                         log_spectrogram_features(fake_audio), ndb_bins, alpha, seed)
        out.update(ndb=result["ndb"], jsd=result["jsd"])
    return out
