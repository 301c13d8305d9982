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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keras
import tensorflow as tf

from tfaudiogan.configs import base as config_base
from tfaudiogan.training import run_dir
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
        return (f"{steps} steps (batch {t.batch_size}, "
                f"{run.strategy.num_replicas_in_sync} replica(s))")

    def phases(self, run: Run, data) -> Iterator[Phase]:
        """The ``fit`` calls of the run; default: one (see the module docstring).

        The one phase trains ``config.train.epochs`` epochs with the standard callbacks
        (:func:`standard_callbacks`) around the family's, after the newest finished epoch
        (``checkpoints/``) or from ``backup/`` when the last session was interrupted.
        """
        dataset = self.dataset(run, data)
        with run.strategy.scope():
            model = self.build_model(run, data)
        steps = self.steps_per_epoch(run, data)
        prefix = self.checkpoint_name(run)
        callbacks = standard_callbacks(run, run.model_dir / "backup", prefix, steps,
                                       self.keep_checkpoints(run))
        callbacks[-1:-1] = self.callbacks(run, model, data)  # the run log stays last
        initial = run_dir.restore_finished_epochs(model, run.model_dir, run.logger, prefix)
        epochs = run.config.train.epochs
        run.logger.info("training epochs %d-%d x %s", initial + 1, epochs,
                        self.describe_training(run, data, steps))
        yield Phase(model, dataset, steps, epochs, callbacks,
                    initial_epoch=initial, validation_data=self.validation_data(run, data))

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


def summary_every(steps_per_epoch: int) -> int:
    """Steps between two TensorBoard points: at least 4 per epoch, at most 100 steps apart."""
    return max(1, min(100, steps_per_epoch // 4))


def standard_callbacks(run: Run, backup_dir: Path, prefix: str | None, steps_per_epoch: int,
                       keep: int = 0, tensorboard_dir: Path | None = None,
                       history_file: Path | None = None) -> list:
    """The callbacks every phase has, in order: the non-finite loss guard (first, so no state
    with a NaN is ever written), BackupAndRestore (``backup_dir``), the end-of-epoch checkpoint ``checkpoints/<prefix>-NNNN.weights.h5`` pruned to the newest
    ``keep`` (0: all; no checkpoint when ``prefix`` is None), TensorBoard (default
    ``tensorboard/``; losses per epoch and every :func:`summary_every` steps, plus
    :class:`RunSummaries`), the loss history (default ``history.csv``), the in-epoch progress and
    the run log's line per epoch (last)."""
    callbacks = [NonFiniteGuard(backup_dir), keras.callbacks.BackupAndRestore(str(backup_dir))]
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
                  StepProgress(), EpochLog(run.logger)]
    return callbacks
