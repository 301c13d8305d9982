"""GANSynth progressive generator and discriminator (reference/gansynth.md 2.3, 2.4).

One functional ``keras.Model`` is built per training stage (ecosystem.md P13). A stage model
with ``n`` blocks holds exactly the reference graph for ``num_blocks = n``: every block's
``to_rgb`` (generator) and ``from_rgb`` (discriminator) is present and blended with the
reference's progress weights (most of them 0), so the final stage has the reference's 42 / 46
variables and 7,311,246 / 6,831,230 parameters, and reference weights map one to one
(``progressive_gan_block_{b}/conv0`` <-> layer ``block{b}_conv0`` etc.).

Resolution: the reference runs every stage on full-size ``128 x 1024`` tensors (generator
output upscaled, discriminator input box-downscaled before each ``from_rgb``). Both are exact
box up/down-sampling, so by default a stage model works at its own resolution instead
(``[batch, 2 * 2**(n-1), 16 * 2**(n-1), 2]`` for the H config) and an early stage costs less.
``full_size=True`` adds the upscale / downscale at the model boundary for the reference shapes.
(The gradient of the full-size discriminator with respect to its input is the stage-size one
box-upscaled and divided by ``factor**2``, so its norm is smaller by ``factor``; this matters
for a gradient penalty taken at full size.)

Tensors are ``[batch, time, freq, channels]`` (channels: log-magnitude / IF, or the mel
versions), normalised to ``[-1, 1]``; the data normaliser lives outside these networks.

Generator inputs ``{"z": [batch, latent_size], "pitch": [batch, num_pitches]}`` (one-hot of
MIDI pitch - 24); output ``[batch, h, w, channels]`` (tanh). Discriminator input
``[batch, h, w, channels]``; outputs ``[logits [batch, 1], classification_logits
[batch, num_pitches]]``.
"""

from __future__ import annotations

import keras

from tfaudiogan.layers.equalized import EqualizedConv2D, EqualizedDense
from tfaudiogan.layers.fade_in import (
    DiscriminatorFade,
    GeneratorFade,
    Upscale,
    downscale,
    generator_alpha,
    progress_from_alpha,
    upscale,
)
from tfaudiogan.layers.minibatch_std import MINIBATCH_STDDEV_EPSILON, MinibatchStddev
from tfaudiogan.layers.mixed_precision import FLOAT32
from tfaudiogan.layers.pixel_norm import PIXEL_NORM_EPSILON, PixelNorm
from tfaudiogan.layers.progressive_schedule import num_stages, stage_num_blocks

# Defaults: configs/mel_prog_hires.py (reference/gansynth.md 2.1), the paper's IF-Mel + H model.
LATENT_SIZE = 256  # latent_vector_size
NUM_PITCHES = 61  # one-hot over MIDI 24..84 (gansynth.md 2.3, 13)
START_SHAPE = (2, 16)  # start_height x start_width with hifreqres (non-H: (4, 8))
NUM_RESOLUTIONS = 7  # num_resolutions; scale_base 2, scale_mode 'ALL'
FMAP_BASE = 4096  # fmap_base
FMAP_DECAY = 1.0  # fmap_decay
FMAP_MAX = 256  # fmap_max
KERNEL_SIZE = 3  # kernel_size
CHANNELS = 2  # (log-mel) magnitude + (mel) IF
LEAKY_SLOPE = 0.2  # tf.nn.leaky_relu default alpha (gansynth.md 2.3)
TO_RGB_ACTIVATION = "tanh"  # to_rgb_activation
# he_initializer_slope: 0 for every G/D conv, 1 (the reference default) for to_rgb and heads.
CONV_HE_SLOPE = 0.0
OUTPUT_HE_SLOPE = 1.0


def num_filters(block: int, fmap_base: int = FMAP_BASE, fmap_decay: float = FMAP_DECAY,
                fmap_max: int = FMAP_MAX) -> int:
    """Channels of block ``block``: ``min(fmap_base / 2**(block * fmap_decay), fmap_max)``.

    Paper setting: 256, 256, 256, 256, 256, 128, 64, 32 for blocks 0..7.
    """
    return int(min(fmap_base / 2.0 ** (block * fmap_decay), fmap_max))


def block_shape(block: int, start_shape=START_SHAPE) -> tuple[int, int]:
    """``(height, width)`` of block ``block`` (1-based): ``start_shape * 2**(block - 1)``."""
    return start_shape[0] * 2 ** (block - 1), start_shape[1] * 2 ** (block - 1)


