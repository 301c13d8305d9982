"""WaveGAN generator and discriminator (Donahue et al. 2019; reference/wavegan.md sections 1-3).

Structurally identical to the official ``wavegan.py`` (v2, ``chrisdonahue/wavegan@40e85e8``):
same layers in the same order, same widths, same "SAME" padding alignment and the same
parameter counts, so reference checkpoints map onto these layers one to one (TF1 transposed-conv
kernels ``[1, k, out, in]`` load by squeezing axis 0).

Alignment (reference/wavegan.md 1.4): Keras ``Conv1D``/``Conv1DTranspose`` with
``padding="same"`` on the TensorFlow backend use TensorFlow's SAME rule, the reference's rule:
a k25/s4 conv pads 10 samples on the left and 11 on the right, ``y[j] = sum_i w[i] x[4j + i - 10]``,
and a k25/s4 transposed conv is the 'valid' output cropped to ``[10 : 10 + 4 L]``. (PyTorch ports
with padding 11 are one sample off.) The even 512-tap post-processing filter pads 255 / 256.

Initialisation as the reference (TF1 ``tf.layers`` defaults): Glorot-uniform kernels, zero
biases; batch norm (optional) with momentum 0.99 and epsilon 1e-3 (the Keras defaults too).

Layer names follow the reference variable scopes: ``z_project``, ``upconv_{i}``, ``pp_filt``
(generator); ``downconv_{i}``, ``phase_shuffle_{i}``, ``output`` (discriminator); batch norm
layers are ``<scope>_bn``.
"""

from __future__ import annotations

import keras

from tfaudiogan.layers.mixed_precision import FLOAT32
from tfaudiogan.layers.phase_shuffle import PhaseShuffle

# Supported slice lengths (reference train_wavegan.py:531, --data_slice_len choices).
SLICE_LENS = (16384, 32768, 65536)
# Stride of every up/down-sampling layer except the last of a long slice (reference wavegan.py
# hard-codes 4); the long slices end with stride slice_len / 16384 (2 or 4).
STRIDE = 4
# The dense projection is reshaped to this many time steps (reference wavegan.py:62, 4 * 4).
INITIAL_STEPS = 16
# Reference wavegan.py:148-149, lrelu(x, alpha=0.2).
LEAKY_SLOPE = 0.2
UPSAMPLE_CHOICES = ("zeros", "nn")


def _check_int(minimum: int = 1, **values) -> None:
    for key, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ValueError(f"{key} must be an integer >= {minimum}; got {value!r}")


def _check_slice_len(slice_len: int) -> None:
    if slice_len not in SLICE_LENS:
        raise ValueError(f"slice_len must be one of {SLICE_LENS}; got {slice_len!r}")


def _dim_mul(slice_len: int) -> int:
    """Width multiplier of the first layer: 16 at 16384, 32 for longer slices (wavegan.py:62)."""
    return 16 if slice_len == SLICE_LENS[0] else 32


def _kernel_init():
    return keras.initializers.GlorotUniform()


def _upconv(x, filters: int, stride: int, kernel_size: int, upsample: str, name: str):
    """Reference ``conv1d_transpose`` (wavegan.py:4-36): ``[b, t, c] -> [b, stride * t, filters]``.

    ``"zeros"``: ``Conv1DTranspose(k, stride, 'same')`` (zero-stuffing). ``"nn"``: repeat every
    sample ``stride`` times (``tf.image.resize_nearest_neighbor``, layer ``name_upsample``) then a
    stride-1 ``Conv1D(k, 'same')``; both have ``k * c * filters + filters`` parameters.
    """
    if upsample == "zeros":
        return keras.layers.Conv1DTranspose(
            filters, kernel_size, strides=stride, padding="same",
            kernel_initializer=_kernel_init(), bias_initializer="zeros", name=name)(x)
    x = keras.layers.UpSampling1D(stride, name=f"{name}_upsample")(x)
    return keras.layers.Conv1D(
        filters, kernel_size, strides=1, padding="same",
        kernel_initializer=_kernel_init(), bias_initializer="zeros", name=name)(x)


def maybe_batchnorm(x, batchnorm: bool, name: str):
    """``BatchNormalization`` named ``<name>_bn`` when ``batchnorm``, else ``x`` unchanged."""
    if batchnorm:
        # global-batch statistics under tf.distribute, as on one device
        x = keras.layers.BatchNormalization(synchronized=True, name=f"{name}_bn")(x)
    return x


