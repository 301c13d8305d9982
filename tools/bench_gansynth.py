"""GANSynth speed on this machine: note generation (with inversion) and train step per stage.

    python tools/bench_gansynth.py [--steps 3] [--stages 0,4,8,12] [--width demo] [--json out.json]

Rows (``rows(args)`` is what tools/benchmark.py can call):
  * generate: seconds per 4-s note of the paper-size final-stage generator (random init,
    7.3M parameters) plus the in-graph mel -> linear -> inverse-STFT inversion, at batch 1 and 8;
    real-time factor = 4 s / seconds per note; the fraction of this CPU's measured float32
    matmul rate reached (G's 14.2 GMAC per note, reference/gansynth.md 2.4).
  * step: median seconds of one D + one G update (WGAN-GP, batch 8) per stage at the chosen
    width ("demo" preset widths by default; "paper" is minutes per stage on a CPU). Early
    stages run at their own resolution, so they cost less.
Timings are medians after one excluded warm-up call (tracing).

With ``--compare-precision`` (tools/bench_precision.py: one fresh process per row, ``--threads``
each, default 1): ``generate8`` (paper generator + inversion, batch 8) fp32 vs bf16
(mixed_bfloat16; same weights, SNR of the bf16 audio against the fp32 audio and of the
magnitude and IF images; the inversion is float32 in both), and the demo-width train step at
stage 12 fp32 vs bf16 and XLA off vs on.

    python tools/bench_gansynth.py --compare-precision [--threads 1] [--steps 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_precision, bench_common

import bench_common  # noqa: E402
import bench_precision  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from tfaudiogan.audio.gansynth import denormalise  # noqa: E402
from tfaudiogan.configs import gansynth as presets  # noqa: E402
from tfaudiogan.gans.progressive import new_alpha, stage_networks  # noqa: E402
from tfaudiogan.models.gansynth import stage_shape  # noqa: E402
from tfaudiogan.recipes import gansynth as training  # noqa: E402

G_MAC_PER_NOTE = 14.2e9  # reference/gansynth.md 2.4: final-stage H generator, per sample
NOTE_SECONDS = 4.0


def matmul_flops(n: int = 4096, repeats: int = 5) -> float:
    """This CPU's best float32 matmul rate (FLOP/s) over ``repeats`` (the compute ceiling)."""
    a = tf.random.normal([n, n])
    fn = tf.function(lambda: tf.matmul(a, a)[0, 0])
    fn()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn().numpy()
        best = min(best, time.perf_counter() - t0)
    return 2.0 * n ** 3 / best


def _paper_generator(config):
    """``(generator, generate, images)``: the final-stage generator and tf.functions of
    (z, one-hot pitch) giving audio (in-graph inversion) and the spectrogram images."""
    rep = training.representation(config)
    gen = stage_networks(12, new_alpha(), **training.model_kwargs(config))["generator"]

    @tf.function
    def generate(z, onehot):
        return rep.decode(denormalise(gen({"z": z, "pitch": onehot}, training=False)))

    @tf.function
    def images(z, onehot):
        return gen({"z": z, "pitch": onehot}, training=False)

    return gen, generate, images


def generation_rows(steps: int) -> list[dict]:
    config = presets.paper()
    _, generate, _ = _paper_generator(config)
    peak = matmul_flops()
    out = []
    for batch in (1, 8):
        z = tf.random.normal([batch, config.model.latent_size])
        onehot = tf.one_hot(tf.fill([batch], 36), config.model.num_pitches)
        seconds = bench_common.median_seconds(
            lambda z=z, onehot=onehot: generate(z, onehot).numpy(), steps) / batch
        out.append({"row": "gansynth generate (paper G + inversion)", "batch": batch,
                    "seconds_per_4s_note": round(seconds, 4),
                    "real_time_factor": round(NOTE_SECONDS / seconds, 1),
                    "fraction_of_matmul_peak": round(2 * G_MAC_PER_NOTE / seconds / peak, 3),
                    "matmul_gflops": round(peak / 1e9, 1)})
    return out


def step_rows(steps: int, stages, width: str) -> list[dict]:
    config = presets.paper() if width == "paper" else presets.demo()
    config = replace(config, data=replace(config.data, dataset="synthetic"))
    t, m = config.train, config.model
    rng = np.random.default_rng(0)
    full = training.representation(config).output_shape
    specs = rng.uniform(-1, 1, (t.batch_size, *full)).astype(np.float32)
    labels = rng.integers(0, m.num_pitches, t.batch_size).astype(np.int32)
    out = []
    for stage in stages:
        keras.backend.clear_session()
        gan = training.build_stage(config, stage, np.ones(m.num_pitches), 0)
        step = tf.function(gan.train_step)
        data = (tf.constant(specs), tf.constant(labels))
        seconds = bench_common.median_seconds(
            lambda step=step, data=data: step(data)["d_loss"].numpy(), steps)
        out.append({"row": f"gansynth train step ({width} widths)", "stage": stage,
                    "blocks": gan.num_blocks,
                    "resolution": "x".join(map(str, stage_shape(stage, tuple(m.start_shape),
                                                                m.num_resolutions))),
                    "batch": t.batch_size, "seconds_per_step": round(seconds, 4)})
    return out


