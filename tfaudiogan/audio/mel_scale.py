"""The HTK mel scale and the GANSynth reference's linear <-> mel weight matrices (numpy).

Facts from the reference's spectral_ops.py (reference/gansynth.md 1.3); used by the mel-IF
representation of :mod:`tfaudiogan.audio.gansynth`.
"""

from __future__ import annotations

import numpy as np

__all__ = ["hz_to_mel", "linear_to_mel_matrix", "mel_to_hz", "mel_to_linear_matrix"]

# HTK mel scale with natural log (spectral_ops.py; gansynth.md 1.3).
_MEL_BREAK_HZ = 700.0
_MEL_HIGH_Q = 1127.0


def hz_to_mel(hz):
    """HTK mel of `hz` (numpy, any shape): `1127 ln(1 + f / 700)`."""
    return _MEL_HIGH_Q * np.log1p(np.asarray(hz, np.float64) / _MEL_BREAK_HZ)


def mel_to_hz(mel):
    """Inverse of :func:`hz_to_mel`: `700 (exp(mel / 1127) - 1)`."""
    return _MEL_BREAK_HZ * np.expm1(np.asarray(mel, np.float64) / _MEL_HIGH_Q)


def linear_to_mel_matrix(num_mel_bins: int, num_spectrogram_bins: int, sample_rate: float,
                         lower_hz: float = 0.0, upper_hz: float | None = None,
                         min_width_bins: float = 1.5) -> np.ndarray:
    """The reference's linear -> mel weight matrix (spectral_ops.linear_to_mel_weight_matrix).

    Triangles in Hz between HTK-mel-spaced edges, not normalised (peak <= 1). The linear bins
    are taken at `linspace(0, nyquist, F_lin)[1:]` (the reference's grid, slightly off the true
    DC-dropped bin centres) and a zero row is prepended.

    Minimum band width: bands are visited in order and a band whose edges are less than
    `min_width_bins * nyquist / F_lin` Hz apart gets its lower and upper edges moved to
    `centre -+ d` mel, `d = 1127 asinh(0.5 * min_width / (f_centre + 700))` (exactly the minimum
    width in Hz). In the reference the lower/centre/upper edge arrays are views of ONE edge array,
    so moving band i's edges also moves the centre of bands i - 1 and i + 1 and the edges of
    bands i - 2 and i + 2, and later bands are tested with their already-moved edges (498 bands
    are narrow on the initial grid; the cascade touches 852). This is reproduced with a single
    edge array updated in place; the checksums of gansynth.md 1.6 depend on it.

    Args:
        num_mel_bins: F_mel.
        num_spectrogram_bins: F_lin (DC-dropped bins, e.g. 1024).
        sample_rate: Hz.
        lower_hz: lower edge (reference 0 Hz).
        upper_hz: upper edge; default `sample_rate / 2` (reference).
        min_width_bins: minimum band width in linear bins (reference 1.5).

    Returns:
        float64 `[F_lin, F_mel]`.
    """
    nyquist = sample_rate / 2.0
    upper_hz = nyquist if upper_hz is None else upper_hz
    if not 0.0 <= lower_hz < upper_hz <= nyquist:
        raise ValueError(f"need 0 <= lower_hz < upper_hz <= {nyquist}, got {lower_hz}, {upper_hz}")
    freqs = np.linspace(0.0, nyquist, num_spectrogram_bins)[1:, None]  # [F_lin - 1, 1]
    # edges[i], edges[i + 1], edges[i + 2] are band i's lower edge, centre and upper edge.
    edges = np.linspace(hz_to_mel(lower_hz), hz_to_mel(upper_hz), num_mel_bins + 2)
    min_width = min_width_bins * nyquist / num_spectrogram_bins
    for i in range(num_mel_bins):
        if mel_to_hz(edges[i + 2]) - mel_to_hz(edges[i]) < min_width:
            # The mel interval [c - d, c + d] spans 2 (f_c + 700) sinh(d / 1127) Hz.
            ratio = 0.5 * min_width / (mel_to_hz(edges[i + 1]) + _MEL_BREAK_HZ)
            half = _MEL_HIGH_Q * np.arcsinh(ratio)
            edges[i], edges[i + 2] = edges[i + 1] - half, edges[i + 1] + half

    lower, center, upper = mel_to_hz(edges[:-2]), mel_to_hz(edges[1:-1]), mel_to_hz(edges[2:])
    rising = (freqs - lower) / (center - lower)
    falling = (upper - freqs) / (upper - center)
    weights = np.maximum(0.0, np.minimum(rising, falling))
    return np.pad(weights, [[1, 0], [0, 0]])


def mel_to_linear_matrix(l2m: np.ndarray, tiny: float = 1e-8) -> np.ndarray:
    """The reference's approximate inverse `M2L = M.T @ diag(d)`, `d_j = 1 / sum_i (M M.T)[i, j]`.

    Columns whose sum is at most `tiny` keep the (near-zero) sum instead of its reciprocal.

    Args:
        l2m: float64 `[F_lin, F_mel]` from :func:`linear_to_mel_matrix`.

    Returns:
        float64 `[F_mel, F_lin]`.
    """
    sums = np.sum(l2m @ l2m.T, axis=0)
    safe = np.where(np.abs(sums) > tiny, sums, 1.0)
    scale = np.where(np.abs(sums) > tiny, 1.0 / safe, sums)
    return l2m.T * scale[None, :]
