"""CycleGAN networks: the junyanz reference ResNet generator and PatchGAN, plus the seed-004 variant.

All builders return functional ``keras.Model`` objects with input ``[batch, freq, frames,
channels]`` where freq (image height) and frames (image width) are dynamic: the networks are
fully convolutional, with no reshape and no fixed size, so any clip length can be translated.

PyTorch alignment (reference/cyclegan.md 2.4, check 9): a strided PyTorch conv with zero padding
``p`` is ``ZeroPadding2D(p)`` + a 'valid' conv here, and ``ConvTranspose2d(k3, s2, p1,
output_padding 1)`` is a 'valid' ``Conv2DTranspose`` (output ``2H + 1``) with its first row and
column cropped. Keras ``padding="same"`` is NOT equivalent: for k3/s2 on even sizes it pads
(0 before, 1 after), shifting the result by one pixel, and it turns the 30x30 PatchGAN map at
256x256 into 32x32. Weights are therefore interchangeable with the reference (conv kernels
transpose from PyTorch ``[out, in, kh, kw]`` / ``[in, out, kh, kw]`` to Keras ``[kh, kw, in, out]``
/ ``[kh, kw, out, in]``).

Shared conventions (reference ``networks.py`` with ``norm='instance'``): conv biases on, kernels
``N(0, 0.02)``, biases 0, parameter-free instance norm with epsilon 1e-5, no dropout (CycleGAN
forces ``no_dropout``).

Mixed precision (``--precision mixed``; tfaudiogan/training/precision.py lists what stays float32
in every family): the two generators keep their encoder (every layer before the residual
blocks: the stem / strided convs with their pads, norms and ReLUs) and every instance norm in
float32 (:data:`GENERATOR_FLOAT32`); the residual and up-sampling convs, where almost all the
multiply-adds are, compute in bfloat16 / float16. Measured on the paper generator (ResNet-9,
ngf 64, seeded weights, mixed_bfloat16 against float32 on the same weights, 2 s of uniform
noise): the translated image's SNR is 29.3 dB with everything in 16 bits, 35.3 dB with the
encoder in float32, 30.7 dB with only the norms, 38.0 dB with both (waveform after the dB ->
magnitude map and iSTFT: 23.9, 29.0, 25.1, 32.2 dB). Why these layers:

* the encoder comes first, so its rounding passes through every later layer (forcing any three
  residual blocks to float32 instead gained at most 0.5 dB, the up-sampling path 0.1 dB), and
  it is cheap: about 3 % of the paper generator's multiply-adds (the stem and strided convs
  have few channels or run at a quarter of the residual blocks' positions);
* the image and the stem conv's output carry a large per-channel offset that the first
  instance norm removes (rms / std about 4 for noise): rounding them to bfloat16 is relative
  to the offset, so it costs about 10 dB more than elsewhere (45 dB against the centred
  content, 54-55 dB for every later norm's input);
* an instance norm is element-wise work (no multiply-adds); in float32 it takes the
  bfloat16 conv output with float32 statistics and arithmetic, leaving one rounding (the next
  layer's cast) where bfloat16 rounded the shift, the centring and the scaling: +1.4 dB on the
  image alone, +2.7 dB on top of the float32 encoder.

The translation then maps the image back to magnitudes, ``exp`` of a 120 dB range: an image
error ``e`` becomes a relative magnitude error of ``6.9 e``, which costs 5-6 dB of SNR between
the image and the waveform, so the waveform's 30 dB needs about 36 dB on the image.
The seed-004 generator under the same rule (``cyclegan_music_style`` paper preset, 2 s of
noise): image 28.6 -> 36.2 dB, waveform 29.2 -> 36.1 dB.
"""

from __future__ import annotations

import keras

from tfaudiogan.layers import ReflectionPadding2D, instance_norm
from tfaudiogan.layers.mixed_precision import FLOAT32

# Reference init_weights('normal', init_gain=0.02) for every Conv/ConvTranspose/Linear weight.
INIT_STDDEV = 0.02
#: The dtype policy of the generators' encoder layers and instance norms (module docstring,
#: "Mixed precision"): float32 under every global policy.
GENERATOR_FLOAT32 = FLOAT32
# Reference NLayerDiscriminator LeakyReLU slope.
LEAKY_SLOPE = 0.2


