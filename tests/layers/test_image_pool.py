"""ImagePool: the reference per-sample rule (reference/cyclegan.md 1.4 and check 6).

Images are scalars (image_shape (1,)) whose value is their query index, so a returned value
tells which earlier query it came from and how old it is.
"""

import numpy as np
import pytest
import tensorflow as tf

from tfaudiogan.layers.image_pool import ImagePool
from tfaudiogan.training.strategy import new_mirrored_strategy


def mirrored():
    """A 2-replica MirroredStrategy on the logical CPUs (fresh collective keys)."""
    return new_mirrored_strategy(["/cpu:0", "/cpu:1"])


def _indexed(start, n):
    """`[n, 1]` float images carrying their query index."""
    return tf.reshape(tf.range(start, start + n, dtype=tf.float32), [n, 1])


def _run_single_queries(pool, n):
    """Query `pool` with images 0..n-1, one image per query, inside one tf.function."""

    @tf.function
    def run():
        out = tf.TensorArray(tf.float32, size=n)
        for i in tf.range(n):
            out = out.write(i, pool.query(_indexed(i, 1))[0, 0])
        return out.stack()

    return run().numpy()


def _replay(pool_size, queried, returned, pool=None, count=0):
    """Check a query batch against the rule, updating a Python copy of the buffer in place.

    Values are unique, so a returned value different from the current image names the slot it
    was taken from; the current image must then be in that slot.
    """
    pool = [] if pool is None else pool
    for image, out in zip(queried, returned):
        if count < pool_size:
            assert out == image, "a filling pool returns the current image"
            pool.append(image)
            count += 1
        elif out != image:
            assert out in pool, f"returned {out}, which is not in the buffer {pool}"
            pool[pool.index(out)] = image
    return pool, count


def test_first_images_returned_and_stored():
    pool = ImagePool(50, (1,), seed=1)
    out = _run_single_queries(pool, 50)
    np.testing.assert_array_equal(out, np.arange(50))
    np.testing.assert_array_equal(pool.images.numpy()[:, 0], np.arange(50))
    assert int(pool.count.numpy()) == 50


@pytest.mark.parametrize("seed", [0, 7])
def test_long_run_statistics_match_reference(seed):
    n_fill, n_queries = 50, 10_000
    pool = ImagePool(n_fill, (1,), seed=seed)
    out = _run_single_queries(pool, n_fill + n_queries)
    index = np.arange(n_fill + n_queries)
    np.testing.assert_array_equal(out[:n_fill], index[:n_fill])
    ages = (index - out)[n_fill:]
    assert np.all(ages >= 0)
    old = ages > 0
    assert abs(old.mean() - 0.5) < 0.02  # p > 0.5 swaps
    assert abs(ages[old].mean() - 100) < 10  # ~ 2 * pool_size
    assert abs(np.median(ages[old]) - 71) < 8
    # After the fill, each image is returned at most once (now, or later from the buffer).
    assert len(np.unique(out[n_fill:])) == n_queries
    # Replaying the rule on the observed outputs reproduces the final buffer slot by slot.
    replayed, _ = _replay(n_fill, index, out)
    np.testing.assert_array_equal(pool.images.numpy()[:, 0], replayed)


def test_batch_queries_follow_rule_sample_by_sample():
    pool = ImagePool(3, (1,), seed=5)
    query = tf.function(pool.query)
    python_pool, count = [], 0
    n_old = 0
    for step in range(200):
        images = _indexed(2 * step, 2)
        out = query(images).numpy()[:, 0]
        assert out.shape == (2,)
        python_pool, count = _replay(3, images.numpy()[:, 0], out, python_pool, count)
        n_old += int(np.sum(out != images.numpy()[:, 0]))
        np.testing.assert_array_equal(pool.images.numpy()[:count, 0], python_pool)
        assert int(pool.count.numpy()) == count
    assert count == 3
    assert 0.4 < n_old / (400 - 3) < 0.6


