"""Training on several workers (``tf.distribute.MultiWorkerMirroredStrategy``, ``TF_CONFIG``).

Every worker runs the same program: the same recipe hooks, the same ``fit`` calls and the same
callbacks, so every collective (the gradient all-reduce of each step, the reduction of the
logged values, validation, and the reads of on-read variables such as metric totals when a
callback saves weights) runs on every worker in the same order. What differs is where a worker
writes and which examples it trains on.

Where a worker writes (:func:`write_dir`). The chief (task ``chief``, or worker 0 when the
cluster has no chief) writes the run directory: config.json, run.log, backups, checkpoints,
samples, metrics, exports and TensorBoard. Every other worker writes the same files into a
private scratch directory (the usual MultiWorkerMirroredStrategy practice), so its callbacks
still save (and so still take part in the collectives saving needs) without touching the
chief's files. The scratch directory starts as a copy of the run directory's resumable state
(backups, checkpoints, finished GANSynth stages, SpecGAN moments), copied once every worker
has reached that point (:func:`barrier`), so a resumed cluster restores the same state on
every worker; this needs the run directory on a file system every worker sees, as tf.keras'
own multi-worker BackupAndRestore did. It is deleted when the process exits.

Which examples a worker trains on (:func:`shard_input`, :func:`worker_shard`). The config's
``train.batch_size`` is the global batch, split evenly over all replicas of all workers
(:func:`check_global_batch`). Two ways of splitting the input, always explicit:

* ``DATA`` (in-memory data: the built-in sets, SC09, IRMAS and folder clips, which every
  recipe holds as arrays): every worker builds the same seeded, shuffled stream and keeps only
  its replicas' rows of each global batch. No two workers train on the same example, and a
  global batch is exactly the batch one process would train on, so one process and a cluster
  on the same global batch reach the same weights (tests/training/test_multiworker.py).
* per worker (streamed NSynth notes): worker ``i`` of ``n`` keeps every ``n``-th note of the
  unshuffled source (:func:`worker_shard`, policy ``OFF``), so no worker decodes or encodes
  another's notes; each worker then shuffles its own shard.

tf.distribute's default (``AUTO``) would pick file sharding for a TFRecord source and fall back
to ``DATA`` (with a warning) for arrays; file sharding needs at least as many files as workers
and the NSynth training split is one file.
"""

from __future__ import annotations

import atexit
import dataclasses
import shutil
import tempfile
from pathlib import Path

import tensorflow as tf

Policy = tf.data.experimental.AutoShardPolicy

#: Run-directory entries a non-chief worker never needs (the chief's outputs).
CHIEF_OUTPUTS = ("config.json", "run.log", "tensorboard", "samples", "export", "metrics.json",
                 "history.csv", ".write_test")


@dataclasses.dataclass(frozen=True)
class Worker:
    """This process's place in the cluster.

    Attributes:
        task_type: "chief" or "worker" (None without a cluster).
        index: the task index within its type.
        count: workers in the cluster, chief included (1 without a cluster).
        is_chief: whether this worker writes the run directory.
    """

    task_type: str | None = None
    index: int = 0
    count: int = 1
    is_chief: bool = True

    @property
    def name(self) -> str:
        return f"{self.task_type} {self.index}" if self.task_type else "the only worker"