def _kernel_init() -> keras.initializers.Initializer:
    return keras.initializers.RandomNormal(mean=0.0, stddev=INIT_STDDEV)


def _check_positive(**values: int) -> None:
    for key, value in values.items():
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{key} must be a positive integer; got {value!r}")


def padded_conv(x, filters: int, kernel_size: int, strides: int, padding: int, name: str,
                reflect: bool = False, dtype=None):
    """PyTorch-aligned ``Conv2d(kernel_size, stride, padding)``: explicit pad + 'valid' conv.

    Args:
        x: ``[batch, height, width, in_channels]``.
        filters: output channels.
        kernel_size: square kernel side.
        strides: stride on both axes.
        padding: pixels padded on every side (zeros, or reflection if ``reflect``).
        name: name of the conv layer; the padding layer is ``name + "_pad"``.
        reflect: reflection padding (reference ``ReflectionPad2d``) instead of zeros.
        dtype: dtype policy of both layers (None: the global one).

    Returns:
        ``[batch, (height + 2p - k) // s + 1, (width + 2p - k) // s + 1, filters]``.
    """
    if padding:
        pad_layer = ReflectionPadding2D if reflect else keras.layers.ZeroPadding2D
        x = pad_layer(padding, dtype=dtype, name=f"{name}_pad")(x)
    return keras.layers.Conv2D(
        filters, kernel_size, strides=strides, padding="valid", use_bias=True,
        kernel_initializer=_kernel_init(), bias_initializer="zeros", dtype=dtype, name=name,
    )(x)


def upsample_conv(x, filters: int, name: str, crop_dtype=None):
    """PyTorch-aligned ``ConvTranspose2d(k3, s2, padding 1, output_padding 1)``.

    A 'valid' k3/s2 transposed conv gives the full ``2H + 1`` output; PyTorch keeps rows
    ``1 .. 2H`` of it, so the first row and column are cropped (layer ``name + "_crop"``).

    Args:
        x: ``[batch, height, width, in_channels]``.
        filters: output channels.
        name: name of the transposed-conv layer.
        crop_dtype: dtype policy of the crop layer (float32 for an output layer).

    Returns:
        ``[batch, 2 * height, 2 * width, filters]``.
    """
    x = keras.layers.Conv2DTranspose(
        filters, 3, strides=2, padding="valid", use_bias=True,
        kernel_initializer=_kernel_init(), bias_initializer="zeros", name=name,
    )(x)
    return keras.layers.Cropping2D(((1, 0), (1, 0)), dtype=crop_dtype, name=f"{name}_crop")(x)


def _norm_act(x, name: str, norm: bool, activation: str, dtype=None, norm_dtype=None):
    """Optional instance norm (``name_norm``, dtype policy ``norm_dtype``) then an activation
    (``name_<activation>``) with the dtype policy ``dtype`` (None: the global one)."""
    if norm:
        x = instance_norm(name=f"{name}_norm", dtype=norm_dtype)(x)
    if activation == "relu":
        x = keras.layers.ReLU(dtype=dtype, name=f"{name}_relu")(x)
    elif activation == "leaky_relu":
        x = keras.layers.LeakyReLU(negative_slope=LEAKY_SLOPE, dtype=dtype,
                                   name=f"{name}_lrelu")(x)
    elif activation == "tanh":
        x = keras.layers.Activation("tanh", dtype=dtype, name=f"{name}_tanh")(x)
    elif activation != "linear":
        raise ValueError(
            f"activation must be 'relu', 'leaky_relu', 'tanh' or 'linear'; got {activation!r}"
        )
    return x


def residual_block(x, name: str, norm_dtype=None):
    """Reference ``ResnetBlock``: ``x + IN(conv(pad(ReLU(IN(conv(pad(x)))))))``, no final ReLU.

    Both convs are 3x3, stride 1, after a 1-pixel reflection pad (layers ``name_conv1``,
    ``name_conv2``); the width is kept.

    Args:
        x: ``[batch, height, width, channels]`` (height, width >= 2 for the reflection pad).
        name: prefix, e.g. ``"res1"``.
        norm_dtype: dtype policy of the two instance norms (None: the global one).

    Returns:
        ``[batch, height, width, channels]``.
    """
    channels = x.shape[-1]
    y = padded_conv(x, channels, 3, 1, 1, f"{name}_conv1", reflect=True)
    y = _norm_act(y, f"{name}_conv1", norm=True, activation="relu", norm_dtype=norm_dtype)
    y = padded_conv(y, channels, 3, 1, 1, f"{name}_conv2", reflect=True)
    y = _norm_act(y, f"{name}_conv2", norm=True, activation="linear", norm_dtype=norm_dtype)
    return keras.layers.Add(name=f"{name}_add")([x, y])


