"""Tests for chunked translation: exact identity, cross-fade weights, long audio, TFLite export."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfaudiogan.audio.chunking import chunk_weights, translate_frames, translate_waveform
from tfaudiogan.audio.representations import CycleGANSpectrogram
from tfaudiogan.audio.spectral import DFTSTFT

CHUNK, OVERLAP, FREQ = 16, 4, 8


def _dynamic(generator, chunk=CHUNK, overlap=OVERLAP):
    return tf.function(
        lambda s: translate_frames(s, generator, chunk, overlap),
        input_signature=[tf.TensorSpec([None, FREQ, None, 1], tf.float32)],
    )


def _snr_db(reference, estimate):
    reference = np.asarray(reference, np.float64)
    noise = reference - np.asarray(estimate, np.float64)
    return 10.0 * np.log10(np.sum(reference**2) / np.sum(noise**2))


def test_identity_is_exact_for_any_length(rng):
    fn = _dynamic(lambda x: x)
    for frames in (1, 7, CHUNK, CHUNK + 1, 10 * CHUNK + 3):
        spec = rng.uniform(-1, 1, (2, FREQ, frames, 1)).astype(np.float32)
        out = fn(spec).numpy()
        assert out.shape == spec.shape
        assert np.max(np.abs(out - spec)) < 1e-6
    assert fn.experimental_get_tracing_count() == 1  # one dynamic-shape trace served all


def test_constant_offset_generator(rng):
    fn = _dynamic(lambda x: x + 0.25)
    for frames in (5, 3 * CHUNK + 1):
        spec = rng.uniform(-1, 1, (1, FREQ, frames, 1)).astype(np.float32)
        np.testing.assert_allclose(fn(spec), spec + 0.25, atol=1e-6)


def test_generator_sees_fixed_chunks_in_one_batch(rng):
    seen = []

    def generator(x):
        seen.append(tuple(x.shape))
        return x

    frames, step = 10 * CHUNK + 3, CHUNK - OVERLAP
    spec = rng.uniform(-1, 1, (2, FREQ, frames, 1)).astype(np.float32)
    translate_frames(spec, generator, CHUNK, OVERLAP)
    n_chunks = 1 + -(-(frames - CHUNK) // step)
    assert seen == [(2 * n_chunks, FREQ, CHUNK, 1)]


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
        return {"audio": translate_waveform(waveform, model, rep, 64, 16)}

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
