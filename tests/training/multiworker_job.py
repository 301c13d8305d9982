"""One process of the multi-worker tests: trains every family in turn and records what it did.

    python -m tests.training.multiworker_job RUNS RECORDS STRATEGY [FAMILY ...]

``STRATEGY`` is ``multi_worker`` (a worker of the cluster in ``TF_CONFIG``) or ``default`` (the
one-process reference). Every family runs through the real driver (``driver.run``) with its
run directory ``RUNS/<family>`` (the same folder for every worker of a cluster: only the chief
may write it). ``RECORDS/<worker0|worker1|single0>.pkl`` gets, per family: the directory this process wrote, the
files in it, the metrics, and per ``fit`` phase the weights before and after, the optimizer
step counts and the ids of the training examples each replica consumed at each step.

Example ids: each training row a replica receives is matched to the in-memory example it was
made from (the same row, or for CycleGAN the clip a crop was cut from), so a record reads
``{replica: [[ids of step 1], [ids of step 2], ...]}``.

The process runs one MultiWorkerMirroredStrategy for all families (it can only be created once
per process), in the same order on every worker, so their collectives line up.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import pickle
import sys
import time
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from tfaudiogan import configs
from tfaudiogan.layers.image_pool import ImagePool
from tfaudiogan.training import cluster, driver
from tfaudiogan.training.strategy import get_strategy

ADAM_EPSILON = 1.0  # see FAMILIES


def _epsilon(section: str) -> list[str]:
    return [f"{section}.epsilon={ADAM_EPSILON}"]


@dataclasses.dataclass
class Family:
    """A family as the test trains it.

    Attributes:
        preset: (config family, preset) to start from.
        overrides: ``--set`` values: tiny widths, one pass over the data at most, few samples.
        recipe: the family's recipe.
        rows: ``rows(train_step data) -> {stream: [k, ...] examples}``.
        tables: ``tables(run, data) -> {stream: [n, ...] source examples}``.
    """

    preset: tuple[str, str]
    overrides: list[str]
    recipe: Callable
    rows: Callable
    tables: Callable


def _cyclegan_tables(run, data):
    from tfaudiogan.data.pipelines import encode_spectrograms

    return {name: encode_spectrograms(waves, data["rep"])
            for name, waves in zip("ab", data["splits"]["train"].values())}


def _gansynth_tables(run, data):
    from tfaudiogan.audio.batching import encode_in_batches
    from tfaudiogan.audio.gansynth import normalise

    audio = np.stack([a for a, _ in data["notes"].as_numpy_iterator()])
    encode = tf.function(lambda a: normalise(data["rep"].encode(a)))
    return {"x": np.asarray(encode_in_batches(encode, audio, 8))}


def _pitch_tables(run, data):
    from tfaudiogan.recipes.pitch_classifier import _synthetic

    return {"x": _synthetic(run.config, "train")[0]}


def _recipe(module: str):
    def load():
        import importlib

        return importlib.import_module(f"tfaudiogan.recipes.{module}").RECIPE
    return load


def _flat_examples(x):  # WaveGAN / SpecGAN elements are [batch, d_updates, ...]
    return tf.reshape(x, tf.concat([[-1], tf.shape(x)[2:]], 0))


# Every config: the smoke preset, two epochs of one step (GANSynth: three stages of one step),
# so the epoch-end saves run twice; at most one pass over the training examples (so "no
# example trained on twice" is checkable); and Adam with epsilon 1 (ADAM_EPSILON), i.e. in
# its SGD-like regime (update ~ lr * gradient): a wrong loss scale or a wrong batch shows at
# full size, while rounding differences between 1 and 2 replicas stay small (with epsilon
# ~ |gradient| Adam amplifies them ~50x; with 1e-8 a weight whose true gradient is 0, e.g. a
# bias before a normalisation, steps +-lr on the sign of rounding noise). The learning rates
# make every family's largest weight change at least 5e-5.
STEPS = ["train.epochs=2", "train.steps_per_epoch=1"]
LR = "0.002"
FAMILIES = {
    "cyclegan": Family(
        ("cyclegan_irmas", "smoke"),
        # pool_size 50 (paper): the per-replica pools (gans/cyclegan.py) are still filling,
        # so they return the current fakes as one process's pool does. lr 0.001: the instance
        # norms of near-silent (padded) crops amplify rounding, more with larger steps.
        [*STEPS, "train.pool_size=50", "optimizer.learning_rate=0.001", *_epsilon("optimizer")],
        _recipe("cyclegan"), lambda d: {"a": d[0], "b": d[1]}, _cyclegan_tables),
    "wavegan": Family(
        ("wavegan_sc09", "smoke"),
        [*STEPS, f"optimizer.learning_rate={LR}", *_epsilon("optimizer"),
         "train.sample_clips=1"],
        _recipe("wavegan"), lambda d: {"x": _flat_examples(d)},
        lambda run, data: {"x": data["x"]}),
    "specgan": Family(
        ("specgan_sc09", "smoke"),
        [*STEPS, f"optimizer.learning_rate={LR}", *_epsilon("optimizer"),
         "train.sample_clips=1"],
        _recipe("wavegan"), lambda d: {"x": _flat_examples(d)},
        lambda run, data: {"x": data["x"]}),
    "gansynth": Family(
        ("gansynth_nsynth", "smoke"),  # stages 0 (stable), 1 (transition), 2: one step each
        ["train.stable_images=4", "train.transition_images=4", "train.total_images=9",
         f"optimizer.g_learning_rate={LR}", f"optimizer.d_learning_rate={LR}",
         *_epsilon("optimizer")],
        _recipe("gansynth"), lambda d: {"x": d[0]}, _gansynth_tables),
    "ddsp_gan": Family(
        ("ddsp_gan_nsynth", "smoke"),
        # lr 0.002: the F0 -> phase path amplifies rounding with larger steps (at 0.01 the
        # cluster ends 3 % of the largest change away from one process)
        [*STEPS, "train.sample_clips=1", f"optimizer.g_learning_rate={LR}",
         f"optimizer.d_learning_rate={LR}", *_epsilon("optimizer")],
        _recipe("ddsp_gan"), lambda d: {"x": d["audio"]},
        lambda run, data: {"x": np.stack([e["audio"] for e in data.as_numpy_iterator()])}),
    "sc09_classifier": Family(
        ("sc09_classifier", "smoke"),
        [*STEPS, f"optimizer.learning_rate={LR}", *_epsilon("optimizer")],
        _recipe("sc09_classifier"), lambda d: {"x": d[0]},
        lambda run, data: {"x": data["train"][0]}),
    "pitch_classifier": Family(
        ("nsynth_pitch_classifier", "smoke"),
        [*STEPS, "train.learning_rate=0.05", f"train.epsilon={ADAM_EPSILON}"],
        _recipe("pitch_classifier"), lambda d: {"x": d[0]}, _pitch_tables),
}


# Run after the others: a re-run of a family's finished run with more epochs resumes from its
# newest checkpoint, on every worker (worker 1 from its copy of the chief's run directory).
RESUMED = {"pitch_classifier_resumed": ("pitch_classifier", ["train.epochs=3"])}


def match_ids(rows: np.ndarray, table: np.ndarray, atol: float = 1e-6) -> list[int]:
    """Index in ``table`` of the example each row is (or, when the rows are narrower along an
    axis, was cropped from); -1 where none matches."""
    ids = []
    for row in rows:
        if row.shape == table.shape[1:]:
            diffs = np.abs(table - row).reshape(len(table), -1).max(axis=1)
            best = int(np.argmin(diffs))
            ids.append(best if diffs[best] <= atol else -1)
            continue
        axis = next(i for i, (a, b) in enumerate(zip(row.shape, table.shape[1:])) if a != b)
        width, found = row.shape[axis], -1
        for index, example in enumerate(table):
            for offset in range(example.shape[axis] - width + 1):
                crop = np.take(example, range(offset, offset + width), axis=axis)
                if np.abs(crop - row).max() <= atol:
                    found = index
                    break
            if found >= 0:
                break
        ids.append(found)
    return ids


def snapshot(model: keras.Model) -> list[tuple[str, np.ndarray]]:
    """Every weight of ``model`` except the per-replica image pools (their contents are each
    replica's own by design, gans/cyclegan.py)."""
    pools = {id(v) for layer in model._flatten_layers() if isinstance(layer, ImagePool)
             for v in layer.weights}
    return [(v.path, np.array(v.numpy())) for v in model.weights if id(v) not in pools]


def iterations(model: keras.Model) -> dict[str, int]:
    names = ("optimizer", "g_optimizer", "d_optimizer")
    return {n: int(getattr(model, n).iterations.numpy()) for n in names
            if getattr(model, n, None) is not None}


class Recorder(keras.callbacks.Callback):
    """Per phase: the weights before and after, and the example ids every replica consumed."""

    def __init__(self, family: Family):
        super().__init__()
        self.family, self.tables, self.phases, self._wrapped = family, None, [], set()

    def set_model(self, model):
        super().set_model(model)
        if id(model) in self._wrapped:
            return
        self._wrapped.add(id(model))
        inner = model.train_step

        def train_step(data):  # records this replica's rows, then the real step
            rows = self.family.rows(data)
            names = sorted(rows)
            context = tf.distribute.get_replica_context()
            replica = tf.convert_to_tensor(0 if context is None
                                           else context.replica_id_in_sync_group)
            token = tf.numpy_function(self._consumed, [replica, *(rows[n] for n in names)],
                                      tf.int64, stateful=True)
            with tf.control_dependencies([token]):
                data = tf.nest.map_structure(tf.identity, data)
            return inner(data)

        model.train_step = train_step

    def _consumed(self, replica, *arrays):
        names = sorted(self.tables)
        step = {name: match_ids(np.asarray(a), self.tables[name]) for name, a in
                zip(names, arrays)}
        self.phases[-1]["consumed"].setdefault(int(replica), []).append(step)
        return np.int64(0)

    def on_train_begin(self, logs=None):
        self.phases.append({"before": snapshot(self.model), "consumed": {}})

    def on_train_end(self, logs=None):
        self.phases[-1].update(after=snapshot(self.model), iterations=iterations(self.model))


def _specgan_moments(config, out: Path, tag: str):
    """Computes the SpecGAN moments first (the documented ``--moments_only`` step) into a file
    of this process, named by an absolute ``spectrogram.moments_file``."""
    from tfaudiogan.audio.specgan import compute_moments, save_moments
    from tfaudiogan.recipes.wavegan import load_training_waves

    waves = load_training_waves(config, None, logging.getLogger("moments"))
    s = config.spectrogram
    mean, std = compute_moments(waves, frame_length=s.frame_length, frame_step=s.frame_step)
    path = save_moments(out / f"specgan_moments_{tag}.npz", mean, std)
    return configs.apply_overrides(config, [f"spectrogram.moments_file={path}"])


def train_family(name: str, strategy, runs: Path, tag: str) -> dict:
    """Trains ``name`` (a key of FAMILIES or RESUMED) in ``runs/<family>``; its record."""
    run_name, more = RESUMED.get(name, (name, []))
    family = FAMILIES[run_name]
    config = configs.apply_overrides(configs.get_preset(*family.preset),
                                     family.overrides + more)
    if name == "specgan":
        config = _specgan_moments(config, runs, tag)
    recipe = family.recipe()
    recorder = Recorder(family)
    seen = {}

    class Spy(type(recipe)):  # the recipe, noting the run and filling the id tables
        def load_data(self, run):
            data = super().load_data(run)
            seen["write_dir"] = run.model_dir
            recorder.tables = family.tables(run, data)
            return data

    began, cpu = time.perf_counter(), time.process_time()
    metrics = driver.run(Spy(), config, runs / run_name, strategy=strategy, export=False,
                         extra_callbacks=[recorder])
    written = seen["write_dir"]
    return {"write_dir": str(written), "seconds": time.perf_counter() - began,
            "cpu_seconds": time.process_time() - cpu,
            "files": sorted(str(p.relative_to(written)) for p in written.rglob("*")),
            "metrics": metrics, "phases": recorder.phases,
            "table_sizes": {k: len(v) for k, v in recorder.tables.items()}}


def stream_shard(strategy) -> dict:
    """A streamed source (like NSynth notes) split per worker: the ids each replica gets in 3
    steps of global batch 4 from 12 examples."""
    ds = cluster.worker_shard(tf.data.Dataset.range(12), strategy)
    ds = ds.shuffle(12, seed=1).repeat().batch(4, drop_remainder=True)
    dist = iter(strategy.experimental_distribute_dataset(cluster.shard_input(ds, strategy)))
    steps = [strategy.experimental_local_results(next(dist)) for _ in range(3)]
    return {"policy": int(ds.options().experimental_distribute.auto_shard_policy),
            "ids": [[int(i) for part in step for i in np.asarray(part).ravel()]
                    for step in steps]}


def main(argv: list[str]) -> None:
    runs, records, strategy_name, *names = argv[1:]
    runs, names = Path(runs), names or [*FAMILIES, *RESUMED]
    runs.mkdir(parents=True, exist_ok=True)
    strategy = get_strategy(strategy_name)
    worker = cluster.worker_of(strategy)
    tag = f"{worker.task_type}{worker.index}" if worker.task_type else strategy_name
    out = {"worker": dataclasses.asdict(worker),
           "replicas": strategy.num_replicas_in_sync, "families": {}}
    for name in names:
        out["families"][name] = train_family(name, strategy, runs, tag)
        done = out["families"][name]
        print(f"{tag}: {name} done in {done['seconds']:.1f} s ({done['cpu_seconds']:.1f} s CPU)",
              flush=True)
    out["stream_shard"] = stream_shard(strategy)
    out["cpu_seconds"] = time.process_time()  # the whole process, TensorFlow's import included
    (Path(records) / f"{tag}.pkl").write_bytes(pickle.dumps(out))


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    main(sys.argv)