def stage_shape(stage: int, start_shape=START_SHAPE,
                num_resolutions: int = NUM_RESOLUTIONS) -> tuple[int, int]:
    """``(height, width)`` a stage model works at, e.g. stage 0 -> (2, 16), 12 -> (128, 1024)."""
    return block_shape(stage_num_blocks(stage, num_resolutions), start_shape)


def _resolve_stage(stage: int | None, num_resolutions: int) -> int:
    final = num_stages(num_resolutions) - 1
    return final if stage is None else stage


def _check_widths(num_resolutions, fmap_base, fmap_decay, fmap_max):
    widths = [num_filters(b, fmap_base, fmap_decay, fmap_max) for b in range(num_resolutions + 1)]
    if min(widths) < 1:
        raise ValueError(f"fmap_base={fmap_base}, fmap_decay={fmap_decay}, fmap_max={fmap_max} "
                         f"gives zero channels for some block: {widths}")


def _conv(x, filters, kernel_size, padding, name, leaky_slope, pixel_norm_epsilon=None):
    """Equalised conv -> LeakyReLU -> (generator only) pixel norm."""
    x = EqualizedConv2D(filters, kernel_size, padding=padding, he_slope=CONV_HE_SLOPE,
                        name=name)(x)
    x = keras.layers.LeakyReLU(negative_slope=leaky_slope, name=f"{name}_lrelu")(x)
    if pixel_norm_epsilon is not None:
        x = PixelNorm(pixel_norm_epsilon, name=f"{name}_pixel_norm")(x)
    return x


def generator(stage: int | None = None, *, alpha=1.0, latent_size: int = LATENT_SIZE,
              num_pitches: int = NUM_PITCHES, start_shape=START_SHAPE,
              num_resolutions: int = NUM_RESOLUTIONS, fmap_base: int = FMAP_BASE,
              fmap_decay: float = FMAP_DECAY, fmap_max: int = FMAP_MAX,
              kernel_size: int = KERNEL_SIZE, channels: int = CHANNELS,
              to_rgb_activation: str = TO_RGB_ACTIVATION, leaky_slope: float = LEAKY_SLOPE,
              pixel_norm_epsilon: float = PIXEL_NORM_EPSILON, full_size: bool = False,
              name: str = "generator") -> keras.Model:
    """Progressive generator for one training stage.

    Block 1: ``pixel_norm(z || pitch)`` as a 1x1 image, zero-padded to
    ``(2 sh - 1) x (2 sw - 1)``, a VALID ``(sh, sw)`` conv (a dense projection to
    ``sh x sw x nf(1)``), then a 3x3 conv. Blocks 2..n: nearest upscale x2, two 3x3 convs.
    Every conv is equalised-LR, followed by LeakyReLU(0.2) then pixel norm. Each block has a
    1x1 ``to_rgb`` (He slope 1, tanh); the outputs are upscaled to the stage resolution and
    summed with the reference weights ``generator_alpha(b, p)``, ``p = n - 2 + alpha``.

    Args:
        stage: 0 .. ``2 * num_resolutions - 2``; ``None`` = the final stage.
        alpha: weight of the newest block: a float (1.0 = stable) or a non-trainable
            ``keras.Variable`` shared with the discriminator and assigned during a transition.
        latent_size: length of ``z``.
        num_pitches: one-hot pitch classes.
        start_shape: ``(height, width)`` of block 1.
        num_resolutions: number of blocks of the final stage.
        fmap_base, fmap_decay, fmap_max: channel rule, see :func:`num_filters`.
        kernel_size: kernel of the 3x3 convs.
        channels: output channels.
        to_rgb_activation: Keras activation name of ``to_rgb``.
        leaky_slope: LeakyReLU negative slope.
        pixel_norm_epsilon: pixel-norm epsilon.
        full_size: upscale the output to the final resolution (reference shapes).
        name: model name.

    Returns:
        ``keras.Model`` mapping ``{"z": [batch, latent_size], "pitch": [batch, num_pitches]}``
        to ``[batch, h, w, channels]`` with ``(h, w) = stage_shape(stage)`` (or the final
        shape when ``full_size``).
    """
    stage = _resolve_stage(stage, num_resolutions)
    n = stage_num_blocks(stage, num_resolutions)
    _check_widths(num_resolutions, fmap_base, fmap_decay, fmap_max)

    def nf(block):
        return num_filters(block, fmap_base, fmap_decay, fmap_max)

    z = keras.Input((latent_size,), name="z")
    pitch = keras.Input((num_pitches,), name="pitch")
    x = keras.layers.Concatenate(name="latent")([z, pitch])
    x = keras.layers.Reshape((1, 1, latent_size + num_pitches), name="latent_image")(x)
    x = PixelNorm(pixel_norm_epsilon, name="latent_pixel_norm")(x)
    sh, sw = start_shape
    x = keras.layers.ZeroPadding2D(((sh - 1, sh - 1), (sw - 1, sw - 1)), name="latent_pad")(x)
    x = _conv(x, nf(1), (sh, sw), "valid", "block1_conv0", leaky_slope, pixel_norm_epsilon)
    x = _conv(x, nf(1), kernel_size, "same", "block1_conv1", leaky_slope, pixel_norm_epsilon)
    features = [x]
    for block in range(2, n + 1):
        x = Upscale(2, name=f"block{block}_upscale")(x)
        for conv in ("conv0", "conv1"):
            x = _conv(x, nf(block), kernel_size, "same", f"block{block}_{conv}", leaky_slope,
                      pixel_norm_epsilon)
        features.append(x)

    # The output head (1x1 to_rgb convs, their activation, upscales, fade) computes in float32
    # under a mixed policy: the spectrogram goes to the losses and the IF -> waveform inversion.
    rgbs = []
    for block, h in enumerate(features, start=1):
        rgb = EqualizedConv2D(channels, 1, he_slope=OUTPUT_HE_SLOPE, dtype=FLOAT32,
                              name=f"block{block}_to_rgb")(h)
        rgb = keras.layers.Activation(to_rgb_activation, dtype=FLOAT32,
                                      name=f"block{block}_to_rgb_act")(rgb)
        if block < n:
            rgb = Upscale(2 ** (n - block), dtype=FLOAT32, name=f"block{block}_rgb_upscale")(rgb)
        rgbs.append(rgb)
    out = GeneratorFade(n, alpha, dtype=FLOAT32, name="fade")(rgbs)
    if full_size and n < num_resolutions:
        out = Upscale(2 ** (num_resolutions - n), dtype=FLOAT32, name="full_size_upscale")(out)
    return keras.Model({"z": z, "pitch": pitch}, out, name=name)


