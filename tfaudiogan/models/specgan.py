"""SpecGAN generator and discriminator (Donahue et al. 2019; reference/wavegan.md section 5.4).

Structurally identical to the official ``specgan.py``: a DCGAN-like pair of 5x5, stride-2,
'same' (TensorFlow SAME alignment) convolutions on the 128x128 normalised log-magnitude image
of ``tfaudiogan.audio.representations`` (time x frequency x 1). With d=64 the parameter counts
equal WaveGAN's (5 x 5 = 25 taps): generator 19,065,345, discriminator 17,427,969.

Initialisation as the reference (TF1 ``tf.layers`` defaults): Glorot-uniform kernels, zero
biases; optional batch norm with momentum 0.99 and epsilon 1e-3. There is no phase shuffle in
the public SpecGAN. Of the reference's up-sampling choices, ``zeros`` (transposed conv) and
``nn`` (nearest-neighbour x2 then a stride-1 conv) are provided; its ``linear``/``cubic``
options use TF1's legacy resize, which TF2's ``tf.image.resize`` does not reproduce
(reference/wavegan.md 3.2), so they are not offered.

Layer names follow the reference scopes: ``z_project``, ``upconv_{i}`` (generator);
``downconv_{i}``, ``output`` (discriminator); batch norm layers are ``<scope>_bn``.
"""

from __future__ import annotations

import keras

from tfaudiogan.layers.mixed_precision import FLOAT32
from tfaudiogan.layers.phase_shuffle import PhaseShuffle
from tfaudiogan.models.wavegan import maybe_batchnorm

# Reference specgan.py: 5x5 kernels, stride 2, projection to a 4x4 map, LReLU slope 0.2.
KERNEL_SIZE = 5
STRIDE = 2
INITIAL_SIZE = 4
LEAKY_SLOPE = 0.2
# Five stride-2 layers from 4x4: the 128x128 SpecGAN image (reference/wavegan.md 5.1).
IMAGE_SIZE = INITIAL_SIZE * STRIDE**5
UPSAMPLE_CHOICES = ("zeros", "nn")


def _check_int(**values) -> None:
    for key, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{key} must be a positive integer; got {value!r}")


def _kernel_init():
    return keras.initializers.GlorotUniform()


def _upconv(x, filters: int, kernel_size: int, upsample: str, name: str):
    """``[b, h, w, c] -> [b, 2h, 2w, filters]``: transposed conv, or NN x2 + stride-1 conv."""
    if upsample == "zeros":
        return keras.layers.Conv2DTranspose(
            filters, kernel_size, strides=STRIDE, padding="same",
            kernel_initializer=_kernel_init(), bias_initializer="zeros", name=name)(x)
    x = keras.layers.UpSampling2D(STRIDE, interpolation="nearest", name=f"{name}_upsample")(x)
    return keras.layers.Conv2D(
        filters, kernel_size, strides=1, padding="same",
        kernel_initializer=_kernel_init(), bias_initializer="zeros", name=name)(x)


def generator(dim: int = 64, channels: int = 1, latent_dim: int = 100,
              kernel_size: int = KERNEL_SIZE, upsample: str = "zeros", batchnorm: bool = False,
              name: str = "specgan_generator") -> keras.Model:
    """Reference ``SpecGANGenerator`` (reference/wavegan.md 5.4).

    Layers (shapes ``[height, width, channels]``)::

        z_project    Dense(4*4*16d) -> [4, 4, 16d] -> [BN] -> ReLU
        upconv_0..3  5x5 stride-2 'same' up to 8d, 4d, 2d, d -> [BN] -> ReLU  [8..64, ...]
        upconv_4     5x5 stride-2 up to channels -> tanh                     [128, 128, channels]

    Args:
        dim: model dimension ``d`` (reference 64).
        channels: output image channels (1: one log-magnitude image).
        latent_dim: size of z (reference 100).
        kernel_size: kernel side (reference 5).
        upsample: ``"zeros"`` (transposed conv) or ``"nn"`` (nearest-neighbour + conv).
        batchnorm: batch norm after the projection and every up-sampling layer but the last.
        name: model name.

    Returns:
        ``keras.Model``: z ``[batch, latent_dim]`` -> ``[batch, 128, 128, channels]`` in (-1, 1).
    """
    _check_int(dim=dim, channels=channels, latent_dim=latent_dim, kernel_size=kernel_size)
    if upsample not in UPSAMPLE_CHOICES:
        raise ValueError(f"upsample must be one of {UPSAMPLE_CHOICES}; got {upsample!r}")
    z = keras.Input(shape=(latent_dim,), name="z")
    x = keras.layers.Dense(INITIAL_SIZE * INITIAL_SIZE * 16 * dim,
                           kernel_initializer=_kernel_init(), bias_initializer="zeros",
                           name="z_project")(z)
    x = keras.layers.Reshape((INITIAL_SIZE, INITIAL_SIZE, 16 * dim), name="z_project_reshape")(x)
    x = maybe_batchnorm(x, batchnorm, "z_project")
    x = keras.layers.ReLU(name="z_project_relu")(x)
    for i, mult in enumerate((8, 4, 2, 1)):
        x = _upconv(x, mult * dim, kernel_size, upsample, f"upconv_{i}")
        x = maybe_batchnorm(x, batchnorm, f"upconv_{i}")
        x = keras.layers.ReLU(name=f"upconv_{i}_relu")(x)
    x = _upconv(x, channels, kernel_size, upsample, "upconv_4")
    outputs = keras.layers.Activation("tanh", dtype=FLOAT32, name="upconv_4_tanh")(x)
    return keras.Model(z, outputs, name=name)