def resnet_generator(channels: int = 1, ngf: int = 64, n_blocks: int = 9,
                     output_channels: int | None = None,
                     name: str = "resnet_generator") -> keras.Model:
    """Reference ``ResnetGenerator`` (c7s1-64, d128, d256, n x R256, u128, u64, c7s1-out, tanh).

    Defaults are the paper's (ngf 64, 9 blocks at 256x256; reference/cyclegan.md 1.1).
    Parameter count for ngf 64: 11,365,633 (9 blocks, 1 channel), 7,825,153 (6 blocks).

    Size behaviour is the reference's: height and width each become ``4 * ceil(n / 4)``
    (257 -> 260), so only multiples of 4 come back unchanged. The model does not pad; callers
    reflect-pad to a multiple of 4 and crop back (as ``tfaudiogan.audio.chunking`` does),
    otherwise the cycle/identity L1 would compare mismatched shapes.

    Args:
        channels: input channels.
        ngf: width of the first layer (reference ``ngf``).
        n_blocks: residual blocks at 1/4 resolution (9, or 6 for ``resnet_6blocks``).
        output_channels: output channels; defaults to ``channels``.
        name: model name.

    Returns:
        ``keras.Model``: ``[batch, H, W, channels] -> [batch, 4*ceil(H/4), 4*ceil(W/4),
        output_channels]`` in (-1, 1). Layers: ``c7s1_{ngf}``, ``d{2ngf}``, ``d{4ngf}``,
        ``res{i}_conv{1,2}``, ``u{2ngf}``, ``u{ngf}``, ``c7s1_out``. Under a mixed policy
        ``c7s1_{ngf}``, ``d{2ngf}``, ``d{4ngf}`` (with their pads, norms and ReLUs), every
        ``*_norm`` and the output tanh compute in float32 (module docstring).
    """
    out_channels = channels if output_channels is None else output_channels
    _check_positive(channels=channels, ngf=ngf, output_channels=out_channels)
    if not isinstance(n_blocks, int) or n_blocks < 0:
        raise ValueError(f"n_blocks must be a non-negative integer; got {n_blocks!r}")
    inputs = keras.Input(shape=(None, None, channels), name="spectrogram")
    f32 = GENERATOR_FLOAT32  # encoder and norms (module docstring, "Mixed precision")
    x = padded_conv(inputs, ngf, 7, 1, 3, f"c7s1_{ngf}", reflect=True, dtype=f32)
    x = _norm_act(x, f"c7s1_{ngf}", norm=True, activation="relu", dtype=f32, norm_dtype=f32)
    for mult in (2, 4):
        x = padded_conv(x, mult * ngf, 3, 2, 1, f"d{mult * ngf}", dtype=f32)
        x = _norm_act(x, f"d{mult * ngf}", norm=True, activation="relu", dtype=f32,
                      norm_dtype=f32)
    for i in range(1, n_blocks + 1):
        x = residual_block(x, f"res{i}", norm_dtype=f32)
    for mult in (2, 1):
        x = upsample_conv(x, mult * ngf, f"u{mult * ngf}")
        x = _norm_act(x, f"u{mult * ngf}", norm=True, activation="relu", norm_dtype=f32)
    x = padded_conv(x, out_channels, 7, 1, 3, "c7s1_out", reflect=True)
    # the tanh in float32 under a mixed policy: float32 images for the losses and the iSTFT
    outputs = _norm_act(x, "c7s1_out", norm=False, activation="tanh", dtype=FLOAT32)
    return keras.Model(inputs, outputs, name=name)


def _conv_name(filters: int, used: set[str]) -> str:
    name, k = f"c{filters}", 2
    while name in used:
        name, k = f"c{filters}_{k}", k + 1
    used.add(name)
    return name