def discriminator(stage: int | None = None, *, alpha=1.0, num_pitches: int = NUM_PITCHES,
                  start_shape=START_SHAPE, num_resolutions: int = NUM_RESOLUTIONS,
                  fmap_base: int = FMAP_BASE, fmap_decay: float = FMAP_DECAY,
                  fmap_max: int = FMAP_MAX, kernel_size: int = KERNEL_SIZE,
                  channels: int = CHANNELS, leaky_slope: float = LEAKY_SLOPE,
                  minibatch_stddev_epsilon: float = MINIBATCH_STDDEV_EPSILON,
                  full_size: bool = False, name: str = "discriminator") -> keras.Model:
    """Progressive discriminator with the 61-way pitch head, for one training stage.

    Each block ``b`` has a 1x1 ``from_rgb`` (LeakyReLU) applied to the input box-downscaled
    to block ``b``'s resolution. From block ``n`` down to 2: 3x3 conv to ``nf(b)``, 3x3 conv
    to ``nf(b - 1)``, 2x2 average pool, then
    ``x = a * from_rgb_{b-1} + (1 - a) * x`` with ``a = discriminator_alpha(b - 1, p)``.
    Block 1: minibatch stddev (+1 channel), 3x3 conv to ``nf(1)``, VALID ``start_shape`` conv
    to ``1 x 1 x nf(0)``, then two equalised dense heads (He slope 1): the real/fake logit and
    the pitch classification logits. Convs: equalised LR, LeakyReLU(0.2), no normalisation.

    Args:
        stage: 0 .. ``2 * num_resolutions - 2``; ``None`` = the final stage.
        alpha: weight of the newest block (float, or the non-trainable ``keras.Variable``
            shared with the generator).
        num_pitches: classes of the auxiliary pitch classifier.
        start_shape, num_resolutions, fmap_base, fmap_decay, fmap_max, kernel_size,
            channels, leaky_slope: as in :func:`generator`.
        minibatch_stddev_epsilon: added to the batch variance.
        full_size: take the final-resolution input and box-downscale it to the stage size.
        name: model name.

    Returns:
        ``keras.Model`` mapping ``[batch, h, w, channels]`` (``(h, w) = stage_shape(stage)``,
        or the final shape when ``full_size``) to ``[logits [batch, 1],
        classification_logits [batch, num_pitches]]``.
    """
    stage = _resolve_stage(stage, num_resolutions)
    n = stage_num_blocks(stage, num_resolutions)
    _check_widths(num_resolutions, fmap_base, fmap_decay, fmap_max)

    def nf(block):
        return num_filters(block, fmap_base, fmap_decay, fmap_max)

    height, width = block_shape(num_resolutions if full_size else n, start_shape)
    inputs = keras.Input((height, width, channels), name="spectrogram")
    x0 = inputs
    if full_size and n < num_resolutions:
        x0 = keras.layers.AveragePooling2D(2 ** (num_resolutions - n),
                                           name="full_size_downscale")(inputs)

    def from_rgb(block):
        src = x0
        if block < n:
            src = keras.layers.AveragePooling2D(2 ** (n - block),
                                                name=f"block{block}_rgb_downscale")(x0)
        return _conv(src, nf(block), 1, "same", f"block{block}_from_rgb", leaky_slope)

    x = from_rgb(n)
    for block in range(n, 1, -1):
        x = _conv(x, nf(block), kernel_size, "same", f"block{block}_conv0", leaky_slope)
        x = _conv(x, nf(block - 1), kernel_size, "same", f"block{block}_conv1", leaky_slope)
        x = keras.layers.AveragePooling2D(2, name=f"block{block}_downscale")(x)
        x = DiscriminatorFade(block - 1, n, alpha, name=f"block{block - 1}_fade")(
            [from_rgb(block - 1), x])
    x = MinibatchStddev(minibatch_stddev_epsilon, name="minibatch_stddev")(x)
    x = _conv(x, nf(1), kernel_size, "same", "block1_conv0", leaky_slope)
    x = _conv(x, nf(0), tuple(start_shape), "valid", "block1_conv1", leaky_slope)
    logits = EqualizedDense(1, he_slope=OUTPUT_HE_SLOPE, dtype=FLOAT32, name="logits")(x)
    classes = EqualizedDense(num_pitches, he_slope=OUTPUT_HE_SLOPE, dtype=FLOAT32,
                             name="classification_logits")(x)  # float32 heads
    return keras.Model(inputs, [logits, classes], name=name)


