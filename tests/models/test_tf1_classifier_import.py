"""Importing the released TF1 SC09 classifier (issue 10 item 12; reference/wavegan.md 6.1).

The tests write TF1-format checkpoints themselves (a tf.compat.v1 graph, variables named as
eval/inception/train.py's ``model()`` creates them under ``classifier/``, a v1 ``Saver``), then
check the imported Keras model against a TF1-style computation with the same weights.
"""

import numpy as np
import pytest
import tensorflow as tf

from tfaudiogan.models.classifiers import (
    import_tf1_sc09_classifier,
    sc09_classifier,
    tf1_checkpoint_prefix,
)

MEL = 128


def _tf1_weights(filters: int, n_classes: int, rng) -> dict[str, np.ndarray]:
    """Random weights under the reference's TF1 variable names (tf.layers auto-naming)."""
    def bn(name, n):
        return {f"classifier/{name}/gamma": rng.uniform(0.5, 1.5, n),
                f"classifier/{name}/beta": rng.normal(0, 0.1, n),
                f"classifier/{name}/moving_mean": rng.normal(0, 1, n),
                f"classifier/{name}/moving_variance": rng.uniform(0.5, 2.0, n)}

    w = bn("batch_normalization", MEL)
    cin = 1
    for i in range(4):
        suffix = "" if i == 0 else f"_{i}"
        if i:
            w.update(bn(f"batch_normalization{suffix}", filters))
        w[f"classifier/conv2d{suffix}/kernel"] = rng.normal(0, 0.1, (5, 5, cin, filters))
        w[f"classifier/conv2d{suffix}/bias"] = rng.normal(0, 0.1, filters)
        cin = filters
    w.update(bn("batch_normalization_4", 8 * 8 * filters))
    w["classifier/dense/kernel"] = rng.normal(0, 0.05, (8 * 8 * filters, n_classes))
    w["classifier/dense/bias"] = rng.normal(0, 0.1, n_classes)
    return {k: v.astype(np.float32) for k, v in w.items()}


def _write_tf1_checkpoint(weights: dict, directory, step: int = 103005) -> str:
    """A TF1 graph with these variables (+ global_step), saved by tf.compat.v1.train.Saver."""
    graph = tf.Graph()
    with graph.as_default():
        for name, value in weights.items():
            tf.compat.v1.Variable(value, name=name)
        tf.compat.v1.train.get_or_create_global_step()
        saver = tf.compat.v1.train.Saver()
        with tf.compat.v1.Session(graph=graph) as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            return saver.save(sess, str(directory / "best_acc"), global_step=step)


def _tf1_style_logits(w: dict, x: np.ndarray) -> np.ndarray:
    """eval/inception/train.py's model(x, train=False), written with raw TF ops."""
    def bn(h, name):
        p = f"classifier/{name}/"
        return ((h - w[p + "moving_mean"]) / np.sqrt(w[p + "moving_variance"] + 1e-3)
                * w[p + "gamma"] + w[p + "beta"])

    mag = tf.abs(tf.signal.stft(x, 1024, 128, pad_end=True))  # [b, 128, 513]
    mel = tf.signal.linear_to_mel_weight_matrix(128, 513, 16000, 40.0, 7800.0)
    h = tf.math.log(tf.tensordot(mag, mel, 1) + 1e-6)
    h = bn(h, "batch_normalization")[..., None]
    for i in range(4):
        suffix = "" if i == 0 else f"_{i}"
        if i:
            h = bn(h, f"batch_normalization{suffix}")
        h = tf.nn.relu(tf.nn.conv2d(h, w[f"classifier/conv2d{suffix}/kernel"], 1, "SAME")
                       + w[f"classifier/conv2d{suffix}/bias"])
        h = tf.nn.max_pool2d(h, 2, 2, "VALID")
    h = bn(tf.reshape(h, [x.shape[0], -1]), "batch_normalization_4")
    return (h @ w["classifier/dense/kernel"] + w["classifier/dense/bias"]).numpy()


def test_imported_classifier_gives_the_tf1_logits(tmp_path, rng):
    weights = _tf1_weights(filters=8, n_classes=10, rng=rng)
    prefix = _write_tf1_checkpoint(weights, tmp_path)
    assert prefix.endswith("best_acc-103005")
    model = import_tf1_sc09_classifier(prefix)
    assert model.get_layer("conv_1").kernel.shape == (5, 5, 8, 8)
    x = rng.uniform(-0.5, 0.5, (3, 16384)).astype(np.float32)
    got = model(x, training=False).numpy()
    want = _tf1_style_logits(weights, x)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    assert np.std(want) > 0.1  # the comparison is not between two near-constant outputs
    # The directory form resolves to the same prefix (its `checkpoint` file).
    assert tf1_checkpoint_prefix(tmp_path) == prefix
    again = import_tf1_sc09_classifier(tmp_path)
    np.testing.assert_array_equal(again(x, training=False).numpy(), got)


def test_paper_size_checkpoint_fills_every_weight(tmp_path, rng):
    weights = _tf1_weights(filters=128, n_classes=10, rng=rng)
    total = sum(v.size for v in weights.values())
    assert total == 1_349_258  # the released checkpoint's variable list (reference 6.1)
    model = import_tf1_sc09_classifier(_write_tf1_checkpoint(weights, tmp_path))
    assert sum(int(np.prod(v.shape)) for v in model.weights) == total
    np.testing.assert_array_equal(model.get_layer("bn_flat").moving_variance.numpy(),
                                  weights["classifier/batch_normalization_4/moving_variance"])
    np.testing.assert_array_equal(model.get_layer("conv_3").kernel.numpy(),
                                  weights["classifier/conv2d_3/kernel"])
    np.testing.assert_array_equal(model.get_layer("logits").bias.numpy(),
                                  weights["classifier/dense/bias"])


def test_missing_variables_are_named(tmp_path, rng):
    weights = _tf1_weights(filters=4, n_classes=10, rng=rng)
    del weights["classifier/conv2d_2/bias"], weights["classifier/batch_normalization_3/beta"]
    prefix = _write_tf1_checkpoint(weights, tmp_path)
    with pytest.raises(ValueError, match=r"classifier/batch_normalization_3/beta.*"
                                         r"classifier/conv2d_2/bias"):
        import_tf1_sc09_classifier(prefix)


def test_mismatched_shapes_are_named(tmp_path, rng):
    weights = _tf1_weights(filters=4, n_classes=10, rng=rng)
    weights["classifier/batch_normalization_4/gamma"] = np.ones(100, np.float32)
    prefix = _write_tf1_checkpoint(weights, tmp_path)
    with pytest.raises(ValueError, match=r"batch_normalization_4/gamma: checkpoint \(100,\)"):
        import_tf1_sc09_classifier(prefix)


def test_no_checkpoint_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no TF1 checkpoint"):
        import_tf1_sc09_classifier(tmp_path / "best_acc-1")


def test_keras_weights_round_trip_through_a_tf1_checkpoint(tmp_path):
    """A Keras classifier exported under the TF1 names imports back to the same logits."""
    from tfaudiogan.models.classifiers import tf1_variable_map

    source = sc09_classifier(filters=4)
    weights = {}
    for key, name in tf1_variable_map().items():
        layer_name, leaf = key.split("/")
        weights[name] = getattr(source.get_layer(layer_name), leaf).numpy()
    model = import_tf1_sc09_classifier(_write_tf1_checkpoint(weights, tmp_path))
    x = np.random.default_rng(1).uniform(-1, 1, (2, 16384)).astype(np.float32)
    np.testing.assert_allclose(model(x, training=False), source(x, training=False), atol=1e-6)
