"""Keeps the best-scoring weights seen during training (model selection by a score).

The WaveGAN reference selects its model this way: its ``incept`` mode scores every new
checkpoint with the SC09 classifier and saves the one with the best inception score as
``best_score`` (train_wavegan.py l.500-502; reference/wavegan.md 4.2). :class:`BestCheckpoint`
does the same inside ``fit``: every ``every`` epochs it calls ``score()``; when the score beats
the best so far it writes ``network``'s weights to ``weights_path``. The history of scores and
the best entry are kept in a JSON file beside the weights, so a resumed run keeps its best.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import keras


class BestCheckpoint(keras.callbacks.Callback):
    """Scores the model every ``every`` epochs and keeps the weights of the best score.

    Args:
        score: ``score() -> {"mean": float, ...}`` of the current weights (higher is better).
        network: the Keras model whose weights are kept (e.g. the generator).
        weights_path: ``.weights.h5`` file of the best weights.
        every: epochs between two scores.
        last_epoch: this epoch is scored too (the end of training), whatever ``every`` says.
        step: ``step() -> int``, the training step to record with each score (e.g. the
            generator optimizer's iterations); None: not recorded.
        logger: where each score is logged.

    The state file ``weights_path`` with ``.json`` instead of ``.weights.h5`` holds
    ``{"best": {"epoch", "step", "score"}, "scores": [{"epoch", "step", "score"}, ...]}``.
    """

    def __init__(self, score: Callable[[], dict], network: keras.Model, weights_path,
                 every: int = 1, last_epoch: int | None = None,
                 step: Callable[[], int] | None = None,
                 logger: logging.Logger | None = None):
        super().__init__()
        self.score = score
        self.network = network
        self.weights_path = Path(weights_path)
        self.every = max(1, int(every))
        self.step = step
        self.logger = logger or logging.getLogger(__name__)
        self.last_epoch = last_epoch
        self.state = read_state(self.weights_path)

    @property
    def state_path(self) -> Path:
        return state_path(self.weights_path)

    def on_epoch_end(self, epoch, logs=None):
        done = epoch + 1
        if done % self.every and done != self.last_epoch:
            return
        if any(entry["epoch"] == done for entry in self.state["scores"]):
            return  # already scored (a resumed epoch end)
        result = self.score()
        entry = {"epoch": done, "step": None if self.step is None else int(self.step()),
                 "score": result}
        self.state["scores"].append(entry)
        best = self.state["best"]
        improved = best is None or result["mean"] > best["score"]["mean"]
        if improved:
            self.weights_path.parent.mkdir(parents=True, exist_ok=True)
            self.network.save_weights(self.weights_path)
            self.state["best"] = entry
        self.state_path.write_text(json.dumps(self.state, indent=2) + "\n")
        self.logger.info("epoch %d: selection score %.4f%s (best: epoch %d, %.4f)", done,
                         result["mean"], " - new best, kept" if improved else "",
                         self.state["best"]["epoch"], self.state["best"]["score"]["mean"])


def state_path(weights_path) -> Path:
    """The JSON state beside ``weights_path`` (``x.weights.h5`` -> ``x.json``)."""
    path = Path(weights_path)
    return path.with_name(path.name.removesuffix(".weights.h5") + ".json")


def read_state(weights_path) -> dict:
    """The stored state of a :class:`BestCheckpoint`, or an empty one."""
    path = state_path(weights_path)
    if path.is_file() and Path(weights_path).is_file():
        return json.loads(path.read_text())
    return {"best": None, "scores": []}
