"""CycleGAN wrapper: reference objective, update order, distribution, metrics (cyclegan.md 7)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfaudiogan.gans import CycleGAN, GANModel
from tfaudiogan.training.schedules import LinearDecay
from tfaudiogan.training.strategy import new_mirrored_strategy

SHAPE = (16, 16, 1)
NETS = ("gen_ab", "gen_ba", "disc_a", "disc_b")


def mirrored():
    """A 2-replica MirroredStrategy on the logical CPUs (fresh collective keys)."""
    return new_mirrored_strategy(["/cpu:0", "/cpu:1"])


def _init(seed):
    return keras.initializers.RandomNormal(0.0, 0.02, seed=seed)  # reference N(0, 0.02) init


def tiny_generator(name, seed):
    """`[batch, h, w, 1] -> [batch, h, w, 1]` in (-1, 1)."""
    x = keras.Input((None, None, 1))
    h = keras.layers.Conv2D(4, 3, padding="same", activation="relu",
                            kernel_initializer=_init(seed))(x)
    y = keras.layers.Conv2D(1, 3, padding="same", activation="tanh",
                            kernel_initializer=_init(seed + 100))(h)
    return keras.Model(x, y, name=name)


def tiny_discriminator(name, seed):
    """`[batch, h, w, 1] -> [batch, h/2, w/2, 1]` logits."""
    x = keras.Input((None, None, 1))
    h = keras.layers.Conv2D(4, 4, strides=2, padding="same", kernel_initializer=_init(seed))(x)
    h = keras.layers.LeakyReLU(0.2)(h)
    y = keras.layers.Conv2D(1, 4, padding="same", kernel_initializer=_init(seed + 100))(h)
    return keras.Model(x, y, name=name)


def make_networks(weights=None):
    nets = {"gen_ab": tiny_generator("gen_ab", 1), "gen_ba": tiny_generator("gen_ba", 2),
            "disc_a": tiny_discriminator("disc_a", 3), "disc_b": tiny_discriminator("disc_b", 4)}
    if weights is not None:
        for name, net in nets.items():
            net.set_weights(weights[name])
    return nets


def net_weights(model):
    return {name: getattr(model, name).get_weights() for name in NETS}


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    a = rng.uniform(-1, 1, (4, *SHAPE)).astype("float32")
    b = rng.uniform(-1, 1, (4, *SHAPE)).astype("float32")
    return a, b


def dataset(a, b, batch):
    return tf.data.Dataset.zip((tf.data.Dataset.from_tensor_slices(a),
                                tf.data.Dataset.from_tensor_slices(b))).batch(batch)


def adam():
    return keras.optimizers.Adam(2e-4, beta_1=0.5, epsilon=1e-8)  # reference Adam settings


def fit_once(strategy, weights, data, g_opt, d_opt, **kwargs):
    """One fit() step on the whole 4-image batch; returns (model, history dict)."""
    kwargs = {"image_shape": SHAPE, "identity_weight": 4.0, **kwargs}
    with strategy.scope():
        nets = make_networks(weights)
        model = CycleGAN(*(nets[n] for n in NETS), **kwargs)
        model.compile(g_opt(), d_opt())
    history = model.fit(dataset(*data, batch=4), epochs=1, verbose=0, shuffle=False).history
    return model, {k: v[-1] for k, v in history.items()}


@pytest.mark.parametrize("optimizer, order", [
    (adam, "reference"), (lambda: keras.optimizers.SGD(1.0), "reference"), (adam, "seed")],
    ids=["adam", "sgd", "seed-order-adam"])
def test_mirrored_step_equals_single_device_step(data, optimizer, order, tmp_path):
    weights = net_weights(CycleGAN(*make_networks().values(), image_shape=SHAPE))
    single, single_logs = fit_once(tf.distribute.get_strategy(), weights, data, optimizer,
                                   optimizer, update_order=order)
    dist_model, dist_logs = fit_once(mirrored(), weights, data, optimizer, optimizer,
                                     update_order=order)
    assert dist_model.distribute_strategy.num_replicas_in_sync == 2
    after_single, after_mirrored = net_weights(single), net_weights(dist_model)
    largest_update = 0.0
    for name in NETS:
        for w0, w1, w2 in zip(weights[name], after_single[name], after_mirrored[name]):
            np.testing.assert_allclose(w2, w1, atol=1e-5, rtol=0)
            largest_update = max(largest_update, np.abs(w1 - w0).max())
    # Updates are far larger than the tolerance, so a 2x replica-scaling error would show.
    assert largest_update > 1e-4
    assert dist_logs.keys() == single_logs.keys()
    for key, value in single_logs.items():
        np.testing.assert_allclose(dist_logs[key], value, rtol=1e-4, err_msg=key)
    # Per-replica pool variables do not break checkpoints.
    path = str(tmp_path / "cyclegan.weights.h5")
    dist_model.save_weights(path)
    single.load_weights(path)
    for name in NETS:
        for w1, w2 in zip(net_weights(single)[name], after_mirrored[name]):
            np.testing.assert_array_equal(w1, w2)


def test_forward_cycle_reaches_gen_ab(data):
    """Regression vs keras-io: G_ab gets gradient from lambda_a * L1(G_ba(G_ab(a)), a)."""
    a, b = data
    model = CycleGAN(*make_networks().values(), lambda_b=0.0, identity_weight=0.0,
                     pool_size=0)
    with tf.GradientTape(persistent=True) as tape:
        terms, _ = model.generator_losses(a, b)
    assert set(terms) == {"g_adv_ab", "g_adv_ba", "cycle_a", "cycle_b", "g_loss"}
    for net in (model.gen_ab, model.gen_ba):
        grads = tape.gradient(terms["cycle_a"], net.trainable_variables)
        assert all(g is not None for g in grads)
        assert float(tf.linalg.global_norm(grads)) > 1e-6
    assert all(g is None for g in tape.gradient(terms["cycle_a"],
                                                model.disc_a.trainable_variables))


def test_train_step_update_order(data):
    """G step: joint loss over both generators, D untouched; D step: pooled fakes made *before*
    the G step, G untouched. Checked against hand-computed SGD updates."""
    a, b = data
    weights = net_weights(CycleGAN(*make_networks().values(), pool_size=0))
    lr_g, lr_d = 2.0, 1.0
    model, _ = fit_once(tf.distribute.get_strategy(), weights, data,
                        lambda: keras.optimizers.SGD(lr_g), lambda: keras.optimizers.SGD(lr_d),
                        pool_size=50)

    ref = CycleGAN(*make_networks(weights).values(), identity_weight=4.0, pool_size=0)
    g_vars = ref.gen_ab.trainable_variables + ref.gen_ba.trainable_variables
    d_vars = ref.disc_a.trainable_variables + ref.disc_b.trainable_variables
    with tf.GradientTape() as tape:
        terms, (fake_a, fake_b) = ref.generator_losses(a, b)
    g_grads = tape.gradient(terms["g_loss"], g_vars)

    def d_grads(fa, fb):
        with tf.GradientTape() as tape:
            d_loss = ref.discriminator_losses(a, b, fa, fb)["d_loss"]
        return tape.gradient(d_loss, d_vars)

    expected_d = [v.numpy() - lr_d * g for v, g in zip(d_vars, d_grads(fake_a, fake_b))]
    expected_g = [v.numpy() - lr_g * g for v, g in zip(g_vars, g_grads)]
    got_g = model.gen_ab.get_weights() + model.gen_ba.get_weights()
    got_d = model.disc_a.get_weights() + model.disc_b.get_weights()
    for got, want in zip(got_g + got_d, expected_g + expected_d):
        np.testing.assert_allclose(got, want, atol=1e-6, rtol=1e-4)

    # Fakes from the *updated* generators would give a visibly different D update.
    for var, value in zip(g_vars, expected_g):
        var.assign(value)
    wrong_d = [v.numpy() - lr_d * g for v, g in zip(
        d_vars, d_grads(ref.gen_ba(b), ref.gen_ab(a)))]
    assert max(np.abs(w - e).max() for w, e in zip(wrong_d, expected_d)) > 1e-5


def _mse(x, target):
    return tf.reduce_mean(tf.square(x - target))


def _l1(x, y):
    return tf.reduce_mean(tf.abs(x - y))


def _sgd(net, loss_fn, lr):
    """One hand-written SGD step of ``net`` on ``loss_fn()`` (other networks untouched)."""
    with tf.GradientTape() as tape:
        loss = loss_fn()
    for var, grad in zip(net.trainable_variables, tape.gradient(loss, net.trainable_variables)):
        var.assign_sub(lr * grad)


def seed_order_by_hand(weights, a, b, lr_g, lr_d, d_steps=2, d_first=True, g_sequential=True):
    """Seed 002 section 2.2 written out with plain TF ops on copies of the tiny networks.

    Losses as the seed states them (weights 1, 10, 10, 4; D loss halved). ``d_first=False``
    and ``g_sequential=False`` give the two wrong orders the test must tell apart.
    """
    nets = make_networks(weights)
    g_ab, g_ba, d_a, d_b = (nets[n] for n in NETS)

    def d_phase():
        fake_a, fake_b = g_ba(b), g_ab(a)  # fakes of the generators as they are now
        for disc, real, fake in ((d_a, a, fake_a), (d_b, b, fake_b)):
            if d_steps == 2:
                _sgd(disc, lambda d=disc, r=real: 0.5 * _mse(d(r), 1.0), lr_d)
                _sgd(disc, lambda d=disc, f=fake: 0.5 * _mse(d(f), 0.0), lr_d)
            else:
                _sgd(disc, lambda d=disc, r=real, f=fake: 0.5 * (_mse(d(r), 1.0)
                                                                 + _mse(d(f), 0.0)), lr_d)

    def loss(g, f, disc, x, y):  # adversarial + forward cycle + backward cycle + identity
        return (_mse(disc(g(x)), 1.0) + 10.0 * _l1(f(g(x)), x) + 10.0 * _l1(g(f(y)), y)
                + 4.0 * _l1(g(y), y))

    if d_first:
        d_phase()
    if g_sequential:
        _sgd(g_ab, lambda: loss(g_ab, g_ba, d_b, a, b), lr_g)
        _sgd(g_ba, lambda: loss(g_ba, g_ab, d_a, b, a), lr_g)
    else:  # both gradients at the old weights
        old_ab = make_networks(weights)["gen_ab"]
        _sgd(g_ab, lambda: loss(g_ab, g_ba, d_b, a, b), lr_g)
        _sgd(g_ba, lambda: loss(g_ba, old_ab, d_a, b, a), lr_g)
    if not d_first:
        d_phase()
    return {name: net.get_weights() for name, net in nets.items()}


def _largest_difference(w1, w2):
    return max(np.abs(x - y).max() for name in NETS for x, y in zip(w1[name], w2[name]))


@pytest.mark.parametrize("d_steps", [2, 1])
def test_seed_order_step_matches_a_hand_computed_step(data, d_steps):
    """Seed order: both D first on fakes of the pre-update generators (real and fake as two
    steps, or one), then G_ab, then G_ba using the updated G_ab; SGD so it can be written out."""
    a, b = data
    weights = net_weights(CycleGAN(*make_networks().values(), pool_size=0))
    lr_g, lr_d = 2.0, 1.0
    model, logs = fit_once(tf.distribute.get_strategy(), weights, data,
                           lambda: keras.optimizers.SGD(lr_g), lambda: keras.optimizers.SGD(lr_d),
                           pool_size=50, update_order="seed", seed_d_steps=d_steps)
    expected = seed_order_by_hand(weights, a, b, lr_g, lr_d, d_steps)
    got = net_weights(model)
    for name in NETS:
        for w_got, w_want in zip(got[name], expected[name]):
            np.testing.assert_allclose(w_got, w_want, atol=1e-6, rtol=1e-4, err_msg=name)
    # The step is large, and both wrong orders would end far outside the tolerance above.
    assert _largest_difference(expected, weights) > 1e-1
    for wrong in (dict(d_first=False), dict(g_sequential=False)):
        other = seed_order_by_hand(weights, a, b, lr_g, lr_d, d_steps, **wrong)
        assert _largest_difference(other, expected) > 1e-2, wrong
    # Each generator reports its own terms; g_loss is their sum.
    own = ("g_adv_ab", "g_adv_ba", "cycle_a", "cycle_b", "identity_a", "identity_b")
    np.testing.assert_allclose(logs["g_loss"], sum(logs[k] for k in own), rtol=1e-5)
    np.testing.assert_allclose(logs["d_loss"], logs["d_a"] + logs["d_b"], rtol=1e-5)


def test_seed_order_updates_one_network_at_a_time_d_first(data):
    """Every optimizer step changes only its own network: D_a, D_a (real, fake), D_b, D_b,
    then G_ab, then G_ba; the optimizers count 2 steps per iteration for D, 1 for G."""
    a, b = data
    model = CycleGAN(*make_networks().values(), identity_weight=4.0, image_shape=SHAPE,
                     update_order="seed")
    model.compile(adam(), adam(), run_eagerly=True)
    assert sorted(model.optimizer_variables()) == ["d_a_optimizer", "d_b_optimizer",
                                                   "g_ab_optimizer", "g_ba_optimizer"]
    steps = []
    for name in model.optimizer_variables():
        optimizer = getattr(model, name)

        def recorded(grads_and_vars, _apply=optimizer.apply_gradients, _name=name):
            before = net_weights(model)
            result = _apply(grads_and_vars)
            after = net_weights(model)
            changed = [n for n in NETS if any(np.any(x != y)
                                              for x, y in zip(before[n], after[n]))]
            steps.append((_name, changed))
            return result

        optimizer.apply_gradients = recorded
    model.fit(dataset(a, b, batch=2), epochs=1, verbose=0, shuffle=False)
    one_iteration = [("d_a_optimizer", ["disc_a"]), ("d_a_optimizer", ["disc_a"]),
                     ("d_b_optimizer", ["disc_b"]), ("d_b_optimizer", ["disc_b"]),
                     ("g_ab_optimizer", ["gen_ab"]), ("g_ba_optimizer", ["gen_ba"])]
    assert steps == one_iteration * 2
    iterations = {name: int(getattr(model, name).iterations.numpy())
                  for name in model.optimizer_variables()}
    assert iterations == {"d_a_optimizer": 4, "d_b_optimizer": 4, "g_ab_optimizer": 2,
                          "g_ba_optimizer": 2}
    # Separate optimizers with the same settings (the copies carry the given config).
    assert model.g_ba_optimizer is not model.g_ab_optimizer
    assert float(model.g_ba_optimizer.learning_rate) == pytest.approx(2e-4)
    assert model.g_ba_optimizer.epsilon == model.g_ab_optimizer.epsilon == 1e-8


def test_gen_ab_update_comes_from_forward_cycle_in_train_step(data):
    """With zero discriminators (no adversarial gradient), lambda_b = 0 and no identity loss,
    the only G_ab gradient is the forward cycle; train_step must apply it."""
    a, b = data
    nets = make_networks()
    for name in ("disc_a", "disc_b"):
        nets[name].set_weights([np.zeros_like(w) for w in nets[name].get_weights()])
    model = CycleGAN(*nets.values(), lambda_b=0.0, identity_weight=0.0, pool_size=0)
    with tf.GradientTape() as tape:
        terms, _ = model.generator_losses(a, b)
    grads = tape.gradient(terms["cycle_a"], model.gen_ab.trainable_variables)
    initial = model.gen_ab.get_weights()
    expected = [w - 0.5 * g for w, g in zip(initial, grads)]
    model.compile(keras.optimizers.SGD(0.5), keras.optimizers.SGD(0.5))
    model.fit(dataset(a, b, batch=4), epochs=1, verbose=0, shuffle=False)
    for got, want in zip(model.gen_ab.get_weights(), expected):
        np.testing.assert_allclose(got, want, atol=1e-7, rtol=1e-5)
    # The forward-cycle update is much larger than the tolerance (keras-io's G_ab gets none).
    assert max(np.abs(w - e).max() for w, e in zip(initial, expected)) > 1e-4


def test_losses_at_init(data):
    """N(0, 0.02) init: D outputs ~0, so each D loss ~ 0.5 * (1 + 0) and G adv ~ 1."""
    a, b = data
    model = CycleGAN(*make_networks().values(), identity_weight=4.0, pool_size=0)
    terms, (fake_a, fake_b) = model.generator_losses(a, b)
    d_terms = model.discriminator_losses(a, b, fake_a, fake_b)
    for key in ("d_a", "d_b"):
        assert abs(float(d_terms[key]) - 0.5) < 0.02, key
    np.testing.assert_allclose(float(d_terms["d_loss"]),
                               float(d_terms["d_a"] + d_terms["d_b"]), rtol=1e-6)
    for key in ("g_adv_ab", "g_adv_ba"):
        assert abs(float(terms[key]) - 1.0) < 0.05, key
    # Reconstructions ~ 0, so cycle ~ 10 * mean|a| = 10 * 0.5 and identity ~ 4 * 0.5.
    np.testing.assert_allclose(float(terms["cycle_a"]), 10 * np.abs(a).mean(), rtol=0.05)
    np.testing.assert_allclose(float(terms["identity_b"]), 4 * np.abs(b).mean(), rtol=0.05)
    total = sum(float(v) for k, v in terms.items() if k != "g_loss")
    np.testing.assert_allclose(float(terms["g_loss"]), total, rtol=1e-6)


def test_linear_decay_inside_compile_and_fit(data):
    a, b = data
    rates = []

    class Record(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            rates.append(float(self.model.g_optimizer.learning_rate))

    def decayed():  # 2 steps per epoch, 1 constant epoch, 1 decay epoch
        return keras.optimizers.Adam(LinearDecay(2e-4, 2, 1, 1), beta_1=0.5, epsilon=1e-8)

    model = CycleGAN(*make_networks().values(), image_shape=SHAPE)
    model.compile(decayed(), decayed())
    history = model.fit(dataset(a, b, batch=2), epochs=2, verbose=0, shuffle=False,
                        callbacks=[Record()]).history
    assert int(model.g_optimizer.iterations.numpy()) == 4
    np.testing.assert_allclose(rates, [2e-4, 1e-4], rtol=1e-6)
    assert np.isfinite(history["g_loss"]).all()


def test_metrics_keys_and_call_not_supported(data):
    a, b = data
    model = CycleGAN(*make_networks().values(), identity_weight=0.0, pool_size=0)
    model.compile(adam(), adam())
    logs = model.fit(x=a, y=b, batch_size=2, epochs=1, verbose=0, shuffle=False).history
    assert set(logs) == {"g_loss", "d_loss", "d_a", "d_b", "g_adv_ab", "g_adv_ba", "cycle_a",
                         "cycle_b"}
    assert [m.name for m in model.metrics] == ["g_loss", "d_loss", "d_a", "d_b", "g_adv_ab",
                                                "g_adv_ba", "cycle_a", "cycle_b"]
    with pytest.raises(NotImplementedError, match="training wrapper"):
        model(a)
    assert model.generators == (model.gen_ab, model.gen_ba)
    assert model.optimizer is None  # no hidden RMSprop (P4)


def test_bce_variant_trains(data):
    model = CycleGAN(*make_networks().values(), adversarial="bce", image_shape=SHAPE)
    model.compile(adam(), adam())
    logs = model.fit(dataset(*data, batch=2), epochs=1, verbose=0, shuffle=False).history
    # BCE at logit ~0 is log 2 per term: d_a ~ 0.5 * 2 * log 2.
    assert abs(logs["d_a"][0] - np.log(2.0)) < 0.05
    assert set(logs) >= {"identity_a", "identity_b"}


def test_clear_errors(data):
    a, b = data
    with pytest.raises(ValueError, match="image_shape"):
        CycleGAN(*make_networks().values())  # dynamic generator input, pool on
    with pytest.raises(ValueError, match="lsgan, bce"):
        CycleGAN(*make_networks().values(), adversarial="wgan", pool_size=0)
    model = CycleGAN(*make_networks().values(), pool_size=0)
    with pytest.raises(ValueError, match="loss"):
        model.compile(adam(), adam(), loss="mse")
    unbuilt = keras.Sequential([keras.layers.Conv2D(1, 3)], name="unbuilt")
    nets = make_networks()
    nets["gen_ab"] = unbuilt
    with pytest.raises(ValueError, match="unbuilt"):
        CycleGAN(*nets.values(), pool_size=0).compile(adam(), adam())
    with pytest.raises(ValueError, match="real_a, real_b"):
        model.train_step((a,))
    with pytest.raises(ValueError, match=r"needs exactly the optimizers \['d_optimizer', "
                                         r"'g_optimizer'\]"):
        GANModel.compile(model, {"g_optimizer": adam()})
    with pytest.raises(ValueError, match="non-empty"):
        model._finish_init([])
    with pytest.raises(ValueError, match="update_order must be one of reference, seed"):
        CycleGAN(*make_networks().values(), pool_size=0, update_order="d_first")
    with pytest.raises(ValueError, match="seed_d_steps must be 1 or 2"):
        CycleGAN(*make_networks().values(), pool_size=0, update_order="seed", seed_d_steps=3)
    with pytest.raises(ValueError, match="direction"):
        model.generator_loss("aa", a, b)


def test_image_shape_from_static_generator_input():
    x = keras.Input(SHAPE)
    gen_ab = keras.Model(x, keras.layers.Conv2D(1, 3, padding="same", activation="tanh")(x))
    nets = make_networks()
    model = CycleGAN(gen_ab, nets["gen_ba"], nets["disc_a"], nets["disc_b"], pool_size=5)
    assert model.pool_a.image_shape == model.pool_b.image_shape == SHAPE
    assert model.pool_a.pool_size == 5


def test_reference_networks_one_step():
    """Reference ResNet generator / PatchGAN at 32x32 with tiny widths (graph mode, one step;
    the distributed path is covered above, tracing these networks twice costs ~15 s)."""
    from tfaudiogan.models.cyclegan import patch_discriminator, resnet_generator

    rng = np.random.default_rng(1)
    a = rng.uniform(-1, 1, (2, 32, 32, 1)).astype("float32")
    b = rng.uniform(-1, 1, (2, 32, 32, 1)).astype("float32")
    model = CycleGAN(
        resnet_generator(ngf=4, n_blocks=1, name="g_ab"),
        resnet_generator(ngf=4, n_blocks=1, name="g_ba"),
        patch_discriminator(ndf=4, name="d_a"), patch_discriminator(ndf=4, name="d_b"),
        identity_weight=4.0, image_shape=(32, 32, 1))
    model.compile(adam(), adam())
    before = model.gen_ab.get_weights()
    logs = model.fit(dataset(a, b, batch=2), epochs=1, verbose=0, shuffle=False).history
    logs = {k: v[0] for k, v in logs.items()}
    assert all(np.isfinite(v) and v > 0 for v in logs.values())
    np.testing.assert_allclose(logs["d_loss"], logs["d_a"] + logs["d_b"], rtol=1e-5)
    g_terms = ("g_adv_ab", "g_adv_ba", "cycle_a", "cycle_b", "identity_a", "identity_b")
    np.testing.assert_allclose(logs["g_loss"], sum(logs[k] for k in g_terms), rtol=1e-5)
    assert any(np.abs(w0 - w1).max() > 0 for w0, w1 in zip(before, model.gen_ab.get_weights()))
