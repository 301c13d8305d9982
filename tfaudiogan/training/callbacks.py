"""Callbacks shared by the training runs: audio samples, spectrogram pictures, run log."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from tfaudiogan.audio.io import save_audio
from tfaudiogan.training import listening_page, plots, run_dir
from tfaudiogan.training.media import spectrogram_image

log = logging.getLogger(__name__)


class CycleSamples(keras.callbacks.Callback):
    """Writes, after every epoch, each domain's real clip, its translation and the way back.

    File names follow seed 002: ``rec_<a>.wav``, ``rec_<a>_to_<b>.wav`` and
    ``rec_<a>_to_<b>_to_<a>.wav`` (and the same from domain b), each with a ``.png``
    spectrogram, plus ``rec_<a>_cycle.png`` with the three side by side, in
    ``samples/epoch_<NNN>/`` (with several clips per domain every stem ends in ``_<i>``). The
    epoch's section of ``samples/index.html`` lists every cycle; the same audio and
    spectrograms go to TensorBoard.

    Args:
      out_dir: the run's ``samples/`` directory.
      clips: {domain name: float32 [n, samples] waveforms}, exactly two domains, a first.
      translate: ``translate(direction, waveforms [n, samples]) -> [n, samples]`` with direction
        "a2b" or "b2a", using the model's current generators.
      spectrogram: ``spectrogram(waveforms [n, samples]) -> [n]`` list of
        :class:`~tfaudiogan.training.plots.Spectrogram`.
      sample_rate: Hz of the waveforms.
      tensorboard_dir: where to write audio/image summaries (None: no summaries).
    """

    def __init__(self, out_dir, clips: dict[str, np.ndarray], translate: Callable,
                 spectrogram: Callable, sample_rate: int, tensorboard_dir=None):
        super().__init__()
        if len(clips) != 2:
            raise ValueError(f"expected two domains, got {list(clips)}")
        self.out_dir = Path(out_dir)
        self.clips = clips
        self.translate = translate
        self.spectrogram = spectrogram
        self.sample_rate = sample_rate
        self.writer = (tf.summary.create_file_writer(str(Path(tensorboard_dir) / "samples"))
                       if tensorboard_dir else None)

    def on_epoch_end(self, epoch, logs=None):
        self.write(epoch + 1)

    def write(self, epoch: int) -> Path:
        """Writes the samples of ``epoch``, updates the listening page, returns the folder."""
        folder = self.out_dir / f"epoch_{epoch:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        (a, wave_a), (b, wave_b) = self.clips.items()
        rows = []
        for src, dst, wave, there, back in ((a, b, wave_a, "a2b", "b2a"),
                                            (b, a, wave_b, "b2a", "a2b")):
            moved = np.asarray(self.translate(there, wave))
            returned = np.asarray(self.translate(back, moved))
            cycle = {f"rec_{src}": (f"real {src}", wave),
                     f"rec_{src}_to_{dst}": (f"translated to {dst}", moved),
                     f"rec_{src}_to_{dst}_to_{src}": (f"translated back to {src}", returned)}
            specs = {name: self.spectrogram(audio) for name, (_, audio) in cycle.items()}
            for i in range(len(wave)):
                stems = {name: name if len(wave) == 1 else f"{name}_{i}" for name in cycle}
                for name, (label, audio) in cycle.items():
                    save_audio(folder / f"{stems[name]}.wav", np.clip(audio[i], -1.0, 1.0),
                               self.sample_rate)
                    plots.write_spectrograms(folder / f"{stems[name]}.png",
                                             [(label, specs[name][i])],
                                             f"{stems[name]}, epoch {epoch}")
                first = stems[f"rec_{src}"]
                title = f"{first}: {src} \u2192 {dst} \u2192 {src}"
                plots.write_spectrograms(
                    folder / f"{first}_cycle.png",
                    [(label, specs[name][i]) for name, (label, _) in cycle.items()],
                    f"{title}, epoch {epoch}")
                rows.append(listening_page.Row(
                    title, [(label, f"{stems[name]}.wav") for name, (label, _) in cycle.items()],
                    [f"{first}_cycle.png"]))
            self._summaries(epoch, cycle, specs)
        listening_page.add_section(self.out_dir, folder, f"epoch {epoch}", epoch, rows)
        return folder

    def _summaries(self, epoch: int, cycle: dict, specs: dict) -> None:
        if self.writer is None:
            return
        with self.writer.as_default(step=epoch):
            for name, (_, audio) in cycle.items():
                tf.summary.audio(name, np.clip(audio, -1, 1)[..., None], self.sample_rate,
                                 max_outputs=len(audio))
                pictures = np.stack([spectrogram_image(s.normalised()) for s in specs[name]])
                tf.summary.image(f"{name}_spectrogram", pictures, max_outputs=len(audio))
        self.writer.flush()


class NonFiniteLossError(RuntimeError):
    """A logged loss became NaN or infinite; the run stopped (its last good backup is kept)."""


class NonFiniteGuard(keras.callbacks.Callback):
    """Stops training at the first step whose logged losses are not all finite.

    A NaN or Inf in a gradient reaches the weights and so every loss of the next step; checking
    the step's logged values catches both. Raising inside ``fit`` skips the end-of-epoch
    backup and checkpoint, so ``backup/`` keeps the last good state.

    Args:
        backup_dir: the phase's backup folder (named in the message).
    """

    def __init__(self, backup_dir):
        super().__init__()
        self.backup_dir = Path(backup_dir)
        self.batch_offset = 0  # set by the driver while it fits the rest of an epoch
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        values = {k: float(v) for k, v in (logs or {}).items() if np.size(v) == 1}
        bad = {k: v for k, v in values.items() if not np.isfinite(v)}
        if bad:
            kept = ("the last good backup is kept in " + str(self.backup_dir)
                    if self.backup_dir.exists() else "no backup was written yet")
            raise NonFiniteLossError(
                f"non-finite loss at epoch {self._epoch + 1}, "
                f"step {self.batch_offset + batch + 1}: "
                + ", ".join(f"{k}={v}" for k, v in sorted(bad.items()))
                + f"; training stopped ({kept}). Lower the learning rate or check the data.")


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h{rest // 60:02d}m" if hours else f"{rest // 60}m{rest % 60:02d}s"


class StepProgress(keras.callbacks.Callback):
    """Progress inside an epoch: steps done, rate, ETA and the latest losses.

    On a terminal one line is redrawn in place after every step; elsewhere (CI logs, ``nohup``)
    a plain line is printed every ``every_steps`` steps or ``every_seconds`` seconds, whichever
    comes first. The epoch's summary is :class:`EpochLog`'s line.

    Args:
        stream: where to write (default ``sys.stdout``).
        every_steps, every_seconds: plain-line spacing when ``stream`` is not a terminal.
        live: force (True) or forbid (False) in-place redrawing; None asks ``stream.isatty()``.
    """

    def __init__(self, stream=None, every_steps: int = 100, every_seconds: float = 30.0,
                 live: bool | None = None):
        super().__init__()
        self.stream = stream or sys.stdout
        self.every_steps, self.every_seconds = max(1, int(every_steps)), float(every_seconds)
        self.live = live
        self.batch_offset = 0  # set by the driver while it fits the rest of an epoch
        self._epoch = self._start = self._last = 0.0
        self._since = 0

    def _is_live(self) -> bool:
        if self.live is not None:
            return self.live
        return bool(getattr(self.stream, "isatty", lambda: False)())

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch, self._since = epoch, 0
        self._start = self._last = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        now, self._since = time.perf_counter(), self._since + 1
        live = self._is_live()
        if not live and self._since < self.every_steps and now - self._last < self.every_seconds:
            return
        self._since, self._last = 0, now
        params = self.params or {}
        steps, done = params.get("steps"), batch + 1
        rate = done / max(now - self._start, 1e-9)
        if steps:
            steps += self.batch_offset
        done += self.batch_offset
        where = f"epoch {self._epoch + 1}/{params.get('epochs', '?')} step {done}"
        if steps:
            where += f"/{steps} ({100 * done // steps}%), ETA {_duration((steps - done) / rate)}"
        losses = ", ".join(f"{k}={float(v):.4f}" for k, v in sorted((logs or {}).items())
                           if np.size(v) == 1)
        line = f"{where}, {rate:.2f} steps/s: {losses}"
        self.stream.write(f"\r\033[K{line}" if live else f"{line}\n")
        self.stream.flush()

    def on_epoch_end(self, epoch, logs=None):
        if self._is_live():
            self.stream.write("\r\033[K")
            self.stream.flush()


class RunSummaries(keras.callbacks.Callback):
    """TensorBoard entries Keras does not write for these models.

    Once, the run's config as text (``config``). Every ``every`` steps and at every epoch end:
    the learning rate of each optimizer the model has (``learning_rate/<attribute>``: Keras
    only knows ``model.optimizer``, which a GAN wrapper leaves empty) and, for a progressive
    GAN, ``progressive/stage`` and ``progressive/alpha``. The step is the model's first
    optimizer's iteration count, so resumed sessions continue the same curves.

    Args:
        log_dir: folder of the summaries (written to ``log_dir/train`` beside Keras').
        config_text: the config, e.g. its JSON.
        every: steps between two points.
    """

    OPTIMIZERS = ("optimizer", "g_optimizer", "d_optimizer",
                  # CycleGAN's seed update order: one optimizer per network
                  "g_ab_optimizer", "g_ba_optimizer", "d_a_optimizer", "d_b_optimizer")

    def __init__(self, log_dir, config_text: str, every: int):
        super().__init__()
        self.log_dir, self.config_text, self.every = Path(log_dir), config_text, max(1, every)
        self.writer = None
        self._seen = 0

    def _optimizers(self) -> dict:
        return {name: getattr(self.model, name) for name in self.OPTIMIZERS
                if getattr(self.model, name, None) is not None}

    def values(self) -> dict[str, float]:
        """The scalars of the current step."""
        out = {f"learning_rate/{name}": float(np.asarray(opt.learning_rate))
               for name, opt in self._optimizers().items()}
        if getattr(self.model, "alpha", None) is not None:
            out["progressive/alpha"] = float(np.asarray(self.model.alpha))
        if getattr(self.model, "stage", None) is not None:
            out["progressive/stage"] = float(self.model.stage)
        return out

    def _write(self) -> None:
        optimizers = list(self._optimizers().values())
        step = int(optimizers[0].iterations.numpy()) if optimizers else self._seen
        with self.writer.as_default(step=step):
            for name, value in self.values().items():
                tf.summary.scalar(name, value)
        self.writer.flush()

    def on_train_begin(self, logs=None):
        self.writer = tf.summary.create_file_writer(str(self.log_dir / "train"))
        with self.writer.as_default(step=0):
            tf.summary.text("config", f"```\n{self.config_text}\n```")

    def on_train_batch_end(self, batch, logs=None):
        self._seen += 1
        if self._seen % self.every == 0:
            self._write()

    def on_epoch_end(self, epoch, logs=None):
        self._write()

    def on_train_end(self, logs=None):
        self.writer.close()


class EpochLog(keras.callbacks.Callback):
    """Appends one line per epoch (time and logged values) to the run log."""

    def __init__(self, logger: logging.Logger):
        super().__init__()
        self.logger = logger
        self._start = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        values = ", ".join(f"{k}={float(v):.4f}" for k, v in sorted((logs or {}).items()))
        self.logger.info("epoch %d done in %.1f s: %s", epoch + 1,
                         time.perf_counter() - self._start, values)


class PruneCheckpoints(keras.callbacks.Callback):
    """Keeps only the newest ``keep`` end-of-epoch checkpoints (paper runs have thousands)."""

    def __init__(self, model_dir, prefix: str, keep: int):
        super().__init__()
        self.model_dir, self.prefix, self.keep = Path(model_dir), prefix, max(1, int(keep))

    def on_epoch_end(self, epoch, logs=None):
        for old in run_dir.finished_checkpoints(self.model_dir, self.prefix)[:-self.keep]:
            old.unlink(missing_ok=True)


def loss_curve(history_file) -> dict[str, list[float]]:
    """Per-epoch values of every session of a run from its CSVLogger file (last row wins).

    Returns:
        ``{"epoch": [1, 2, ...], name: [value per epoch, ...]}``; empty without the file.
    """
    path = Path(history_file)
    if not path.exists():
        return {}
    rows, header = {}, None
    for parts in (line.split(",") for line in path.read_text().splitlines() if line.strip()):
        if parts[0] == "epoch":
            header = parts
        elif header is not None:  # CSVLogger writes "NA" for absent validation columns
            rows[int(parts[0])] = {k: float(v) for k, v in zip(header[1:], parts[1:])
                                   if v != "NA"}
    epochs = sorted(rows)
    names = sorted({k for r in rows.values() for k in r})
    curve = {"epoch": [e + 1 for e in epochs]}
    curve.update({k: [rows[e].get(k) for e in epochs] for k in names})
    return curve