def blend_real(x, stage: int | None = None, alpha=1.0, *,
               num_resolutions: int = NUM_RESOLUTIONS, full_size: bool = False):
    """Real spectrograms at a stage's resolution, blended like the generator output.

    Reference ``blend_images``: ``sum_b generator_alpha(b, p) * upscale(downscale(x, s_b), s_b)``
    with ``s_b = 2**(num_resolutions - b)``; only blocks ``n - 1`` and ``n`` have non-zero
    weight within a stage, so only those two are computed.

    Args:
        x: full-resolution batch ``[batch, H, W, channels]``.
        stage: training stage (``None`` = final).
        alpha: weight of the newest block (float, tensor or ``keras.Variable``).
        num_resolutions: number of blocks of the final stage.
        full_size: return the blend upscaled back to ``[batch, H, W, channels]``.

    Returns:
        ``[batch, H / 2**(num_resolutions - n), W / 2**(num_resolutions - n), channels]``
        (``n`` = blocks of the stage), or ``[batch, H, W, channels]`` when ``full_size``.
    """
    stage = _resolve_stage(stage, num_resolutions)
    n = stage_num_blocks(stage, num_resolutions)
    p = progress_from_alpha(n, alpha)
    current = downscale(x, 2 ** (num_resolutions - n))
    out = current * keras.ops.cast(generator_alpha(n, p), current.dtype)
    if n > 1:
        lower = upscale(downscale(current, 2), 2)
        out = out + lower * keras.ops.cast(generator_alpha(n - 1, p), current.dtype)
    return upscale(out, 2 ** (num_resolutions - n)) if full_size else out


def transfer_weights(source: keras.Model, target: keras.Model) -> list[str]:
    """Copies the trainable weights of every layer ``target`` shares (by name) with ``source``.

    Used to carry blocks from stage ``k`` to stage ``k + 1``: all layers of the smaller model
    (``block{b}_*``, ``logits``, ``classification_logits``) exist in the larger one with the
    same shapes. Non-trainable state (the fade ``alpha``) is not copied.

    Args:
        source: a built stage model.
        target: a built stage model of the same family and widths.

    Returns:
        Names of the layers copied, in ``target`` order.

    Raises:
        ValueError: if a shared layer's weight shapes differ (different widths or config).
    """
    by_name = {layer.name: layer for layer in source.layers if layer.trainable_weights}
    copied = []
    for layer in target.layers:
        other = by_name.get(layer.name)
        if other is None or not layer.trainable_weights:
            continue
        dst, src = layer.trainable_weights, other.trainable_weights
        if [tuple(v.shape) for v in dst] != [tuple(v.shape) for v in src]:
            raise ValueError(f"layer {layer.name!r}: weight shapes "
                             f"{[tuple(v.shape) for v in src]} (source) != "
                             f"{[tuple(v.shape) for v in dst]} (target)")
        for d, s in zip(dst, src):
            d.assign(s)
        copied.append(layer.name)
    return copied
