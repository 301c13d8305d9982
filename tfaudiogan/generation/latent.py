"""Latent-space helpers for GANSynth generation (reference/gansynth.md section 6).

* :func:`slerp` / :func:`interpolate_latents`: timbre interpolation between two latent
  vectors (spherical, as the reference's MIDI renderer, or linear, as its
  ``make_interpolated_latent_vectors``).
* :func:`pitch_sweep`: one fixed latent vector rendered at many pitches ("consistent
  timbre" across MIDI 36-84, the paper's supplement).

``generate_fn(z [n, latent], pitch [n] int32) -> audio [n, samples]`` is any generator
wrapper, e.g. an exported ``generate`` signature.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from tfaudiogan.audio.pitch import check_pitches

__all__ = ["interpolate_latents", "pitch_sweep", "slerp"]

MIN_PITCH, MAX_PITCH = 24, 84  # the GANSynth model's pitch range (gansynth.md section 3)

GenerateFn = Callable[[np.ndarray, np.ndarray], np.ndarray]


def slerp(a, b, t) -> np.ndarray:
    """Spherical interpolation between vectors ``a`` and ``b`` ``[dim]`` at ``t`` (scalar or [n]).

    The angle is taken between the directions; the norm is interpolated linearly. Parallel
    vectors fall back to linear interpolation.

    Returns:
        float32 ``[dim]`` for scalar ``t``, else ``[n, dim]``.
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"slerp needs two [dim] vectors of one shape, got {a.shape}, {b.shape}")
    t_arr = np.asarray(t, np.float64)
    tt = np.atleast_1d(t_arr)[:, None]
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    cos = np.clip(a @ b / max(na * nb, 1e-12), -1.0, 1.0)
    omega = np.arccos(cos)
    if np.sin(omega) < 1e-6:
        out = (1 - tt) * a + tt * b
    else:
        out = (np.sin((1 - tt) * omega) * a + np.sin(tt * omega) * b) / np.sin(omega)
    out = out.astype(np.float32)
    return out[0] if t_arr.ndim == 0 else out


def interpolate_latents(z_a, z_b, steps: int, method: str = "slerp") -> np.ndarray:
    """``steps`` latent vectors from ``z_a`` to ``z_b`` inclusive: float32 ``[steps, dim]``."""
    if steps < 2:
        raise ValueError(f"steps must be >= 2, got {steps}")
    t = np.linspace(0.0, 1.0, steps)
    if method == "slerp":
        return slerp(z_a, z_b, t)
    if method == "linear":
        a, b = np.asarray(z_a, np.float32), np.asarray(z_b, np.float32)
        return ((1 - t[:, None]) * a + t[:, None] * b).astype(np.float32)
    raise ValueError(f"unknown method '{method}'; use 'slerp' or 'linear'")


def _generate(generate_fn: GenerateFn, z: np.ndarray, pitches: np.ndarray,
              batch_size: int) -> np.ndarray:
    out = []
    for i in range(0, len(z), batch_size):
        audio = np.asarray(generate_fn(z[i : i + batch_size], pitches[i : i + batch_size]))
        if audio.ndim != 2 or audio.shape[0] != len(z[i : i + batch_size]):
            raise ValueError(f"generate_fn must return [n, samples], got shape {audio.shape}")
        out.append(audio.astype(np.float32))
    return np.concatenate(out)


def pitch_sweep(generate_fn: GenerateFn, z, pitches: Iterable[int] = range(36, 85),
                batch_size: int = 8, min_pitch: int = MIN_PITCH,
                max_pitch: int = MAX_PITCH) -> np.ndarray:
    """One latent vector ``z`` ``[dim]`` at every pitch: float32 ``[n_pitches, samples]``.

    The default range 36-84 is the reference MIDI renderer's (gansynth.md section 6).
    """
    p = check_pitches(pitches, min_pitch, max_pitch)
    z = np.asarray(z, np.float32)
    if z.ndim != 1:
        raise ValueError(f"z must be one [dim] vector, got shape {z.shape}")
    return _generate(generate_fn, np.repeat(z[None], len(p), axis=0), p, batch_size)
