"""Nearest-neighbour distances |D|self and |D|train (WaveGAN's ``eval/similarity``).

Features (``feats.py``, reference/wavegan.md section 6.1): the first 16384 samples (zero-padded),
``STFT(2048, 128, pad_end)`` magnitude, 128-bin mel (40-7800 Hz), ``log(+1e-6)``, flattened
to 128 x 128 = 16384 values. ``feats.py`` feeds the raw int16 sample values (scipy
``wavread``), so :func:`similarity_features` multiplies float waveforms by 32768 first: for
16-bit files read as ``int / 32768`` this recovers the exact integers.

Distances (``sim.py``): the mean Euclidean distance from every query row to its nearest
reference row. For |D|self the query set is also the reference set and a zero first
neighbour (the row itself) is replaced by the second one. The reference uses an sklearn
ball tree; this module computes the same exact nearest neighbours by blocked brute force in
float64 (features have 16384 dimensions, where trees degenerate to brute force anyway), and
recomputes each winning distance directly from the difference vector.
"""

from __future__ import annotations

import numpy as np

from tfaudiogan.audio.log_mel import SIMILARITY_FFT, log_mel_features, mel_matrix

__all__ = ["INT16_SCALE", "nearest_neighbour_distances", "similarity_features"]

INT16_SCALE = 32768.0  # feats.py reads int16 WAVs unscaled; float = int / 32768 (loader.py)
SLICE_LEN = 16384  # feats.py: x[:16384], zero-padded


def similarity_features(waves, scale: float = INT16_SCALE, batch_size: int = 64,
                        slice_len: int = SLICE_LEN) -> np.ndarray:
    """Flattened log-mel features of ``feats.py``.

    Args:
        waves: float ``[n, samples]`` in [-1, 1]; cropped / zero-padded to ``slice_len``.
        scale: multiplier applied before the STFT (32768: int16 units, as feats.py).
        batch_size: clips per STFT call.
        slice_len: samples per clip (16384).

    Returns:
        float32 ``[n, frames * 128]`` (``[n, 16384]`` for 16384 samples).
    """
    x = np.asarray(waves, np.float32)
    if x.ndim != 2 or x.shape[0] == 0:
        raise ValueError(f"waves must be a non-empty [n, samples] array, got shape {x.shape}")
    fixed = np.zeros((x.shape[0], slice_len), np.float32)
    n = min(slice_len, x.shape[1])
    fixed[:, :n] = x[:, :n]
    weights = mel_matrix(SIMILARITY_FFT)
    out = []
    for start in range(0, fixed.shape[0], batch_size):
        feats = log_mel_features(fixed[start : start + batch_size] * scale,
                                 fft_length=SIMILARITY_FFT, weights=weights)
        out.append(feats.numpy().reshape(feats.shape[0], -1))
    return np.concatenate(out)


def _as_rows(features, name: str) -> np.ndarray:
    arr = np.asarray(features)
    if arr.ndim < 1 or arr.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty [n, ...] array, got shape {arr.shape}")
    arr = arr.reshape(arr.shape[0], -1)
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def nearest_neighbour_distances(
    features_a,
    features_b=None,
    return_std: bool = False,
    block_size: int = 256,
):
    """Mean Euclidean distance from each row of ``a`` to its nearest row of ``b``.

    * |D|train: ``features_a`` = generated clips, ``features_b`` = the training set.
    * |D|self: ``features_b=None``; each row of ``a`` is compared with the other rows of
      ``a`` (its own zero-distance match is excluded, as sim.py does by taking the second
      neighbour when the first is at distance 0); exact duplicates still count as 0.

    Args:
        features_a: query features ``[n_a, ...]`` (flattened per row).
        features_b: reference features ``[n_b, ...]`` with the same row size, or None.
        return_std: also return the standard deviation of the distances (sim.py prints both).
        block_size: rows per block of the brute-force search (memory vs speed).

    Returns:
        ``mean`` (float), or ``(mean, std)`` if ``return_std``.

    Raises:
        ValueError: empty inputs, mismatched row sizes, non-finite values, or fewer than two
            rows for |D|self.
    """
    a = _as_rows(features_a, "features_a")
    self_mode = features_b is None
    b = a if self_mode else _as_rows(features_b, "features_b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"feature sizes differ: {a.shape[1]} vs {b.shape[1]}")
    if self_mode and a.shape[0] < 2:
        raise ValueError("|D|self needs at least two feature rows")
    b_sq = np.einsum("ij,ij->i", b.astype(np.float64), b.astype(np.float64))
    dists = np.empty(a.shape[0])
    for start in range(0, a.shape[0], block_size):
        qa = a[start : start + block_size].astype(np.float64)
        qa_sq = np.einsum("ij,ij->i", qa, qa)
        d2 = np.empty((qa.shape[0], b.shape[0]))
        for bstart in range(0, b.shape[0], block_size):
            bb = b[bstart : bstart + block_size].astype(np.float64)
            d2[:, bstart : bstart + bb.shape[0]] = (
                qa_sq[:, None] + b_sq[None, bstart : bstart + bb.shape[0]] - 2.0 * qa @ bb.T
            )
        rows = np.arange(qa.shape[0])
        if self_mode:
            d2[rows, start + rows] = np.inf  # the row itself (sim.py drops the zero match)
        best = np.argmin(d2, axis=1)
        diff = qa - b[best].astype(np.float64)
        exact = np.sqrt(np.einsum("ij,ij->i", diff, diff))
        dists[start : start + qa.shape[0]] = exact
    mean = float(dists.mean())
    return (mean, float(dists.std())) if return_std else mean
