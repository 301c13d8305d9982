"""CycleGAN networks against the junyanz reference facts (reference/cyclegan.md 1.1, 1.2, 1.5, 7).

Paper-size models are only built and counted (plus one 256x256 generator forward pass); every
other forward pass uses ngf/ndf 4.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfaudiogan.layers import instance_norm
from tfaudiogan.layers.normalization import InstanceNormalization
from tfaudiogan.models import cyclegan

# fixtures


@pytest.fixture(scope="module")
def g9():
    return cyclegan.resnet_generator(channels=1)


@pytest.fixture(scope="module")
def d3():
    return cyclegan.patch_discriminator(channels=1)


@pytest.fixture(scope="module")
def small_g():
    keras.utils.set_random_seed(0)
    return cyclegan.resnet_generator(channels=1, ngf=4, n_blocks=2)


@pytest.fixture(scope="module")
def small_d():
    keras.utils.set_random_seed(0)
    return cyclegan.patch_discriminator(channels=1, ndf=4)


def _x(rng, *shape):
    return rng.uniform(-1.0, 1.0, shape).astype("float32")


# check 1: parameter counts


def test_reference_parameter_counts(g9, d3):
    assert g9.count_params() == 11_365_633
    assert cyclegan.resnet_generator(channels=3).count_params() == 11_378_179
    assert cyclegan.resnet_generator(channels=1, n_blocks=6).count_params() == 7_825_153
    assert d3.count_params() == 2_762_689
    assert cyclegan.patch_discriminator(channels=3).count_params() == 2_764_737
    nets = [cyclegan.resnet_generator(name="g_ab"), cyclegan.resnet_generator(name="g_ba"),
            cyclegan.patch_discriminator(name="d_a"), cyclegan.patch_discriminator(name="d_b")]
    assert sum(n.count_params() for n in nets) == 28_256_644


def test_generator_per_layer_breakdown(g9):
    expected = {"c7s1_64": 3_200, "d128": 73_856, "d256": 295_168, "u128": 295_040,
                "u64": 73_792, "c7s1_out": 3_137}
    for name, count in expected.items():
        assert g9.get_layer(name).count_params() == count, name
    blocks = [g9.get_layer(f"res{i}_conv1").count_params()
              + g9.get_layer(f"res{i}_conv2").count_params() for i in range(1, 10)]
    assert blocks == [1_180_160] * 9
    with pytest.raises(ValueError):
        g9.get_layer("res10_conv1")
    assert sum(expected.values()) + sum(blocks) == g9.count_params()


def test_discriminator_per_layer_breakdown(d3):
    names = ["c64", "c128", "c256", "c512", "patch_logits"]
    counts = [d3.get_layer(n).count_params() for n in names]
    assert counts == [1_088, 131_200, 524_544, 2_097_664, 8_193]
    assert sum(counts) == d3.count_params()
    strides = [d3.get_layer(n).strides for n in names]
    assert strides == [(2, 2), (2, 2), (2, 2), (1, 1), (1, 1)]


# check 2: shapes


def test_generator_intermediate_shapes_symbolic(g9):
    names = ["c7s1_64_relu", "d128_relu", "d256_relu", "res9_add", "u128_relu", "u64_relu",
             "c7s1_out_tanh"]
    probe = keras.Model(g9.input, [g9.get_layer(n).output for n in names])
    shapes = [tuple(t.shape) for t in probe(keras.KerasTensor((1, 256, 256, 1)))]
    assert shapes == [(1, 256, 256, 64), (1, 128, 128, 128), (1, 64, 64, 256),
                      (1, 64, 64, 256), (1, 128, 128, 128), (1, 256, 256, 64), (1, 256, 256, 1)]


def test_paper_generator_forward_256(g9, rng):
    y = np.asarray(g9(_x(rng, 1, 256, 256, 1)))
    assert y.shape == (1, 256, 256, 1)
    assert np.all(np.abs(y) < 1.0)


def test_models_are_fully_convolutional(g9, d3):
    for model in (g9, d3):
        assert tuple(model.input.shape) == (None, None, None, 1)
        kinds = {type(layer).__name__ for layer in model.layers}
        assert not kinds & {"Reshape", "Flatten", "Dense", "MaxPooling2D", "AveragePooling2D"}


@pytest.mark.parametrize("width", [128, 260, 512, 1000])
def test_generator_keeps_multiple_of_four_sizes(small_g, rng, width):
    assert small_g(_x(rng, 1, 256, width, 1)).shape == (1, 256, width, 1)


@pytest.mark.parametrize("size, expected", [((257, 258), (260, 260)), ((255, 62), (256, 64))])
def test_generator_rounds_other_sizes_up_to_multiple_of_four(small_g, rng, size, expected):
    # Reference behaviour (4 * ceil(n / 4)); callers pad and crop.
    assert small_g(_x(rng, 1, *size, 1)).shape == (1, *expected, 1)


@pytest.mark.parametrize(
    "size, expected",
    [((256, 256), (30, 30)), ((256, 128), (30, 14)), ((256, 512), (30, 62)),
     ((256, 1000), (30, 123)), ((128, 128), (14, 14)), ((64, 64), (6, 6))],
)
def test_discriminator_patch_map_size(small_d, rng, size, expected):
    h, w = size
    assert expected == (h // 8 - 2, w // 8 - 2)
    assert small_d(_x(rng, 2, h, w, 1)).shape == (2, *expected, 1)


# check 3: value range


def test_generator_output_is_tanh_of_last_conv(rng):
    g = cyclegan.resnet_generator(channels=1, ngf=4, n_blocks=1)
    last = g.get_layer("c7s1_out")
    kernel, bias = last.get_weights()
    last.set_weights([kernel * 200.0, bias])  # push pre-activations well outside [-1, 1]
    probe = keras.Model(g.input, [last.output, g.output])
    pre, y = (np.asarray(t) for t in probe(_x(rng, 1, 32, 32, 1)))
    assert np.max(np.abs(pre)) > 2.0
    assert np.all(np.abs(y) <= 1.0)
    np.testing.assert_allclose(y, np.tanh(pre), atol=1e-6)


def test_discriminator_outputs_unbounded_logits(rng):
    d = cyclegan.patch_discriminator(channels=1, ndf=4)
    last = d.get_layer("patch_logits")
    assert d.layers[-1] is last and last.activation.__name__ == "linear"
    kernel, bias = last.get_weights()
    last.set_weights([kernel * 500.0, bias])
    y = np.asarray(d(_x(rng, 1, 64, 64, 1)))
    assert y.max() > 1.0 and y.min() < 0.0  # a sigmoid would give (0, 1)


# check 8: init and instance norm


def _weighted_layers(model):
    kinds = (keras.layers.Conv2D, keras.layers.Conv2DTranspose, keras.layers.Dense)
    return [layer for layer in model.layers if isinstance(layer, kinds)]


def test_init_normal_002_and_zero_bias(g9, d3):
    for model in (g9, d3):
        layers = _weighted_layers(model)
        assert layers
        for layer in layers:
            kernel = np.asarray(layer.kernel)
            assert layer.use_bias, layer.name
            np.testing.assert_array_equal(np.asarray(layer.bias), 0.0)
            assert kernel.size >= 1000, layer.name  # enough samples for a 10 % std check
            assert abs(kernel.std() - 0.02) < 0.002, (layer.name, kernel.std())
            assert abs(kernel.mean()) < 0.002, layer.name


def test_instance_norm_settings(g9, d3):
    # G: c7s1, d128, d256, 2 per residual block, u128, u64 (none on the output) = 23.
    # D: c128, c256, c512 (none on the first conv or the logits) = 3.
    for model, expected_count in ((g9, 23), (d3, 3)):
        norms = [layer for layer in model.layers if isinstance(layer, InstanceNormalization)]
        assert len(norms) == expected_count
        for layer in norms:
            assert layer.epsilon == 1e-5
            assert layer.weights == []  # affine=False
    assert g9.get_layer("c7s1_64_norm") is not None
    assert "c64_norm" not in [layer.name for layer in d3.layers]  # no norm on first D layer


def test_instance_norm_matches_reference_formula(rng):
    # Tiny variance makes epsilon matter: eps 1e-3 (Keras default) would shrink the output ~10x.
    x = (1e-3 * rng.standard_normal((2, 6, 5, 3)) + rng.standard_normal((1, 1, 1, 3)))
    x = x.astype("float32")
    mean = x.mean(axis=(1, 2), keepdims=True)
    var = x.var(axis=(1, 2), keepdims=True)  # biased, as PyTorch InstanceNorm2d
    expected = (x - mean) / np.sqrt(var + 1e-5)
    y = np.asarray(instance_norm()(x))
    np.testing.assert_allclose(y, expected, rtol=1e-3, atol=1e-4)
    group = keras.layers.GroupNormalization(groups=-1, epsilon=1e-5, center=False, scale=False)
    np.testing.assert_allclose(y, np.asarray(group(x)), rtol=1e-3, atol=1e-4)


def test_instance_norm_of_a_constant_map_is_exactly_zero_and_shift_invariant(rng):
    x = np.full((2, 8, 8, 3), -0.73, np.float32)  # a silent chunk: every pixel at the floor
    x[1] = 12345.678
    assert not np.asarray(instance_norm()(x)).any()
    y = rng.standard_normal((2, 8, 8, 3)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(instance_norm()(y + 100.0)),
                               np.asarray(instance_norm()(y)), atol=2e-4)


def test_instance_norm_gradients_are_finite_and_it_round_trips_through_keras(tmp_path, rng):
    import tensorflow as tf

    x = tf.constant(rng.standard_normal((2, 4, 4, 2)).astype(np.float32))
    weights = tf.constant(rng.standard_normal((2, 4, 4, 2)).astype(np.float32))
    layer = instance_norm(name="n")
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(layer(x) * weights)
    grad = tape.gradient(y, x).numpy()
    assert np.isfinite(grad).all() and np.abs(grad).max() > 0
    model = keras.Sequential([keras.Input((4, 4, 2)), layer])
    model.save(tmp_path / "m.keras")
    again = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(np.asarray(again(x)), np.asarray(model(x)))


# check 9: PyTorch alignment parity against explicit numpy definitions


def _torch_conv(x, w, b, stride, pad):
    """PyTorch Conv2d definition: out[o] = sum_k x[o*s - p + k] w[k], zero outside x.

    x [H, W, Cin], w [k, k, Cin, Cout] -> [Ho, Wo, Cout].
    """
    h, wd, _ = x.shape
    k = w.shape[0]
    ho, wo = (h + 2 * pad - k) // stride + 1, (wd + 2 * pad - k) // stride + 1
    out = np.tile(b, (ho, wo, 1)).astype("float64")
    for i in range(ho):
        for j in range(wo):
            for a in range(k):
                for c in range(k):
                    r, s = i * stride - pad + a, j * stride - pad + c
                    if 0 <= r < h and 0 <= s < wd:
                        out[i, j] += x[r, s] @ w[a, c]
    return out


def _torch_conv_transpose(x, w, b):
    """PyTorch ConvTranspose2d(k3, s2, p1, op1): out[i*2 - 1 + k] += x[i] w[k], size 2H.

    x [H, W, Cin], w [3, 3, Cout, Cin] (Keras layout) -> [2H, 2W, Cout].
    """
    h, wd, _ = x.shape
    out = np.tile(b, (2 * h, 2 * wd, 1)).astype("float64")
    for i in range(h):
        for j in range(wd):
            for a in range(3):
                for c in range(3):
                    r, s = 2 * i - 1 + a, 2 * j - 1 + c
                    if 0 <= r < 2 * h and 0 <= s < 2 * wd:
                        out[r, s] += np.einsum("c,oc->o", x[i, j], w[a, c])
    return out


@pytest.mark.parametrize("size", [(8, 8), (7, 9)])
@pytest.mark.parametrize("kernel_size", [3, 4])
def test_strided_conv_matches_pytorch_definition(rng, size, kernel_size):
    inputs = keras.Input(shape=(None, None, 1))
    model = keras.Model(inputs, cyclegan.padded_conv(inputs, 2, kernel_size, 2, 1, "down"))
    w = rng.standard_normal((kernel_size, kernel_size, 1, 2)).astype("float32")
    b = rng.standard_normal(2).astype("float32")
    model.get_layer("down").set_weights([w, b])
    x = rng.standard_normal((1, *size, 1)).astype("float32")
    expected = _torch_conv(x[0], w, b, stride=2, pad=1)
    np.testing.assert_allclose(np.asarray(model(x))[0], expected, rtol=1e-5, atol=1e-5)


def test_same_padding_strided_conv_is_shifted_on_even_sizes(rng):
    # The pitfall: for k3/s2 on an even size, padding="same" pads (0 before, 1 after) instead of
    # (1, 1). (On odd sizes it happens to pad (1, 1), which is why small tests can miss it.)
    inputs = keras.Input(shape=(None, None, 1))
    model = keras.Model(inputs, cyclegan.padded_conv(inputs, 2, 3, 2, 1, "down"))
    same = keras.layers.Conv2D(2, 3, strides=2, padding="same")
    same.build((None, None, None, 1))
    w = rng.standard_normal((3, 3, 1, 2)).astype("float32")
    b = np.zeros(2, "float32")
    model.get_layer("down").set_weights([w, b])
    same.set_weights([w, b])
    x = rng.standard_normal((1, 8, 8, 1)).astype("float32")
    y_ref, y_same = np.asarray(model(x)), np.asarray(same(x))
    assert y_ref.shape == y_same.shape == (1, 4, 4, 2)
    assert not np.allclose(y_ref, y_same, atol=1e-3)
    # "same" is the PyTorch-style conv with padding (0 before, 1 after) instead of (1, 1).
    shifted = np.pad(x, ((0, 0), (0, 1), (0, 1), (0, 0)))
    valid = keras.layers.Conv2D(2, 3, strides=2, padding="valid")
    valid.build((None, None, None, 1))
    valid.set_weights([w, b])
    np.testing.assert_allclose(np.asarray(valid(shifted)), y_same, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("size", [(8, 8), (5, 7)])
def test_transposed_conv_matches_pytorch_definition(rng, size):
    inputs = keras.Input(shape=(None, None, 1))
    model = keras.Model(inputs, cyclegan.upsample_conv(inputs, 2, "up"))
    w = rng.standard_normal((3, 3, 2, 1)).astype("float32")
    b = rng.standard_normal(2).astype("float32")
    model.get_layer("up").set_weights([w, b])
    x = rng.standard_normal((1, *size, 1)).astype("float32")
    expected = _torch_conv_transpose(x[0], w, b)
    y = np.asarray(model(x))[0]
    assert y.shape == (2 * size[0], 2 * size[1], 2)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)

    same = keras.layers.Conv2DTranspose(2, 3, strides=2, padding="same")
    same.build((None, None, None, 1))
    same.set_weights([w, b])
    y_same = np.asarray(same(x))[0]
    assert y_same.shape == expected.shape  # same size, but shifted by one pixel
    assert not np.allclose(y_same, expected, atol=1e-3)
    np.testing.assert_allclose(y_same[1:, 1:], expected[:-1, :-1], rtol=1e-5, atol=1e-5)


def test_same_padding_discriminator_would_give_32x32():
    # keras-io style D (all convs k4, padding="same") at 256x256: 32x32, not the reference 30x30.
    size = 256
    for strides in (2, 2, 2, 1, 1):
        size = keras.layers.Conv2D(1, 4, strides=strides, padding="same").compute_output_shape(
            (1, size, size, 1))[1]
    assert size == 32


# serialisation and errors


def test_generator_saved_keras_round_trip(tmp_path, small_g, rng):
    path = tmp_path / "g.keras"
    small_g.save(path)
    loaded = keras.saving.load_model(path)
    x = _x(rng, 1, 32, 40, 1)
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(small_g(x)), atol=1e-6)


@pytest.mark.parametrize(
    "builder, kwargs",
    [(cyclegan.resnet_generator, {"ngf": 0}), (cyclegan.resnet_generator, {"n_blocks": -1}),
     (cyclegan.patch_discriminator, {"n_layers": 0}),
     (cyclegan.music_style_generator, {"output_activation": "relu"}),
     (cyclegan.music_style_discriminator, {"activation": "sigmoid"})],
)
def test_invalid_arguments_raise(builder, kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        builder(**kwargs)


# seed-004 music-style variant


def _music_g_params(channels, ngf, n_blocks):
    conv = lambda k, cin, cout: k * k * cin * cout + cout  # noqa: E731
    return (conv(3, channels, ngf) + conv(3, ngf, 2 * ngf)
            + n_blocks * 2 * conv(3, 2 * ngf, 2 * ngf)
            + conv(3, 2 * ngf, ngf) + conv(3, ngf, channels))


def _music_d_params(channels, ndf):
    widths = [channels] + [ndf * m for m in (1, 2, 4, 8, 8)]
    convs = sum(16 * cin * cout + cout for cin, cout in zip(widths[:-1], widths[1:]))
    return convs + 8 * ndf + 1  # Dense(1) on the channel axis


@pytest.mark.parametrize("channels, ngf, n_blocks, documented",
                         [(1, 64, 9, 2_805_377), (2, 8, 3, None)])
def test_music_generator_parameter_count(channels, ngf, n_blocks, documented):
    model = cyclegan.music_style_generator(channels=channels, ngf=ngf, n_blocks=n_blocks)
    assert model.count_params() == _music_g_params(channels, ngf, n_blocks)
    assert documented in (None, model.count_params())  # the number in the docstring


@pytest.mark.parametrize("channels, ndf, documented", [(1, 64, 6_949_825), (2, 8, None)])
def test_music_discriminator_parameter_count(channels, ndf, documented):
    model = cyclegan.music_style_discriminator(channels=channels, ndf=ndf)
    assert model.count_params() == _music_d_params(channels, ndf)
    assert documented in (None, model.count_params())


def test_music_generator_structure_and_shapes(rng):
    keras.utils.set_random_seed(0)
    g = cyclegan.music_style_generator(channels=1, ngf=4, n_blocks=2)
    convs = [layer for layer in g.layers if isinstance(layer, keras.layers.Conv2D)]
    assert [(c.name, c.strides) for c in convs if "res" not in c.name] == [
        ("d4", (2, 2)), ("d8", (2, 2))]
    ups = [layer.name for layer in g.layers if isinstance(layer, keras.layers.Conv2DTranspose)]
    assert ups == ["u4", "u_out"]
    assert "u_out_norm" not in [layer.name for layer in g.layers]
    assert g.layers[-1].name == "u_out_tanh"
    for width in (128, 252, 3000):  # 3000 frames = 30 s at the slides' 10 ms hop
        y = np.asarray(g(_x(rng, 1, 256, width, 1)))
        assert y.shape == (1, 256, width, 1)
        assert np.all(np.abs(y) < 1.0)
    assert g(_x(rng, 1, 256, 250, 1)).shape == (1, 256, 252, 1)
    linear = cyclegan.music_style_generator(ngf=4, n_blocks=1, output_activation="linear")
    assert linear.layers[-1].name == "u_out_crop"


@pytest.mark.parametrize("width", [32, 100, 256, 1000, 3001])
def test_music_discriminator_any_length(rng, width):
    keras.utils.set_random_seed(0)
    d = cyclegan.music_style_discriminator(channels=1, ndf=4)
    y = d(_x(rng, 1, 256, width, 1))
    assert y.shape == (1, 256 // 16 - 1, width // 16 - 1, 1)


def test_music_discriminator_structure():
    d = cyclegan.music_style_discriminator(channels=1, ndf=4)
    convs = [layer for layer in d.layers if isinstance(layer, keras.layers.Conv2D)]
    assert [c.strides[0] for c in convs] == [2, 2, 2, 2, 1]
    assert [c.kernel_size for c in convs] == [(4, 4)] * 5
    assert [c.filters for c in convs] == [4, 8, 16, 32, 32]
    norms = [layer for layer in d.layers if isinstance(layer, InstanceNormalization)]
    assert len(norms) == 4 and all(n.epsilon == 1e-5 and not n.weights for n in norms)
    acts = [layer for layer in d.layers if isinstance(layer, keras.layers.ReLU)]
    assert len(acts) == 5
    dense = d.layers[-1]
    assert isinstance(dense, keras.layers.Dense) and tuple(dense.kernel.shape) == (32, 1)
    assert not any(isinstance(layer, keras.layers.Flatten) for layer in d.layers)
    leaky = cyclegan.music_style_discriminator(ndf=4, activation="leaky_relu")
    slopes = [layer.negative_slope for layer in leaky.layers
              if isinstance(layer, keras.layers.LeakyReLU)]
    assert slopes == [0.2] * 5


def _receptive_field(strides):
    """Input support of one interior output of a norm-free k4 stack built with padded_conv."""
    inputs = keras.Input(shape=(None, None, 1))
    x = inputs
    for i, stride in enumerate(strides):
        x = cyclegan.padded_conv(x, 1, 4, stride, 1, f"c{i}")
    probe = keras.Model(inputs, x)
    for layer in probe.layers:
        if layer.weights:
            layer.set_weights([np.ones_like(w) for w in layer.get_weights()])
    image = tf.ones((1, 256, 256, 1))
    with tf.GradientTape() as tape:
        tape.watch(image)
        out = probe(image)
        centre = out[0, out.shape[1] // 2, out.shape[2] // 2, 0]
    support = np.argwhere(np.asarray(tape.gradient(centre, image))[0, :, :, 0] != 0)
    return tuple(support.max(axis=0) - support.min(axis=0) + 1)


def test_receptive_fields():
    assert _receptive_field((2, 2, 2, 1, 1)) == (70, 70)  # reference PatchGAN (check method)
    assert _receptive_field((2, 2, 2, 2, 1)) == (94, 94)  # seed-004 discriminator (docstring)
