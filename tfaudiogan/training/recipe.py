"""What a model family hands the training driver: a :class:`Recipe`, fitted in :class:`Phase`\\ s.

The driver (training/driver.py) owns everything every run does the same way: the run
directory and its resume rules, seeding, the strategy, the standard callbacks (backups,
checkpoints and their pruning, TensorBoard, the loss history, the run log), ``fit``, the
common metrics, ``metrics.json`` and the export call. A recipe supplies only what differs
between families, in the order the driver calls it::

    data  = recipe.load_data(run)                   # after seeding
    for phase in recipe.phases(run, data):          # default: one phase, see below
        driver fits phase.model (phase.history, phase.seconds are set afterwards)
    model = recipe.trained_model(run, data, last)   # default: the last phase's model
    recipe.save(run, model)                         # .keras files for sampling / export
    metrics = recipe.evaluate(run, model, data)     # the family's scores
    recipe.export(run, model, data)                 # {kind: path} or None

The default :meth:`Recipe.phases` is one ``fit`` of :meth:`Recipe.build_model` on
:meth:`Recipe.dataset` for ``config.train.epochs`` epochs, resuming from ``backup/`` or the
newest end-of-epoch checkpoint. A progressive GAN yields one phase per stage instead.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import keras
import tensorflow as tf

from tfaudiogan.configs import base as config_base
from tfaudiogan.training import backup, cluster, run_dir
from tfaudiogan.training.callbacks import (
    EpochLog,
    NonFiniteGuard,
    PruneCheckpoints,
    RunSummaries,
    StepProgress,
)


@dataclasses.dataclass
class Run:
    """One run, as every recipe hook sees it.

    Attributes:
        config: the resolved config (the stored one on resume).
        model_dir: the run directory.
        data_dir: the dataset root, or None for built-in data.
        strategy: the tf.distribute strategy every model is built under.
        logger: writes to the console and ``run.log``.
    """

    config: Any
    model_dir: Path
    data_dir: Path | None
    strategy: tf.distribute.Strategy
    logger: logging.Logger

    @property
    def tensorboard_dir(self) -> Path:
        return self.model_dir / "tensorboard"

    @property
    def samples_dir(self) -> Path:
        return self.model_dir / "samples"


@dataclasses.dataclass
class Phase:
    """One ``fit`` call.

    Attributes:
        model: the compiled model to fit.
        dataset: repeated training batches.
        steps_per_epoch: steps per epoch.
        epochs: the last epoch of the phase.
        callbacks: every callback of the phase, in order.
        initial_epoch: epochs already done (resume).
        initial_step: steps already done in epoch ``initial_epoch`` (resume mid-epoch).
        seek: ``seek(batches)`` -> a new pipeline of the training batches after the first
            ``batches`` (the data position of a resumed phase); None:
            ``dataset.skip(batches)``.
        validation_data: passed to ``fit``.
        verbose: ``fit`` verbosity.
        history: set by the driver after ``fit`` (``keras.callbacks.History``).
        seconds: set by the driver: wall time of ``fit``.
    """

    model: keras.Model
    dataset: Any
    steps_per_epoch: int
    epochs: int
    callbacks: list
    initial_epoch: int = 0
    initial_step: int = 0
    seek: Callable[[int], Any] | None = None
    validation_data: Any = None
    verbose: int = 0  # StepProgress and EpochLog print instead of Keras
    history: Any = None
    seconds: float = 0.0


class Recipe:
    """A model family's part of a training run; subclass and fill in the hooks.

    Class attributes:
        config_cls: the family's config dataclass (config.json round trip).
        checkpoint_prefix: end-of-epoch checkpoints are
            ``checkpoints/<prefix>-NNNN.weights.h5``.
    """

    config_cls: type = object
    checkpoint_prefix: str = "model"

    def checkpoint_name(self, run: Run) -> str:
        """The checkpoint file prefix of ``run`` (default :attr:`checkpoint_prefix`)."""
        return self.checkpoint_prefix

    def keep_checkpoints(self, run: Run) -> int:
        """How many end-of-epoch checkpoints to keep (0: all)."""
        return 0

    # -- data and model -------------------------------------------------------------------
    def load_data(self, run: Run) -> Any:
        """Whatever the other hooks need about the data (arrays, datasets, counts)."""
        raise NotImplementedError

    def build_model(self, run: Run, data) -> keras.Model:
        """The compiled model; called inside ``run.strategy.scope()``."""
        raise NotImplementedError

    def dataset(self, run: Run, data) -> tf.data.Dataset:
        """Repeated training batches."""
        raise NotImplementedError

    def seek(self, run: Run, data, batches: int) -> tf.data.Dataset:
        """A new :meth:`dataset` without its first ``batches`` batches: where a resumed
        phase's data stands. New, because a second iterator over the same seeded shuffle
        draws another order. The default replays the batches (exact for seeded pipelines;
        costs their input time); a recipe whose pipeline has an expensive deterministic map
        can skip before it."""
        return self.dataset(run, data).skip(batches)

    def backup_every(self, run: Run) -> int:
        """Steps between two backups (default ``config.train.backup_every_steps``, 0 when the
        config has none: epoch ends only)."""
        return getattr(run.config.train, "backup_every_steps", 0)

    def steps_per_epoch(self, run: Run, data) -> int:
        """Steps per epoch (default ``config.train.steps_per_epoch``)."""
        return run.config.train.steps_per_epoch

    def callbacks(self, run: Run, model: keras.Model, data) -> list:
        """The family's own callbacks (samples, best checkpoint), after the standard ones."""
        return []

    def validation_data(self, run: Run, data):
        return None

    def describe_training(self, run: Run, data, steps: int) -> str:
        """What the run log says before ``fit`` (after the epoch range)."""
        t = run.config.train
        return f"{steps} steps ({cluster.batch_text(t.batch_size, run.strategy)})"

    def phases(self, run: Run, data) -> Iterator[Phase]:
        """The ``fit`` calls of the run; default: one (see the module docstring).

        The one phase trains ``config.train.epochs`` epochs with the standard callbacks
        (:func:`standard_callbacks`) around the family's, from the step the newest backup
        reached (``backup/``, when the last session was interrupted) or after the newest
        finished epoch (``checkpoints/``), with the data positioned where it stopped.
        """
        dataset = self.dataset(run, data)
        with run.strategy.scope():
            model = self.build_model(run, data)
        steps = self.steps_per_epoch(run, data)
        prefix = self.checkpoint_name(run)
        backup_dir = run.model_dir / "backup"
        callbacks = standard_callbacks(run, backup_dir, prefix, steps,
                                       self.keep_checkpoints(run), self.backup_every(run))
        callbacks[-2:-2] = self.callbacks(run, model, data)  # the run log and backup last
        initial, step = resume_point(run, model, backup_dir, prefix)
        epochs = run.config.train.epochs
        run.logger.info("training epochs %d-%d x %s", initial + 1, epochs,
                        self.describe_training(run, data, steps))
        yield Phase(model, dataset, steps, epochs, callbacks, initial_epoch=initial,
                    initial_step=step, seek=lambda n: self.seek(run, data, n),
                    validation_data=self.validation_data(run, data))
        backup.discard(backup_dir)  # the end-of-epoch checkpoints hold the finished run

    # -- after training -------------------------------------------------------------------
    def trained_model(self, run: Run, data, last: Phase | None) -> keras.Model:
        """The model to save, score and export (default: the last phase's)."""
        return last.model

    def save(self, run: Run, model: keras.Model) -> None:
        """Writes the trained networks as ``.keras`` files."""

    def evaluate(self, run: Run, model: keras.Model, data) -> dict:
        """The family's entries of ``metrics.json``."""
        return {}

    def export(self, run: Run, model: keras.Model, data) -> dict | None:
        """Exports for serving; ``{kind: path}`` or None when the family does not export."""
        return None