def generator(slice_len: int = 16384, dim: int = 64, channels: int = 1, latent_dim: int = 100,
              kernel_size: int = 25, upsample: str = "zeros", batchnorm: bool = False,
              post_filter: bool = False, post_filter_len: int = 512,
              name: str = "wavegan_generator") -> keras.Model:
    """Reference ``WaveGANGenerator`` (wavegan.py:43-145; reference/wavegan.md 1.1, 1.3, 3).

    Defaults are the paper's / reference's (train_wavegan.py:592-620): d=64, kernel 25, z in
    R^100, zeros upsampling, no batch norm, no post-processing filter (``--wavegan_genr_pp``,
    length 512). Layers at 16384 (shapes ``[time, channels]``)::

        z_project   Dense(16*16d) -> [16, 16d] -> [BN] -> ReLU
        upconv_0..3 up x4 to 8d, 4d, 2d, d      -> [BN] -> ReLU    [64..4096, ...]
        upconv_4    up x4 to channels           -> tanh            [16384, channels]
        pp_filt     (optional) 512-tap filter, no bias, 'same', AFTER the tanh

    At 32768 / 65536 the projection is 16*32d wide, there are five x4 blocks (16d .. d) and the
    output layer ``upconv_5`` upsamples x2 / x4. Parameter counts (d=64, mono, no BN):
    19,065,345 at 16384 (+512 with the filter), 73,149,953 at 32768 and 65536.

    The post-processing filter runs after the tanh, so the output may leave [-1, 1] (the
    reference clips only at int16 export). It filters each channel on its own (depthwise
    kernel ``[len, channels, 1]``): for mono that is exactly the reference layer (kernel
    ``[512, 1, 1]``); the reference's single-filter conv would fold a multichannel output into
    one channel, which its own discriminator then rejects.

    Args:
        slice_len: output samples, one of 16384, 32768, 65536.
        dim: model dimension ``d``.
        channels: output audio channels (reference ``--data_num_channels``).
        latent_dim: size of z (reference 100).
        kernel_size: length of every up-sampling kernel (reference 25).
        upsample: ``"zeros"`` (transposed conv) or ``"nn"`` (nearest-neighbour + conv).
        batchnorm: batch norm after the projection and after every up-sampling layer except
            the output one (reference ``--wavegan_batchnorm``).
        post_filter: append the learned post-processing filter.
        post_filter_len: its number of taps (reference ``--wavegan_genr_pp_len`` 512).
        name: model name.

    Returns:
        ``keras.Model``: z ``[batch, latent_dim]`` -> audio ``[batch, slice_len, channels]``
        (in (-1, 1) without the post-processing filter).
    """
    _check_slice_len(slice_len)
    _check_int(dim=dim, channels=channels, latent_dim=latent_dim, kernel_size=kernel_size,
               post_filter_len=post_filter_len)
    if upsample not in UPSAMPLE_CHOICES:
        raise ValueError(f"upsample must be one of {UPSAMPLE_CHOICES}; got {upsample!r}")
    dim_mul = _dim_mul(slice_len)
    z = keras.Input(shape=(latent_dim,), name="z")
    x = keras.layers.Dense(INITIAL_STEPS * dim * dim_mul, kernel_initializer=_kernel_init(),
                           bias_initializer="zeros", name="z_project")(z)
    # v2 order: reshape, then [BN], then ReLU (reference/wavegan.md 1.1).
    x = keras.layers.Reshape((INITIAL_STEPS, dim * dim_mul), name="z_project_reshape")(x)
    x = maybe_batchnorm(x, batchnorm, "z_project")
    x = keras.layers.ReLU(name="z_project_relu")(x)
    widths = []
    width = dim * dim_mul
    while width > dim:
        width //= 2
        widths.append(width)  # 8d, 4d, 2d, d (16384) or 16d, ..., d (longer slices)
    for i, filters in enumerate(widths):
        x = _upconv(x, filters, STRIDE, kernel_size, upsample, f"upconv_{i}")
        x = maybe_batchnorm(x, batchnorm, f"upconv_{i}")
        x = keras.layers.ReLU(name=f"upconv_{i}_relu")(x)
    last = f"upconv_{len(widths)}"
    x = _upconv(x, channels, slice_len // (INITIAL_STEPS * STRIDE ** len(widths)), kernel_size,
                upsample, last)
    # float32 from here on under a mixed policy (layers/mixed_precision.py): the output audio
    x = keras.layers.Activation("tanh", dtype=FLOAT32, name=f"{last}_tanh")(x)
    if post_filter:
        x = keras.layers.DepthwiseConv1D(
            post_filter_len, padding="same", use_bias=False, dtype=FLOAT32,
            depthwise_initializer=_kernel_init(), name="pp_filt")(x)
    return keras.Model(z, x, name=name)