def patch_discriminator(channels: int = 1, ndf: int = 64, n_layers: int = 3,
                        name: str = "patch_discriminator") -> keras.Model:
    """Reference ``NLayerDiscriminator`` (70x70 PatchGAN for n_layers 3: C64-C128-C256-C512-1).

    Every conv is 4x4 with 1-pixel zero padding: ``n_layers`` stride-2 convs (widths
    ``ndf * min(2**i, 8)``), one stride-1 conv, then a stride-1 conv to one channel. Instance
    norm after every conv except the first and the last; LeakyReLU(0.2); no sigmoid.
    Parameter count for ndf 64, n_layers 3: 2,762,689 (1 channel), 2,764,737 (3 channels).

    Args:
        channels: input channels.
        ndf: width of the first conv.
        n_layers: number of stride-2 convs.
        name: model name.

    Returns:
        ``keras.Model``: ``[batch, H, W, channels] -> [batch, H', W', 1]`` logits (unbounded)
        with ``H' = floor(H / 2**n_layers) - 2`` (256 -> 30, 128 -> 14, 64 -> 6 for n_layers
        3; needs H, W >= 24). Layers ``c64``, ``c128``, ``c256``, ``c512``, ``patch_logits``.
    """
    _check_positive(channels=channels, ndf=ndf, n_layers=n_layers)
    inputs = keras.Input(shape=(None, None, channels), name="spectrogram")
    used: set[str] = set()
    x = inputs
    for i in range(n_layers + 1):
        filters = ndf * min(2**i, 8)
        strides = 2 if i < n_layers else 1
        conv_name = _conv_name(filters, used)
        x = padded_conv(x, filters, 4, strides, 1, conv_name)
        x = _norm_act(x, conv_name, norm=i > 0, activation="leaky_relu")
    outputs = padded_conv(x, 1, 4, 1, 1, "patch_logits", dtype=FLOAT32)  # float32 logits
    return keras.Model(inputs, outputs, name=name)


def music_style_generator(channels: int = 1, ngf: int = 64, n_blocks: int = 9,
                          output_activation: str = "tanh",
                          name: str = "music_style_generator") -> keras.Model:
    """Seed-004 generator ("Learning Music Style Transformation", slide "Tweak on Generator").

    The slides give: 2 convs (stride 2, width 3), 9 ResNet layers (stride 1, width 3), 2
    transposed convs, no pooling, instance norm on each layer, ReLU. Choices they leave open:

    - "width 3" = a 3x3 kernel: the input is a 2-D log-magnitude image (freq x time), and the
      reference d128/d256 layers are 3x3.
    - No 7x7 stem: the slides list exactly 2 + 9 + 2 layers, so the first stride-2 conv sees
      the raw input. Conv widths ``ngf``, ``2 * ngf`` (the slides give none; reference doubling
      from ngf 64).
    - Strided convs use zero padding 1 + 'valid' (reference alignment, ``ceil(H/2)``).
    - Residual blocks are the reference block (reflection pad 1, 3x3, IN, ReLU, 3x3, IN, add,
      no ReLU after the add) at width ``2 * ngf``.
    - Transposed convs are k3/s2 with the reference alignment; the first goes to ``ngf``
      channels with IN + ReLU, the second to ``channels``.
    - "Instance norm on each layer" excludes the output layer: normalising it would force
      every output map to zero mean and unit variance, which a [-1, 1] log-magnitude target
      (silence = -1) cannot satisfy. Likewise it gets no ReLU, which would remove the negative
      half of the target range; instead ``output_activation`` is tanh (default, bounded like
      the normalised target and like the reference) or linear (unnormalised log-magnitudes).
    - Conv biases on, ``N(0, 0.02)`` init, no dropout (reference).

    Parameter count for ngf 64, 9 blocks, 1 channel: 2,805,377.

    Args:
        channels: input and output channels.
        ngf: width of the first conv.
        n_blocks: residual blocks (9 on the slides).
        output_activation: ``"tanh"`` or ``"linear"``.
        name: model name.

    Returns:
        ``keras.Model``: ``[batch, H, W, channels] -> [batch, 4*ceil(H/4), 4*ceil(W/4),
        channels]`` (same size rule as ``resnet_generator``; callers pad to multiples of 4).
        Under a mixed policy ``d{ngf}``, ``d{2ngf}`` (with their pads, norms and ReLUs), every
        ``*_norm`` and the output layers compute in float32 (module docstring).
    """
    _check_positive(channels=channels, ngf=ngf)
    if not isinstance(n_blocks, int) or n_blocks < 0:
        raise ValueError(f"n_blocks must be a non-negative integer; got {n_blocks!r}")
    if output_activation not in ("tanh", "linear"):
        raise ValueError(f"output_activation must be 'tanh' or 'linear'; got {output_activation!r}")
    inputs = keras.Input(shape=(None, None, channels), name="spectrogram")
    x = inputs
    f32 = GENERATOR_FLOAT32  # encoder and norms (module docstring, "Mixed precision")
    for mult in (1, 2):
        x = padded_conv(x, mult * ngf, 3, 2, 1, f"d{mult * ngf}", dtype=f32)
        x = _norm_act(x, f"d{mult * ngf}", norm=True, activation="relu", dtype=f32,
                      norm_dtype=f32)
    for i in range(1, n_blocks + 1):
        x = residual_block(x, f"res{i}", norm_dtype=f32)
    x = upsample_conv(x, ngf, f"u{ngf}")
    x = _norm_act(x, f"u{ngf}", norm=True, activation="relu", norm_dtype=f32)
    x = upsample_conv(x, channels, "u_out", crop_dtype=FLOAT32)  # float32 output from the crop
    outputs = _norm_act(x, "u_out", norm=False, activation=output_activation, dtype=FLOAT32)
    return keras.Model(inputs, outputs, name=name)


