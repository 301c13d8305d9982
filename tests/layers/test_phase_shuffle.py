"""PhaseShuffle against reference/wavegan.md section 2 and check 4 of section 11."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfaudiogan.layers import PhaseShuffle
from tfaudiogan.layers.phase_shuffle import phase_shuffle
from tfaudiogan.training.strategy import new_mirrored_strategy

# reference/wavegan.md section 2, worked example on x = [1..7] (tf.pad REFLECT).
WORKED_EXAMPLE = {
    -2: [3, 4, 5, 6, 7, 6, 5],
    -1: [2, 3, 4, 5, 6, 7, 6],
    0: [1, 2, 3, 4, 5, 6, 7],
    1: [2, 1, 2, 3, 4, 5, 6],
    2: [3, 2, 1, 2, 3, 4, 5],
    3: [4, 3, 2, 1, 2, 3, 4],
}


def _numpy_reference(x: np.ndarray, phase: int) -> np.ndarray:
    """The reference algorithm: reflect-pad (pad_l, pad_r) on time, crop [pad_r : pad_r + L]."""
    pad_l, pad_r = max(phase, 0), max(-phase, 0)
    padded = np.pad(x, ((0, 0), (pad_l, pad_r), (0, 0)), mode="reflect")
    return padded[:, pad_r:pad_r + x.shape[1]]


def _ramp_batch(batch: int, length: int, channels: int) -> np.ndarray:
    """x[b, t, c] = 1000 b + 100 c + t, so every (b, c) row reveals its own shift."""
    b, t, c = np.meshgrid(np.arange(batch), np.arange(length), np.arange(channels),
                          indexing="ij")
    return (1000 * b + 100 * c + t).astype("float32")


def _phases(out: np.ndarray, length: int) -> np.ndarray:
    """Per-(batch, channel) shift of a shuffled ramp: out[t] = t - phase away from the edges."""
    mid = length // 2
    return mid - (out[:, mid, :] % 100)


@pytest.mark.parametrize("phase", sorted(WORKED_EXAMPLE))
def test_worked_example_table(phase):
    x = np.arange(1, 8, dtype="float32").reshape(1, 7, 1)
    out = phase_shuffle(x, phase).numpy()
    np.testing.assert_array_equal(out.ravel(), WORKED_EXAMPLE[phase])
    # The same table through a tensor shift (the layer's path).
    out_t = phase_shuffle(tf.constant(x), tf.constant(phase, tf.int32)).numpy()
    np.testing.assert_array_equal(out_t.ravel(), WORKED_EXAMPLE[phase])


def test_batch_channel_example():
    b, t, c = np.meshgrid(np.arange(2), np.arange(8), np.arange(2), indexing="ij")
    x = (100 * b + 10 * c + t).astype("float32")
    plus2 = phase_shuffle(x, 2).numpy()
    np.testing.assert_array_equal(plus2[0, :, 0], [2, 1, 0, 1, 2, 3, 4, 5])
    np.testing.assert_array_equal(plus2[1, :, 1], [112, 111, 110, 111, 112, 113, 114, 115])
    minus2 = phase_shuffle(x, -2).numpy()
    np.testing.assert_array_equal(minus2[0, :, 0], [2, 3, 4, 5, 6, 7, 6, 5])


def test_matches_numpy_reflect_pad_for_every_shift(rng):
    x = rng.normal(size=(3, 9, 2)).astype("float32")
    for phase in range(-8, 9):
        np.testing.assert_array_equal(phase_shuffle(x, phase).numpy(),
                                      _numpy_reference(x, phase))


def test_layer_shares_one_shift_across_batch_and_channels():
    layer = PhaseShuffle(3, seed=5)
    x = _ramp_batch(4, 32, 3)
    seen = set()
    for _ in range(20):
        out = layer(x).numpy()
        phases = _phases(out, 32)
        assert np.all(phases == phases[0, 0]), phases
        np.testing.assert_array_equal(out, _numpy_reference(x, int(phases[0, 0])))
        seen.add(int(phases[0, 0]))
    assert len(seen) > 1  # it does shift, and not always by the same amount


def test_uniform_support_over_many_draws():
    rad, n_draws = 2, 2500
    layer = PhaseShuffle(rad, seed=11)
    x = tf.constant(_ramp_batch(1, 16, 1))

    @tf.function
    def draws():
        def body(i, acc):
            return i + 1, acc.write(i, layer(x)[0, 8, 0])
        _, acc = tf.while_loop(lambda i, _: i < n_draws, body,
                               (0, tf.TensorArray(tf.float32, size=n_draws)))
        return 8.0 - acc.stack()

    phases = draws().numpy().astype(int)
    values, counts = np.unique(phases, return_counts=True)
    assert values.tolist() == [-2, -1, 0, 1, 2]
    expected = n_draws / (2 * rad + 1)
    chi2 = float(np.sum((counts - expected) ** 2 / expected))
    assert chi2 < 18.47, counts  # chi-square, 4 degrees of freedom, p = 0.001


def test_draw_phase_support_for_other_radii():
    for rad in (1, 4):
        layer = PhaseShuffle(rad, seed=rad)
        draws = np.array([int(layer.draw_phase()) for _ in range(300)])
        assert set(draws.tolist()) == set(range(-rad, rad + 1))


def test_rad_zero_is_identity_and_training_false_skips(rng):
    x = rng.normal(size=(2, 10, 3)).astype("float32")
    np.testing.assert_array_equal(PhaseShuffle(0)(x).numpy(), x)
    np.testing.assert_array_equal(PhaseShuffle(0)(x, training=True).numpy(), x)
    layer = PhaseShuffle(2, seed=1)
    for _ in range(5):
        np.testing.assert_array_equal(layer(x, training=False).numpy(), x)


def test_training_none_and_true_shuffle():
    """Bare calls shuffle (reference: D always shuffles); only training=False turns it off."""
    x = _ramp_batch(1, 16, 1)
    for training in (None, True):
        layer = PhaseShuffle(2, seed=3)
        phases = {int(_phases(layer(x, training=training).numpy(), 16)[0, 0]) for _ in range(30)}
        assert len(phases) > 1, training


def test_independent_draws_inside_one_tf_function():
    """Real, fake and GP passes in one graph each draw; repeated graph runs draw anew."""
    layer = PhaseShuffle(2, seed=7)
    x = tf.constant(_ramp_batch(1, 16, 1))

    @tf.function
    def three_passes():
        return tf.stack([8.0 - layer(x)[0, 8, 0] for _ in range(3)])

    runs = np.array([three_passes().numpy() for _ in range(40)]).astype(int)
    assert np.all(np.abs(runs) <= 2)
    # Within one graph the three passes are not tied together...
    assert np.mean(runs[:, 0] == runs[:, 1]) < 0.5
    assert np.mean(runs[:, 1] == runs[:, 2]) < 0.5
    # ...and the shift is not frozen at trace time across executions of the same graph.
    assert len({tuple(r) for r in runs}) > 10


def test_two_layers_draw_differently():
    a, b = PhaseShuffle(2, seed=1, name="ps_a"), PhaseShuffle(2, seed=2, name="ps_b")
    da = [int(a.draw_phase()) for _ in range(30)]
    db = [int(b.draw_phase()) for _ in range(30)]
    assert da != db


def test_gradient_flows_through_reflection():
    x = tf.constant(np.arange(1, 8, dtype="float32").reshape(1, 7, 1))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(phase_shuffle(x, 3))
    grad = tape.gradient(y, x).numpy().ravel()
    # phase +3 output [4,3,2,1,2,3,4]: index 0 used once, indices 1..3 twice, 4..6 never.
    np.testing.assert_array_equal(grad, [1, 2, 2, 2, 0, 0, 0])


def test_one_shift_for_the_whole_global_batch_under_mirrored_strategy():
    strategy = new_mirrored_strategy(["/cpu:0", "/cpu:1"])
    with strategy.scope():
        layer = PhaseShuffle(2, seed=4)
    x = _ramp_batch(2, 16, 1)  # replica 0 gets example 0, replica 1 example 1

    @tf.function
    def step(inputs):
        return strategy.run(lambda t: layer(t), args=(inputs,))

    dist = strategy.experimental_distribute_values_from_function(
        lambda ctx: tf.constant(x[ctx.replica_id_in_sync_group:][:1]))
    for _ in range(10):
        per_replica = strategy.experimental_local_results(step(dist))
        phases = [int(_phases(p.numpy(), 16)[0, 0]) for p in per_replica]
        assert phases[0] == phases[1], phases


def test_config_round_trip_and_errors():
    layer = PhaseShuffle(3, seed=9, name="ps")
    clone = keras.layers.deserialize(keras.layers.serialize(layer))
    assert isinstance(clone, PhaseShuffle)
    assert (clone.rad, clone.seed, clone.name) == (3, 9, "ps")
    for bad in (-1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="rad"):
            PhaseShuffle(bad)
    with pytest.raises(ValueError, match="at least 4 time steps"):
        PhaseShuffle(3)(np.zeros((1, 3, 1), "float32"))
