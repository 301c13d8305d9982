"""Choosing a tf.distribute strategy from a flag value.

``default`` is one device; ``mirrored`` is every local GPU (or, on a CPU-only machine, N logical
CPU devices, useful to test data parallelism); ``multi_worker`` reads the cluster from the
``TF_CONFIG`` environment variable (several machines); ``auto`` picks ``mirrored`` when more than
one GPU is visible, else ``default``.
"""

from __future__ import annotations

import json
import logging
import os

import tensorflow as tf

STRATEGIES = ("auto", "default", "mirrored", "multi_worker")
log = logging.getLogger(__name__)


def configure_cpu_replicas(n: int) -> bool:
    """Splits the first physical CPU into ``n`` logical devices.

    Must run before TensorFlow executes any op. Returns False (and changes nothing) when TF is
    already initialised with a different device layout.
    """
    cpus = tf.config.list_physical_devices("CPU")
    try:
        tf.config.set_logical_device_configuration(
            cpus[0], [tf.config.LogicalDeviceConfiguration() for _ in range(n)]
        )
        return True
    except RuntimeError:
        return len(tf.config.list_logical_devices("CPU")) == n


def new_mirrored_strategy(devices=None) -> tf.distribute.MirroredStrategy:
    """A MirroredStrategy whose collective keys cannot collide with an earlier one's.

    Every MirroredStrategy starts its collective instance keys at the same base, so a second
    strategy in the same process (a notebook, a test session) whose all-reduce has other shapes
    aborts with "Shape mismatch in the collective instance 100". A fresh key base per strategy
    avoids that (TensorFlow's own tests do the same).
    """
    tf.distribute.MirroredStrategy._collective_key_base += 100_000
    return tf.distribute.MirroredStrategy(devices)


class MultiWorkerStrategy(tf.distribute.MultiWorkerMirroredStrategy):
    """MultiWorkerMirroredStrategy with the ``reduce`` Keras 3's ``fit`` expects.

    Keras 3 (3.15) calls ``reduce`` in two ways MultiWorkerMirroredStrategy rejects, so
    ``fit`` fails on several workers (keras-team/keras#20585, tensorflow/tensorflow#72388):

    * before training it reduces the first batch, a tuple or dict for most families:
      "Attempt to convert a value (PerReplica:...)". Here each element is reduced, as
      MirroredStrategy does.
    * after every step it averages the logged values with ``axis=0``, but they are scalars:
      "Invalid reduction dimension 0 for input with 0 dimensions". Here a scalar is averaged
      over the replicas (``axis=None``), which is what MirroredStrategy's path in Keras does.
    """

    def reduce(self, reduce_op, value, axis):
        reduce = super().reduce

        def one(v):
            local = self.experimental_local_results(v)[0]
            scalar = tf.TensorShape(getattr(local, "shape", ())).rank == 0
            return reduce(reduce_op, v, None if scalar else axis)

        return tf.nest.map_structure(one, value)


def get_strategy(name: str = "auto", cpu_replicas: int = 2) -> tf.distribute.Strategy:
    """Returns the strategy named by ``name`` (one of :data:`STRATEGIES`).

    Args:
      name: strategy name.
      cpu_replicas: logical CPU devices to mirror over when ``mirrored`` finds no GPU.

    Raises:
      ValueError: unknown name, or ``multi_worker`` without a ``TF_CONFIG`` cluster.
    """
    if name not in STRATEGIES:
        raise ValueError(f"unknown strategy '{name}'; choose one of {', '.join(STRATEGIES)}")
    gpus = tf.config.list_physical_devices("GPU")
    if name == "auto":
        name = "mirrored" if len(gpus) > 1 else "default"
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "multi_worker":
        if "cluster" not in json.loads(os.environ.get("TF_CONFIG", "{}")):
            raise ValueError("strategy 'multi_worker' needs a TF_CONFIG environment variable "
                             "describing the cluster (see the README)")
        return MultiWorkerStrategy()
    if gpus:
        return new_mirrored_strategy()
    configure_cpu_replicas(cpu_replicas)
    devices = [d.name for d in tf.config.list_logical_devices("CPU")]
    log.info("no GPU: mirroring over logical CPU devices %s", devices)
    return new_mirrored_strategy(devices)


def describe_devices() -> str:
    """One line naming the physical devices TensorFlow sees and whether it was built for GPUs."""
    gpus = tf.config.list_physical_devices("GPU")
    cpus = tf.config.list_physical_devices("CPU")
    logical = len(tf.config.list_logical_devices("CPU"))
    gpu_text = ", ".join(d.name.replace("/physical_device:", "") for d in gpus) or "none"
    build = "CUDA build" if tf.test.is_built_with_cuda() else "CPU-only build"
    if not gpus and tf.test.is_built_with_cuda():
        build += ": no usable GPU or driver found, training on the CPU"
    return (f"devices: {len(cpus)} CPU ({logical} logical), GPU: {gpu_text} "
            f"(TensorFlow {tf.__version__}, {build})")


def describe_setup(strategy: tf.distribute.Strategy) -> str:
    """Devices, strategy, replica count and precision policy of a run, on one line."""
    import keras

    name = type(strategy).__name__.replace("_DefaultDistributionStrategy", "default (one device)")
    return (f"{describe_devices()}; strategy {name} with "
            f"{strategy.num_replicas_in_sync} replica(s); precision policy "
            f"{keras.mixed_precision.global_policy().name}")
