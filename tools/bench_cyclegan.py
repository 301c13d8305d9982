"""CycleGAN rows for tools/benchmark.py (``rows(args)``).

  * train step: one full CycleGAN iteration (6 generator and 6 discriminator forwards plus both
    backward passes and both Adam updates) at the paper shape 1x256x256 with the paper networks
    (ResNet-9, ngf 64; 70x70 PatchGAN, ndf 64), and at the demo preset's shape.
  * translation: seconds of audio translated per second of wall time, for a 30 s clip at 25 kHz
    through the chunked waveform -> waveform path that the SavedModel serves.
Timings are medians over the measured steps, after one warm-up step (tracing) that is excluded.

With ``--compare-precision`` (tools/bench_precision.py: one fresh process per row, ``--threads``
each, default 1):
  * ``train_paper`` fp32 vs bf16 (mixed_bfloat16): the paper-shape iteration in a tf.function,
    with its first-call cost split into Python tracing (``get_concrete_function``: Keras layer
    calls, both tapes' gradients, the two Adam updates, the pool), graph optimisation + kernel
    set-up + one step (the first call), and the steady step; the graph's op count;
  * ``train_demo`` XLA off vs on (fp32) and fp32 vs bf16;
  * ``translate_paper`` fp32 vs bf16: 30 s through the paper generator (same weights) in a
    tf.function, with the SNR of the bf16 waveform against the fp32 one (and of the
    generator's translated spectrogram images of the first 10 s);
  * besides the wall-clock ratio of each fp32 vs bf16 pair (train and translation), the
    ratio of the process's CPU seconds per step / call, which time-slicing with other jobs on
    a shared machine does not inflate (memory-bandwidth contention still does);
  * the first call of the fp32 paper step: ``trace_parts`` (Python tracing seconds and graph
    ops of each part of the iteration traced alone) and one more ``train_paper`` run whose
    TensorFlow log gives Grappler's seconds (``grappler_s``).

    python tools/bench_cyclegan.py --compare-precision [--threads 1] [--steps 2]
    python tools/bench_cyclegan.py --row train_paper --precision bf16 --threads 1   # one row
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
from tfaudiogan.audio.chunking import translate_frames, translate_waveform  # noqa: E402
from tfaudiogan.recipes import cyclegan as cyclegan_training  # noqa: E402


class _StepTimes(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.times, self._t = [], 0.0

    def on_train_batch_begin(self, batch, logs=None):
        self._t = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.times.append(time.perf_counter() - self._t)


def cyclegan_train_step(preset: str, steps: int) -> dict:
    """Median seconds per CycleGAN iteration for ``preset`` at its crop size."""
    config = configs.get_preset("cyclegan_irmas", preset)
    config = configs.apply_overrides(config, ["train.batch_size=1"] if preset == "paper" else [])
    rep = cyclegan_training.representation(config)
    shape = (config.train.batch_size, rep.freq_bins, config.train.crop_frames, 1)
    gan = cyclegan_training.build_gan(config, steps_per_epoch=steps + 1, freq_bins=rep.freq_bins)
    rng = np.random.default_rng(0)
    batch = tuple(rng.uniform(-1, 1, shape).astype(np.float32) for _ in range(2))
    ds = tf.data.Dataset.from_tensors(batch).repeat()
    timer = _StepTimes()
    gan.fit(ds, epochs=1, steps_per_epoch=steps + 1, verbose=0, callbacks=[timer])
    measured = timer.times[1:]
    return {
        "row": f"cyclegan train step ({preset})",
        "shape": "x".join(map(str, shape)),
        "params": sum(int(np.prod(v.shape)) for v in gan.trainable_variables),
        "seconds_per_step": round(statistics.median(measured), 3),
        "steps_measured": len(measured),
    }


def cyclegan_translation(preset: str, seconds: float = 30.0, repeats: int = 2) -> dict:
    """Seconds of audio translated per wall-clock second (waveform in, waveform out)."""
    config = configs.get_preset("cyclegan_irmas", preset)
    rep = cyclegan_training.representation(config)
    gan = cyclegan_training.build_gan(config, steps_per_epoch=1, freq_bins=rep.freq_bins)
    translator = cyclegan_training.Translator(gan, rep, config.train.crop_frames,
                                              config.train.chunk_overlap_frames)
    rate = config.spectrogram.sample_rate
    wave = np.random.default_rng(0).uniform(-0.5, 0.5, (1, int(seconds * rate))).astype(np.float32)
    translator.waveform("a2b", wave[:, :rate])  # warm-up / trace
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        translator.waveform("a2b", wave)
        times.append(time.perf_counter() - start)
    wall = statistics.median(times)
    return {
        "row": f"cyclegan translation ({preset})",
        "shape": f"1x{wave.shape[1]} ({seconds:.0f} s at {rate} Hz)",
        "params": int(gan.gen_ab.count_params()),
        "seconds_per_call": round(wall, 2),
        "audio_seconds_per_second": round(seconds / wall, 2),
    }


def traced_train_step(preset: str, steps: int, args) -> dict:
    """One process's row: the CycleGAN iteration at ``preset``'s crop (batch 1) in a
    tf.function, its first-call cost split up, and the steady step (median of ``steps``)."""
    config = configs.apply_overrides(configs.get_preset("cyclegan_irmas", preset),
                                     ["train.batch_size=1"])
    rep = cyclegan_training.representation(config)
    shape = (1, rep.freq_bins, config.train.crop_frames, 1)
    began = time.perf_counter()
    gan = cyclegan_training.build_gan(config, steps_per_epoch=steps + 1,
                                      freq_bins=rep.freq_bins)
    build = time.perf_counter() - began
    rng = np.random.default_rng(0)
    batch = tuple(tf.constant(rng.uniform(-1, 1, shape), tf.float32) for _ in range(2))
    step = tf.function(gan.train_step, jit_compile=args.jit == "on")
    began = time.perf_counter()
    graph = step.get_concrete_function(batch).graph
    trace = time.perf_counter() - began

    def call():
        return step(batch)["g_loss"].numpy()

    first = bench_common.seconds(call)
    times, cpu = zip(*(bench_common.seconds_and_cpu(call) for _ in range(steps)))
    return {"row": f"cyclegan train step ({preset})", "shape": "x".join(map(str, shape)),
            "precision": keras.mixed_precision.global_policy().name, "xla": args.jit,
            "threads": args.threads, "build_and_compile_s": round(build, 1),
            "python_trace_s": round(trace, 1), "graph_ops": len(graph.get_operations()),
            "first_call_s": round(first, 1), "seconds_per_step": round(statistics.median(times), 3),
            "min_s": round(min(times), 3),
            "cpu_seconds_per_step": round(statistics.median(cpu), 3),
            "steps_measured": steps}


def traced_translation(args, seconds: float = 30.0, repeats: int = 1) -> dict:
    """One process's row: 30 s through the paper generator in a tf.function (the serving
    path); the output is written for the SNR (seeded weights, checksummed)."""
    config = configs.get_preset("cyclegan_irmas", "paper")
    rep = cyclegan_training.representation(config)
    gen = cyclegan_training.build_networks(config)["gen_ab"]
    rate = config.spectrogram.sample_rate
    t = config.train

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.float32)])
    def translate(wave):
        return translate_waveform(wave, lambda x: gen(x, training=False), rep, t.crop_frames,
                                  t.chunk_overlap_frames)

    rng = np.random.default_rng(0)
    wave = rng.uniform(-0.5, 0.5, (1, int(seconds * rate))).astype(np.float32)
    first = bench_common.seconds(lambda: translate(wave[:, :rate]).numpy())
    outputs = []

    def call():
        outputs.append(translate(wave).numpy())

    times, cpu = zip(*(bench_common.seconds_and_cpu(call) for _ in range(repeats)))
    out = outputs[-1]
    spec = rep.encode(tf.constant(wave[:, :10 * rate]))[0]  # 10 s: the generator's images
    images = translate_frames(spec, lambda x: gen(x, training=False), t.crop_frames,
                              t.chunk_overlap_frames, pad_value=-1.0)
    bench_precision.save_output(args, "translate_paper", out, spectrogram=images.numpy())
    wall = statistics.median(times)
    return {"row": "cyclegan translation (paper)", "shape": f"1x{wave.shape[1]} (30 s)",
            "precision": keras.mixed_precision.global_policy().name, "threads": args.threads,
            "weights_checksum": bench_precision.checksum(gen),
            "first_call_s": round(first, 1), "seconds_per_call": round(wall, 2),
            "cpu_seconds_per_call": round(statistics.median(cpu), 2),
            "audio_seconds_per_second": round(seconds / wall, 2)}


def trace_parts(args) -> dict:
    """One process: Python tracing seconds and graph ops of the parts of the paper-shape
    iteration, each traced alone (after a warm-up trace), then of the whole step."""
    config = configs.apply_overrides(configs.get_preset("cyclegan_irmas", "paper"),
                                     ["train.batch_size=1"])
    rep = cyclegan_training.representation(config)
    gan = cyclegan_training.build_gan(config, steps_per_epoch=3, freq_bins=rep.freq_bins)
    shape = (1, rep.freq_bins, config.train.crop_frames, 1)
    a, b = (tf.zeros(shape) for _ in range(2))
    owned = gan.optimizer_variables()

    def tape_step(losses, key, optimizer=None):
        def fn(a, b):
            with tf.GradientTape() as tape:
                loss = losses(a, b)[key]
            if optimizer is None:
                return tape.gradient(loss, owned[f"{key[0]}_optimizer"])
            gan.minimize(getattr(gan, optimizer), tape, loss, owned[optimizer])
            return loss
        return fn

    def g_losses(a, b):
        return gan.generator_losses(a, b)[0]

    def d_losses(a, b):
        return gan.discriminator_losses(a, b, a, b)

    def adam(a, b):
        variables = owned["g_optimizer"]
        gan.g_optimizer.apply_gradients(zip([tf.zeros_like(v) for v in variables], variables))
        return a

    parts = {
        "warm_up (one pool query)": lambda a, b: gan.pool_a.query(a),
        "G forward: 6 G + 2 D calls, losses": lambda a, b: g_losses(a, b)["g_loss"],
        "G forward + gradients": tape_step(g_losses, "g_loss"),
        "G Adam update alone (both generators)": adam,
        "D forward (4 calls) + gradients": tape_step(d_losses, "d_loss"),
        "D step (+ Adam update)": tape_step(d_losses, "d_loss", "d_optimizer"),
        "two pool queries": lambda a, b: (gan.pool_a.query(a), gan.pool_b.query(b)),
        "whole train_step": lambda a, b: gan.train_step((a, b)),
    }
    row = {"row": "cyclegan train step (paper): Python tracing by part",
           "precision": keras.mixed_precision.global_policy().name, "threads": args.threads,
           "variables": {k: len(v) for k, v in owned.items()}}
    for name, fn in parts.items():
        began = time.perf_counter()
        graph = tf.function(fn).get_concrete_function(a, b).graph
        row[name] = {"trace_s": round(time.perf_counter() - began, 2),
                     "ops": len(graph.get_operations())}
    return row


def one_row(args) -> dict:
    """Child mode (``--row``): one measurement in this fresh process."""
    bench_precision.start(args)
    steps = getattr(args, "steps", None) or 2
    if args.row == "train_paper":
        return traced_train_step("paper", steps, args)
    if args.row == "train_demo":
        return traced_train_step("demo", max(steps, 5), args)
    if args.row == "translate_paper":
        return traced_translation(args)
    if args.row == "trace_parts":
        return trace_parts(args)
    raise ValueError(f"unknown row {args.row!r}")


def precision_rows(args) -> list[dict]:
    """fp32 vs bf16 and XLA off vs on, one fresh process per row (bench_precision.py)."""
    script, threads = __file__, getattr(args, "threads", 1)
    extra = ["--steps", str(getattr(args, "steps", 2))]
    # first-call cost: Grappler's share from TensorFlow's own log of the fp32 paper step
    logged = bench_precision.measure(
        script, "train_paper", "fp32", threads, extra=["--steps", "1"], keep_stderr=True,
        env={"TF_CPP_MIN_LOG_LEVEL": "0", "TF_CPP_VMODULE": "meta_optimizer=1"})
    logged["grappler_s"] = bench_precision.grappler_seconds(logged.pop("_stderr", ""))
    logged["row"] += ": first call with Grappler's time (TF log)"
    first_call = [bench_precision.measure(script, "trace_parts", "fp32", threads), logged]
    return first_call + (bench_precision.pair(script, "train_paper", "seconds_per_step", threads, extra)
            + bench_precision.pair(script, "translate_paper", "seconds_per_call", threads,
                                   extra, outputs=True)
            + bench_precision.jit_pair(script, "train_demo", "seconds_per_step", "fp32",
                                       threads, extra)
            + bench_precision.pair(script, "train_demo", "seconds_per_step", threads, extra))


def rows(args) -> list[dict]:
    """Train-step rows (demo, paper) and translation rows (demo, paper); with
    ``--compare-precision`` only the fp32 / bf16 / XLA rows (subprocesses)."""
    if getattr(args, "compare_precision", False):
        return precision_rows(args)
    return [cyclegan_train_step("demo", max(args.steps, 5)),
            cyclegan_train_step("paper", args.steps),
            cyclegan_translation("demo"), cyclegan_translation("paper", repeats=1)]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2, help="measured repeats per row")
    return bench_common.child_or_standalone(parser, rows, one_row, argv)


if __name__ == "__main__":
    sys.exit(main())
