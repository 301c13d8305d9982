"""Speed and memory of tfaudiogan's models on this machine (a table; JSON with --json).

Rows (CycleGAN, issue 2):
  * train step: one full CycleGAN iteration (6 generator and 6 discriminator forwards plus both
    backward passes and both Adam updates) at the paper shape 1x256x256 with the paper networks
    (ResNet-9, ngf 64; 70x70 PatchGAN, ndf 64), and at the demo preset's shape.
  * translation: seconds of audio translated per second of wall time, for a 30 s clip at 25 kHz
    through the chunked waveform -> waveform path that the SavedModel serves.

    python tools/benchmark.py                 # all rows
    python tools/benchmark.py --json out.json --steps 3
Timings are medians over the measured steps, after one warm-up step (tracing) that is excluded.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, too

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from tfaudiogan import configs  # noqa: E402
from tfaudiogan.training import cyclegan as cyclegan_training  # noqa: E402


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


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", help="also write the rows to this JSON file")
    parser.add_argument("--steps", type=int, default=3, help="measured train steps per row")
    parser.add_argument("--rows", default="all", choices=["all", "train", "translate"])
    args = parser.parse_args(argv)
    rows = []
    if args.rows in ("all", "train"):
        rows += [cyclegan_train_step("demo", max(args.steps, 5)),
                 cyclegan_train_step("paper", args.steps)]
    if args.rows in ("all", "translate"):
        rows += [cyclegan_translation("demo"), cyclegan_translation("paper", repeats=1)]
    machine = {"cpu_count": os.cpu_count(), "platform": platform.platform(),
               "tensorflow": tf.__version__, "keras": keras.__version__,
               "peak_rss_mb": round(peak_rss_mb(), 1)}
    keys = ["row", "shape", "params", "seconds_per_step", "seconds_per_call",
            "audio_seconds_per_second"]
    print(" | ".join(keys))
    for row in rows:
        print(" | ".join(str(row.get(k, "")) for k in keys))
    print(f"machine: {machine}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"machine": machine, "rows": rows}, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
