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

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from tfaudiogan.export.generator import generator_function  # noqa: E402
from tfaudiogan.models import wavegan  # noqa: E402

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


def rows(args) -> list[dict]:
    """The WaveGAN generation rows at batch 1 and 64 (``args.repeats``, or the driver's
    ``args.steps``, timed calls each; default 5)."""
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
    args = parser.parse_args(argv)
    table = rows(args)
    keys = list(table[0])
    print(" | ".join(keys))
    for row in table:
        print(" | ".join(str(row[k]) for k in keys))
    return 0


if __name__ == "__main__":
    sys.exit(main())
