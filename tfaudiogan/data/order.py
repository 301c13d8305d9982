"""Endless shuffled orders of in-memory examples that every iterator repeats exactly.

``Dataset.shuffle(n, seed, reshuffle_each_iteration=True).repeat()`` draws each pass's order
from a random-seed state shared by all iterators of the dataset, and an iterator that prefetches
into its next pass advances that state. Keras' ``fit`` under a distribution strategy opens an
iterator for one batch before the real one, and a progressive GAN opens one per stage, so the
order the training sees depended on prefetch timing: a second iterator gave different batches
from run to run, and two workers of a cluster, each with its own copy of the stream, did not
agree on the global batch (so both could train on the same example in one step).

Here pass ``p`` (positions ``p * n .. p * n + n - 1``) is the uniformly random permutation
``tf.random.experimental.stateless_shuffle(range(n), seed=(seed, p))``: a function of the seed
and the position only, the same from every iterator, in every process.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

__all__ = ["shuffled_examples", "shuffled_indices"]


def shuffled_indices(n: int, seed: int) -> tf.data.Dataset:
    """Endless int64 example indices, each pass a fresh permutation of ``range(n)``.

    Args:
        n: number of examples (>= 1).
        seed: the order's seed.

    Returns:
        Dataset of int64 scalars; element ``p * n + k`` is the ``k``-th index of pass ``p``.
    """
    if n < 1:
        raise ValueError(f"need at least one example, got {n}")
    key = tf.constant(int(seed), tf.int64)
    indices = tf.range(n, dtype=tf.int64)

    def one_pass(p):
        order = tf.random.experimental.stateless_shuffle(indices, tf.stack([key, p]))
        return tf.data.Dataset.from_tensor_slices(order)

    return tf.data.Dataset.counter().flat_map(one_pass)


def shuffled_examples(examples, seed: int) -> tf.data.Dataset:
    """Endless single examples of ``examples`` (an array, or a tuple / dict of arrays sharing
    their first axis) in the order of :func:`shuffled_indices`.

    The arrays become constants of the dataset (as with ``from_tensor_slices``), which
    TensorFlow limits to 2 GB in all.
    """
    table = tf.nest.map_structure(lambda a: tf.constant(np.asarray(a)), examples)
    n = int(tf.nest.flatten(table)[0].shape[0])
    return shuffled_indices(n, seed).map(
        lambda i: tf.nest.map_structure(lambda t: tf.gather(t, i), table),
        num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