def discriminator(slice_len: int = 16384, dim: int = 64, channels: int = 1,
                  kernel_size: int = 25, batchnorm: bool = False, phaseshuffle_rad: int = 2,
                  seed: int | None = None, name: str = "wavegan_discriminator") -> keras.Model:
    """Reference ``WaveGANDiscriminator`` (wavegan.py:171-253; reference/wavegan.md 1.2, 1.3, 2).

    Defaults are the reference's: d=64, kernel 25, no batch norm, phase shuffle radius 2
    (train_wavegan.py:612). Layers at 16384 (shapes ``[time, channels]``)::

        downconv_0  Conv1D(d, k, s4, 'same')  -> LReLU(0.2) -> PhaseShuffle   [4096, d]
        downconv_1..3 Conv1D(2d, 4d, 8d)       -> [BN] -> LReLU -> PhaseShuffle
        downconv_4  Conv1D(16d)               -> [BN] -> LReLU                [16, 16d]
        output      Flatten -> Dense(1), linear (a WGAN critic: no sigmoid)

    At 32768 / 65536 a sixth conv ``downconv_5`` (32d, stride 2 / 4, [BN], LReLU) follows, and
    the flattened vector has 16 * 32d values. Phase shuffle is applied after layers 0-3 only
    (four ``PhaseShuffle`` layers; none when ``phaseshuffle_rad`` is 0). Parameter counts
    (d=64, mono, no BN): 17,427,969 at 16384, 69,875,201 at 32768 and 65536.

    Calling conventions: each call draws new shifts (independent for the real, fake and
    gradient-penalty passes). The reference runs its discriminator batch norm always in
    training mode, so a training loop should call ``D(x, training=True)``;
    ``training=False`` disables both phase shuffle and batch-statistics normalisation.

    Args:
        slice_len: input samples, one of 16384, 32768, 65536.
        dim: model dimension ``d``.
        channels: input audio channels.
        kernel_size: length of every conv kernel (reference 25).
        batchnorm: batch norm after every conv except the first (reference
            ``--wavegan_batchnorm``).
        phaseshuffle_rad: phase shuffle radius ``n`` (reference ``--wavegan_disc_phaseshuffle``).
        seed: base seed of the four phase-shuffle seed generators (layer ``i`` uses
            ``seed + i``); None draws random seeds.
        name: model name.

    Returns:
        ``keras.Model``: audio ``[batch, slice_len, channels]`` -> logits ``[batch, 1]`` (the
        reference returns ``[batch]``; squeeze the last axis for that).
    """
    _check_slice_len(slice_len)
    _check_int(dim=dim, channels=channels, kernel_size=kernel_size)
    _check_int(minimum=0, phaseshuffle_rad=phaseshuffle_rad)
    widths = [dim, 2 * dim, 4 * dim, 8 * dim, 16 * dim]
    strides = [STRIDE] * 5
    if slice_len != SLICE_LENS[0]:
        widths.append(32 * dim)
        strides.append(slice_len // SLICE_LENS[0])
    inputs = keras.Input(shape=(slice_len, channels), name="waveform")
    x = inputs
    for i, (filters, stride) in enumerate(zip(widths, strides)):
        x = keras.layers.Conv1D(filters, kernel_size, strides=stride, padding="same",
                                kernel_initializer=_kernel_init(), bias_initializer="zeros",
                                name=f"downconv_{i}")(x)
        x = maybe_batchnorm(x, batchnorm and i > 0, f"downconv_{i}")  # no BN on layer 0
        x = keras.layers.LeakyReLU(negative_slope=LEAKY_SLOPE, name=f"downconv_{i}_lrelu")(x)
        if i < 4 and phaseshuffle_rad > 0:  # after layers 0-3 only (wavegan.py:185-230)
            x = PhaseShuffle(phaseshuffle_rad, seed=None if seed is None else seed + i,
                             name=f"phase_shuffle_{i}")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    logits = keras.layers.Dense(1, kernel_initializer=_kernel_init(), bias_initializer="zeros",
                                dtype=FLOAT32, name="output")(x)  # float32 logits
    return keras.Model(inputs, logits, name=name)