def music_style_discriminator(channels: int = 1, ndf: int = 64, activation: str = "relu",
                              name: str = "music_style_discriminator") -> keras.Model:
    """Seed-004 discriminator (slide "Tweak on discriminators").

    The slides give: 5 convs (strides 2, 2, 2, 2, 1, width 4), 1 dense layer, no pooling,
    instance norm on each layer, ReLU. Choices they leave open:

    - "width 4" = a 4x4 kernel with zero padding 1 + 'valid' (the reference PatchGAN conv).
    - Widths ``ndf, 2ndf, 4ndf, 8ndf, 8ndf`` (reference doubling capped at ``8 * ndf``).
    - Instance norm after every conv except the first, as in the reference PatchGAN (IN on the
      first layer would discard each clip's overall level), and not on the dense output.
    - ReLU as on the slides (the reference uses LeakyReLU(0.2); ``activation="leaky_relu"``).
    - The dense layer is ``Dense(1)`` on the channel axis, i.e. a 1x1 conv applied at every
      position, so the output is a patch map of logits and the network stays fully
      convolutional along time. A flatten + dense would fix the input length, which the
      any-length requirement forbids. No sigmoid: the loss takes logits.

    Receptive field 94x94. Parameter count for ndf 64, 1 channel: 6,949,825.

    Args:
        channels: input channels.
        ndf: width of the first conv.
        activation: ``"relu"`` (slides) or ``"leaky_relu"`` (reference, slope 0.2).
        name: model name.

    Returns:
        ``keras.Model``: ``[batch, H, W, channels] -> [batch, floor(H/16) - 1,
        floor(W/16) - 1, 1]`` logits (needs H, W >= 32; 256 -> 15).
    """
    _check_positive(channels=channels, ndf=ndf)
    if activation not in ("relu", "leaky_relu"):
        raise ValueError(f"activation must be 'relu' or 'leaky_relu'; got {activation!r}")
    inputs = keras.Input(shape=(None, None, channels), name="spectrogram")
    used: set[str] = set()
    x = inputs
    for i, strides in enumerate((2, 2, 2, 2, 1)):
        filters = ndf * min(2**i, 8)
        conv_name = _conv_name(filters, used)
        x = padded_conv(x, filters, 4, strides, 1, conv_name)
        x = _norm_act(x, conv_name, norm=i > 0, activation=activation)
    outputs = keras.layers.Dense(
        1, kernel_initializer=_kernel_init(), bias_initializer="zeros", dtype=FLOAT32,
        name="dense_logits"
    )(x)
    return keras.Model(inputs, outputs, name=name)
