"""WaveGAN generation speed on this machine, against the compute floor measured in the same run.

Rows (issue 3): ``wavegan generation`` with the paper generator (d = 64, 16384 samples at
16 kHz) at batch 1 and 64, through the same tf.function that the SavedModel serves
(tfaudiogan.export.generator.generator_function):

* ``audio_seconds_per_second``: seconds of audio generated per second of wall time;
* ``fraction_of_floor``: (model FLOPs / peak matmul FLOP/s) / wall time, where the model
  FLOPs are counted analytically from the layer shapes (2 x multiply-adds of the dense layer
  and every (transposed) convolution; element-wise ops are not counted) and the peak is the
  best of several large ``tf.linalg.matmul`` calls timed in this process.

    python tools/bench_wavegan.py [--repeats 5]
``rows(args)`` is what tools/benchmark.py calls. Timings are medians after one warm-up call.

With ``--compare-precision`` (tools/bench_precision.py: one fresh process per row, ``--threads``
each, default 1): ``generate64`` fp32 vs bf16 (mixed_bfloat16; same weights, SNR of the bf16
audio against the fp32 audio), the train step (one G and 5 D updates with WGAN-GP) of the
paper networks at batch 8 fp32 vs bf16, and of the demo preset (d = 8, batch 16) XLA off vs on
and fp32 vs bf16; the SpecGAN demo train step likewise.

    python tools/bench_wavegan.py --compare-precision [--threads 1] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, too
sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_precision, bench_common

import bench_common  # noqa: E402
import bench_precision  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from tfaudiogan import configs  # noqa: E402
from tfaudiogan.export.generator import generator_function  # noqa: E402
from tfaudiogan.models import wavegan  # noqa: E402
from tfaudiogan.recipes import wavegan as wavegan_training  # noqa: E402

SAMPLE_RATE = 16000  # reference/wavegan.md 4.3


def model_flops(model: keras.Model) -> int:
    """FLOPs of one example through ``model`` (2 per multiply-add), from the layer shapes.

    Counts Dense, Conv1D, DepthwiseConv1D and Conv1DTranspose layers; a transposed conv costs
    ``2 * input_length * in_channels * filters * kernel`` (each input sample meets every tap).
    """
    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.Dense):
            total += 2 * layer.kernel.shape[0] * layer.kernel.shape[1]
        elif isinstance(layer, keras.layers.Conv1DTranspose):
            length, channels = layer.input.shape[1], layer.input.shape[2]
            total += 2 * length * channels * layer.filters * layer.kernel_size[0]
        elif isinstance(layer, keras.layers.DepthwiseConv1D):
            length, channels = layer.output.shape[1], layer.input.shape[2]
            total += 2 * length * channels * layer.kernel_size[0]
        elif isinstance(layer, keras.layers.Conv1D):
            length, channels = layer.output.shape[1], layer.input.shape[2]
            total += 2 * length * channels * layer.filters * layer.kernel_size[0]
    return int(total)


def peak_matmul_flops(n: int = 2048, repeats: int = 5) -> float:
    """Best observed FLOP/s of an ``[n, n] @ [n, n]`` float32 matmul (2 n^3 FLOPs)."""
    a = tf.random.uniform([n, n])
    b = tf.random.uniform([n, n])
    matmul = tf.function(lambda x, y: tf.linalg.matmul(x, y))
    matmul(a, b).numpy()  # warm-up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        matmul(a, b).numpy()
        best = min(best, time.perf_counter() - start)
    return 2.0 * n**3 / best


def generation_row(generate, flops_per_clip: int, peak: float, batch: int, params: int,
                   latent_dim: int, repeats: int) -> dict:
    """Times ``generate`` at ``batch`` and returns one table row."""
    z = tf.constant(np.random.default_rng(0).uniform(-1, 1, (batch, latent_dim)), tf.float32)
    generate(z)["audio"].numpy()  # warm-up (tracing)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        audio = generate(z)["audio"].numpy()
        times.append(time.perf_counter() - start)
    wall = statistics.median(times)
    floor = flops_per_clip * batch / peak
    return {
        "row": f"wavegan generation (batch {batch})",
        "shape": f"{batch}x{audio.shape[1]}",
        "params": params,
        "seconds_per_call": round(wall, 4),
        "audio_seconds_per_second": round(batch * audio.shape[1] / SAMPLE_RATE / wall, 2),
        "model_gflop": round(flops_per_clip * batch / 1e9, 3),
        "peak_matmul_gflops": round(peak / 1e9, 1),
        "fraction_of_floor": round(floor / wall, 3),
    }


def generate64_row(args, repeats: int) -> dict:
    """One process: the paper generator at batch 64 (seeded weights, checksummed; output
    written for the SNR)."""
    gen = wavegan.generator()
    generate = generator_function(gen, 100)
    z = tf.constant(np.random.default_rng(0).uniform(-1, 1, (64, 100)), tf.float32)
    first, times = bench_common.timed_calls(lambda: generate(z)["audio"].numpy(), repeats)
    bench_precision.save_output(args, "generate64", generate(z)["audio"].numpy())
    wall = statistics.median(times)
    return {"row": "wavegan generation (batch 64)", "precision": keras.mixed_precision
            .global_policy().name, "threads": args.threads,
            "weights_checksum": bench_precision.checksum(gen), "first_call_s": round(first, 1),
            "seconds_per_call": round(wall, 3),
            "audio_seconds_per_second": round(64 * 16384 / SAMPLE_RATE / wall, 2)}


def train_row(args, family: str, preset: str, repeats: int, overrides=()) -> dict:
    """One process: one train_step (1 G + d_updates D updates) in a tf.function."""
    config = configs.apply_overrides(configs.get_preset(family, preset), list(overrides))
    gan = wavegan_training.build_gan(config)
    t, shape = config.train, gan.discriminator.inputs[0].shape[1:]
    x = tf.constant(np.random.default_rng(0).uniform(
        -0.5, 0.5, (t.batch_size, config.loss.d_updates, *shape)), tf.float32)
    step = tf.function(gan.train_step, jit_compile=args.jit == "on")
    return {"row": f"{config.model.kind} train step ({preset}{', ' if overrides else ''}"
                   f"{', '.join(overrides)})",
            "batch": t.batch_size, "d_updates": config.loss.d_updates,
            **bench_common.train_step_fields(args, step, x, repeats)}


def one_row(args) -> dict:
    """Child mode (``--row``): one measurement in this fresh process."""
    bench_precision.start(args)
    repeats = max(1, int(getattr(args, "repeats", None) or 3))
    if args.row == "generate64":
        return generate64_row(args, repeats)
    if args.row == "train_paper_b8":
        return train_row(args, "wavegan_sc09", "paper", repeats, ["train.batch_size=8"])
    if args.row == "train_demo":
        return train_row(args, "wavegan_sc09", "demo", repeats)
    if args.row == "specgan_train_demo":
        return train_row(args, "specgan_sc09", "demo", repeats)
    raise ValueError(f"unknown row {args.row!r}")


def precision_rows(args) -> list[dict]:
    """fp32 vs bf16 and XLA off vs on, one fresh process per row (bench_precision.py)."""
    script, threads = __file__, getattr(args, "threads", 1)
    extra = ["--repeats", str(getattr(args, "repeats", None) or getattr(args, "steps", 3))]
    rows = bench_precision.pair(script, "generate64", "seconds_per_call", threads, extra,
                                outputs=True)
    rows += bench_precision.pair(script, "train_paper_b8", "seconds_per_step", threads, extra)
    for key in ("train_demo", "specgan_train_demo"):
        rows += bench_precision.pair(script, key, "seconds_per_step", threads, extra)
        rows += bench_precision.jit_pair(script, key, "seconds_per_step", "fp32", threads,
                                         ["--repeats", "1"])
    return rows


def rows(args) -> list[dict]:
    """The WaveGAN generation rows at batch 1 and 64 (``args.repeats``, or the driver's
    ``args.steps``, timed calls each; default 5); with ``--compare-precision`` only the
    fp32 / bf16 / XLA rows (subprocesses)."""
    if getattr(args, "compare_precision", False):
        return precision_rows(args)
    repeats = getattr(args, "repeats", None) or getattr(args, "steps", None) or 5
    repeats = max(1, int(repeats))
    keras.utils.set_random_seed(0)
    gen = wavegan.generator()  # the paper generator: d = 64, 16384 samples
    generate = generator_function(gen, 100)
    flops = model_flops(gen)
    peak = peak_matmul_flops()
    return [generation_row(generate, flops, peak, batch, gen.count_params(), 100, repeats)
            for batch in (1, 64)]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed calls per row")
    bench_precision.add_arguments(parser)
    args = parser.parse_args(argv)
    if args.row:
        bench_precision.emit(one_row(args))
        return 0
    table = rows(args)
    keys = list(dict.fromkeys(k for row in table for k in row))
    print(" | ".join(keys))
    for row in table:
        print(" | ".join(str(row.get(k, "")) for k in keys))
    return 0


if __name__ == "__main__":
    sys.exit(main())
