"""Built-in synthetic pitched notes: an NSynth stand-in for the demo presets and the tests.

Each note imitates an NSynth note (reference/ddsp.md section 5): one MIDI pitch, one of the
NSynth velocities, held for 3/4 of its length then released. Five instrument-like families,
labelled with their NSynth family ids, differ in partial structure and envelopes:

* ``keyboard`` (4): stiff-string partials ``k f0 sqrt(1 + B k^2)``, instant attack, decay that is
  faster for higher partials and higher notes;
* ``mallet`` (5): a struck bar, three modes at 1, 3.93 and 9.24 times f0, fast decays;
* ``reed`` (7): odd harmonics only (a clarinet-like closed pipe), soft attack, steady sustain;
* ``string`` (8): all harmonics (bowed sawtooth-like spectrum), slow attack, delayed vibrato;
* ``brass`` (1): all harmonics; a darker spectrum at low level crossfades into the full one as
  the envelope rises, so upper partials open up during the attack and close in the release.

Louder velocities give a brighter spectrum (smaller spectral tilt) and a higher peak level.
The fundamental is always the strongest partial, so the pitch is the spectral peak.
Partials at or above Nyquist are dropped. Everything is NumPy and deterministic: note ``i``
depends only on ``(seed, i)``, so asking for more notes does not change the first ones.
The numbers below are synthesis design choices of this project, not paper constants.

``synthetic_notes(noise_rms=...)`` adds a recording's noise floor: white noise of that RMS
(full scale 1), drawn from the note's own generator. Without it a note is exactly zero between
its partials, so the phase of a quiet STFT bin is the window's leakage from the nearest
partial and a mel-IF image's IF channel shows the harmonic spacing in every bin, as broad
bands; in a recording those bins hold noise. A GANSynth critic trained on noiseless notes
reads the pitch from those bands rather than from the partials (experiments/gansynth_nsynth.md,
"Fifth look").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from tfaudiogan.audio.pitch import midi_to_hz

__all__ = ["FAMILIES", "VELOCITIES", "synthetic_note", "synthetic_notes", "to_examples"]

FAMILIES = {"brass": 1, "keyboard": 4, "mallet": 5, "reed": 7, "string": 8}  # NSynth ids (5.2)
VELOCITIES = (25, 50, 75, 100, 127)  # ddsp.md section 5: NSynth velocities
HOLD_FRACTION = 0.75  # ddsp.md section 5: NSynth notes are held 3 s of 4, then released
MAX_PARTIALS = 48  # project choice: enough for a full timbre at the lowest pitch, cheap
_MALLET_MODES = (1.0, 3.93, 9.24)  # project choice: ratios close to a tuned bar's modes
_TABLE_SIZE = 4096  # project choice: >= 85 points per period of the highest partial


def _attack(t: np.ndarray, seconds: float) -> np.ndarray:
    """Rises from 0 to 1 with time constant ``seconds``: ``1 - exp(-t / seconds)``."""
    return -np.expm1(-t / seconds)


def _wavetable(ratios: np.ndarray, amps: np.ndarray, offsets: np.ndarray,
               size: int = _TABLE_SIZE) -> np.ndarray:
    """One period ``[size]`` of ``sum_k amps_k sin(ratios_k theta + offsets_k)``, integer ratios."""
    theta = 2 * np.pi * np.arange(size) / size
    return (amps[:, None] * np.sin(ratios[:, None] * theta + offsets[:, None])).sum(0)


def _lookup(table: np.ndarray, phase: np.ndarray) -> np.ndarray:
    """Linearly interpolated wavetable read at ``phase`` radians."""
    position = np.mod(phase / (2 * np.pi), 1.0) * table.size
    return np.interp(position, np.arange(table.size + 1), np.append(table, table[0]))


def synthetic_note(pitch: int, velocity: int, family: str, sample_rate: int = 16000,
                   seconds: float = 4.0, rng: np.random.Generator | None = None) -> np.ndarray:
    """Renders one note.

    Args:
        pitch: MIDI pitch; its frequency must lie below Nyquist.
        velocity: MIDI velocity 1..127 (level and brightness).
        family: a key of :data:`FAMILIES`.
        sample_rate: Hz.
        seconds: note length; the release starts at ``HOLD_FRACTION * seconds``.
        rng: random partial phases and small timbre jitter (default: a fixed generator).

    Returns:
        float32 ``[round(seconds * sample_rate)]``, peak ``0.2 + 0.7 * velocity / 127``.
    """
    if family not in FAMILIES:
        raise ValueError(f"unknown family '{family}'; valid: {', '.join(FAMILIES)}")
    if not 1 <= int(velocity) <= 127:
        raise ValueError(f"velocity must be in 1..127, got {velocity}")
    f0 = float(midi_to_hz(pitch))
    nyquist = sample_rate / 2.0
    if f0 >= nyquist:
        raise ValueError(f"pitch {pitch} ({f0:.1f} Hz) is not below Nyquist ({nyquist} Hz)")
    rng = np.random.default_rng(0) if rng is None else rng
    n = int(round(seconds * sample_rate))
    t = np.arange(n) / sample_rate
    loud = velocity / 127.0
    tilt = (1.6 - 0.8 * loud) * rng.uniform(0.9, 1.1)  # amplitude of partial k ~ k^-tilt
    decay_scale = rng.uniform(0.8, 1.25)
    release_at = HOLD_FRACTION * seconds
    after = np.maximum(t - release_at, 0.0)

    # Family: partial ratios, amplitudes, envelope (shared) and per-partial decay rates [1/s].
    k = np.arange(1, MAX_PARTIALS + 1, dtype=np.float64)
    if family == "keyboard":
        ratios = k * np.sqrt(1.0 + 1e-4 * k**2)
        amps = k**-(tilt + 0.3)
        env, release = _attack(t, 0.002), 0.08
        rates = (0.4 + 0.35 * (k - 1)) * (f0 / 261.6) ** 0.3 / decay_scale
    elif family == "mallet":
        ratios = np.array(_MALLET_MODES)
        amps = np.array([1.0, 0.35, 0.12]) * loud ** np.array([0.0, 0.5, 1.0])
        env, release = _attack(t, 0.001), 0.05
        rates = np.array([2.0, 7.0, 18.0]) * (f0 / 261.6) ** 0.5 / decay_scale
    elif family == "reed":
        ratios = 2 * k - 1
        amps = ratios**-tilt
        env, release = _attack(t, 0.03), 0.12
        rates = np.zeros_like(k)
    else:  # string and brass: all harmonics
        ratios, amps, rates = k, k**-tilt, np.zeros_like(k)
        env, release = _attack(t, 0.15 if family == "string" else 0.05), 0.25
    # the release time constant is shortened for short notes so every note ends near silence
    env = env * np.exp(-after / min(release, (seconds - release_at) / 6))
    keep = ratios * f0 < nyquist
    ratios, amps, rates = ratios[keep], amps[keep], rates[keep]

    # Instantaneous frequency of the fundamental; strings add vibrato after 0.3 s.
    freq = np.full(n, f0)
    if family == "string":
        depth = 0.003 * np.clip((t - 0.3) / 0.5, 0.0, 1.0)  # 0.3 % (5 cents): pitch stays put
        freq = f0 * (1.0 + depth * np.sin(2 * np.pi * 5.5 * t))
    phase = 2 * np.pi * np.cumsum(freq) / sample_rate
    offsets = rng.uniform(0, 2 * np.pi, ratios.size)
    if family in ("keyboard", "mallet"):  # inharmonic partials, each with its own decay
        out = np.zeros(n, np.float32)
        for ratio, amp, rate, offset in zip(ratios, amps, rates, offsets):
            partial = np.sin((ratio * phase + offset).astype(np.float32))
            out += (amp * env * np.exp(-rate * t)).astype(np.float32) * partial
    elif family == "brass":  # a dark spectrum at low level crossfades into the bright one
        dark = _wavetable(ratios, amps * ratios ** -1.0, offsets)
        bright = _wavetable(ratios, amps, offsets)
        out = env * ((1 - env) * _lookup(dark, phase) + env * _lookup(bright, phase))
    else:  # harmonic spectrum with one shared envelope: a single-period wavetable
        out = env * _lookup(_wavetable(ratios, amps, offsets), phase)
    peak = np.max(np.abs(out))
    if peak > 0:
        out *= (0.2 + 0.7 * loud) / peak
    return out.astype(np.float32)


def synthetic_notes(n: int, sample_rate: int = 16000, seconds: float = 4.0,
                    pitches: Iterable[int] = range(24, 85), seed: int = 0,
                    families: Sequence[str] = tuple(FAMILIES),
                    noise_rms: float = 0.0) -> dict[str, np.ndarray]:
    """A set of random notes with NSynth-style labels.

    The default pitch range is the GANSynth subset's (MIDI 24-84, gansynth.md section 3).

    Args:
        n: number of notes.
        sample_rate: Hz.
        seconds: length of each note.
        pitches: MIDI pitches to draw from (uniformly).
        seed: note ``i`` depends only on ``(seed, i)``.
        families: family names to draw from (keys of :data:`FAMILIES`).
        noise_rms: RMS of the white noise floor added to every note (0: none, the notes are
            then the same as without the argument).

    Returns:
        dict with ``audio`` float32 ``[n, samples]``, and int32 ``[n]`` arrays ``pitch``,
        ``velocity``, ``instrument_family`` (NSynth ids) and ``instrument_source`` (all 0:
        acoustic-like, so the notes pass the GANSynth filter).
    """
    pitches = np.array(sorted(set(int(p) for p in pitches)), np.int64)
    if pitches.size == 0 or pitches.min() < 0 or pitches.max() > 127:
        raise ValueError(f"pitches must be a non-empty set of MIDI numbers 0..127, got {pitches}")
    families = list(families)
    unknown = [f for f in families if f not in FAMILIES]
    if not families or unknown:
        raise ValueError(f"unknown families {unknown or families}; valid: {', '.join(FAMILIES)}")
    if not noise_rms >= 0:
        raise ValueError(f"noise_rms must be >= 0, got {noise_rms}")
    samples = int(round(seconds * sample_rate))
    audio = np.zeros([n, samples], np.float32)
    labels = {key: np.zeros([n], np.int32) for key in
              ("pitch", "velocity", "instrument_family", "instrument_source")}
    for i in range(n):
        rng = np.random.default_rng([seed, i])
        pitch = int(rng.choice(pitches))
        velocity = int(rng.choice(VELOCITIES))
        family = families[int(rng.integers(len(families)))]
        audio[i] = synthetic_note(pitch, velocity, family, sample_rate, seconds, rng)
        if noise_rms > 0:
            audio[i] += (noise_rms * rng.standard_normal(samples)).astype(np.float32)
        labels["pitch"][i], labels["velocity"][i] = pitch, velocity
        labels["instrument_family"][i] = FAMILIES[family]
    return {"audio": audio, **labels}


def to_examples(notes: dict[str, np.ndarray]) -> list[dict]:
    """Per-note dicts for ``nsynth_writer.write_tfrecord`` / ``write_json_wav``.

    Note ``i`` gets ``instrument = i`` so that every generated ``note_str`` is unique.
    """
    return [{"audio": notes["audio"][i], "pitch": int(notes["pitch"][i]),
             "velocity": int(notes["velocity"][i]), "instrument": i,
             "instrument_family": int(notes["instrument_family"][i]),
             "instrument_source": int(notes["instrument_source"][i])}
            for i in range(len(notes["pitch"]))]