def discriminator(dim: int = 64, channels: int = 1, kernel_size: int = KERNEL_SIZE,
                  batchnorm: bool = False, phaseshuffle_rad: int = 0, seed: int | None = None,
                  name: str = "specgan_discriminator") -> keras.Model:
    """Reference ``SpecGANDiscriminator`` (reference/wavegan.md 5.4), the mirror of the generator.

    Layers (shapes ``[height, width, channels]``)::

        downconv_0     5x5 stride-2 'same' conv to d -> LReLU(0.2)          [64, 64, d]
        downconv_1..4  to 2d, 4d, 8d, 16d -> [BN] -> LReLU(0.2)             [4, 4, 16d]
        output         Flatten (16 * 16d) -> Dense(1), linear (WGAN critic)

    ``phaseshuffle_rad`` > 0 adds the paper's "SpecGAN + phase shuffle" ablation (Table 1,
    n = 1; reference/wavegan.md 6.2), which the public SpecGAN code does not have (5.4): a
    ``PhaseShuffle`` along the time axis (axis 1, in frames of that layer) after the LReLU of
    downconv_0..3, as in the WaveGAN discriminator. Where exactly the paper applied it to 2-D
    feature maps is not documented; this placement is our choice.

    The reference runs its discriminator batch norm in training mode: call
    ``D(x, training=True)`` in a training loop.

    Args:
        dim: model dimension ``d`` (reference 64).
        channels: input image channels.
        kernel_size: kernel side (reference 5).
        batchnorm: batch norm after every conv except the first.
        phaseshuffle_rad: phase shuffle radius along time (0: none, the public SpecGAN).
        seed: base seed of the phase-shuffle layers (layer ``i`` uses ``seed + i``).
        name: model name.

    Returns:
        ``keras.Model``: ``[batch, 128, 128, channels]`` -> logits ``[batch, 1]``.
    """
    _check_int(dim=dim, channels=channels, kernel_size=kernel_size)
    if isinstance(phaseshuffle_rad, bool) or int(phaseshuffle_rad) != phaseshuffle_rad \
            or phaseshuffle_rad < 0:
        raise ValueError(f"phaseshuffle_rad must be a non-negative integer, got "
                         f"{phaseshuffle_rad!r}")
    inputs = keras.Input(shape=(IMAGE_SIZE, IMAGE_SIZE, channels), name="spectrogram")
    x = inputs
    for i, mult in enumerate((1, 2, 4, 8, 16)):
        x = keras.layers.Conv2D(mult * dim, kernel_size, strides=STRIDE, padding="same",
                                kernel_initializer=_kernel_init(), bias_initializer="zeros",
                                name=f"downconv_{i}")(x)
        x = maybe_batchnorm(x, batchnorm and i > 0, f"downconv_{i}")  # no BN on the first layer
        x = keras.layers.LeakyReLU(negative_slope=LEAKY_SLOPE, name=f"downconv_{i}_lrelu")(x)
        if i < 4 and phaseshuffle_rad > 0:
            x = PhaseShuffle(phaseshuffle_rad, seed=None if seed is None else seed + i,
                             name=f"downconv_{i}_phaseshuffle")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    logits = keras.layers.Dense(1, kernel_initializer=_kernel_init(), bias_initializer="zeros",
                                dtype=FLOAT32,  # float32 logits under a mixed policy
                                name="output")(x)
    return keras.Model(inputs, logits, name=name)
