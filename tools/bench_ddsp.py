"""DDSP-GAN speed on this machine: synthesis throughput, generation, G and D step times.

    python tools/bench_ddsp.py [--steps 5] [--synth-only] [--json out.json]

Rows (``rows(args)`` is what tools/benchmark.py can call; ``args.steps`` = measured repeats):
  * synth: DDSPSynth.render, 100 harmonics + 65 noise bands (ddsp.md 1.1 NSynth sizes), batch 8
    x 4 s at 16 kHz, 1000 frames, in a tf.function; F0 220 Hz (36 audible harmonics) and
    32.7 Hz (all 100 audible, the worst case), builtins (matmul DFT) and FFT noise paths; plus
    an F0 glide 32.7 -> 1046.5 Hz (f0_hz "glide": the audible count changes inside frames,
    which takes the sample-wise masked edge path of the harmonic synth).
    Real-time factor = seconds of audio / wall seconds (target >= 500x, issue 5).
  * generate: the paper-size generator (CPPNs + synth), batch 8. "parameters" counts the
    trainable weights, "non_trainable" the buffers (the synth's 64000-sample noise buffer).
  * d_step / g_step: one discriminator / generator Adam update of the paper networks, batch 8.
Timings are medians after one excluded warm-up call (tracing).

With ``--compare-precision`` (tools/bench_precision.py: one fresh process per row, ``--threads``
each, default 1): ``generate8`` fp32 vs bf16 (mixed_bfloat16; same weights, SNR of the bf16
audio against the fp32 audio; the F0 curve and the synth are float32 under both policies, only
the loudness / timbre CPPNs change) and the train step (``DDSPGAN.train_step``: one D and one G
update, batch 8) fp32 vs bf16. XLA cannot compile this step: the harmonic synth's
``skip_inaudible`` gathers only the audible harmonics (a data-dependent count), so ``Harmonic``
sets ``supports_jit = False``; the XLA row records the attempt's error.

    python tools/bench_ddsp.py --compare-precision [--threads 1] [--steps 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_precision, bench_common

import bench_common  # noqa: E402
import bench_precision  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from tfaudiogan import configs  # noqa: E402
from tfaudiogan.configs.ddsp_gan import FAMILY  # noqa: E402
from tfaudiogan.recipes import ddsp_gan as training  # noqa: E402

BATCH = 8
SECONDS = 4.0


def _median_seconds(fn, steps: int) -> float:
    """bench_common.median_seconds, each call's output (or its first value) fetched."""

    def fetched():
        out = fn()
        if isinstance(out, dict):
            out = next(iter(out.values()))
        np.asarray(out)

    return bench_common.median_seconds(fetched, steps)


def synth_rows(steps: int) -> list[dict]:
    rows = []
    for use_fft in (False, True):
        config = configs.apply_overrides(configs.get_preset(FAMILY, "paper"),
                                         [f"model.use_fft={str(use_fft).lower()}"])
        synth = training.build_generator(config).get_layer("synth")
        frames = config.model.n_frames
        rng = np.random.default_rng(0)
        dist = tf.constant(rng.uniform(0, 1, (BATCH, frames, 100)), tf.float32)
        noise = tf.constant(rng.uniform(0, 0.01, (BATCH, frames, 65)), tf.float32)
        amp = tf.fill([BATCH, frames, 1], 0.3)
        render = tf.function(synth.render)
        glide = np.geomspace(32.70, 1046.5, frames)[None, :, None].repeat(BATCH, 0)
        for f0 in (220.0, 32.70, "glide"):
            f0_hz = (tf.constant(glide, tf.float32) if f0 == "glide"
                     else tf.fill([BATCH, frames, 1], f0))
            args = (f0_hz, amp, dist, noise)
            sec = _median_seconds(lambda r=render, a=args: r(*a), steps)
            rows.append({"row": "synth", "harmonics": 100, "noise_bands": 65, "batch": BATCH,
                         "f0_hz": f0, "noise_path": "fft" if use_fft else "builtins",
                         "seconds": round(sec, 4),
                         "x_real_time": round(BATCH * SECONDS / sec, 1)})
    return rows


