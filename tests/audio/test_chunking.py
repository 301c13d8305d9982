"""Tests for chunked translation: exact identity, cross-fade weights, grouped generator calls,
long audio, TFLite export."""

import functools

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfaudiogan.audio.chunking import (
    DEFAULT_MAX_CHUNKS_PER_CALL,
    chunk_weights,
    translate_frames,
    translate_waveform,
)
from tfaudiogan.audio.representations import CycleGANSpectrogram
from tfaudiogan.audio.spectral import DFTSTFT
from tfaudiogan.models.cyclegan import resnet_generator

CHUNK, OVERLAP, FREQ = 16, 4, 8
GROUPS = [1, 3, None]  # max_chunks_per_call: one chunk, a group with a remainder, all at once


def _dynamic(generator, chunk=CHUNK, overlap=OVERLAP, group=4, channels=1):
    return tf.function(
        lambda s: translate_frames(s, generator, chunk, overlap, max_chunks_per_call=group),
        input_signature=[tf.TensorSpec([None, FREQ, None, channels], tf.float32)],
    )


def _snr_db(reference, estimate):
    reference = np.asarray(reference, np.float64)
    noise = reference - np.asarray(estimate, np.float64)
    return 10.0 * np.log10(np.sum(reference**2) / np.sum(noise**2))


@pytest.mark.parametrize("group", GROUPS)
def test_identity_is_exact_for_any_length(rng, group):
    fn = _dynamic(lambda x: x, group=group)
    for frames in (1, 7, CHUNK, CHUNK + 1, 10 * CHUNK + 3):
        spec = rng.uniform(-1, 1, (2, FREQ, frames, 1)).astype(np.float32)
        out = fn(spec).numpy()
        assert out.shape == spec.shape
        assert np.max(np.abs(out - spec)) < 1e-6
    assert fn.experimental_get_tracing_count() == 1  # one dynamic-shape trace served all


@pytest.mark.parametrize("group", GROUPS)
def test_constant_offset_generator(rng, group):
    fn = _dynamic(lambda x: x + 0.25, group=group)
    for frames in (5, 3 * CHUNK + 1):
        spec = rng.uniform(-1, 1, (1, FREQ, frames, 1)).astype(np.float32)
        np.testing.assert_allclose(fn(spec), spec + 0.25, atol=1e-6)


