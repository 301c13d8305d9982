"""WaveGAN networks against reference/wavegan.md sections 1-3 and the checks of section 11.

Paper-size models are only built (their parameters counted, their symbolic shapes read); every
forward pass uses d=4.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfaudiogan.export import saved_model as sm
from tfaudiogan.export import tflite
from tfaudiogan.layers import PhaseShuffle
from tfaudiogan.models import wavegan

# reference/wavegan.md section 11, check 2 (and 1.3, 3.3): (kwargs, G params, D params).
PARAM_COUNTS = [
    ({}, 19_065_345, 17_427_969),
    ({"dim": 32}, 5_180_673, 4_361_985),
    ({"channels": 2}, 19_066_946, 17_429_569),
    ({"slice_len": 32768}, 73_149_953, 69_875_201),
    ({"slice_len": 65536}, 73_149_953, 69_875_201),
    ({"slice_len": 32768, "dim": 32}, 19_115_777, 17_478_401),
    ({"slice_len": 65536, "dim": 32}, 19_115_777, 17_478_401),
]


def _trainable(model) -> int:
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


@pytest.fixture
def zero_init(monkeypatch):
    """Counting parameters does not need random weights: skip Glorot sampling (5-10x faster)."""
    monkeypatch.setattr(wavegan, "_kernel_init", keras.initializers.Zeros)


@pytest.fixture(scope="module")
def paper_g():
    return wavegan.generator()  # real Glorot init: test_glorot_uniform_kernels_and_zero_biases


@pytest.fixture(scope="module")
def paper_d():
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(wavegan, "_kernel_init", keras.initializers.Zeros)
        return wavegan.discriminator()


def _z(rng, batch=2, latent_dim=100):
    return rng.uniform(-1.0, 1.0, (batch, latent_dim)).astype("float32")


# numpy references of TensorFlow's SAME rule (reference/wavegan.md 1.4)


def np_conv1d_same(x, kernel, bias, stride):
    """x [b, L, cin], kernel [k, cin, cout]: TF SAME pads total // 2 left, the rest right."""
    k = kernel.shape[0]
    length = x.shape[1]
    out_len = -(-length // stride)
    total = max((out_len - 1) * stride + k - length, 0)
    xp = np.pad(x, ((0, 0), (total // 2, total - total // 2), (0, 0)))
    y = np.zeros((x.shape[0], out_len, kernel.shape[2]))
    for i in range(k):
        y += xp[:, i:i + stride * (out_len - 1) + 1:stride] @ kernel[i]
    return y + bias


def np_conv1d_transpose_same(x, kernel, bias, stride):
    """x [b, L, cin], Keras kernel [k, cout, cin]: 'valid' output cropped to [left, left + sL)."""
    k = kernel.shape[0]
    length = x.shape[1]
    full = np.zeros((x.shape[0], (length - 1) * stride + k, kernel.shape[1]))
    for i in range(k):
        full[:, i:i + stride * (length - 1) + 1:stride] += x @ kernel[i].T
    left = ((length - 1) * stride + k - stride * length) // 2
    return full[:, left:left + stride * length] + bias


# check 2: parameter counts


@pytest.mark.parametrize("kwargs,g_params,d_params", PARAM_COUNTS)
def test_reference_parameter_counts(zero_init, kwargs, g_params, d_params):
    g = wavegan.generator(**kwargs)
    d = wavegan.discriminator(**kwargs)
    assert (g.count_params(), d.count_params()) == (g_params, d_params)
    keras.backend.clear_session()


def test_paper_counts_with_options(zero_init, paper_g, paper_d):
    assert paper_g.count_params() == 19_065_345
    assert paper_d.count_params() == 17_427_969
    assert wavegan.generator(post_filter=True).count_params() == 19_065_857
    assert wavegan.generator(upsample="nn").count_params() == 19_065_345
    g_bn = wavegan.generator(batchnorm=True)
    d_bn = wavegan.discriminator(batchnorm=True)
    assert (_trainable(g_bn), g_bn.count_params()) == (19_069_313, 19_073_281)
    assert (_trainable(d_bn), d_bn.count_params()) == (17_431_809, 17_435_649)
    keras.backend.clear_session()


# checks 1 and 3: shapes and kernels at paper size (symbolic, nothing is run)


def test_paper_generator_layers(paper_g):
    assert paper_g.get_layer("z_project").kernel.shape == (100, 16384)
    assert tuple(paper_g.get_layer("z_project_relu").output.shape) == (None, 16, 1024)
    expected = [((25, 512, 1024), 64, 512), ((25, 256, 512), 256, 256),
                ((25, 128, 256), 1024, 128), ((25, 64, 128), 4096, 64), ((25, 1, 64), 16384, 1)]
    for i, (kernel, steps, width) in enumerate(expected):
        layer = paper_g.get_layer(f"upconv_{i}")
        assert tuple(layer.kernel.shape) == kernel
        assert (layer.strides, layer.padding) == ((4,), "same")
        assert tuple(layer.output.shape) == (None, steps, width)
    assert tuple(paper_g.output_shape) == (None, 16384, 1)
    assert paper_g.layers[-1].name == "upconv_4_tanh"
    assert not any(isinstance(layer, PhaseShuffle) for layer in paper_g.layers)


def test_paper_discriminator_layers(paper_d):
    expected = [((25, 1, 64), 4096), ((25, 64, 128), 1024), ((25, 128, 256), 256),
                ((25, 256, 512), 64), ((25, 512, 1024), 16)]
    for i, (kernel, steps) in enumerate(expected):
        layer = paper_d.get_layer(f"downconv_{i}")
        assert tuple(layer.kernel.shape) == kernel
        assert tuple(layer.output.shape) == (None, steps, kernel[2])
        assert paper_d.get_layer(f"downconv_{i}_lrelu").negative_slope == pytest.approx(0.2)
    assert tuple(paper_d.get_layer("flatten").output.shape) == (None, 16384)
    assert tuple(paper_d.get_layer("output").kernel.shape) == (16384, 1)
    assert tuple(paper_d.output_shape) == (None, 1)


def test_long_slice_layers():
    g = wavegan.generator(slice_len=32768, dim=4)
    assert tuple(g.get_layer("z_project_relu").output.shape) == (None, 16, 128)
    assert g.get_layer("upconv_5").strides == (2,)
    assert tuple(g.get_layer("upconv_4").output.shape) == (None, 16384, 4)
    assert wavegan.generator(slice_len=65536, dim=4).get_layer("upconv_5").strides == (4,)
    d = wavegan.discriminator(slice_len=32768, dim=4)
    assert d.get_layer("downconv_5").strides == (2,)
    assert tuple(d.get_layer("downconv_5").output.shape) == (None, 16, 128)
    assert wavegan.discriminator(slice_len=65536, dim=4).get_layer("downconv_5").strides == (4,)


# forward passes (d=4)


@pytest.mark.parametrize("slice_len", wavegan.SLICE_LENS)
@pytest.mark.parametrize("upsample", wavegan.UPSAMPLE_CHOICES)
def test_forward_shapes_and_range(rng, slice_len, upsample):
    keras.utils.set_random_seed(0)
    g = wavegan.generator(slice_len=slice_len, dim=4, upsample=upsample)
    d = wavegan.discriminator(slice_len=slice_len, dim=4, seed=0)
    audio = g(_z(rng), training=True).numpy()
    assert audio.shape == (2, slice_len, 1)
    assert np.all(np.abs(audio) < 1.0)  # tanh, no post-processing filter
    assert np.std(audio) > 0
    logits = d(audio, training=True).numpy()
    assert logits.shape == (2, 1) and np.all(np.isfinite(logits))


def test_multichannel_forward(rng):
    g = wavegan.generator(dim=4, channels=2, post_filter=True)
    d = wavegan.discriminator(dim=4, channels=2)
    audio = g(_z(rng))
    assert tuple(audio.shape) == (2, 16384, 2)
    assert tuple(g.get_layer("pp_filt").kernel.shape) == (512, 2, 1)
    assert tuple(d(audio).shape) == (2, 1)


# phase shuffle placement


@pytest.mark.parametrize("slice_len", wavegan.SLICE_LENS)
def test_phase_shuffle_after_layers_0_to_3_only(slice_len):
    d = wavegan.discriminator(slice_len=slice_len, dim=4, phaseshuffle_rad=2)
    shuffles = [layer for layer in d.layers if isinstance(layer, PhaseShuffle)]
    assert [s.name for s in shuffles] == [f"phase_shuffle_{i}" for i in range(4)]
    assert all(s.rad == 2 for s in shuffles)
    for i, shuffle in enumerate(shuffles):
        assert shuffle.input is d.get_layer(f"downconv_{i}_lrelu").output
        assert d.get_layer(f"downconv_{i + 1}").input is shuffle.output
    last = 5 if slice_len > 16384 else 4
    assert d.get_layer("flatten").input is d.get_layer(f"downconv_{last}_lrelu").output
    none = wavegan.discriminator(slice_len=slice_len, dim=4, phaseshuffle_rad=0)
    assert not any(isinstance(layer, PhaseShuffle) for layer in none.layers)


def test_discriminator_shuffles_unless_training_false(rng):
    keras.utils.set_random_seed(1)
    d = wavegan.discriminator(dim=4, seed=3)
    x = rng.uniform(-1, 1, (2, 16384, 1)).astype("float32")
    fixed = [d(x, training=False).numpy() for _ in range(2)]
    np.testing.assert_array_equal(fixed[0], fixed[1])
    shuffled = [d(x, training=True).numpy() for _ in range(4)]
    assert any(not np.array_equal(s, fixed[0]) for s in shuffled)
    no_shuffle = wavegan.discriminator(dim=4, phaseshuffle_rad=0)
    no_shuffle.set_weights(d.get_weights())
    np.testing.assert_allclose(no_shuffle(x, training=True).numpy(), fixed[0], rtol=1e-6)


def test_gradient_penalty_backpropagates_through_phase_shuffle():
    """WGAN-GP needs d/dtheta of ||dD/dx||: second-order gradients through the shuffles."""
    keras.utils.set_random_seed(2)
    d = wavegan.discriminator(dim=4, seed=1)
    x = tf.random.uniform((2, 16384, 1), -1.0, 1.0)

    @tf.function
    def penalty_grads():
        with tf.GradientTape() as outer:
            with tf.GradientTape() as inner:
                inner.watch(x)
                logits = d(x, training=True)
            grad = inner.gradient(logits, x)
            norm = tf.norm(tf.reshape(grad, [2, -1]), axis=1)
            penalty = tf.reduce_mean((norm - 1.0) ** 2)
        return outer.gradient(penalty, [layer.kernel for layer in d.layers
                                        if hasattr(layer, "kernel")])

    grads = penalty_grads()
    assert len(grads) == 6
    assert all(g is not None and float(tf.reduce_max(tf.abs(g))) > 0 for g in grads)


def test_batchnorm_placement():
    g = wavegan.generator(dim=4, batchnorm=True)
    d = wavegan.discriminator(dim=4, batchnorm=True)
    g_bn = [layer.name for layer in g.layers if isinstance(layer, keras.layers.BatchNormalization)]
    d_bn = [layer.name for layer in d.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert g_bn == ["z_project_bn"] + [f"upconv_{i}_bn" for i in range(4)]
    assert d_bn == [f"downconv_{i}_bn" for i in range(1, 5)]
    d_long = wavegan.discriminator(slice_len=65536, dim=4, batchnorm=True)
    assert sum(isinstance(layer, keras.layers.BatchNormalization) for layer in d_long.layers) == 5


# check 5: TensorFlow SAME alignment, on the models' own layers


def test_same_alignment_worked_examples():
    conv = keras.layers.Conv1D(1, 25, strides=4, padding="same", use_bias=False)
    conv.build((1, 16, 1))
    centre = np.zeros((25, 1, 1), "float32")
    centre[12] = 1.0
    conv.set_weights([centre])
    x = np.arange(16, dtype="float32").reshape(1, 16, 1)
    np.testing.assert_array_equal(conv(x).numpy().ravel(), [2, 6, 10, 14])
    upconv = keras.layers.Conv1DTranspose(1, 25, strides=4, padding="same", use_bias=False)
    upconv.build((1, 4, 1))
    upconv.set_weights([np.arange(1, 26, dtype="float32").reshape(25, 1, 1)])
    delta = np.zeros((1, 4, 1), "float32")
    delta[0, 0] = 1.0
    np.testing.assert_array_equal(upconv(delta).numpy().ravel(), list(range(11, 26)) + [0])
    delta = np.roll(delta, 1, axis=1)
    np.testing.assert_array_equal(upconv(delta).numpy().ravel(), list(range(7, 23)))


def test_model_layers_use_tf_same_alignment(rng):
    g = wavegan.generator(slice_len=32768, dim=4)
    d = wavegan.discriminator(dim=4)
    for layer in (g.get_layer("upconv_0"), g.get_layer("upconv_5")):
        kernel = rng.normal(size=layer.kernel.shape).astype("float32")
        bias = rng.normal(size=layer.bias.shape).astype("float32")
        layer.set_weights([kernel, bias])
        x = rng.normal(size=(2, 7, kernel.shape[2])).astype("float32")
        np.testing.assert_allclose(
            layer(x).numpy(), np_conv1d_transpose_same(x, kernel, bias, layer.strides[0]),
            atol=1e-4)
    layer = d.get_layer("downconv_1")
    kernel = rng.normal(size=layer.kernel.shape).astype("float32")
    bias = rng.normal(size=layer.bias.shape).astype("float32")
    layer.set_weights([kernel, bias])
    x = rng.normal(size=(2, 30, kernel.shape[1])).astype("float32")
    np.testing.assert_allclose(layer(x).numpy(), np_conv1d_same(x, kernel, bias, 4), atol=1e-4)


def test_nn_upsample_is_repeat_then_stride1_conv(rng):
    g = wavegan.generator(dim=4, upsample="nn")
    up, conv = g.get_layer("upconv_1_upsample"), g.get_layer("upconv_1")
    assert conv.strides == (1,) and conv.kernel.shape[0] == 25
    kernel = rng.normal(size=conv.kernel.shape).astype("float32")
    bias = rng.normal(size=conv.bias.shape).astype("float32")
    conv.set_weights([kernel, bias])
    x = rng.normal(size=(2, 6, kernel.shape[1])).astype("float32")
    expected = np_conv1d_same(np.repeat(x, 4, axis=1), kernel, bias, 1)
    np.testing.assert_allclose(conv(up(x)).numpy(), expected, atol=1e-4)


def test_post_filter_follows_tanh_and_pads_255_256(rng):
    g = wavegan.generator(dim=4, post_filter=True)
    pp = g.get_layer("pp_filt")
    assert pp.kernel.shape == (512, 1, 1) and not pp.use_bias
    assert pp.input is g.get_layer("upconv_4_tanh").output
    tanh_model = keras.Model(g.input, g.get_layer("upconv_4_tanh").output)
    z = _z(rng)
    kernel = np.zeros((512, 1, 1), "float32")
    before = tanh_model(z).numpy()
    gain = 2.0 / np.max(np.abs(before))
    kernel[255] = gain  # TF SAME with 512 taps pads 255 left: tap 255 is the current sample
    pp.set_weights([kernel])
    after = g(z).numpy()
    np.testing.assert_allclose(after, gain * before, rtol=1e-5)
    assert np.max(np.abs(after)) > 1.0  # after the tanh, so the output can leave [-1, 1]
    kernel = np.zeros((512, 1, 1), "float32")
    kernel[0] = 1.0  # first tap reaches 255 samples back
    pp.set_weights([kernel])
    shifted = g(z).numpy()
    np.testing.assert_allclose(shifted[:, 255:], before[:, :-255], rtol=1e-6)
    np.testing.assert_array_equal(shifted[:, :255], 0.0)


# initialisation (reference: TF1 tf.layers defaults)


def test_glorot_uniform_kernels_and_zero_biases(paper_g):
    g = wavegan.generator(dim=4, post_filter=True)
    d = wavegan.discriminator(dim=4)
    for model in (g, d):
        for layer in model.layers:
            init = getattr(layer, "kernel_initializer", None) or getattr(
                layer, "depthwise_initializer", None)
            if init is not None:
                assert isinstance(init, keras.initializers.GlorotUniform), layer.name
            if getattr(layer, "bias", None) is not None:
                np.testing.assert_array_equal(layer.bias.numpy(), 0.0)
    kernel = paper_g.get_layer("upconv_1").kernel.numpy()  # (25, 256, 512)
    limit = np.sqrt(6.0 / (25 * 512 + 25 * 256))
    # the float32 draw can round up to the float32 value of the limit (seen once in a full run)
    assert np.max(np.abs(kernel)) <= np.float32(limit) * (1 + 1e-6)
    assert np.std(kernel) == pytest.approx(limit / np.sqrt(3.0), rel=0.01)


def test_bad_arguments():
    with pytest.raises(ValueError, match="slice_len"):
        wavegan.generator(slice_len=16000)
    with pytest.raises(ValueError, match="slice_len"):
        wavegan.discriminator(slice_len=8192)
    with pytest.raises(ValueError, match="upsample"):
        wavegan.generator(upsample="linear")
    with pytest.raises(ValueError, match="dim"):
        wavegan.generator(dim=0)
    with pytest.raises(ValueError, match="phaseshuffle_rad"):
        wavegan.discriminator(phaseshuffle_rad=-1)


def test_discriminator_config_round_trip(rng):
    d = wavegan.discriminator(dim=4, seed=2)
    clone = keras.Model.from_config(d.get_config())
    clone.set_weights(d.get_weights())
    assert sum(isinstance(layer, PhaseShuffle) for layer in clone.layers) == 4
    x = rng.uniform(-1, 1, (1, 16384, 1)).astype("float32")
    np.testing.assert_allclose(clone(x, training=False).numpy(), d(x, training=False).numpy(),
                               rtol=1e-6)


# export: generate(z) -> audio as builtins-only TFLite


def _generate_fn(g):
    def generate(z):
        return g(z, training=False)
    return generate


def test_generator_converts_to_builtin_tflite(rng, tmp_path):
    keras.utils.set_random_seed(3)
    gens = {"generate": wavegan.generator(dim=4, post_filter=True),
            "generate_nn": wavegan.generator(dim=4, post_filter=True, upsample="nn",
                                             name="g_nn")}
    archive = keras.export.ExportArchive()
    for endpoint, g in gens.items():
        archive.track(g)
        archive.add_endpoint(endpoint, _generate_fn(g),
                             input_signature=[keras.InputSpec(shape=(None, 100),
                                                              dtype="float32")])
    version_dir = sm.write_archive(archive, tmp_path / "wavegan")
    interpreter = tflite.load_interpreter(tflite.convert_tflite(version_dir))
    z = _z(rng, batch=3)
    for endpoint, g in gens.items():
        (out,) = tflite.run_tflite(interpreter, endpoint, z=z).values()
        expected = g(z, training=False).numpy()
        assert out.shape == (3, 16384, 1)
        assert np.max(np.abs(expected)) > 1e-3  # the tolerance is small against the signal
        np.testing.assert_allclose(out, expected, atol=1e-5)
