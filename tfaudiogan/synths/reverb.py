"""Convolution reverb with a learned (or given) impulse response: the `Reverb` layer.

DDSP `effects.Reverb` semantics (reference/ddsp.md 1.5): IR tap 0 is forced to zero (the dry
path is masked, so tap k delays by exactly k samples), `wet = fft_convolve(audio, ir, 'same',
delay_compensation=0)` (the tail beyond the input length is dropped, no separate trim), and
`output = wet + audio` when `add_dry`. The trainable IR is one variable of `reverb_length`
(DDSP default 48000 = 3 s) initialised N(0, 1e-6) and shared by the batch.

TFLite: `use_fft=True` is DDSP's single-block FFT convolution (IRFFT: not a builtin). With
`use_fft=False` the layer uses :func:`partitioned_convolve`, a uniformly partitioned
overlap-add convolution with matmul DFTs of size `2 * block_size` and a causal depthwise
convolution over the block axis (the frequency-domain delay line), built-in ops only.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from tfaudiogan.synths.noise import fft_convolve, real_dft_bases

__all__ = ["Reverb", "mask_dry", "partitioned_convolve"]


def mask_dry(ir) -> tf.Tensor:
    """Zeroes tap 0 of `[..., taps]` impulse responses (DDSP masks the dry path)."""
    ir = tf.cast(ir, tf.float32)
    taps = ir.shape[-1]
    mask = np.ones(taps, np.float32)
    mask[0] = 0.0
    return ir * tf.constant(mask)


def partitioned_convolve(audio, impulse_response, block_size: int = 256) -> tf.Tensor:
    """Causal linear convolution `y[t] = sum_j ir[j] x[t - j]`, `t < samples` (builtins only).

    Equals `fft_convolve(audio, ir, 'same', delay_compensation=0)` for `[batch, taps]` IRs.
    Audio blocks and IR partitions of `block_size` samples are transformed with a `2 B`-point
    matmul DFT; output block b is the inverse DFT of `sum_p X[b - p] H[p]`, computed for all
    bins at once as a depthwise convolution over blocks, then overlap-added.
    Cost per output sample ~ `6 B + 4 taps / B` multiply-adds. TFLite conversion needs the
    IR shared by the batch (`[taps]` or `[1, taps]`, e.g. the trainable Reverb): per-example
    IRs fold the batch into the depthwise channels, which the converter cannot lower.

    Args:
        audio: `[batch, samples]`, static length.
        impulse_response: `[taps]` or `[batch|1, taps]`, static taps.
        block_size: B.

    Returns:
        `[batch, samples]`.
    """
    audio = tf.cast(audio, tf.float32)
    ir = tf.cast(impulse_response, tf.float32)
    if ir.shape.rank == 1:
        ir = ir[tf.newaxis, :]
    n_samples, taps, block = int(audio.shape[-1]), int(ir.shape[-1]), int(block_size)
    n_blocks, n_parts = -(-n_samples // block), -(-taps // block)
    nb = block + 1  # bins of the 2B-point real DFT
    forward, inverse = real_dft_bases(block, 2 * block)
    forward = tf.constant(forward.astype(np.float32))
    batch = tf.shape(audio)[0]

    x = tf.pad(audio, [[0, 0], [0, n_blocks * block - n_samples]])
    x = tf.tensordot(tf.reshape(x, tf.stack([batch, n_blocks, block])), forward, axes=1)
    h = tf.pad(ir, [[0, 0], [0, n_parts * block - taps]])
    h = tf.tensordot(tf.reshape(h, [-1, n_parts, block]), forward, axes=1)  # [Bh, P, 2 nb]
    shared = ir.shape[0] == 1
    if not shared:
        h = tf.broadcast_to(h, tf.stack([batch, n_parts, 2 * nb]))

    # Frequency-domain delay line as a causal depthwise conv over blocks. Channels are
    # (real|imag, bin); each gets two filters so that Yr = Xr Hr - Xi Hi, Yi = Xr Hi + Xi Hr
    # are sums of outputs. A shared IR keeps the batch as the conv batch (static channels:
    # TFLite DEPTHWISE_CONV_2D); per-example IRs fold the batch into the channels (TF only).
    hr, hi = h[..., :nb], h[..., nb:]
    filters = tf.stack([tf.stack([hr, hi], -1), tf.stack([-hi, hr], -1)], 2)  # [Bh,P,2,nb,2]
    filters = tf.reverse(filters, axis=[1])  # convolution = correlation with reversed taps
    xs = tf.reshape(x, tf.stack([batch, n_blocks, 2, nb]))
    if shared:
        filters = tf.reshape(filters, [1, n_parts, 2 * nb, 2])
        xs = tf.reshape(xs, tf.stack([batch, 1, n_blocks, 2 * nb]))
    else:
        filters = tf.reshape(tf.transpose(filters, [1, 0, 2, 3, 4]), [1, n_parts, -1, 2])
        xs = tf.reshape(tf.transpose(xs, [1, 0, 2, 3]), [1, 1, n_blocks, -1])
    xs = tf.pad(xs, [[0, 0], [0, 0], [n_parts - 1, 0], [0, 0]])  # causal
    ys = tf.nn.depthwise_conv2d(xs, filters, [1, 1, 1, 1], "VALID")
    if shared:
        ys = tf.reshape(ys, tf.stack([batch, n_blocks, 2, nb, 2]))
    else:
        ys = tf.transpose(tf.reshape(ys, tf.stack([n_blocks, batch, 2, nb, 2])), [1, 0, 2, 3, 4])
    yr = ys[:, :, 0, :, 0] + ys[:, :, 1, :, 0]
    yi = ys[:, :, 0, :, 1] + ys[:, :, 1, :, 1]
    spectrum = tf.concat([yr, yi], -1)  # [batch, blocks, 2 nb]
    frames = tf.tensordot(spectrum, tf.constant(inverse.astype(np.float32)), axes=1)
    return tf.signal.overlap_and_add(frames, block)[:, :n_samples]


@keras.saving.register_keras_serializable(package="tfaudiogan")
class Reverb(keras.layers.Layer):
    """DDSP convolution reverb.

    Args:
        trainable: learn one IR variable of `reverb_length` taps shared by the batch (DDSP's
            `Reverb(trainable=True)`); False means the IR is a call argument.
        reverb_length: IR taps (DDSP default 48000 = 3 s at 16 kHz).
        add_dry: add the input to the wet signal (DDSP default True).
        use_fft: single-block FFT convolution (DDSP); False: :func:`partitioned_convolve`
            (TFLite built-in ops only, same output to float32 rounding).
        block_size: partition size of the built-in path.
        ir_stddev: initial standard deviation of the trainable IR (DDSP: 1e-6).
        **kwargs: `keras.layers.Layer` arguments; ``dtype`` defaults to float32 (synthesis
            stays float32 under a mixed precision policy).

    Call arguments:
        audio: `[batch, samples]`.
        ir: `[batch, taps]` when not trainable.

    Returns:
        `[batch, samples]`.
    """

    def __init__(self, trainable: bool = False, reverb_length: int = 48000,
                 add_dry: bool = True, use_fft: bool = True, block_size: int = 256,
                 ir_stddev: float = 1e-6, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(trainable=trainable, **kwargs)
        self.learn_ir = bool(trainable)
        self.reverb_length = int(reverb_length)
        self.add_dry = bool(add_dry)
        self.use_fft = bool(use_fft)
        self.block_size = int(block_size)
        self.ir_stddev = float(ir_stddev)
        self.ir = None
        if self.learn_ir:
            self.ir = self.add_weight(
                shape=(self.reverb_length,), name="ir", trainable=True,
                initializer=keras.initializers.RandomNormal(0.0, self.ir_stddev))

    def get_controls(self, audio, ir=None) -> dict[str, tf.Tensor]:
        """`{audio, ir}`; the IR is the variable (as `[1, taps]`) when trainable."""
        if self.learn_ir:
            if ir is not None:
                raise ValueError("this Reverb learns its IR; do not pass ir")
            ir = tf.expand_dims(tf.convert_to_tensor(self.ir), 0)
        elif ir is None:
            raise ValueError("Reverb(trainable=False) needs an ir [batch, taps] argument")
        return {"audio": tf.cast(audio, tf.float32), "ir": tf.cast(ir, tf.float32)}

    def get_signal(self, audio, ir) -> tf.Tensor:
        """Masks tap 0, convolves ('same', zero delay compensation), adds the dry signal."""
        audio = tf.cast(audio, tf.float32)
        ir = mask_dry(ir)
        if ir.shape.rank != 2:
            raise ValueError(f"ir must be [batch, taps], got {ir.shape}")
        if self.use_fft:
            wet = fft_convolve(audio, ir, padding="same", delay_compensation=0)
        else:
            wet = partitioned_convolve(audio, ir, self.block_size)
        return wet + audio if self.add_dry else wet

    def call(self, audio, ir=None):
        return self.get_signal(**self.get_controls(audio, ir))

    def compute_output_shape(self, audio_shape, *args, **kwargs):
        return tuple(audio_shape)

    def get_config(self):
        config = super().get_config()
        config.update(trainable=self.learn_ir, reverb_length=self.reverb_length,
                      add_dry=self.add_dry, use_fft=self.use_fft, block_size=self.block_size,
                      ir_stddev=self.ir_stddev)
        return config
