"""Filtered noise: reference/ddsp.md section 7 checks 8-10, builtins path, TFLite export."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfaudiogan.export import tflite
from tfaudiogan.synths.harmonic import Harmonic
from tfaudiogan.synths.noise import (
    FilteredNoise,
    fft_convolve,
    frequency_filter,
    frequency_impulse_response,
    replica_uniform_noise,
)
from tfaudiogan.training.strategy import new_mirrored_strategy


def _flat(bins, frames=None):
    shape = (1, bins) if frames is None else (1, frames, bins)
    return np.ones(shape, np.float32)


# --- check 8: frequency-sampling FIR -----------------------------------------------------------
@pytest.mark.parametrize("use_fft", [True, False])
def test_impulse_response_taps_and_flat_peak(use_fft):
    ir = frequency_impulse_response(_flat(65), 257, use_fft=use_fft).numpy()[0]
    assert ir.shape == (128,)  # window 257 is clipped to the 128 taps
    assert np.argmax(ir) == 64 and ir[64] == pytest.approx(1.0, abs=1e-6)
    np.testing.assert_allclose(ir, frequency_impulse_response(_flat(65), 0, use_fft).numpy()[0],
                               atol=1e-7)
    assert frequency_impulse_response(_flat(513), 257, use_fft).shape == (1, 257)
    assert frequency_impulse_response(_flat(513), 256, use_fft).shape == (1, 255)  # DDSP quirk


def test_impulse_response_matches_numpy_design(rng):
    mags = rng.uniform(0, 1, (3, 65)).astype(np.float32)
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(128) / 128)  # periodic Hann
    zero_phase = np.fft.irfft(mags.astype(np.float64)) * np.fft.ifftshift(window)
    want = np.fft.fftshift(zero_phase, axes=-1)
    for use_fft in (True, False):
        got = frequency_impulse_response(mags, 257, use_fft).numpy()
        assert np.max(np.abs(got - want)) < 1e-6


# --- check 9: fft_convolve ----------------------------------------------------------------------
def test_fft_convolve_matches_explicit_block_convolution(rng):
    audio = rng.uniform(-1, 1, (2, 16000)).astype(np.float32)
    ir = frequency_impulse_response(rng.uniform(0, 1, (2, 250, 65)).astype(np.float32)).numpy()
    out = np.zeros((2, 16000 + 64 + 127))
    for b in range(2):
        for f in range(250):
            out[b, f * 64:f * 64 + 191] += np.convolve(audio[b, f * 64:(f + 1) * 64], ir[b, f])
    want = out[:, 62:62 + 16000]  # auto delay compensation (128 - 1) // 2 - 1 = 62
    for use_fft in (True, False):
        got = fft_convolve(audio, ir, use_fft=use_fft).numpy()
        assert got.shape == (2, 16000)
        assert np.max(np.abs(got - want)) < 1e-6


def test_delays_zero_compensation_and_flat_filter_quirk():
    impulse = np.zeros((1, 1000), np.float32)
    impulse[0, 500] = 1.0
    taps = np.zeros((1, 30), np.float32)
    taps[0, 7] = 1.0
    assert np.argmax(fft_convolve(impulse, taps, delay_compensation=0).numpy()[0]) == 507
    flat = frequency_filter(impulse, _flat(65, 1)).numpy()[0]
    assert np.argmax(flat) == 502  # 128-tap flat response: DDSP's 2-sample delay
    exact = frequency_filter(impulse, _flat(513, 1), 257).numpy()[0]
    assert np.argmax(exact) == 500
    valid = fft_convolve(impulse, taps, padding="valid", delay_compensation=0)
    assert valid.shape == (1, 1029)


def test_frames_must_split_audio():
    with pytest.raises(ValueError, match="equal blocks"):
        frequency_filter(np.zeros((1, 1000), np.float32), np.ones((1, 999, 65), np.float32))
    with pytest.raises(ValueError, match="padding"):
        fft_convolve(np.zeros((1, 100), np.float32), np.ones((1, 5), np.float32), "full")


@pytest.mark.parametrize("window_size", [257, 0, 33])
def test_builtins_path_equals_fft_path(rng, window_size):
    audio = rng.uniform(-1, 1, (2, 16000)).astype(np.float32)
    mags = rng.uniform(0, 2, (2, 250, 65)).astype(np.float32)
    a = frequency_filter(audio, mags, window_size, use_fft=True).numpy()
    b = frequency_filter(audio, mags, window_size, use_fft=False).numpy()
    assert np.max(np.abs(a - b)) < 1e-4 and np.max(np.abs(a)) > 0.1


# --- check 10: FilteredNoise --------------------------------------------------------------------
def test_filtered_noise_zero_logits_nearly_silent():
    layer = FilteredNoise(n_samples=64000, seed=3)
    logits = np.zeros((2, 1000, 65), np.float32)
    np.testing.assert_allclose(layer.get_controls(logits)["magnitudes"].numpy(), 1.9793e-5,
                               rtol=1e-4)
    audio = layer(logits).numpy()
    assert audio.shape == (2, 64000)
    assert 5e-6 < np.std(audio) < 2e-5  # DDSP measured ~1.1e-5


def test_filtered_noise_paths_seed_and_explicit_noise(rng):
    logits = rng.normal(size=(2, 100, 65)).astype(np.float32) + 5.0
    noise = rng.uniform(-1, 1, (2, 6400)).astype(np.float32)
    fft_layer = FilteredNoise(n_samples=6400, use_fft=True)
    mm_layer = FilteredNoise(n_samples=6400, use_fft=False)
    a, b = fft_layer(logits, noise=noise).numpy(), mm_layer(logits, noise=noise).numpy()
    assert np.max(np.abs(a - b)) < 1e-4 and np.std(a) > 0.05
    seeded = [FilteredNoise(n_samples=6400, seed=7)(logits).numpy() for _ in range(2)]
    np.testing.assert_array_equal(seeded[0], seeded[1])
    layer = FilteredNoise(n_samples=6400, seed=7)
    assert np.any(layer(logits).numpy() != layer(logits).numpy())  # fresh noise each call
    with pytest.raises(ValueError, match="noise must be"):
        fft_layer(logits, noise=noise[:, :100])


def test_fresh_noise_replicas_take_their_rows_of_the_global_draw():
    """Two replicas of batch 2 see exactly the rows a single device draws for batch 4."""
    strategy = new_mirrored_strategy(["/cpu:0", "/cpu:1"])
    with strategy.scope():
        seed = keras.random.SeedGenerator(3)
    per_replica = strategy.run(tf.function(lambda: replica_uniform_noise(2, 16, seed)))
    rows = np.concatenate([t.numpy() for t in strategy.experimental_local_results(per_replica)])
    single = replica_uniform_noise(4, 16, keras.random.SeedGenerator(3)).numpy()
    np.testing.assert_array_equal(rows, single)
    assert rows.min() >= -1.0 and rows.max() < 1.0 and len(np.unique(rows[:, 0])) == 4


@pytest.mark.parametrize("use_fft", [True, False])
def test_filtered_noise_gradients_finite(rng, use_fft):
    logits = tf.constant(rng.normal(size=(2, 50, 65)).astype(np.float32) * 30)
    noise = rng.uniform(-1, 1, (2, 3200)).astype(np.float32)
    with tf.GradientTape() as tape:
        tape.watch(logits)
        loss = tf.reduce_mean(tf.square(FilteredNoise(3200, use_fft=use_fft)(logits, noise)))
    grad = tape.gradient(loss, logits).numpy()
    assert np.all(np.isfinite(grad)) and np.any(grad != 0.0)


def test_config_round_trip():
    layer = FilteredNoise(n_samples=3200, window_size=33, initial_bias=-3.0, use_fft=False)
    clone = FilteredNoise.from_config(layer.get_config())
    assert (clone.n_samples, clone.window_size, clone.initial_bias, clone.use_fft) == (
        3200, 33, -3.0, False)


# --- TFLite: Harmonic + FilteredNoise (builtins path) -------------------------------------------
FRAMES, HARMONICS, BANDS, SAMPLES = 50, 8, 65, 3200


def test_harmonic_plus_noise_exports_to_builtins_tflite(tmp_path, rng):
    inputs = {"amplitudes": (FRAMES, 1), "harmonic_distribution": (FRAMES, HARMONICS),
              "f0_hz": (FRAMES, 1), "noise_magnitudes": (FRAMES, BANDS), "noise": (SAMPLES,)}
    tensors = {name: keras.Input(shape, name=name) for name, shape in inputs.items()}
    harmonic = Harmonic(n_samples=SAMPLES)(tensors["amplitudes"],
                                           tensors["harmonic_distribution"], tensors["f0_hz"])
    noise = FilteredNoise(n_samples=SAMPLES, use_fft=False)(tensors["noise_magnitudes"],
                                                            noise=tensors["noise"])
    model = keras.Model(list(tensors.values()), keras.layers.Add()([harmonic, noise]))

    specs = [tf.TensorSpec((None, *shape), tf.float32, name=name)
             for name, shape in inputs.items()]

    @tf.function(input_signature=specs)
    def synthesize(amplitudes, harmonic_distribution, f0_hz, noise_magnitudes, noise):
        return {"audio": model([amplitudes, harmonic_distribution, f0_hz, noise_magnitudes,
                                noise])}

    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint("synthesize", synthesize)
    archive.write_out(str(tmp_path / "synth"), verbose=False)
    content = tflite.convert_tflite(tmp_path / "synth")  # TFLITE_BUILTINS only, raises otherwise

    feed = {"amplitudes": rng.normal(size=(2, FRAMES, 1)),
            "harmonic_distribution": rng.normal(size=(2, FRAMES, HARMONICS)),
            "f0_hz": rng.uniform(60, 3000, (2, FRAMES, 1)),
            "noise_magnitudes": rng.normal(size=(2, FRAMES, BANDS)) + 4.0,
            "noise": rng.uniform(-1, 1, (2, SAMPLES))}
    feed = {k: v.astype(np.float32) for k, v in feed.items()}
    feed["f0_hz"][1, :5] = 0.0  # silent frames survive conversion too
    got = tflite.run_tflite(content, "synthesize", **feed)["audio"]
    want = synthesize(**feed)["audio"].numpy()
    assert got.shape == (2, SAMPLES) and np.max(np.abs(want)) > 0.1
    assert np.max(np.abs(got - want)) < 1e-4
