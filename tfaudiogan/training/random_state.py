"""Side work that leaves a run's random draws alone.

Keras gives every initializer built without a seed one drawn from Python's ``random`` module,
and unseeded ``keras.random`` ops draw from its global seed generator. Loading or running an
evaluation model between two training phases (GANSynth scores every stage with the pitch
classifier) would therefore shift the initial weights of the next stage's new block, and a run
with scoring would not train like the same run without it.
"""

from __future__ import annotations

import contextlib
import random

import numpy as np
from keras.src.random.seed_generator import global_seed_generator


@contextlib.contextmanager
def preserved_random_state():
    """Restores Python's, NumPy's and Keras' global random state when the block ends."""
    python_state, numpy_state = random.getstate(), np.random.get_state()
    keras_state = global_seed_generator().state.numpy()
    try:
        yield
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)
        global_seed_generator().state.assign(keras_state)
