"""Evaluation classifiers and their feature front-ends.

:func:`sc09_classifier` is the SC09 digit classifier behind the WaveGAN paper's Inception
score (official ``eval/inception/train.py``; reference/wavegan.md section 6.1), layer for
layer:

    waveform [batch, 16384]
    -> STFT(1024, 128, pad_end, periodic Hann) -> |.|          [batch, 128, 513]
    -> 128-bin mel matrix (40-7800 Hz at 16 kHz) -> log(+1e-6)  [batch, 128 time, 128 mel]
    -> BatchNorm (over the mel axis) -> [batch, 128, 128, 1]
    -> [Conv2D 128 5x5 'same' ReLU -> MaxPool 2x2] x 4, BatchNorm before convs 2-4
    -> flatten 8 * 8 * 128 = 8192 -> BatchNorm -> Dense 10 (logits)

At the paper size it has 1,331,850 trainable and 1,349,258 total parameters, the variable
list of the released checkpoint. Batch norm uses the TF1 ``tf.layers`` defaults (momentum
0.99, epsilon 1e-3), which are also Keras'. The softmax is applied by the scorer
(:func:`tfaudiogan.metrics.inception.classifier_probs`). The reference trains it with plain
SGD at lr 1e-4, batch 64.

:func:`import_tf1_sc09_classifier` loads the released TF1 checkpoint (``best_acc-103005``)
into this model. The architecture matches the reference's ``model()`` one to one (same layers,
order, shapes, batch-norm axes and epsilon, flatten order), so no weight needs a transpose;
the tests check the imported logits against a raw-TF computation of the reference graph.

The log-mel transform and its matrix live in :mod:`tfaudiogan.audio.log_mel`
(:func:`~tfaudiogan.audio.log_mel.log_mel_features`, also the nearest-neighbour metrics' features
with ``fft_length=2048``); :class:`LogMelSpectrogram` is the Keras layer that calls it.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from tfaudiogan.audio.log_mel import (
    CLASSIFIER_FFT,
    FRAME_STEP,
    LOG_EPS,
    LOWER_HZ,
    N_MELS,
    SAMPLE_RATE,
    UPPER_HZ,
    log_mel_features,
    log_mel_frames,
    mel_matrix,
)
from tfaudiogan.layers.mixed_precision import FLOAT32

__all__ = ["LogMelSpectrogram", "import_tf1_sc09_classifier", "sc09_classifier"]

SLICE_LEN = 16384  # eval/inception/train.py (reference/wavegan.md 6.1)
BN_MOMENTUM = 0.99  # tf.layers.batch_normalization default
BN_EPSILON = 1e-3  # tf.layers.batch_normalization default


@keras.saving.register_keras_serializable(package="tfaudiogan")
class LogMelSpectrogram(keras.layers.Layer):
    """Keras layer: waveform ``[batch, samples]`` -> log-mel ``[batch, frames, n_mels]``.

    No weights; the output is gradient-stopped (``tf.stop_gradient`` in the reference).
    Arguments as :func:`tfaudiogan.audio.log_mel.log_mel_features`; computes in float32 unless
    a ``dtype`` is given (under a mixed precision policy too).
    """

    def __init__(self, fft_length: int = CLASSIFIER_FFT, frame_step: int = FRAME_STEP,
                 n_mels: int = N_MELS, sample_rate: int = SAMPLE_RATE,
                 lower_hz: float = LOWER_HZ, upper_hz: float = UPPER_HZ,
                 log_eps: float = LOG_EPS, **kwargs):
        kwargs.setdefault("dtype", FLOAT32)
        super().__init__(**kwargs)
        self.fft_length = int(fft_length)
        self.frame_step = int(frame_step)
        self.n_mels = int(n_mels)
        self.sample_rate = int(sample_rate)
        self.lower_hz = float(lower_hz)
        self.upper_hz = float(upper_hz)
        self.log_eps = float(log_eps)
        self._weights = mel_matrix(self.fft_length, self.n_mels, self.sample_rate,
                                   self.lower_hz, self.upper_hz)

    def call(self, waves):
        feats = log_mel_features(waves, self.fft_length, self.frame_step, self.n_mels,
                                 self.sample_rate, self.lower_hz, self.upper_hz, self.log_eps,
                                 weights=self._weights)
        return tf.stop_gradient(feats)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], log_mel_frames(input_shape[-1], self.frame_step), self.n_mels)

    def get_config(self):
        config = super().get_config()
        config.update(fft_length=self.fft_length, frame_step=self.frame_step,
                      n_mels=self.n_mels, sample_rate=self.sample_rate,
                      lower_hz=self.lower_hz, upper_hz=self.upper_hz, log_eps=self.log_eps)
        return config


def _bn(name: str, momentum: float, axis: int = -1) -> keras.layers.BatchNormalization:
    # synchronized: under tf.distribute the batch statistics are those of the global batch,
    # as on the reference's one device (per-replica statistics would change the training).
    return keras.layers.BatchNormalization(
        axis=axis, momentum=momentum, epsilon=BN_EPSILON, synchronized=True, name=name
    )


def sc09_classifier(
    n_classes: int = 10,
    slice_len: int = SLICE_LEN,
    filters: int = 128,  # eval/inception/train.py: conv2d(x, 128, (5, 5))
    kernel_size: int = 5,
    n_blocks: int = 4,
    fft_length: int = CLASSIFIER_FFT,
    frame_step: int = FRAME_STEP,
    n_mels: int = N_MELS,
    sample_rate: int = SAMPLE_RATE,
    lower_hz: float = LOWER_HZ,
    upper_hz: float = UPPER_HZ,
    bn_momentum: float = BN_MOMENTUM,
    name: str = "sc09_classifier",
) -> keras.Model:
    """The SC09 "inception" classifier of the WaveGAN paper (reference/wavegan.md 6.1).

    Args:
        n_classes: output logits (10 digits, labels Zero..Nine).
        slice_len: input samples (16384).
        filters: channels of every conv (128); smaller values for tests.
        kernel_size: square conv kernel (5).
        n_blocks: conv/pool blocks (4); each halves time and mel.
        fft_length, frame_step, n_mels, sample_rate, lower_hz, upper_hz: log-mel front-end.
        bn_momentum: moving-average momentum of every batch norm (TF1 default 0.99).
        name: model name.

    Returns:
        A ``keras.Model`` mapping float ``[batch, slice_len]`` waveforms to float32 logits
        ``[batch, n_classes]``. Layer names: ``log_mel``, ``bn_input``, ``conv_i`` /
        ``pool_i`` / ``bn_i`` (i = 0..n_blocks-1; ``bn_i`` precedes ``conv_i`` for i >= 1),
        ``flatten``, ``bn_flat``, ``logits``.

    Raises:
        ValueError: the front-end's frames or mel bins are not divisible by ``2**n_blocks``.
    """
    frames = log_mel_frames(int(slice_len), int(frame_step))
    factor = 2**n_blocks
    if frames % factor or n_mels % factor:
        raise ValueError(
            f"{frames} frames x {n_mels} mel bins cannot be halved {n_blocks} times exactly"
        )
    waves = keras.Input((slice_len,), name="waveform")
    x = LogMelSpectrogram(fft_length, frame_step, n_mels, sample_rate, lower_hz, upper_hz,
                          name="log_mel")(waves)  # [batch, frames, n_mels]
    # tf.layers.batch_normalization on [b, time, mel] normalises the last (mel) axis.
    x = _bn("bn_input", bn_momentum)(x)
    x = keras.layers.Reshape((frames, n_mels, 1), name="add_channel")(x)
    for i in range(n_blocks):
        if i > 0:
            x = _bn(f"bn_{i}", bn_momentum)(x)
        x = keras.layers.Conv2D(filters, kernel_size, padding="same", activation="relu",
                                name=f"conv_{i}")(x)
        x = keras.layers.MaxPooling2D(2, 2, name=f"pool_{i}")(x)
    x = keras.layers.Flatten(name="flatten")(x)  # [b, frames/16 * mels/16 * filters]
    x = _bn("bn_flat", bn_momentum)(x)
    logits = keras.layers.Dense(n_classes, dtype=FLOAT32, name="logits")(x)  # float32 logits
    return keras.Model(waves, logits, name=name)


# ---------------------------------------------------------------------------------------------
# The released TF1 classifier (eval/inception/train.py; checkpoint `best_acc-103005`)
# ---------------------------------------------------------------------------------------------

#: Keras layer of :func:`sc09_classifier` -> its TF1 ``tf.layers`` scope under ``classifier/``.
#: ``model()`` in the reference creates, in order, ``batch_normalization`` (input, mel axis),
#: ``conv2d``, then ``batch_normalization_i`` + ``conv2d_i`` for blocks 1..3, then
#: ``batch_normalization_4`` (flattened 8*8*128) and ``dense`` (the logits).
TF1_SCOPES = {
    "bn_input": "batch_normalization",
    "conv_0": "conv2d",
    "bn_1": "batch_normalization_1",
    "conv_1": "conv2d_1",
    "bn_2": "batch_normalization_2",
    "conv_2": "conv2d_2",
    "bn_3": "batch_normalization_3",
    "conv_3": "conv2d_3",
    "bn_flat": "batch_normalization_4",
    "logits": "dense",
}
#: Keras weight order of each layer type, as TF1 variable leaf names.
_TF1_LEAVES = {
    keras.layers.BatchNormalization: ("gamma", "beta", "moving_mean", "moving_variance"),
    keras.layers.Conv2D: ("kernel", "bias"),
    keras.layers.Dense: ("kernel", "bias"),
}


def tf1_checkpoint_prefix(path) -> str | None:
    """The TF1 checkpoint prefix that ``path`` names, or None.

    ``path`` may be the prefix itself (``.../best_acc-103005``, beside its ``.index`` and
    ``.data-*`` files) or a directory holding one (its ``checkpoint`` file's latest entry, else
    the only ``*.index`` file in it).
    """
    import os

    path = os.fspath(path)
    if os.path.isfile(path + ".index"):
        return path
    if os.path.isdir(path):
        latest = tf.train.latest_checkpoint(path)
        if latest is not None:
            return latest
        found = sorted(f[: -len(".index")] for f in os.listdir(path) if f.endswith(".index"))
        if len(found) == 1:
            return os.path.join(path, found[0])
    return None


def tf1_variable_map(scope: str = "classifier") -> dict[str, str]:
    """``{"keras_layer/leaf": "TF1 variable name"}`` for every weight of the paper-size
    :func:`sc09_classifier` (four blocks)."""
    out = {}
    for layer, tf1 in TF1_SCOPES.items():
        kind = keras.layers.BatchNormalization if layer.startswith("bn") else keras.layers.Dense
        for leaf in _TF1_LEAVES[kind]:
            out[f"{layer}/{leaf}"] = f"{scope}/{tf1}/{leaf}"
    return out


def import_tf1_sc09_classifier(checkpoint_prefix, scope: str = "classifier") -> keras.Model:
    """The released TF1 SC09 classifier as a Keras :func:`sc09_classifier`.

    Reads the checkpoint with ``tf.train.load_checkpoint`` (no graph, no ``infer.meta``
    needed: the architecture is :func:`sc09_classifier`, which is the reference's ``model()``
    layer for layer). TF1 ``tf.layers`` and Keras store every weight in the same layout (conv
    kernels ``[5, 5, in, out]``, dense ``[in, out]``; ``tf.reshape`` of NHWC ``[b, 8, 8, 128]``
    flattens in the order of Keras ``Flatten``), so each variable is copied without transpose;
    the shapes are still checked one by one. ``global_step`` and any optimizer slots are
    ignored. The filter count and the number of classes are read from the checkpoint.

    Args:
        checkpoint_prefix: the prefix (``.../best_acc-103005``) or a directory holding it.
        scope: the variable scope of the network (``classifier`` in the reference).

    Returns:
        A ``keras.Model`` waveform ``[batch, 16384]`` -> logits ``[batch, n_classes]`` with
        the checkpoint's weights (use ``training=False``: batch norm's moving statistics).

    Raises:
        FileNotFoundError: no TF1 checkpoint at ``checkpoint_prefix``.
        ValueError: variables missing from the checkpoint, or shapes that do not fit; the
            message names every one.
    """
    prefix = tf1_checkpoint_prefix(checkpoint_prefix)
    if prefix is None:
        raise FileNotFoundError(
            f"no TF1 checkpoint at '{checkpoint_prefix}' (expected the prefix of "
            "'<prefix>.index' + '<prefix>.data-*', e.g. .../best_acc-103005, or its directory)")
    reader = tf.train.load_checkpoint(prefix)
    shapes = reader.get_variable_to_shape_map()
    wanted = tf1_variable_map(scope)
    missing = sorted(v for v in wanted.values() if v not in shapes)
    if missing:
        have = sorted(k for k in shapes if k.startswith(scope + "/"))
        raise ValueError(
            f"TF1 checkpoint '{prefix}' lacks the SC09 classifier variables {missing} "
            f"(it has {have[:12]}{' ...' if len(have) > 12 else ''}); expected the "
            "variables of eval/inception/train.py's model() under scope "
            f"'{scope}/' (reference/wavegan.md 6.1)")
    kernel = shapes[f"{scope}/conv2d/kernel"]
    filters, kernel_size = int(kernel[-1]), int(kernel[0])
    n_classes = int(shapes[f"{scope}/dense/bias"][0])
    model = sc09_classifier(n_classes=n_classes, filters=filters, kernel_size=kernel_size)
    mismatched, values = [], {}
    for key, name in wanted.items():
        layer_name, leaf = key.split("/")
        layer = model.get_layer(layer_name)
        index = _TF1_LEAVES[type(layer)].index(leaf)
        expected = tuple(layer.weights[index].shape)
        got = tuple(int(s) for s in shapes[name])
        if got != expected:
            mismatched.append(f"{name}: checkpoint {got}, Keras {layer_name} {leaf} {expected}")
        values.setdefault(layer_name, [None] * len(layer.weights))[index] = name
    if mismatched:
        raise ValueError(f"TF1 checkpoint '{prefix}' does not fit the SC09 classifier: "
                         + "; ".join(mismatched))
    for layer_name, names in values.items():
        model.get_layer(layer_name).set_weights([reader.get_tensor(n) for n in names])
    return model
