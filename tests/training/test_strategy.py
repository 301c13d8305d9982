"""Strategy selection from flag values."""

import pytest
import tensorflow as tf

from tfaudiogan.training.strategy import get_strategy, new_mirrored_strategy


def test_default_is_one_replica():
    assert get_strategy("default").num_replicas_in_sync == 1
    assert get_strategy("auto").num_replicas_in_sync == 1  # no GPU here


def test_mirrored_uses_the_two_logical_cpus():
    assert get_strategy("mirrored").num_replicas_in_sync == 2


def test_unknown_name_lists_the_choices():
    with pytest.raises(ValueError, match="auto, default, mirrored, multi_worker"):
        get_strategy("tpu")


def test_multi_worker_needs_tf_config(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ValueError, match="TF_CONFIG"):
        get_strategy("multi_worker")


def test_two_strategies_in_one_process_reduce_different_shapes():
    for shape in ([3], [2, 5]):
        strategy = new_mirrored_strategy(["/cpu:0", "/cpu:1"])
        out = strategy.reduce(tf.distribute.ReduceOp.SUM,
                              strategy.run(lambda s=shape: tf.ones(s)), axis=None)
        assert out.shape == shape and float(tf.reduce_max(out)) == 2.0
