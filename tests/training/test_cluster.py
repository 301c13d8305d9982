"""training/cluster.py with one worker (the cluster itself: tests/training/test_multiworker.py)."""

import pytest
import tensorflow as tf

from tfaudiogan.training import cluster
from tfaudiogan.training.strategy import new_mirrored_strategy


def test_one_process_is_the_only_worker_and_writes_its_run_directory(tmp_path):
    for strategy in (tf.distribute.get_strategy(), new_mirrored_strategy(["/cpu:0", "/cpu:1"])):
        worker = cluster.worker_of(strategy)
        assert (worker.count, worker.index, worker.is_chief) == (1, 0, True)
        assert cluster.write_dir(tmp_path, strategy) == tmp_path
        assert cluster.describe(strategy, tmp_path, tmp_path) == []


def test_the_global_batch_is_per_replica_batch_times_replicas():
    strategy = new_mirrored_strategy(["/cpu:0", "/cpu:1"])
    assert cluster.batch_text(8, strategy) == "global batch 8 = 4 per replica x 2 replica(s)"
    with pytest.raises(ValueError, match="does not split evenly over 2 replicas"):
        cluster.check_global_batch(3, strategy)

    class Config:
        class train:  # noqa: N801 - the shape of a family config
            batch_size = 8

    assert cluster.describe(strategy, "a", "a", Config) == [
        "global batch 8 = 4 per replica x 2 replica(s)"]


def test_input_is_left_alone_with_one_worker():
    ds = tf.data.Dataset.range(4)
    strategy = tf.distribute.get_strategy()
    assert cluster.shard_input(ds, strategy) is ds
    assert cluster.worker_shard(ds, strategy) is ds
