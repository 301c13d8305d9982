"""Spoken-digit-like bursts: a built-in stand-in for SC09 (demo preset and tests).

Ten classes, one per digit "zero".."nine". Each is a short sequence of phone-like segments
loosely following the digit's pronunciation, synthesised source-filter style:

* voiced segments: a sawtooth source at a gliding f0 (harmonics falling as 1/k) through a
  cascade of three two-pole formant resonators whose centre frequencies move linearly from
  a start to an end target (vowels, diphthongs, glides such as /r/ and /w/);
* nasals: voiced, low and weak formants (250 / 1100 / 2300 Hz);
* fricatives: band-passed noise (/s/ high and strong, /f/ and /th/ broad and weak); voiced
  fricatives add a weak low voicing;
* stops: a closure (silence) and a short decaying noise burst.

Speaker variation per clip: f0 (85-250 Hz, log-uniform), vocal-tract scaling of all formants
(0.9-1.15, correlated with f0), speaking rate (0.8-1.2), formant jitter (+-5 %), pitch
contour depth, peak gain (0.3-0.95), onset delay (0-120 ms) and a faint noise floor. Clips
last at most ~0.8 s and sit at the start of a ``slice_len`` (16384) buffer, zero-padded, like
SC09 clips after ``--data_first_slice --data_pad_end``.

Everything is NumPy and deterministic: clip ``i`` of class ``c`` depends only on
``(seed, c, i)``. All numbers here are synthesis design choices of this project (rough
phonetics), not paper constants.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

from tfaudiogan.data.sc09 import DIGITS

__all__ = ["DIGITS", "digit_clip", "digit_clips"]

_F_NASAL = ((250, 1100, 2300), (250, 1100, 2300))
_F_VFRIC = ((250, 1500, 2500), (250, 1500, 2500))
_F_AI = ((750, 1200, 2500), (350, 2200, 2900))

# Segments: (kind, duration ms, params)
#   "v": voiced, params = (formants start (F1, F2, F3), formants end, amplitude)
#   "n": noise, params = (centre Hz, bandwidth Hz, amplitude, voiced: bool)
#   "b": stop burst, params = (centre Hz, bandwidth Hz, amplitude)
#   "s": silence (closure), params = ()
_DIGIT_SEGMENTS = (
    # zero /z i r o/
    (("n", 90, (5000, 3000, 0.25, True)),
     ("v", 110, ((300, 2300, 3000), (350, 1800, 2600), 1.0)),
     ("v", 80, ((420, 1300, 1700), (450, 1100, 2300), 0.9)),
     ("v", 150, ((500, 900, 2500), (450, 800, 2500), 1.0))),
    # one /w ah n/
    (("v", 80, ((300, 650, 2300), (350, 700, 2300), 0.7)),
     ("v", 170, ((600, 1200, 2500), (620, 1250, 2500), 1.0)),
     ("v", 120, (*_F_NASAL, 0.35))),
    # two /t u/
    (("s", 40, ()),
     ("b", 20, (4000, 3000, 0.6)),
     ("n", 30, (1500, 2000, 0.12, False)),
     ("v", 250, ((350, 1100, 2300), (320, 850, 2300), 1.0))),
    # three /th r i/
    (("n", 110, (6000, 4000, 0.08, False)),
     ("v", 70, ((450, 1300, 1650), (400, 1500, 1900), 0.8)),
     ("v", 200, ((300, 2300, 3000), (280, 2400, 3100), 1.0))),
    # four /f o r/
    (("n", 120, (4500, 6000, 0.1, False)),
     ("v", 160, ((550, 850, 2500), (520, 900, 2400), 1.0)),
     ("v", 110, ((480, 1250, 1600), (450, 1300, 1700), 0.8))),
    # five /f ai v/
    (("n", 110, (4500, 6000, 0.1, False)),
     ("v", 250, (*_F_AI, 1.0)),
     ("n", 70, (3500, 3000, 0.06, True))),
    # six /s i k s/
    (("n", 140, (5500, 3000, 0.35, False)),
     ("v", 110, ((420, 2000, 2600), (400, 2100, 2700), 1.0)),
     ("s", 60, ()),
     ("b", 25, (2500, 1500, 0.5)),
     ("n", 120, (5500, 3000, 0.3, False))),
    # seven /s e v @ n/
    (("n", 120, (5500, 3000, 0.3, False)),
     ("v", 110, ((550, 1850, 2500), (560, 1800, 2500), 1.0)),
     ("n", 60, (3500, 3000, 0.06, True)),
     ("v", 90, ((500, 1400, 2400), (480, 1450, 2400), 0.8)),
     ("v", 100, (*_F_NASAL, 0.35))),
    # eight /ei t/
    (("v", 260, ((500, 1800, 2500), (330, 2300, 2900), 1.0)),
     ("s", 50, ()),
     ("b", 25, (4000, 3000, 0.6))),
    # nine /n ai n/
    (("v", 90, (*_F_NASAL, 0.35)),
     ("v", 240, (*_F_AI, 1.0)),
     ("v", 130, (*_F_NASAL, 0.35))),
)

# Pitch contour per digit: f0 multiplier at the start / middle / end of the utterance
# (two-syllable "seven" and "zero" fall in two steps, most others fall once, "two" and
# "three" stay high then drop late).
_CONTOURS = (
    (1.15, 1.05, 0.8), (1.1, 1.0, 0.85), (1.1, 1.1, 0.85), (1.15, 1.1, 0.8), (1.1, 0.95, 0.85),
    (1.2, 1.0, 0.8), (1.05, 1.0, 0.9), (1.2, 0.9, 0.75), (1.1, 1.0, 0.85), (1.0, 1.1, 0.8),
)

_FORMANT_BW = np.array([90.0, 130.0, 200.0])  # Hz


def _ramp(n: int, fade: int) -> np.ndarray:
    """Raised-cosine fade in / out envelope of ``n`` samples."""
    env = np.ones(n)
    f = min(fade, n // 2)
    if f > 0:
        r = 0.5 - 0.5 * np.cos(np.pi * np.arange(f) / f)
        env[:f] = r
        env[n - f :] = r[::-1]
    return env


def _band_noise(rng, n: int, sr: int, centre: float, width: float) -> np.ndarray:
    """White noise with a Gaussian band-pass (centre, width = 2 sigma) in the DFT domain."""
    spec = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1.0 / sr)
    spec *= np.exp(-0.5 * ((freqs - centre) / (0.5 * width)) ** 2)
    out = np.fft.irfft(spec, n)
    return out / (np.sqrt(np.mean(out**2)) + 1e-12)


def _formant_filter(x: np.ndarray, formants: np.ndarray, sr: float,
                    block: int = 80) -> np.ndarray:
    """Cascade of three two-pole resonators (unity DC gain) with time-varying formants.

    Coefficients are updated every ``block`` samples (5 ms at 16 kHz) from the formant track
    ``[samples, 3]``; filter states carry across blocks.
    """
    y = np.asarray(x, np.float64).copy()
    for j in range(3):
        bw = _FORMANT_BW[j]
        c = -np.exp(-2.0 * np.pi * bw / sr)
        state = np.zeros(2)
        out = np.empty_like(y)
        for start in range(0, y.shape[0], block):
            stop = min(start + block, y.shape[0])
            centre = min(formants[(start + stop) // 2, j], 0.45 * sr)
            b = 2.0 * np.exp(-np.pi * bw / sr) * np.cos(2.0 * np.pi * centre / sr)
            a0 = 1.0 - b - c
            out[start:stop], state = lfilter([a0], [1.0, -b, -c], y[start:stop], zi=state)
        y = out
    return y


def digit_clip(label: int, rng: np.random.Generator, sample_rate: int = 16000,
               slice_len: int = 16384) -> np.ndarray:
    """One spoken-digit-like clip of class ``label`` with random speaker variation.

    Args:
        label: digit 0..9.
        rng: NumPy generator (all randomness of this clip).
        sample_rate: output rate (the phone durations are in ms, the formants in Hz).
        slice_len: output samples; the utterance starts within the first 120 ms.

    Returns:
        float32 ``[slice_len]``, peak = the drawn gain (0.3-0.95), zeros after the utterance.
    """
    if not 0 <= int(label) < len(_DIGIT_SEGMENTS):
        raise ValueError(f"label must be in 0..9, got {label}")
    sr = float(sample_rate)
    f0_base = float(np.exp(rng.uniform(np.log(85.0), np.log(250.0))))
    tract = 0.9 + 0.25 * (np.log(f0_base / 85.0) / np.log(250.0 / 85.0)) + rng.uniform(-0.03, 0.03)
    rate = rng.uniform(0.8, 1.2)
    depth = rng.uniform(0.6, 1.3)
    gain = rng.uniform(0.3, 0.95)
    onset = int(rng.uniform(0.0, 0.12) * sr)

    segments = _DIGIT_SEGMENTS[int(label)]
    lengths = [max(1, int(round(seg[1] * 1e-3 * sr / rate))) for seg in segments]
    total = sum(lengths)
    voice_amp = np.zeros(total)
    formants = np.zeros((total, 3))
    noise = np.zeros(total)
    last_f = None
    pos = 0
    for (kind, _, params), n in zip(segments, lengths):
        sl = slice(pos, pos + n)
        if kind == "v":
            start, end, amp = params
            jitter = rng.uniform(0.95, 1.05, size=(2, 3))
            fs_ = np.asarray(start) * tract * jitter[0]
            fe_ = np.asarray(end) * tract * jitter[1]
            formants[sl] = fs_ + (fe_ - fs_) * np.linspace(0.0, 1.0, n)[:, None]
            voice_amp[sl] = amp
            last_f = fe_
        elif kind == "n":
            centre, width, amp, voiced = params
            noise[sl] += amp * _ramp(n, int(0.015 * sr)) * _band_noise(
                rng, n, sample_rate, centre * rng.uniform(0.9, 1.1), width)
            if voiced:
                formants[sl] = np.asarray(_F_VFRIC[0]) * tract
                voice_amp[sl] = 0.3
        elif kind == "b":
            centre, width, amp = params
            decay = np.exp(-np.arange(n) / (0.008 * sr))
            noise[sl] += amp * decay * _band_noise(rng, n, sample_rate, centre, width)
        if kind != "v" and not voice_amp[sl].any() and last_f is not None:
            formants[sl] = last_f  # hold the vocal tract shape through unvoiced parts
        pos += n
    # Segments before the first voiced one take its starting shape.
    first_voiced = np.flatnonzero(formants[:, 0] > 0)
    if first_voiced.size:
        formants[: first_voiced[0]] = formants[first_voiced[0]]
    # Smooth voicing on/offsets (~10 ms).
    k = max(1, int(0.01 * sr))
    voice_amp = np.convolve(voice_amp, np.ones(k) / k, mode="same")

    t = np.linspace(0.0, 1.0, total)
    c0, c1, c2 = _CONTOURS[int(label)]
    contour = np.interp(t, [0.0, 0.5, 1.0], [c0, c1, c2])
    f0 = f0_base * (1.0 + depth * (contour - 1.0)) * (1.0 + 0.01 * np.sin(2 * np.pi * 5.0 * t))
    cycles = np.cumsum(f0) / sr
    source = 2.0 * (cycles - np.floor(cycles)) - 1.0  # sawtooth: harmonics fall as 1/k
    voiced = _formant_filter(source, formants, sr)
    strong = voice_amp > 0.5
    if strong.any():
        voiced /= np.sqrt(np.mean(voiced[strong] ** 2)) + 1e-12  # unit RMS where voiced
    signal = voice_amp * voiced + noise
    signal *= _ramp(total, int(0.005 * sr))
    signal += 1e-3 * rng.standard_normal(total) * np.abs(signal).max()

    out = np.zeros(slice_len)
    n = max(0, min(total, slice_len - onset))
    out[onset : onset + n] = signal[:n]
    peak = np.abs(out).max()
    if peak > 0:
        out *= gain / peak
    return out.astype(np.float32)


def digit_clips(n_per_class: int, sample_rate: int = 16000, slice_len: int = 16384,
                seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A balanced synthetic digit set.

    Args:
        n_per_class: clips per digit (>= 0).
        sample_rate: output rate (16 kHz, as SC09).
        slice_len: samples per clip (16384).
        seed: base seed; clip ``i`` of class ``c`` uses ``SeedSequence([seed, c, i])``, so a
            larger ``n_per_class`` keeps the earlier clips.

    Returns:
        ``(waves, labels)``: float32 ``[10 * n_per_class, slice_len]`` and int64
        ``[10 * n_per_class]``, ordered clip-major (labels ``0, 1, ..., 9, 0, 1, ...``) so any
        prefix of 10 k clips is balanced.
    """
    if n_per_class < 0:
        raise ValueError(f"n_per_class must be >= 0, got {n_per_class}")
    n_classes = len(_DIGIT_SEGMENTS)
    waves = np.zeros((n_per_class * n_classes, slice_len), np.float32)
    labels = np.tile(np.arange(n_classes, dtype=np.int64), n_per_class)
    for idx in range(waves.shape[0]):
        i, c = divmod(idx, n_classes)
        rng = np.random.default_rng(np.random.SeedSequence([int(seed), c, i]))
        waves[idx] = digit_clip(c, rng, sample_rate, slice_len)
    return waves, labels
