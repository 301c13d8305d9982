"""BestCheckpoint: the reference's `incept` model selection, as a callback."""

import json
import logging

import keras
import numpy as np

from tfaudiogan.training.best_checkpoint import BestCheckpoint, read_state, state_path


def _net():
    net = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    return net


def _run_epochs(callback, net, scores, first_epoch=0):
    """Sets the weights to `epoch` before each epoch end, as training would change them."""
    for epoch in range(first_epoch, first_epoch + len(scores)):
        net.set_weights([np.full((2, 1), epoch, np.float32), np.zeros(1, np.float32)])
        callback.on_epoch_end(epoch)


def test_keeps_the_best_scoring_weights_not_the_last(tmp_path):
    net = _net()
    script = iter([2.0, 5.0, 3.0, 4.0])
    path = tmp_path / "best.weights.h5"
    step = iter(range(10, 100, 10))
    cb = BestCheckpoint(lambda: {"mean": next(script), "std": 0.0}, net, path,
                        step=lambda: next(step), logger=logging.getLogger("t"))
    _run_epochs(cb, net, range(4))
    state = json.loads(state_path(path).read_text())
    assert [s["score"]["mean"] for s in state["scores"]] == [2.0, 5.0, 3.0, 4.0]
    assert state["best"]["epoch"] == 2 and state["best"]["step"] == 20
    kept = _net()
    kept.load_weights(path)
    np.testing.assert_array_equal(kept.get_weights()[0], np.full((2, 1), 1.0))  # epoch index 1


def test_every_n_epochs_and_the_last_epoch(tmp_path):
    net, calls = _net(), []

    def score():
        calls.append(1)
        return {"mean": float(len(calls)), "std": 0.0}

    cb = BestCheckpoint(score, net, tmp_path / "b.weights.h5", every=3, last_epoch=7)
    _run_epochs(cb, net, range(7))
    assert [s["epoch"] for s in read_state(tmp_path / "b.weights.h5")["scores"]] == [3, 6, 7]


def test_a_resumed_run_keeps_its_best_and_does_not_rescore(tmp_path):
    net, path = _net(), tmp_path / "b.weights.h5"
    cb = BestCheckpoint(lambda: {"mean": 9.0, "std": 0.0}, net, path)
    _run_epochs(cb, net, range(2))  # epochs 1, 2 scored; best = epoch 1 (9.0 is not > 9.0)
    resumed = BestCheckpoint(lambda: {"mean": 1.0, "std": 0.0}, net, path)
    _run_epochs(resumed, net, range(1), first_epoch=1)  # epoch 2's end again: skipped
    _run_epochs(resumed, net, range(1), first_epoch=2)  # epoch 3: worse, not kept
    state = read_state(path)
    assert [s["epoch"] for s in state["scores"]] == [1, 2, 3]
    assert state["best"]["epoch"] == 1
    kept = _net()
    kept.load_weights(path)
    np.testing.assert_array_equal(kept.get_weights()[0], np.zeros((2, 1)))
