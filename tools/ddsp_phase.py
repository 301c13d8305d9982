"""Harmonic-synth phase accuracy against float64, and its speed (issue 10 item 16).

    python tools/ddsp_phase.py [--rounds 15] [--threads 1] [--json out.json]

Accuracy: 4 s notes (1000 frames, 100 harmonics, random 1/k-weighted distribution normalised
below Nyquist, amplitude 0.5) rendered by ``harmonic_synthesis`` with
``phase_accumulation="ddsp"`` (magenta/ddsp's float32 cumsum) and ``"accurate"``, each by the
default ``k * phi`` path and by the per-sinusoid oscillator bank (``harmonic_shifts`` = 0, the
reference's form), against an independent float64 NumPy rendering of the same float32
controls. Reported: the largest framewise relative STFT magnitude error
``|| |Y| - |R| || / || |R| ||`` (Hann 2048, hop 512) over the last 0.26 s, and the largest
waveform error over the note. Notes: "vibrato" (330 Hz rising 2 semitones, 5 Hz +-0.5 semitone
vibrato; the test's note), "glide" (110 -> 880 Hz), "low" (55 Hz, 5.5 Hz vibrato, all 100
harmonics audible).

Speed: ``harmonic_synthesis`` in a tf.function, batch 8 x 4 s, 100 harmonics (the DDSP-GAN
paper size), F0 32.7 Hz, 220 Hz and a glide, both accumulations timed alternately call by
call (so machine load hits both alike); medians over ``--rounds`` calls after a warm-up; and
``core.fundamental_phase`` alone on a `[8, 64000]` glide ("phase only").
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from tfaudiogan.synths import core  # noqa: E402
from tfaudiogan.synths.harmonic import harmonic_synthesis, normalize_harmonics  # noqa: E402

SR, N, FRAMES, K = 16000, 64000, 1000, 100
MODES = ("ddsp", "accurate")


def note(kind: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """`(f0 [1, F, 1], harmonic amplitudes [1, F, K])` float32 controls of a 4 s note."""
    t = np.arange(FRAMES) / 250.0
    if kind == "vibrato":
        f0 = 330.0 * 2 ** ((0.5 * np.sin(2 * np.pi * 5 * t) + t / 2) / 12)
    elif kind == "glide":
        f0 = np.geomspace(110.0, 880.0, FRAMES)
    else:
        f0 = 55.0 * 2 ** (0.3 * np.sin(2 * np.pi * 5.5 * t) / 12)
    f0 = f0.astype(np.float32)[None, :, None]
    dist = np.random.default_rng(seed).uniform(0, 1, (1, FRAMES, K)) / np.arange(1, K + 1)
    return f0, 0.5 * normalize_harmonics(dist.astype(np.float32), f0, SR).numpy()


def render_float64(f0: np.ndarray, amps: np.ndarray) -> np.ndarray:
    """Linear F0 (endpoint held), inclusive float64 cumulative phase, sample-wise Nyquist
    mask, 'window' amplitude crossfade."""
    pos = np.arange(N) * FRAMES / N
    i0 = np.floor(pos).astype(int)
    frac = pos - i0
    f = np.concatenate([f0[0, :, 0], f0[0, -1:, 0]]).astype(np.float64)
    f_env = f[i0] * (1 - frac) + f[i0 + 1] * frac
    hop = N // FRAMES
    w = (0.5 - 0.5 * np.cos(np.pi * (np.arange(N) % hop) / hop))[:, None]
    a = np.concatenate([amps[0], amps[0, -1:]]).astype(np.float64)
    env = a[i0] * (1 - w) + a[i0 + 1] * w
    phase = np.cumsum(2 * np.pi * f_env / SR)
    out = np.zeros(N)
    for k in range(1, K + 1):
        out += np.where((k * f_env < SR / 2) & (f_env > 0), env[:, k - 1] * np.sin(k * phase), 0)
    return out


def frame_errors(y: np.ndarray, ref: np.ndarray, size: int = 2048, hop: int = 512):
    window = np.hanning(size + 1)[:-1]
    starts = range(0, len(ref) - size + 1, hop)
    mag = [np.abs(np.fft.rfft(np.stack([x[s:s + size] * window for s in starts]), axis=1))
           for x in (y, ref)]
    return np.linalg.norm(mag[0] - mag[1], axis=1) / np.linalg.norm(mag[1], axis=1)


def accuracy_rows() -> list[dict]:
    rows = []
    for kind in ("vibrato", "glide", "low"):
        f0, amps = note(kind)
        ref = render_float64(f0, amps)
        ones = np.ones_like(f0)
        for mode in MODES:
            for path, extra in (("k * phi", {}),
                                ("oscillator bank", {"harmonic_shifts": np.zeros_like(amps)})):
                y = harmonic_synthesis(f0, ones, harmonic_distribution=amps, n_samples=N,
                                       sample_rate=SR, phase_accumulation=mode,
                                       **extra).numpy()[0]
                rows.append({"note": kind, "phase_accumulation": mode, "path": path,
                             "stft_error_end_pct": round(100 * frame_errors(y, ref)[-8:].max(), 3),
                             "waveform_error_max": float(f"{np.abs(y - ref).max():.2e}")})
    return rows


def speed_rows(rounds: int) -> list[dict]:
    rng = np.random.default_rng(0)
    batch = 8
    dist = tf.constant(rng.uniform(0, 1, (batch, FRAMES, K)), tf.float32)
    amp = tf.fill([batch, FRAMES, 1], 0.3)
    glide = np.geomspace(32.70, 1046.5, FRAMES)[None, :, None].repeat(batch, 0)
    envelope = tf.constant(np.geomspace(32.70, 1046.5, N)[None].repeat(batch, 0), tf.float32)
    rows = []
    for f0 in (32.70, 220.0, "glide", "phase only"):
        f0_hz = (tf.constant(glide, tf.float32) if f0 == "glide"
                 else envelope if f0 == "phase only" else tf.fill([batch, FRAMES, 1], f0))
        fns = {mode: tf.function(lambda f, m=mode: harmonic_synthesis(
            f, amp, harmonic_distribution=dist, n_samples=N, sample_rate=SR,
            phase_accumulation=m)) for mode in MODES}
        if f0 == "phase only":  # core.fundamental_phase of a [8, 64000] glide
            fns = {mode: tf.function(lambda f, m=mode: core.fundamental_phase(f, SR, m))
                   for mode in MODES}
        times = {mode: [] for mode in MODES}
        for mode in MODES:
            fns[mode](f0_hz).numpy()  # trace + warm-up
        for _ in range(rounds):
            for mode in MODES:
                start = time.perf_counter()
                fns[mode](f0_hz).numpy()
                times[mode].append(time.perf_counter() - start)
        med = {mode: statistics.median(times[mode]) for mode in MODES}
        rows.append({"f0_hz": f0, "batch": batch, "harmonics": K,
                     **{f"seconds_{m}": round(med[m], 4) for m in MODES},
                     "accurate_over_ddsp": round(med["accurate"] / med["ddsp"], 3)})
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--threads", type=int, default=0,
                        help="intra- and inter-op threads (0: TensorFlow's default)")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--json", help="also write the rows to this file")
    args = parser.parse_args(argv)
    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    result = {"accuracy": accuracy_rows()}
    for row in result["accuracy"]:
        print(f"{row['note']:8s} {row['phase_accumulation']:9s} {row['path']:16s} "
              f"STFT error at the end {row['stft_error_end_pct']:7.3f} %   "
              f"waveform error {row['waveform_error_max']:.2e}")
    if not args.skip_speed:
        result["speed"] = speed_rows(args.rounds)
        for row in result["speed"]:
            print(f"F0 {row['f0_hz']!s:6s} batch {row['batch']} x 4 s: ddsp "
                  f"{row['seconds_ddsp']:.4f} s, accurate {row['seconds_accurate']:.4f} s, "
                  f"ratio {row['accurate_over_ddsp']:.3f}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
