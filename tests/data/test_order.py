"""Stateless example orders (tfaudiogan.data.order)."""

import numpy as np
import pytest

from tfaudiogan.data.order import shuffled_examples, shuffled_indices


def _take(ds, n):
    return [int(x) for x in ds.take(n)]


def test_every_pass_is_a_fresh_permutation():
    order = _take(shuffled_indices(7, seed=3), 7 * 4)
    passes = [order[i:i + 7] for i in range(0, len(order), 7)]
    assert all(sorted(p) == list(range(7)) for p in passes)
    assert len({tuple(p) for p in passes}) == 4
    assert passes[0] != list(range(7))


def test_the_seed_picks_the_order():
    assert _take(shuffled_indices(9, 1), 18) == _take(shuffled_indices(9, 1), 18)
    assert _take(shuffled_indices(9, 1), 9) != _take(shuffled_indices(9, 2), 9)


def test_a_later_iterator_repeats_the_first_whatever_the_first_prefetched():
    """The defect of shuffle(reshuffle_each_iteration=True).repeat(): an iterator that
    prefetches into its next pass changes what the next iterator of the same dataset gets
    (Keras opens one for a single batch before fit under a strategy)."""
    ds = shuffled_examples(np.arange(6) * 10, seed=0).batch(2).prefetch(8)
    first = [b.numpy().tolist() for b in ds.take(12)]
    early = iter(ds)
    next(early)  # opened, one batch read, prefetching ahead
    assert [b.numpy().tolist() for b in ds.take(12)] == first


def test_examples_keep_their_structure_and_rows():
    audio = np.arange(20, dtype=np.float32).reshape(5, 4)
    labels = np.arange(5, dtype=np.int32) * 100
    ds = shuffled_examples({"audio": audio, "label": labels}, seed=4)
    assert ds.element_spec["audio"].shape == (4,)
    for e in ds.take(10):
        index = int(e["label"]) // 100
        np.testing.assert_array_equal(e["audio"].numpy(), audio[index])
    one = [int(x) for x in shuffled_examples(np.array([7]), 0).take(3)]
    assert one == [7, 7, 7]


def test_no_examples_is_an_error():
    with pytest.raises(ValueError, match="at least one"):
        shuffled_indices(0, 0)
