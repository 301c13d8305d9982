"""Step-level backups: a killed run resumes at the step it reached, not at its last epoch.

``keras.callbacks.BackupAndRestore`` writes at epoch ends and, with ``save_freq=N``, restores
only the epoch: the steps of the interrupted epoch are trained again on other batches. A
:class:`StepBackup` instead records where the phase stands and everything the next step
depends on:

* the weights and optimizer slots of every network (``model.save_weights``: both optimizers of
  a GAN, the image pools, the GANSynth EMA generator);
* the model's non-trainable variables that ``save_weights`` leaves out: the random streams
  (``keras.random.SeedGenerator`` states of z, gradient penalty, phase shuffle, image pool and
  noise draws), the progressive GAN's image counter and fade-in alpha, and the loss trackers
  of the running epoch;
* the position: finished epochs, steps done in the current epoch, steps done in the phase.
  The data position is the phase's step count: the driver re-opens the seeded dataset after
  that many batches (:meth:`tfaudiogan.training.recipe.Recipe.seek`).

Layout of ``backup_dir``::

    step-<N>.weights.h5   networks and optimizers after phase step N
    step-<N>.state.npz    the extra variables (see above)
    position.json         {"epoch", "step", "phase_step", "weights", "state"}: the newest
                          complete backup; replaced atomically after both files are complete

A kill at any moment leaves ``position.json`` naming complete files (the previous backup while
the next one is written), so re-running the same command always finds a usable backup. The
phase's owner deletes the folder with :func:`discard` once the phase's results are saved.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from pathlib import Path

import keras
import numpy as np

POSITION_FILE = "position.json"


@dataclasses.dataclass(frozen=True)
class Position:
    """Where a phase stands.

    Attributes:
        epoch: finished epochs of the phase (fit's ``initial_epoch`` on resume).
        step: steps done in epoch ``epoch`` (0 at an epoch boundary).
        phase_step: steps done since the phase began (= the data position in batches).
    """

    epoch: int
    step: int
    phase_step: int


def extra_variables(model: keras.Model) -> list:
    """The variables a backup adds to ``save_weights``: the model's non-trainable variables
    (random-stream states, counters, image pools, normalisation statistics) and its loss
    trackers' totals and counts, in a fixed order."""
    tracked = list(model.non_trainable_variables)
    for metric in getattr(model, "metrics", []):
        tracked += list(metric.variables)
    seen, unique = set(), []
    for variable in tracked:  # a variable can be reachable twice (shared layers)
        if id(variable) not in seen:
            seen.add(id(variable))
            unique.append(variable)
    return unique


def build_optimizer(model: keras.Model) -> None:
    """Creates a plain Keras model's optimizer slots before weights are loaded into it.

    Keras builds ``model.optimizer`` lazily at the first train step (without a distribution
    strategy), and ``load_weights`` skips, with only a warning, the slots of an optimizer that
    is not built: a resumed classifier would restart its Adam moments. GAN wrappers build
    theirs in ``compile`` (gans/base.py).
    """
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None and not optimizer.built:
        optimizer.build(model.trainable_variables)


def _write_json(path: Path, value: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(value) + "\n")
    os.replace(tmp, path)  # atomic on POSIX: the old or the new file, never half of one


def save(model: keras.Model, backup_dir: Path, position: Position) -> None:
    """Writes a complete backup of ``model`` at ``position``, then points ``position.json`` at
    it and removes the older ones."""
    backup_dir = Path(backup_dir)
    backup_dir.mkdir(parents=True, exist_ok=True)
    stem = f"step-{position.phase_step:09d}"
    weights, state = backup_dir / f"{stem}.weights.h5", backup_dir / f"{stem}.state.npz"
    tmp_weights = backup_dir / f"{stem}.tmp.weights.h5"
    build_optimizer(model)  # the same variables whether or not a step has run yet
    model.save_weights(tmp_weights)
    os.replace(tmp_weights, weights)
    variables = extra_variables(model)
    tmp_state = backup_dir / f"{stem}.tmp.npz"
    with open(tmp_state, "wb") as handle:
        np.savez(handle, *[np.asarray(v.numpy()) for v in variables],
                 paths=np.array([v.path for v in variables]))
    os.replace(tmp_state, state)
    _write_json(backup_dir / POSITION_FILE, {**dataclasses.asdict(position),
                                             "weights": weights.name, "state": state.name})
    for old in backup_dir.glob("step-*"):
        if old.name not in (weights.name, state.name):
            old.unlink(missing_ok=True)


def read_position(backup_dir: Path) -> Position | None:
    """The newest complete backup's position, or None when there is none."""
    path = Path(backup_dir) / POSITION_FILE
    if not path.exists():
        return None
    stored = json.loads(path.read_text())
    return Position(stored["epoch"], stored["step"], stored["phase_step"])


def restore(model: keras.Model, backup_dir: Path) -> Position | None:
    """Loads the newest backup of ``backup_dir`` into ``model`` (built and compiled the same
    way as the one that wrote it).

    Returns:
        Its position, or None (and ``model`` unchanged) when there is no backup.

    Raises:
        ValueError: the backup's extra variables do not match the model's.
    """
    backup_dir = Path(backup_dir)
    path = backup_dir / POSITION_FILE
    if not path.exists():
        return None
    stored = json.loads(path.read_text())
    build_optimizer(model)
    model.load_weights(backup_dir / stored["weights"])
    variables = extra_variables(model)
    with np.load(backup_dir / stored["state"]) as arrays:
        values = [arrays[f"arr_{i}"] for i in range(len(arrays.files) - 1)]
    # variable paths carry Keras' per-process unique-name suffixes: compare shapes instead
    if [v.shape for v in values] != [tuple(v.shape) for v in variables]:
        raise ValueError(f"the backup in '{backup_dir}' was written by another model (its "
                         "extra variables differ in number or shape); use a new --model_dir")
    for variable, value in zip(variables, values):
        variable.assign(value)
    return Position(stored["epoch"], stored["step"], stored["phase_step"])


def discard(backup_dir: Path) -> None:
    """Removes a finished phase's backups."""
    shutil.rmtree(backup_dir, ignore_errors=True)


class StepBackup(keras.callbacks.Callback):
    """Backs the phase up every ``every_steps`` steps and at every epoch end, and restores the
    newest backup when training begins.

    The restore happens in ``on_train_begin`` (weights, optimizer slots, random streams); the
    running epoch's loss trackers are put back after Keras resets them at the epoch's start, so
    the resumed epoch's logged means cover all of its steps. The owner of the phase reads the
    position first (:func:`read_position`) to choose fit's ``initial_epoch`` and the data
    position; the driver sets :attr:`batch_offset` while it fits the rest of an interrupted
    epoch (Keras counts that epoch's batches from 0).

    Args:
        backup_dir: the phase's backup folder.
        every_steps: steps between two backups (0: at epoch ends only).
        epoch_steps: steps per epoch of the phase.
    """

    def __init__(self, backup_dir, every_steps: int, epoch_steps: int):
        super().__init__()
        self.backup_dir = Path(backup_dir)
        self.every_steps, self.epoch_steps = max(0, int(every_steps)), int(epoch_steps)
        self.batch_offset = 0
        self._epoch = 0
        self._restore_pending = read_position(self.backup_dir) is not None
        self._trackers: list = []

    def _position(self, batch: int) -> Position:
        step = self.batch_offset + batch + 1
        return Position(self._epoch, step, self._epoch * self.epoch_steps + step)

    def on_train_begin(self, logs=None):
        if not self._restore_pending:
            return
        self._restore_pending = False
        position = restore(self.model, self.backup_dir)
        if position.step:  # mid-epoch: keep the epoch's running means for on_epoch_begin
            self._trackers = [(v, v.numpy()) for m in self.model.metrics for v in m.variables]

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        for variable, value in self._trackers:
            variable.assign(value)
        self._trackers = []

    def on_train_batch_end(self, batch, logs=None):
        position = self._position(batch)
        if (self.every_steps and position.phase_step % self.every_steps == 0
                and position.step < self.epoch_steps):  # the epoch end writes its own
            save(self.model, self.backup_dir, position)

    def on_epoch_end(self, epoch, logs=None):
        save(self.model, self.backup_dir,
             Position(epoch + 1, 0, (epoch + 1) * self.epoch_steps))
