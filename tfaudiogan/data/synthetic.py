"""Procedural two-timbre audio for the CycleGAN demo preset and the tests.

IRMAS may not be redistributed (CC BY-NC-SA, see reference/cyclegan.md section 4), so the demo
and the tests translate between two synthetic instrument timbres instead:

* a piano-like domain: stiff-string partials ``f_k = k f0 sqrt(1 + B k^2)`` with a fast attack,
  an exponential decay that is faster for higher partials, a damper release and a short
  low-passed hammer-noise thump;
* an electric-guitar-like domain: plucked-string partials shaped by a pick-position and a
  pickup-position comb, a slow decay onto a sustain level, then soft-clipping (tanh drive)
  and a cabinet-like low-pass.

Everything is NumPy and deterministic from a seed. Clip ``i`` of a domain depends only on
``(seed, domain, i)``, so asking for more clips does not change the first ones.

The numbers below (pitch ranges, decay rates, drive) are synthesis design choices for this
project, not paper constants; they only need to make two clearly different, musical timbres.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tfaudiogan.audio.pitch import midi_to_hz

__all__ = [
    "guitar_like_phrase",
    "piano_like_phrase",
    "two_timbre_clips",
    "write_two_timbre_folders",
]

PEAK = 0.9  # peak level of every phrase (headroom below full scale)
DOMAIN_NAMES = ("piano", "guitar")

# Scale shapes in semitones above the root (phrase pitches are drawn from one of them).
_SCALES = (
    (0, 2, 4, 5, 7, 9, 11),  # major
    (0, 2, 3, 5, 7, 8, 10),  # natural minor
    (0, 2, 4, 7, 9),  # major pentatonic
    (0, 3, 5, 7, 10),  # minor pentatonic
)


def _scale_pitches(rng: np.random.Generator, low: int, high: int) -> np.ndarray:
    """All MIDI pitches in ``[low, high]`` of a random scale on a random root."""
    root = int(rng.integers(0, 12))
    shape = _SCALES[int(rng.integers(len(_SCALES)))]
    pcs = {(root + s) % 12 for s in shape}
    return np.array([p for p in range(low, high + 1) if p % 12 in pcs])


def _note_events(rng, seconds, pitches, chord_prob, gap_range, dur_range, chord_kind):
    """Random phrase: a list of ``(onset_s, duration_s, [midi, ...])``.

    Onsets advance by a random gap; durations are often longer than the gap, so notes overlap.
    ``chord_kind`` is "triad" (stacked scale thirds) or "power" (root, fifth, octave).
    """
    events = []
    t = float(rng.uniform(0.0, min(0.1, seconds / 4)))
    idx = int(rng.integers(len(pitches) // 4, 3 * len(pitches) // 4 + 1))
    while not events or t < seconds - 0.05:  # at least one note, even in a tiny clip
        # melodic step of a few scale degrees, kept inside the range
        idx = int(np.clip(idx + rng.integers(-3, 4), 0, len(pitches) - 1))
        notes = [int(pitches[idx])]
        if rng.random() < chord_prob:
            if chord_kind == "triad":
                for step in (2, 4):
                    if idx + step < len(pitches):
                        notes.append(int(pitches[idx + step]))
            else:
                notes += [notes[0] + 7, notes[0] + 12]
        events.append((t, float(rng.uniform(*dur_range)), notes))
        t += float(rng.uniform(*gap_range))
    return events


def _normalise(x: np.ndarray) -> np.ndarray:
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    if peak > 0:
        x = x * (PEAK / peak)
    return x.astype(np.float32)


def _lowpass_fir(cutoff_hz: float, sample_rate: int, taps: int = 63) -> np.ndarray:
    """Hann-windowed sinc low-pass FIR, unit DC gain."""
    n = np.arange(taps) - (taps - 1) / 2
    h = np.sinc(2.0 * cutoff_hz / sample_rate * n) * np.hanning(taps)
    return h / h.sum()


def _piano_note(rng, f0, dur, length, sample_rate, velocity):
    """One piano-like note, ``[length]`` samples starting at its onset."""
    t = np.arange(length, dtype=np.float32) / np.float32(sample_rate)  # float32: 2x faster sin
    inharm = rng.uniform(1e-4, 4e-4) * (f0 / 261.6)  # B grows with pitch in real pianos
    k = np.arange(1, 41, dtype=np.float64)
    fk = k * f0 * np.sqrt(1.0 + inharm * k**2)
    keep = fk < 0.45 * sample_rate
    k, fk = k[keep], fk[keep]
    hammer = rng.uniform(0.08, 0.15)  # strike position as a fraction of the string
    amp = np.abs(np.sin(np.pi * k * hammer)) / k**1.2 + 0.02 / k
    base_rate = 1.2 * (f0 / 261.6) ** 0.6  # 1/s; higher notes die faster
    rates = base_rate * (1.0 + 0.35 * (k - 1.0))
    phases = rng.uniform(0, 2 * np.pi, size=k.shape).astype(np.float32)
    w = (2 * np.pi * fk).astype(np.float32)
    partials = np.sin(w[:, None] * t[None, :] + phases[:, None])
    partials *= amp[:, None].astype(np.float32) * np.exp(-rates.astype(np.float32)[:, None] * t)
    x = partials.sum(axis=0)
    attack = np.minimum(1.0, t / 0.003)  # 3 ms hammer attack
    release = np.where(t < dur, 1.0, np.exp(-(t - dur) / 0.06))  # damper
    x *= attack * release
    n_noise = min(length, int(0.02 * sample_rate))  # 20 ms hammer thump
    if n_noise > 8:
        noise = rng.standard_normal(n_noise) * np.exp(-np.arange(n_noise) / (0.004 * sample_rate))
        noise = np.convolve(noise, _lowpass_fir(1500.0, sample_rate, 31), mode="same")
        x[:n_noise] += 0.6 * np.max(amp) * noise
    return velocity * x


def _guitar_note(rng, f0, dur, length, sample_rate, velocity):
    """One clean electric-guitar-like string, ``[length]`` samples (distortion comes later)."""
    t = np.arange(length, dtype=np.float32) / np.float32(sample_rate)
    k = np.arange(1, 31, dtype=np.float64)
    fk = k * f0  # nearly harmonic (thin, low-stiffness string)
    keep = fk < sample_rate / 6.0  # leave room for the tanh's 3rd-order products
    k, fk = k[keep], fk[keep]
    pick = rng.uniform(0.12, 0.3)  # pick position along the string
    pickup = rng.uniform(0.05, 0.2)  # pickup position along the string
    amp = np.abs(np.sin(np.pi * k * pick) * np.sin(np.pi * k * pickup)) / k**0.7
    rates = rng.uniform(0.4, 0.8) * (1.0 + 0.08 * (k - 1.0))  # slow, mildly faster up high
    rates, amp = rates.astype(np.float32), amp.astype(np.float32)
    sustain = np.float32(rng.uniform(0.35, 0.6))
    env_k = sustain + (1.0 - sustain) * np.exp(-rates[:, None] * 6.0 * t[None, :])
    env_k *= np.exp(-rates[:, None] * 0.3 * t[None, :])
    vib_rate, vib_depth = rng.uniform(4.5, 6.5), rng.uniform(0.0, 0.004)
    vibrato = vib_depth * np.sin(2 * np.pi * vib_rate * t) * np.minimum(1.0, t / 0.4)
    phase0 = rng.uniform(0, 2 * np.pi, size=k.shape).astype(np.float32)
    inst_phase = (2 * np.pi * np.cumsum(1.0 + vibrato, dtype=np.float64) / sample_rate)
    partials = np.sin(fk.astype(np.float32)[:, None] * inst_phase.astype(np.float32)[None, :]
                      + phase0[:, None])
    x = (amp[:, None] * env_k * partials).sum(axis=0)
    attack = np.minimum(1.0, t / 0.006)  # 6 ms pick attack
    release = np.where(t < dur, 1.0, np.exp(-(t - dur) / 0.12))  # fretting hand lets go
    return velocity * x * attack * release


def _render(rng, sample_rate, seconds, events, note_fn, tail_s):
    n = int(round(seconds * sample_rate))
    out = np.zeros(n, dtype=np.float64)
    for onset, dur, notes in events:
        start = int(onset * sample_rate)
        length = min(n - start, int((dur + tail_s) * sample_rate))
        if length <= 0:
            continue
        velocity = rng.uniform(0.5, 1.0)
        for midi in notes:
            out[start:start + length] += note_fn(
                rng, float(midi_to_hz(midi)), dur, length, sample_rate, velocity / len(notes)
            )
    return out


def piano_like_phrase(rng: np.random.Generator, sample_rate: int, seconds: float) -> np.ndarray:
    """A random piano-like phrase (melody with occasional chords).

    Args:
        rng: NumPy generator; the phrase is a deterministic function of its state.
        sample_rate: samples per second.
        seconds: phrase length.

    Returns:
        float32 ``[samples]`` with ``samples = round(seconds * sample_rate)`` and peak
        ``|x| = 0.9`` (unless ``samples == 0``).
    """
    pitches = _scale_pitches(rng, 48, 84)  # C3..C6
    events = _note_events(rng, seconds, pitches, chord_prob=0.3, gap_range=(0.12, 0.5),
                          dur_range=(0.2, 1.0), chord_kind="triad")
    x = _render(rng, sample_rate, seconds, events, _piano_note, tail_s=0.4)
    return _normalise(x)


def guitar_like_phrase(rng: np.random.Generator, sample_rate: int, seconds: float) -> np.ndarray:
    """A random overdriven electric-guitar-like phrase (single notes and power chords).

    Args:
        rng: NumPy generator; the phrase is a deterministic function of its state.
        sample_rate: samples per second.
        seconds: phrase length.

    Returns:
        float32 ``[samples]`` with ``samples = round(seconds * sample_rate)`` and peak
        ``|x| = 0.9`` (unless ``samples == 0``).
    """
    pitches = _scale_pitches(rng, 40, 76)  # E2..E5, the guitar's range
    events = _note_events(rng, seconds, pitches, chord_prob=0.25, gap_range=(0.15, 0.6),
                          dur_range=(0.3, 1.2), chord_kind="power")
    clean = _render(rng, sample_rate, seconds, events, _guitar_note, tail_s=0.5)
    peak = float(np.max(np.abs(clean))) if clean.size else 0.0
    if peak > 0:
        drive = rng.uniform(3.0, 6.0)
        clean = np.tanh(drive * clean / peak)  # soft clipping: odd harmonics, compression
        clean = np.convolve(clean, _lowpass_fir(4500.0, sample_rate), mode="same")  # cabinet
    return _normalise(clean)


def _clip_rng(seed: int, domain: int, index: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(domain, index)))


def two_timbre_clips(
    n_per_domain: int, sample_rate: int, seconds: float, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Unpaired clips of the two synthetic timbres.

    Args:
        n_per_domain: clips per domain.
        sample_rate: samples per second.
        seconds: clip length.
        seed: clip ``i`` of domain ``d`` uses ``SeedSequence(seed, spawn_key=(d, i))``.

    Returns:
        ``(a, b)``: float32 ``[n_per_domain, samples]`` each; ``a`` is piano-like, ``b`` is
        guitar-like.
    """
    if n_per_domain < 0:
        raise ValueError(f"n_per_domain must be >= 0, got {n_per_domain}")
    n = int(round(seconds * sample_rate))
    a = np.zeros((n_per_domain, n), np.float32)
    b = np.zeros((n_per_domain, n), np.float32)
    for i in range(n_per_domain):
        a[i] = piano_like_phrase(_clip_rng(seed, 0, i), sample_rate, seconds)
        b[i] = guitar_like_phrase(_clip_rng(seed, 1, i), sample_rate, seconds)
    return a, b


def write_two_timbre_folders(
    root: str | Path, n_per_domain: int, sample_rate: int, seconds: float, seed: int = 0
) -> tuple[Path, Path]:
    """Write :func:`two_timbre_clips` as 16-bit WAV files.

    Files are ``root/piano/piano_0000.wav ...`` and ``root/guitar/guitar_0000.wav ...``.

    Returns:
        ``(root/piano, root/guitar)``.
    """
    import soundfile as sf  # local import: generating arrays needs NumPy only

    a, b = two_timbre_clips(n_per_domain, sample_rate, seconds, seed)
    dirs = []
    for name, clips in zip(DOMAIN_NAMES, (a, b)):
        d = Path(root) / name
        d.mkdir(parents=True, exist_ok=True)
        for i, clip in enumerate(clips):
            sf.write(d / f"{name}_{i:04d}.wav", clip, sample_rate, subtype="PCM_16")
        dirs.append(d)
    return dirs[0], dirs[1]