def resume_point(run: Run, model: keras.Model, backup_dir: Path, prefix: str | None
                 ) -> tuple[int, int]:
    """``(finished epochs, steps done in the next epoch)`` of a phase about to be fitted.

    With a backup in ``backup_dir`` that is its position (the phase's StepBackup loads it when
    training begins); otherwise the newest end-of-epoch checkpoint ``<prefix>-NNNN`` is loaded
    now (``(NNNN, 0)``), or ``(0, 0)`` for a new run.
    """
    position = backup.read_position(backup_dir)
    if position is not None:
        run.logger.info("resuming an interrupted run from %s: epoch %d, step %d (%d steps "
                        "into the phase)", backup_dir.relative_to(run.model_dir),
                        position.epoch + 1, position.step, position.phase_step)
        return position.epoch, position.step
    if prefix is None:
        return 0, 0
    return run_dir.restore_finished_epochs(model, run.model_dir, run.logger, prefix), 0


def summary_every(steps_per_epoch: int) -> int:
    """Steps between two TensorBoard points: at least 4 per epoch, at most 100 steps apart."""
    return max(1, min(100, steps_per_epoch // 4))


def standard_callbacks(run: Run, backup_dir: Path, prefix: str | None, steps_per_epoch: int,
                       keep: int = 0, backup_every: int = 0,
                       tensorboard_dir: Path | None = None,
                       history_file: Path | None = None) -> list:
    """The callbacks every phase has, in order: the non-finite loss guard (first, so no state
    with a NaN is ever written), the end-of-epoch checkpoint
    ``checkpoints/<prefix>-NNNN.weights.h5`` pruned to the newest
    ``keep`` (0: all; no checkpoint when ``prefix`` is None), TensorBoard (default
    ``tensorboard/``; losses per epoch and every :func:`summary_every` steps, plus
    :class:`RunSummaries`), the loss history (default ``history.csv``), the in-epoch progress,
    the run log's line per epoch and, last, the step-level backup (``backup_dir``, every
    ``backup_every`` steps and at epoch ends; training/backup.py). Last, because a resumed
    run redoes the end of an epoch only when the epoch's backup was not written: every other
    epoch-end output (checkpoint, history row, samples) must be on disk before it. Put a
    family's own callbacks before the last two (:meth:`Recipe.phases` does)."""
    callbacks = [NonFiniteGuard(backup_dir)]
    if prefix is not None:
        callbacks.append(keras.callbacks.ModelCheckpoint(
            str(run.model_dir / "checkpoints" / f"{prefix}-{{epoch:04d}}.weights.h5"),
            save_weights_only=True))
        if keep:
            callbacks.append(PruneCheckpoints(run.model_dir, prefix, keep))
    log_dir, every = tensorboard_dir or run.tensorboard_dir, summary_every(steps_per_epoch)
    config_text = json.dumps(config_base.to_dict(run.config), indent=2)
    callbacks += [keras.callbacks.TensorBoard(str(log_dir), update_freq=every),
                  RunSummaries(log_dir, config_text, every),
                  keras.callbacks.CSVLogger(str(history_file or run.model_dir / "history.csv"),
                                            append=True),
                  StepProgress(), EpochLog(run.logger),
                  backup.StepBackup(backup_dir, backup_every, steps_per_epoch)]
    return callbacks
