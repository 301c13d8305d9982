"""Step-level backups: atomic writes, and a run interrupted mid-epoch resumes exactly."""

import json
from dataclasses import dataclass, field

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfaudiogan.training import backup, driver
from tfaudiogan.training.recipe import Recipe


@dataclass(frozen=True)
class _Train:
    seed: int = 0
    epochs: int = 3
    steps_per_epoch: int = 4
    batch_size: int = 2
    backup_every_steps: int = 3


@dataclass(frozen=True)
class _Config:
    train: _Train = field(default_factory=_Train)


class _NoisyLine(Recipe):
    """y = 2x through noise (a seeded random stream) and SGD with momentum (optimizer slots),
    on a shuffled, repeated dataset: every piece of state a resume must restore."""

    config_cls = _Config
    checkpoint_prefix = "line"

    def load_data(self, run):
        return np.linspace(-1, 1, 8, dtype=np.float32)[:, None]

    def dataset(self, run, x):
        t = run.config.train
        ds = tf.data.Dataset.from_tensor_slices((x, 2 * x)).shuffle(8, seed=t.seed).repeat()
        return ds.batch(t.batch_size)

    def build_model(self, run, x):
        model = keras.Sequential([keras.Input((1,)), keras.layers.GaussianNoise(0.3, seed=1),
                                  keras.layers.Dense(1)])
        model.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9), loss="mse")
        return model

    def evaluate(self, run, model, x):
        return {"weights": [w.tolist() for w in model.get_weights()]}


class _KillAt(keras.callbacks.Callback):
    """Raises at the end of the given step of the given epoch (1-based), like a kill."""

    def __init__(self, epoch: int, step: int):
        super().__init__()
        self.epoch, self.step, self._epoch = epoch, step, 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch + 1

    def on_train_batch_end(self, batch, logs=None):
        if self._epoch == self.epoch and batch + 1 == self.step:
            raise KeyboardInterrupt("simulated kill")


def _history(model_dir) -> list[str]:
    return (model_dir / "history.csv").read_text().splitlines()


@pytest.mark.parametrize("kill_epoch, kill_step", [(2, 3), (1, 4), (3, 1)])
def test_a_run_killed_mid_epoch_ends_equal_to_an_uninterrupted_one(tmp_path, kill_epoch,
                                                                     kill_step):
    keras.utils.set_random_seed(0)
    reference = driver.run(_NoisyLine(), _Config(), tmp_path / "ref", export=False)
    killed = tmp_path / "killed"
    with pytest.raises(KeyboardInterrupt):
        driver.run(_NoisyLine(), _Config(), killed, export=False,
                   extra_callbacks=[_KillAt(kill_epoch, kill_step)])
    position = backup.read_position(killed / "backup")
    # every 3 steps and at epoch ends: the newest backup is the last multiple of 3 or epoch end
    done = (kill_epoch - 1) * 4 + kill_step
    assert position.phase_step == max(done // 3 * 3, (kill_epoch - 1) * 4)
    resumed = driver.run(_NoisyLine(), _Config(), killed, export=False)
    for a, b in zip(reference["weights"], resumed["weights"]):
        np.testing.assert_array_equal(np.array(a), np.array(b))
    log = (killed / "run.log").read_text()
    assert f"resuming an interrupted run from backup: epoch {position.epoch + 1}" in log
    assert not (killed / "backup").exists()  # removed once the run finished
    # the interrupted epoch's logged mean covers all of its steps, as in the reference
    ref_rows = {r.split(",")[0]: r for r in _history(tmp_path / "ref")[1:]}
    rows = {r.split(",")[0]: r for r in _history(killed)[1:]}
    assert rows == ref_rows


def test_a_kill_while_writing_a_backup_leaves_the_previous_one_usable(tmp_path, monkeypatch):
    model = _NoisyLine().build_model(None, None)
    backup.save(model, tmp_path, backup.Position(1, 0, 4))
    before = [w.copy() for w in model.get_weights()]
    model.layers[-1].kernel.assign([[5.0]])

    def dies_half_way(path, *args, **kwargs):
        with open(path, "wb") as handle:
            handle.write(b"partial")
        raise KeyboardInterrupt("killed while writing")

    monkeypatch.setattr(model, "save_weights", dies_half_way)
    with pytest.raises(KeyboardInterrupt):
        backup.save(model, tmp_path, backup.Position(1, 2, 6))
    assert json.loads((tmp_path / "position.json").read_text())["phase_step"] == 4
    fresh = _NoisyLine().build_model(None, None)
    assert backup.restore(fresh, tmp_path) == backup.Position(1, 0, 4)
    for a, b in zip(before, fresh.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_the_random_streams_are_part_of_the_backup(tmp_path):
    model = _NoisyLine().build_model(None, None)
    states = [v for v in backup.extra_variables(model) if "seed_generator_state" in v.path]
    assert states, "the noise layer's SeedGenerator state must be backed up"
    backup.save(model, tmp_path, backup.Position(0, 1, 1))
    states[0].assign(states[0] + 7)
    backup.restore(model, tmp_path)
    fresh = _NoisyLine().build_model(None, None)
    fresh_states = [v for v in backup.extra_variables(fresh) if "seed_generator_state" in v.path]
    np.testing.assert_array_equal(states[0].numpy(), fresh_states[0].numpy())


def test_a_backup_of_another_model_is_refused(tmp_path):
    backup.save(_NoisyLine().build_model(None, None), tmp_path, backup.Position(0, 1, 1))
    other = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    other.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9), loss="mse")
    with pytest.raises(ValueError):
        backup.restore(other, tmp_path)