@pytest.mark.parametrize(
    "group,sizes", [(None, [28]), (0, [28]), (5, [5, 5, 5, 5, 5, 3]), (28, [28]), (40, [28])]
)
def test_generator_sees_fixed_chunks_in_groups(rng, group, sizes):
    seen = []

    def generator(x):
        seen.append(tuple(x.shape))
        return x

    frames, step = 10 * CHUNK + 3, CHUNK - OVERLAP
    assert 2 * (1 + -(-(frames - CHUNK) // step)) == 28  # batch 2 x 14 chunks
    spec = rng.uniform(-1, 1, (2, FREQ, frames, 1)).astype(np.float32)
    translate_frames(spec, generator, CHUNK, OVERLAP, max_chunks_per_call=group)
    assert seen == [(n, FREQ, CHUNK, 1) for n in sizes]


def test_default_group_bounds_generator_calls_in_graph():
    """Inside a dynamic-shape tf.function: 4 chunks per call by default, one call at a time."""
    calls = tf.Variable(0)
    largest = tf.Variable(0)
    chunks = tf.Variable(0)

    def generator(x):
        n = tf.shape(x)[0]
        calls.assign_add(1)
        chunks.assign_add(n)
        largest.assign(tf.maximum(largest, n))
        return x

    fn = tf.function(
        lambda s: translate_frames(s, generator, CHUNK, OVERLAP),
        input_signature=[tf.TensorSpec([None, None, None, None], tf.float32)],
    )
    spec = np.zeros((2, FREQ, 10 * CHUNK + 3, 1), np.float32)  # 28 chunks
    assert fn(spec).shape == spec.shape
    assert (calls.numpy(), chunks.numpy(), largest.numpy()) == (7, 28, DEFAULT_MAX_CHUNKS_PER_CALL)
    graph = fn.get_concrete_function().graph.as_graph_def()
    loops = [n for n in graph.node if n.op in ("While", "StatelessWhile")]
    assert len(loops) == 1 and loops[0].attr["parallel_iterations"].i == 1  # memory bound


def _small_instance_norm_generator():
    keras.utils.set_random_seed(3)
    return resnet_generator(1, ngf=4, n_blocks=1, name="small_gen")


def _random_conv_generator():
    """conv 3x3 -> instance norm -> LeakyReLU(0.2) -> conv 3x3 -> tanh, random weights."""
    keras.utils.set_random_seed(5)
    inputs = keras.Input((None, None, 1))
    h = keras.layers.Conv2D(8, 3, padding="same")(inputs)
    h = keras.layers.GroupNormalization(groups=8, epsilon=1e-5)(h)  # instance norm
    h = keras.layers.LeakyReLU(negative_slope=0.2)(h)
    return keras.Model(inputs, keras.layers.Conv2D(1, 3, padding="same", activation="tanh")(h))


@pytest.mark.parametrize("graph", [False, True])
def test_group_size_does_not_change_a_random_generator(rng, graph):
    gen = _random_conv_generator()
    spec = rng.uniform(-1, 1, (2, FREQ, 5 * CHUNK + 9, 1)).astype(np.float32)  # 2 x 8 chunks
    outs = {}
    for group in GROUPS:
        fn = functools.partial(
            translate_frames, generator=gen, chunk_frames=CHUNK, overlap_frames=OVERLAP,
            max_chunks_per_call=group,
        )
        if graph:
            fn = tf.function(fn, input_signature=[tf.TensorSpec([None] * 4, tf.float32)])
        outs[group] = fn(spec).numpy()
        assert outs[group].shape == spec.shape
    assert np.max(np.abs(outs[None] - spec)) > 0.5  # the generator really changes the input
    for group in (1, 3):
        # Batch-size dependent conv kernels may differ in the last bits (~4e-7 seen eagerly).
        assert np.max(np.abs(outs[group] - outs[None])) < 1e-6


def test_translate_waveform_group_size_equivalence_dynamic(rng):
    gen = _small_instance_norm_generator()
    rep = CycleGANSpectrogram(DFTSTFT(63, 15, 63))  # 32 bins, tiny for speed
    inputs = [rng.uniform(-0.5, 0.5, (2, n)).astype(np.float32) for n in (700, 2001)]
    outs = {}
    for group in GROUPS:
        fn = tf.function(
            lambda w, g=group: translate_waveform(
                w, lambda s: gen(s, training=False), rep, CHUNK, OVERLAP, max_chunks_per_call=g
            ),
            input_signature=[tf.TensorSpec([None, None], tf.float32)],
        )
        outs[group] = [fn(x).numpy() for x in inputs]  # 8 and 22 chunks
        assert fn.experimental_get_tracing_count() == 1
    for i, x in enumerate(inputs):
        reference = outs[None][i]
        assert reference.shape == x.shape and np.max(np.abs(reference - x)) > 1e-3
        for group in (1, 3):
            assert np.max(np.abs(outs[group][i] - reference)) < 1e-6


@pytest.mark.parametrize("channels", [1, None])
def test_grouped_generator_may_change_channel_count(rng, channels):
    fn = _dynamic(lambda x: tf.concat([x, -x], axis=-1), group=3, channels=channels)
    spec = rng.uniform(-1, 1, (1, FREQ, 4 * CHUNK, 1)).astype(np.float32)
    out = fn(spec)
    assert out.shape == (1, FREQ, 4 * CHUNK, 2)
    np.testing.assert_allclose(out, np.concatenate([spec, -spec], -1), atol=1e-6)


@pytest.mark.parametrize("group", [-1, 2.0, True, "4"])
def test_invalid_group_size_rejected(group):
    with pytest.raises(ValueError, match="max_chunks_per_call"):
        translate_frames(
            np.zeros((1, 4, 8, 1), np.float32), lambda x: x, 16, 4, max_chunks_per_call=group
        )


def test_padding_uses_pad_value():
    seen = []

    def generator(x):
        seen.append(x.numpy())
        return x

    spec = np.zeros((1, FREQ, 5, 1), np.float32)
    translate_frames(spec, generator, CHUNK, OVERLAP, pad_value=-0.5)
    chunk = seen[0][0, :, :, 0]
    assert np.all(chunk[:, :5] == 0.0) and np.all(chunk[:, 5:] == -0.5)


def test_cross_fade_matches_weighted_average():
    # Each chunk is replaced by its first frame's value; the input is the frame index, so
    # chunk i outputs i * step and the result is the weight-normalised mix of those values.
    frames, step = 45, CHUNK - OVERLAP
    spec = np.broadcast_to(
        np.arange(frames, dtype=np.float32)[None, None, :, None], (1, FREQ, frames, 1)
    )
    out = translate_frames(
        spec, lambda x: tf.broadcast_to(x[:, :, :1, :], tf.shape(x)), CHUNK, OVERLAP
    ).numpy()[0, 0, :, 0]
    weights = chunk_weights(CHUNK, OVERLAP)
    n_chunks = 1 + -(-(frames - CHUNK) // step)
    num = np.zeros((n_chunks - 1) * step + CHUNK)
    den = np.zeros_like(num)
    for i in range(n_chunks):
        num[i * step : i * step + CHUNK] += weights * i * step
        den[i * step : i * step + CHUNK] += weights
    np.testing.assert_allclose(out, (num / den)[:frames], rtol=1e-6)
    assert out[0] == 0.0 and out[step + OVERLAP] == step  # outside overlaps: one chunk only


@pytest.mark.parametrize("chunk,overlap", [(16, 0), (16, 4), (16, 15), (256, 32), (64, 40)])
def test_chunk_weights_are_positive_and_complementary(chunk, overlap):
    weights = chunk_weights(chunk, overlap)
    assert weights.shape == (chunk,) and np.all(weights > 0) and np.all(weights <= 1)
    step, n = chunk - overlap, 6
    total = np.zeros((n - 1) * step + chunk)
    for i in range(n):
        total[i * step : i * step + chunk] += weights
    np.testing.assert_allclose(total[overlap : len(total) - overlap], 1.0, atol=1e-6)


@pytest.mark.parametrize("chunk,overlap", [(18, 4), (0, 0), (16, 16), (16, -1), (16.0, 4)])
def test_invalid_chunking_rejected(chunk, overlap):
    with pytest.raises(ValueError):
        translate_frames(np.zeros((1, 4, 8, 1), np.float32), lambda x: x, chunk, overlap)


def test_translate_waveform_30_seconds_identity(rng):
    sample_rate, n = 25000, 30 * 25000
    t = np.arange(n) / sample_rate
    x = 0.3 * np.sin(2 * np.pi * 220 * t) + 0.2 * np.sin(2 * np.pi * 587 * t) * np.cos(t)
    x = (x + 1e-3 * rng.standard_normal(n)).astype(np.float32)[None]
    rep = CycleGANSpectrogram(DFTSTFT(511, 127, 511))
    y = translate_waveform(x, lambda s: s, rep, chunk_frames=256, overlap_frames=32).numpy()
    assert y.shape == x.shape
    assert _snr_db(x, y) > 100.0


def _one_by_one_identity():
    inputs = keras.Input((None, None, 1))
    conv = keras.layers.Conv2D(1, 1, kernel_initializer="ones", bias_initializer="zeros")
    return keras.Model(inputs, conv(inputs))


def test_translate_waveform_exports_to_tflite_builtins(rng, tmp_path):
    from ai_edge_litert.interpreter import Interpreter

    model = _one_by_one_identity()
    rep = CycleGANSpectrogram(DFTSTFT(511, 127, 511))

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.float32, name="waveform")])
    def translate(waveform):
        # 3 chunks per call: 4 chunks (1 s) and 2 x 3 chunks (0.8 s) need 2 loop iterations.
        return {"audio": translate_waveform(waveform, model, rep, 64, 16, max_chunks_per_call=3)}

    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint("translate", translate)
    archive.write_out(str(tmp_path / "saved"), verbose=False)

    converter = tf.lite.TFLiteConverter.from_saved_model(str(tmp_path / "saved"))
    converter.target_spec.supported_ops = {tf.lite.OpsSet.TFLITE_BUILTINS}
    runner = Interpreter(model_content=converter.convert()).get_signature_runner("translate")

    t = np.arange(25000) / 25000
    x = (0.4 * np.sin(2 * np.pi * 440 * t) + 0.01 * rng.standard_normal(25000)).astype(np.float32)
    for batch in (x[None], np.stack([x[:20000], -x[:20000]])):
        expected = translate(batch)["audio"].numpy()
        got = runner(waveform=batch)["audio"]
        assert got.shape == batch.shape
        assert np.max(np.abs(got - expected)) < 1e-4
        assert _snr_db(batch, expected) > 100.0