def model_rows(steps: int) -> list[dict]:
    config = configs.get_preset(FAMILY, "paper")
    gan = training.build_gan(config)
    z = tf.random.normal([BATCH, config.model.latent_dim], seed=1)
    gen = tf.function(lambda: gan.generator(z, training=False)["audio"])
    sec = _median_seconds(gen, steps)
    g_params, d_params = (training.parameter_counts(m) for m in (gan.generator,
                                                                  gan.discriminator))
    rows = [{"row": "generate", "batch": BATCH, "parameters": g_params["trainable"],
             "non_trainable": g_params["non_trainable"],
             "seconds": round(sec, 4), "x_real_time": round(BATCH * SECONDS / sec, 1)}]
    real = tf.random.uniform([BATCH, config.model.n_samples], -0.5, 0.5, seed=2)
    fake = gen()
    d_vars = gan.discriminator.trainable_variables
    g_vars = gan.generator.trainable_variables

    @tf.function
    def d_step():
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(gan.discriminator(real) - gan.discriminator(fake))
        gan.d_optimizer.apply_gradients(zip(tape.gradient(loss, d_vars), d_vars))
        return loss

    @tf.function
    def g_step():
        with tf.GradientTape() as tape:
            loss = -tf.reduce_mean(gan.discriminator(gan.generator(z)["audio"]))
        gan.g_optimizer.apply_gradients(zip(tape.gradient(loss, g_vars), g_vars))
        return loss

    for name, fn, params in (("d_step", d_step, d_params), ("g_step", g_step, g_params)):
        rows.append({"row": name, "batch": BATCH, "parameters": params["trainable"],
                     "non_trainable": params["non_trainable"],
                     "seconds": round(_median_seconds(fn, steps), 4)})
    return rows


def generate8_row(args, steps: int) -> dict:
    """One process: the paper generator at batch 8 (seeded weights, checksummed; audio written
    for the SNR)."""
    config = configs.get_preset(FAMILY, "paper")
    gen = training.build_generator(config)
    z = tf.constant(np.random.default_rng(0).standard_normal([BATCH, config.model.latent_dim]),
                    tf.float32)
    generate = tf.function(lambda: gen(z, training=False)["audio"])
    first, times = bench_common.timed_calls(lambda: generate().numpy(), steps)
    bench_precision.save_output(args, "generate8", generate().numpy())
    wall = statistics.median(times)
    return {"row": "ddsp generate (paper, batch 8)",
            "precision": keras.mixed_precision.global_policy().name, "threads": args.threads,
            "weights_checksum": bench_precision.checksum(gen),
            "first_call_s": round(first, 1), "seconds_per_call": round(wall, 3),
            "x_real_time": round(BATCH * SECONDS / wall, 1)}


def train_row(args, steps: int) -> dict:
    """One process: ``DDSPGAN.train_step`` (D then G update) at the paper sizes, batch 8."""
    config = configs.get_preset(FAMILY, "paper")
    gan = training.build_gan(config)
    t = np.arange(config.model.n_samples) / config.model.sample_rate
    audio = 0.3 * np.sin(2 * np.pi * np.linspace(110, 440, BATCH)[:, None] * t)
    data = {"audio": tf.constant(audio, tf.float32), "pitch": tf.fill([BATCH], 60)}
    step = tf.function(gan.train_step, jit_compile=args.jit == "on")
    return {"row": "ddsp train step (paper, batch 8)",
            **bench_common.train_step_fields(args, step, data, steps)}


def one_row(args) -> dict:
    """Child mode (``--row``): one measurement in this fresh process."""
    bench_precision.start(args)
    steps = max(1, int(getattr(args, "steps", None) or 3))
    if args.row == "generate8":
        return generate8_row(args, steps)
    if args.row == "train_paper":
        return train_row(args, steps)
    raise ValueError(f"unknown row {args.row!r}")


def precision_rows(args) -> list[dict]:
    """fp32 vs bf16, one fresh process per row (bench_precision.py), and the XLA attempt."""
    script, threads = __file__, getattr(args, "threads", 1)
    extra = ["--steps", str(getattr(args, "steps", 3))]
    xla = bench_precision.measure(script, "train_paper", "fp32", threads, "on",
                                  extra=["--steps", "1"])
    xla["row"] = "ddsp train step (paper, batch 8): XLA on"
    xla["note"] = ("Harmonic(skip_inaudible=True) gathers a data-dependent number of "
                   "harmonics: supports_jit=False, the step cannot compile")
    return (bench_precision.pair(script, "generate8", "seconds_per_call", threads, extra,
                                 outputs=True)
            + bench_precision.pair(script, "train_paper", "seconds_per_step", threads, extra)
            + [xla])


def rows(args) -> list[dict]:
    """All DDSP-GAN rows (``args.steps`` measured repeats each); with ``--compare-precision``
    only the fp32 / bf16 / XLA rows (subprocesses)."""
    if getattr(args, "compare_precision", False):
        return precision_rows(args)
    steps = getattr(args, "steps", 5)
    keras.utils.set_random_seed(0)
    if getattr(args, "synth_only", False):
        return synth_rows(steps)
    return synth_rows(steps) + model_rows(max(1, steps // 2))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--synth-only", action="store_true",
                        help="only the synth rows (skip generate / d_step / g_step)")
    return bench_common.child_or_standalone(parser, rows, one_row, argv)


if __name__ == "__main__":
    sys.exit(main())
