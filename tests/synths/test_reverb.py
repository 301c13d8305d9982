"""Reverb: reference/ddsp.md section 7 check 11, partitioned (builtins) path, TFLite export."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfaudiogan.export import tflite
from tfaudiogan.synths.noise import fft_convolve
from tfaudiogan.synths.reverb import Reverb, mask_dry, partitioned_convolve


def _impulse(n, at, batch=1):
    x = np.zeros((batch, n), np.float32)
    x[:, at] = 1.0
    return x


@pytest.mark.parametrize("use_fft", [True, False])
def test_worked_example_dry_masked_and_added(use_fft):
    ir = np.zeros((1, 48000), np.float32)
    ir[0, 0], ir[0, 10] = 5.0, 0.5  # tap 0 is ignored
    out = Reverb(reverb_length=48000, use_fft=use_fft)(_impulse(1000, 100), ir).numpy()[0]
    assert out[100] == pytest.approx(1.0, abs=1e-6) and out[110] == pytest.approx(0.5, abs=1e-6)
    others = np.delete(out, [100, 110])
    assert np.max(np.abs(others)) < 1e-6
    wet = Reverb(reverb_length=48000, add_dry=False, use_fft=use_fft)(_impulse(1000, 100), ir)
    assert wet.numpy()[0, 100] == pytest.approx(0.0, abs=1e-6)


def test_trainable_ir_initialisation(rng):
    layer = Reverb(trainable=True, reverb_length=48000)
    assert tuple(layer.ir.shape) == (48000,) and len(layer.trainable_weights) == 1
    assert np.std(layer.ir.numpy()) == pytest.approx(1e-6, rel=0.05)
    impulse = _impulse(64000, 0, batch=2)
    out = layer(impulse).numpy()
    assert out.shape == (2, 64000)
    assert np.max(np.abs(out - impulse)) <= 1e-5  # the wet path is the tiny IR itself
    np.testing.assert_allclose(out[0, 1:48000], layer.ir.numpy()[1:], atol=1e-9)
    with pytest.raises(ValueError, match="learns its IR"):
        layer(impulse, np.zeros((2, 48000), np.float32))
    with pytest.raises(ValueError, match="needs an ir"):
        Reverb()(impulse)


def test_partitioned_convolution_equals_direct_and_fft(rng):
    audio = rng.uniform(-1, 1, (2, 5000)).astype(np.float32)
    ir = (rng.normal(0, 0.05, (2, 3001)) * np.exp(-np.arange(3001) / 800)).astype(np.float32)
    want = np.stack([np.convolve(audio[b], ir[b])[:5000] for b in range(2)])
    for block in (128, 256):
        got = partitioned_convolve(audio, ir, block).numpy()
        assert got.shape == (2, 5000) and np.max(np.abs(got - want)) < 1e-5
    fft = fft_convolve(audio, ir, "same", delay_compensation=0).numpy()
    assert np.max(np.abs(fft - partitioned_convolve(audio, ir).numpy())) < 1e-4
    shared = partitioned_convolve(audio, ir[0], 256).numpy()  # one IR for the whole batch
    assert np.max(np.abs(shared[1] - np.convolve(audio[1], ir[0])[:5000])) < 1e-5


def test_gradients_finite_through_both_paths(rng):
    audio = tf.constant(rng.uniform(-1, 1, (2, 4000)).astype(np.float32))
    for use_fft in (True, False):
        layer = Reverb(trainable=True, reverb_length=1000, use_fft=use_fft)
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(layer(audio)))
        grad = tape.gradient(loss, layer.ir).numpy()
        assert np.all(np.isfinite(grad)) and grad[0] == 0.0 and np.any(grad[1:] != 0.0)


def test_mask_dry_and_config():
    assert mask_dry(np.ones((2, 4), np.float32)).numpy().tolist() == [[0, 1, 1, 1]] * 2
    layer = Reverb(trainable=True, reverb_length=100, add_dry=False, use_fft=False,
                   block_size=64)
    clone = Reverb.from_config(layer.get_config())
    assert (clone.learn_ir, clone.reverb_length, clone.add_dry, clone.use_fft,
            clone.block_size) == (True, 100, False, False, 64)


def test_trainable_reverb_builtins_path_converts_to_tflite(tmp_path, rng):
    layer = Reverb(trainable=True, reverb_length=1500, use_fft=False, block_size=128)
    layer.ir.assign(rng.normal(0, 0.02, 1500).astype(np.float32))
    audio_in = keras.Input((4000,), name="audio")
    model = keras.Model(audio_in, layer(audio_in))

    @tf.function(input_signature=[tf.TensorSpec((None, 4000), tf.float32, name="audio")])
    def reverb(audio):
        return {"audio": model(audio)}

    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint("reverb", reverb)
    archive.write_out(str(tmp_path / "reverb"), verbose=False)
    content = tflite.convert_tflite(tmp_path / "reverb")
    x = rng.uniform(-1, 1, (2, 4000)).astype(np.float32)
    got = tflite.run_tflite(content, "reverb", audio=x)["audio"]
    want = Reverb(trainable=False, reverb_length=1500)(x, layer.ir.numpy()[None]).numpy()
    assert np.max(np.abs(got - want)) < 1e-4 and np.max(np.abs(got - x)) > 0.05