def test_dynamic_batch_and_image_shapes():
    pool = ImagePool(4, (3, 2, 1), seed=2)
    query = tf.function(pool.query,
                        input_signature=[tf.TensorSpec([None, 3, 2, 1], tf.float32)])
    for n in (1, 3, 5):
        images = tf.random.normal([n, 3, 2, 1])
        out = query(images)
        assert out.shape == (n, 3, 2, 1)
    with pytest.raises(ValueError, match=r"stores images of shape \(3, 2, 1\)"):
        pool.query(tf.zeros([2, 4, 2, 1]))


def test_pool_size_zero_is_identity():
    pool = ImagePool(0, (2, 2, 1))
    images = tf.random.normal([3, 2, 2, 1])
    np.testing.assert_array_equal(pool.query(images), images)
    assert pool.weights == []


@pytest.mark.parametrize("pool_size", [0, 2])
def test_no_gradient_through_pool(pool_size):
    pool = ImagePool(pool_size, (2,), seed=0)
    x = tf.Variable(tf.ones([3, 2]))
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(pool.query(x * 2.0))
    assert tape.gradient(y, x) is None


def test_invalid_arguments_and_config_round_trip():
    with pytest.raises(ValueError, match="pool_size"):
        ImagePool(-1, (1,))
    with pytest.raises(ValueError, match="image_shape"):
        ImagePool(2, (None, 4))
    pool = ImagePool(5, (4, 2, 1), seed=3, name="pool_x")
    clone = ImagePool.from_config(pool.get_config())
    assert (clone.pool_size, clone.image_shape, clone.seed, clone.name) == (
        5, (4, 2, 1), 3, "pool_x")
    assert [v.path for v in pool.weights] == ["pool_x/images", "pool_x/count"]
    assert pool.trainable_weights == []


def test_mirrored_strategy_keeps_one_pool_per_replica(tmp_path):
    strategy = mirrored()
    pool_size = 4
    with strategy.scope():
        pool = ImagePool(pool_size, (1,), seed=11)

    @tf.function
    def step(images):
        return strategy.run(pool.query, args=(images,))

    dataset = tf.data.Dataset.range(120).map(
        lambda i: tf.reshape(tf.cast(i, tf.float32), [1])).batch(4)
    seen = [[], []]  # images each replica received
    python_pools = [([], 0), ([], 0)]
    outs_per_replica = [[], []]
    for batch in strategy.experimental_distribute_dataset(dataset):
        out = step(batch)
        for r, (x, y) in enumerate(zip(strategy.experimental_local_results(batch),
                                       strategy.experimental_local_results(out))):
            x, y = x.numpy()[:, 0], y.numpy()[:, 0]
            seen[r].extend(x)
            outs_per_replica[r].extend(y != x)
            # Each replica follows the rule on its own buffer.
            python_pools[r] = _replay(pool_size, x, y, *python_pools[r])

    assert set(seen[0]).isdisjoint(seen[1])
    local_pools = [v.numpy()[:, 0] for v in
                   strategy.experimental_local_results(pool.images.value)]
    local_counts = [int(v.numpy()) for v in
                    strategy.experimental_local_results(pool.count.value)]
    assert local_counts == [pool_size, pool_size]
    for r in range(2):
        np.testing.assert_array_equal(local_pools[r], python_pools[r][0])
        assert set(local_pools[r]) <= set(seen[r])
    # Independent random decisions per replica (identical patterns: probability ~2^-100).
    assert outs_per_replica[0] != outs_per_replica[1]

    # Cross-replica reads and writes (get_weights / checkpoints) use replica 0's buffer.
    np.testing.assert_array_equal(pool.get_weights()[0][:, 0], local_pools[0])
    pool.set_weights([np.full((pool_size, 1), -1.0, np.float32), np.int32(pool_size)])
    for value in strategy.experimental_local_results(pool.images.value):
        np.testing.assert_array_equal(value.numpy(), -1.0)