def worker_of(strategy: tf.distribute.Strategy) -> Worker:
    """The worker this process is under ``strategy`` (one worker unless multi-worker)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) or resolver is None:
        return Worker()
    spec = resolver.cluster_spec().as_dict()
    count = sum(len(spec.get(kind, [])) for kind in ("chief", "worker"))
    if count <= 1:
        return Worker()
    task_type, index = resolver.task_type, int(resolver.task_id or 0)
    chief = task_type == "chief" or (task_type == "worker" and index == 0
                                     and "chief" not in spec)
    return Worker(task_type, index, count, chief)


def barrier(strategy: tf.distribute.Strategy) -> None:
    """Returns once every worker of ``strategy`` has called it (an all-reduce of one value);
    does nothing with one worker."""
    if worker_of(strategy).count > 1:
        strategy.reduce(tf.distribute.ReduceOp.SUM, strategy.run(lambda: tf.ones([])),
                        axis=None)


def write_dir(model_dir, strategy: tf.distribute.Strategy) -> Path:
    """The directory this worker writes: ``model_dir`` for the chief (or a single worker),
    else a fresh private scratch directory seeded with the run's resumable state (module
    docstring), removed when the process exits.

    With several workers every worker first waits for all others (:func:`barrier`), so a
    worker copies the run directory only after the chief has finished with it. Without the
    wait, a rerun that one worker starts while the chief is still ending the previous run (and
    removing its backup) copied that backup: the worker resumed from the backup and the chief
    from the last checkpoint, and their collectives no longer matched ("Collective instance
    ... expected ... data_type 1 but got ... data_type 9").

    Raises:
        ValueError: ``strategy`` is a plain ``tf.distribute.MultiWorkerMirroredStrategy``,
            with which Keras 3's ``fit`` fails (use ``strategy="multi_worker"``:
            training/strategy.py ``MultiWorkerStrategy``).
    """
    if type(strategy) is tf.distribute.MultiWorkerMirroredStrategy:
        raise ValueError("Keras 3 cannot fit with a plain tf.distribute.MultiWorkerMirroredStrategy"
                         "; pass strategy='multi_worker' (tfaudiogan.training.strategy."
                         "MultiWorkerStrategy)")
    model_dir = Path(model_dir)
    worker = worker_of(strategy)
    barrier(strategy)
    if worker.is_chief:
        return model_dir
    scratch = Path(tempfile.mkdtemp(prefix=f"tfaudiogan-{worker.task_type}{worker.index}-"))
    atexit.register(shutil.rmtree, scratch, ignore_errors=True)
    if model_dir.is_dir():
        for entry in model_dir.iterdir():
            if entry.name in CHIEF_OUTPUTS:
                continue
            if entry.is_dir():
                shutil.copytree(entry, scratch / entry.name)
            else:
                shutil.copy2(entry, scratch / entry.name)
    return scratch


def check_global_batch(batch_size: int, strategy: tf.distribute.Strategy) -> None:
    """Raises ValueError unless the global batch splits evenly over the replicas (the GAN
    steps draw their latents for the global batch and keep equal per-replica slices)."""
    replicas = strategy.num_replicas_in_sync
    if batch_size % replicas:
        raise ValueError(f"the global batch (train.batch_size={batch_size}) does not split "
                         f"evenly over {replicas} replicas; use a multiple of {replicas}")


def batch_text(batch_size: int, strategy: tf.distribute.Strategy) -> str:
    """``"global batch 8 = 4 per replica x 2 replica(s)"`` (+ the worker count)."""
    replicas = strategy.num_replicas_in_sync
    workers = worker_of(strategy).count
    where = f" on {workers} workers" if workers > 1 else ""
    return (f"global batch {batch_size} = {batch_size // replicas} per replica x "
            f"{replicas} replica(s){where}")


def describe(strategy: tf.distribute.Strategy, model_dir, written, config=None) -> list[str]:
    """The run log's lines about the cluster (none for one worker) and the global batch of
    ``config.train.batch_size`` (checked by :func:`check_global_batch`)."""
    lines = []
    worker = worker_of(strategy)
    if worker.count > 1:
        role = ("the chief: writes the run directory" if worker.is_chief else
                f"not the chief: writes to the private scratch directory {written}, not "
                f"{model_dir}")
        lines.append(f"cluster of {worker.count} workers; this is {worker.name} ({role})")
    batch_size = getattr(getattr(config, "train", None), "batch_size", None)
    if batch_size:
        check_global_batch(batch_size, strategy)
        lines.append(batch_text(batch_size, strategy))
    return lines


def worker_shard(dataset: tf.data.Dataset, strategy: tf.distribute.Strategy) -> tf.data.Dataset:
    """Worker ``i`` of ``n`` keeps elements ``i, i + n, ...`` of ``dataset`` (an unshuffled
    stream, e.g. NSynth notes); tf.distribute then leaves it alone (policy ``OFF``). Shuffle,
    decode and batch after this. Unchanged with one worker."""
    worker = worker_of(strategy)
    if worker.count == 1:
        return dataset
    return _with_policy(dataset.shard(worker.count, worker.index), Policy.OFF)


def shard_input(dataset, strategy: tf.distribute.Strategy):
    """``dataset`` with its multi-worker split made explicit: kept as set (e.g. by
    :func:`worker_shard`), else ``DATA`` (module docstring). Unchanged with one worker or when
    ``dataset`` is not a ``tf.data.Dataset``."""
    if worker_of(strategy).count == 1 or not isinstance(dataset, tf.data.Dataset):
        return dataset
    if dataset.options().experimental_distribute.auto_shard_policy != Policy.AUTO:
        return dataset
    return _with_policy(dataset, Policy.DATA)


def sharding_text(dataset) -> str:
    """How :func:`shard_input`'s result is split over the workers, for the run log."""
    policy = dataset.options().experimental_distribute.auto_shard_policy
    if policy == Policy.DATA:
        return ("input split DATA: every worker builds the same shuffled stream and keeps "
                "its replicas' rows of each global batch")
    if policy == Policy.OFF:
        return "input split per worker: each worker streams its own shard of the examples"
    return f"input split {Policy(policy).name}"


def _with_policy(dataset: tf.data.Dataset, policy) -> tf.data.Dataset:
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = policy
    return dataset.with_options(options)
