"""CycleGAN rows for tools/benchmark.py (``rows(args)``).

  * train step: one full CycleGAN iteration (6 generator and 6 discriminator forwards plus both
    backward passes and both Adam updates) at the paper shape 1x256x256 with the paper networks
    (ResNet-9, ngf 64; 70x70 PatchGAN, ndf 64), and at the demo preset's shape.
  * translation: seconds of audio translated per second of wall time, for a 30 s clip at 25 kHz
    through the chunked waveform -> waveform path that the SavedModel serves.
Timings are medians over the measured steps, after one warm-up step (tracing) that is excluded.
"""

from __future__ import annotations

import statistics
import time

import keras
import numpy as np
import tensorflow as tf

from tfaudiogan import configs
from tfaudiogan.recipes import cyclegan as cyclegan_training


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


def rows(args) -> list[dict]:
    """Train-step rows (demo, paper) and translation rows (demo, paper)."""
    return [cyclegan_train_step("demo", max(args.steps, 5)),
            cyclegan_train_step("paper", args.steps),
            cyclegan_translation("demo"), cyclegan_translation("paper", repeats=1)]