def generate8_row(args, steps: int) -> dict:
    """One process: the paper generator + in-graph inversion at batch 8 (seeded weights,
    checksummed; audio written for the SNR)."""
    config = presets.paper()
    gen, generate, images = _paper_generator(config)
    rng = np.random.default_rng(0)
    z = tf.constant(rng.standard_normal([8, config.model.latent_size]), tf.float32)
    onehot = tf.one_hot(tf.constant([12, 18, 24, 30, 36, 42, 48, 54]), config.model.num_pitches)
    first, times = bench_common.timed_calls(lambda: generate(z, onehot).numpy(), steps)
    # The IF channel is integrated over time by the inversion, so the waveform's SNR is far
    # below the images' (the magnitude and IF images are written beside it, each on its own:
    # snr_db_magnitude, snr_db_if; training/precision.py explains why no policy reaches 30 dB)
    spec = images(z, onehot).numpy()
    bench_precision.save_output(args, "generate8", generate(z, onehot).numpy(),
                                magnitude=spec[..., 0], **{"if": spec[..., 1]})
    wall = statistics.median(times)
    return {"row": "gansynth generate (paper G + inversion, batch 8)",
            "precision": keras.mixed_precision.global_policy().name, "threads": args.threads,
            "weights_checksum": bench_precision.checksum(gen),
            "first_call_s": round(first, 1), "seconds_per_call": round(wall, 3),
            "real_time_factor": round(8 * NOTE_SECONDS / wall, 1)}


def train_row(args, stage: int, steps: int) -> dict:
    """One process: one D + G update at demo widths, ``stage``, in a tf.function."""
    config = presets.demo()
    config = replace(config, data=replace(config.data, dataset="synthetic"))
    t, m = config.train, config.model
    rng = np.random.default_rng(0)
    full = training.representation(config).output_shape
    data = (tf.constant(rng.uniform(-1, 1, (t.batch_size, *full)), tf.float32),
            tf.constant(rng.integers(0, m.num_pitches, t.batch_size), tf.int32))
    gan = training.build_stage(config, stage, np.ones(m.num_pitches), 0)
    step = tf.function(gan.train_step, jit_compile=args.jit == "on")
    return {"row": f"gansynth train step (demo widths, stage {stage})", "batch": t.batch_size,
            **bench_common.train_step_fields(args, step, data, steps, digits=4)}


def one_row(args) -> dict:
    """Child mode (``--row``): one measurement in this fresh process."""
    bench_precision.start(args)
    steps = max(1, int(getattr(args, "steps", None) or 3))
    if args.row == "generate8":
        return generate8_row(args, steps)
    if args.row == "train_demo_stage12":
        return train_row(args, 12, steps)
    raise ValueError(f"unknown row {args.row!r}")


def precision_rows(args) -> list[dict]:
    """fp32 vs bf16 and XLA off vs on, one fresh process per row (bench_precision.py)."""
    script, threads = __file__, getattr(args, "threads", 1)
    extra = ["--steps", str(getattr(args, "steps", 3))]
    return (bench_precision.pair(script, "generate8", "seconds_per_call", threads, extra,
                                 outputs=True)
            + bench_precision.pair(script, "train_demo_stage12", "seconds_per_step", threads,
                                   extra)
            + bench_precision.jit_pair(script, "train_demo_stage12", "seconds_per_step",
                                       "fp32", threads, extra))


def rows(args) -> list[dict]:
    """GANSynth rows (``args.steps`` measured repeats; ``args.stages``, ``args.width``); with
    ``--compare-precision`` only the fp32 / bf16 / XLA rows (subprocesses)."""
    if getattr(args, "compare_precision", False):
        return precision_rows(args)
    steps = getattr(args, "steps", 3)
    stages = [int(s) for s in str(getattr(args, "stages", "0,4,8,12")).split(",") if s]
    keras.utils.set_random_seed(0)
    return generation_rows(steps) + step_rows(steps, stages, getattr(args, "width", "demo"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--stages", default="0,4,8,12")
    parser.add_argument("--width", default="demo", choices=["demo", "paper"])
    return bench_common.child_or_standalone(parser, rows, one_row, argv)


if __name__ == "__main__":
    sys.exit(main())
