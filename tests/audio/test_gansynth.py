"""GANSynth representation: the reference's worked example (reference/gansynth.md 1.5, 1.6, 8)."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfaudiogan.audio.gansynth import (
    GANSynthSpectrogram,
    denormalise,
    instantaneous_frequency,
    linear_to_mel_matrix,
    mel_to_linear_matrix,
    normalise,
    unwrap,
)
from tfaudiogan.export.tflite import convert_tflite, run_tflite

N = 64000
SR = 16000
LOG_EPS = math.log(1e-6)  # -13.815511


def _tone(freq, amplitude=0.5):
    n = np.arange(N)
    return (amplitude * np.sin(2.0 * np.pi * freq * n / SR))[None].astype(np.float32)


def _rms(x):
    return float(np.sqrt(np.mean(np.square(x))))


def _wrapped_gap(a, b):
    """|a - b| for IF values, treating +1 and -1 (a phase advance of +-pi) as equal."""
    d = np.abs(a - b)
    return np.minimum(d, 2.0 - d)


@pytest.fixture(scope="module", params=[False, True], ids=["fft", "exportable"])
def reps(request):
    """Both transforms (FFT, and the TFLite-safe matmul DFT) must pass every pinned value."""
    return {(h, m): GANSynthSpectrogram(high_res=h, mel=m, exportable=request.param)
            for h in (True, False) for m in (True, False)}


@pytest.fixture(scope="module")
def sine():
    return _tone(440.0)


@pytest.fixture(scope="module")
def sine_h(reps, sine):
    return reps[True, False].encode(sine).numpy()


@pytest.mark.parametrize("high_res, nfft, hop, pad_l, shape", [
    (True, 2048, 512, 3072, (128, 1024)),
    (False, 1024, 256, 2304, (256, 512)),
])
def test_framing_matches_reference_table(reps, high_res, nfft, hop, pad_l, shape):
    rep = reps[high_res, False]
    assert (rep.nfft, rep.hop, rep.pad_l, rep.spec_shape) == (nfft, hop, pad_l, shape)
    assert rep.output_shape == (*shape, 2)
    assert reps[high_res, True].output_shape == (*shape, 2)  # mel_downscale 1


@pytest.mark.parametrize("high_res", [True, False])
@pytest.mark.parametrize("mel", [True, False])
def test_encode_decode_shapes(reps, rng, high_res, mel):
    rep = reps[high_res, mel]
    waves = rng.normal(0.0, 0.1, (2, N)).astype(np.float32)
    specs = rep.encode(waves)
    assert specs.shape == (2, *rep.output_shape) and specs.dtype == tf.float32
    assert np.all(np.abs(specs[..., 1]) <= 1.0 + 1e-5)  # IF / mel IF in [-1, 1]
    assert rep.decode(specs).shape == (2, N)


def test_sine_440_high_res_worked_example(reps, sine, sine_h):
    magnitude, _ = reps[True, False].magnitude_phase(sine)
    assert np.argmax(sine_h[0, 64, :, 0]) == 55  # FFT bin 56 = 437.5 Hz
    np.testing.assert_allclose(magnitude[0, 64, 55], 239.535, atol=1e-3)
    np.testing.assert_allclose(sine_h[0, 64, 55, 0], 5.478698, atol=1e-5)
    np.testing.assert_allclose(
        sine_h[0, :9, 55, 1],
        [0, 0, 0, -0.453443, 0.050055, 0.08354, 0.139848, 0.16, 0.16], atol=2e-6)
    # Constant 0.16 = wrap(2 pi 440 512 / 16000) / pi from frame 7 on, on the peak and neighbours.
    np.testing.assert_allclose(sine_h[0, 7:120, 54:57, 1], 0.16, atol=3e-6)
    # Frames 0-2 are pure padding.
    np.testing.assert_array_equal(sine_h[0, :3, :, 0], np.float32(LOG_EPS))
    np.testing.assert_array_equal(sine_h[0, :3, :, 1], 0.0)
    assert sine_h[0, 3, 55, 0] > LOG_EPS + 1.0


def test_sine_440_normal_worked_example(reps, sine):
    specs = reps[False, False].encode(sine).numpy()
    assert np.argmax(specs[0, 64, :, 0]) == 27
    np.testing.assert_array_equal(specs[0, :6, :, 0], np.float32(LOG_EPS))
    np.testing.assert_allclose(
        specs[0, 6:12, 27, 1], [-0.469334, 0.020422, 0.039885, 0.069027, 0.08, 0.08], atol=2e-6)
    np.testing.assert_allclose(specs[0, 10:250, 27, 1], 0.08, atol=3e-6)


@pytest.mark.parametrize("k, expected", [(56, 0.0), (57, 0.5), (59, -0.5)])
def test_bin_centred_tones(reps, k, expected):
    specs = reps[True, False].encode(_tone(k * SR / 2048)).numpy()
    np.testing.assert_allclose(specs[0, 10:14, k - 2 : k + 1, 1], expected, atol=1e-5)


def test_if_matches_numpy_unwrap_diff_on_the_same_phases(reps, rng):
    rep = reps[True, False]
    waves = rng.normal(0.0, 0.1, (1, N)).astype(np.float32)
    _, phase = rep.magnitude_phase(waves)
    phase = phase.numpy().astype(np.float64)
    expected = np.concatenate([phase[:, :1], np.diff(np.unwrap(phase, axis=1), axis=1)], 1)
    got = rep.encode(waves).numpy()[..., 1]
    assert _wrapped_gap(got, expected / np.pi).max() < 1e-5
    assert np.abs(got).max() <= 1.0 + 1e-5  # unwrap's cumsum rounds, as in the reference


def test_unwrap_and_if_primitives_match_numpy(rng):
    phase = rng.uniform(-np.pi, np.pi, (2, 50, 7)).astype(np.float32)
    phase[0, 5, 0], phase[0, 6, 0] = -1.5, 1.5 + np.float32(np.pi)  # an exact +pi step
    np.testing.assert_allclose(unwrap(phase), np.unwrap(phase, axis=1), atol=2e-5)
    np.testing.assert_allclose(unwrap(phase, axis=0), np.unwrap(phase, axis=0), atol=2e-5)
    expected = np.concatenate([phase[:, :1], np.diff(np.unwrap(phase, axis=1), axis=1)], 1)
    for use_unwrap in (True, False):
        got = instantaneous_frequency(phase, use_unwrap=use_unwrap).numpy()
        assert _wrapped_gap(got, expected / np.pi).max() < 1e-5


@pytest.mark.parametrize("high_res, interior_tol, tail_ratios", [
    (True, 1e-6, {(62000, 63000): 0.977, (63000, 63500): 0.516, (63500, 64000): 0.056}),
    (False, 3e-6, {(63000, 63500): 0.978, (63500, 64000): 0.368}),
])
def test_if_round_trip_matches_reference(reps, sine, high_res, interior_tol, tail_ratios):
    rep = reps[high_res, False]
    recon = rep.decode(rep.encode(sine)).numpy()
    error = recon - sine
    assert _rms(error[0, 4096:60000]) < interior_tol  # reference 6.2e-7 (H)
    ratio = _rms(recon[0, :62000]) / _rms(sine[0, :62000])
    np.testing.assert_allclose(ratio, 1.0, atol=1e-4)
    for (start, stop), expected in tail_ratios.items():  # front-only padding: tail not complete
        ratio = _rms(recon[0, start:stop]) / _rms(sine[0, start:stop])
        np.testing.assert_allclose(ratio, expected, atol=2e-3)
    if high_res:
        np.testing.assert_allclose(_rms(error[0, :512]), 1.2e-3, atol=1e-4)  # head error


def test_mel_worked_example_and_round_trip(reps, sine):
    rep = reps[True, True]
    specs = rep.encode(sine).numpy()
    assert np.argmax(specs[0, 64, :, 0]) == 73
    np.testing.assert_allclose(specs[0, 64, 73, 0], 10.815283, atol=1e-5)
    np.testing.assert_allclose(specs[0, 20:120, 73, 1], 0.138804, atol=2e-6)
    np.testing.assert_allclose(0.16 * rep.l2m[:, 73].sum(), 0.138804, atol=1e-6)
    np.testing.assert_array_equal(specs[0, :, 0, 0], np.float32(LOG_EPS))  # mel column 0 empty
    recon = rep.decode(specs).numpy()
    np.testing.assert_allclose(_rms((recon - sine)[0, 4096:60000]), 2.48e-2, atol=2e-4)


def test_mel_matrix_checksums():
    m = linear_to_mel_matrix(1024, 1024, SR)
    assert m.shape == (1024, 1024) and m.dtype == np.float64
    assert np.count_nonzero(m) == 2042
    np.testing.assert_allclose([m.sum(), np.square(m).sum(), m.max()],
                               [1021.098181, 682.122648, 0.9996285], atol=1e-6)
    assert not m[0].any() and not m[1023].any() and not m[:, 0].any()
    rows = m.sum(axis=1)
    np.testing.assert_allclose(rows[1:1021], 1.0, atol=1e-9)
    np.testing.assert_allclose(rows[1021:], [0.73212, 0.36606, 0.0], atol=1e-5)
    cols = m.sum(axis=0)
    np.testing.assert_allclose([cols.max(), cols.mean()], [2.761612, 0.997166], atol=1e-6)
    np.testing.assert_allclose(
        cols[1:8], [0.971973, 0.670765, 0.670711, 0.686552, 0.984105, 0.670595, 0.670544],
        atol=1e-6)
    assert np.argmax(m[100]) == 133
    np.testing.assert_allclose(m[100].max(), 0.791849, atol=1e-6)


def test_mel_to_linear_matrix_facts():
    m2l = mel_to_linear_matrix(linear_to_mel_matrix(1024, 1024, SR))
    assert m2l.shape == (1024, 1024)
    np.testing.assert_allclose(m2l.sum(), 1021.011385, atol=1e-6)
    assert np.sum(~m2l.any(axis=1)) == 1
    assert [int(j) for j in np.flatnonzero(~m2l.any(axis=0))] == [0, 1023]
    flat = (np.ones(1024) @ linear_to_mel_matrix(1024, 1024, SR)) @ m2l
    np.testing.assert_allclose(flat[1:1023], 1.0, atol=1e-12)


@pytest.mark.parametrize("exportable", [False, True])
def test_phase_data_type_round_trip(sine, exportable):
    rep = GANSynthSpectrogram(high_res=False, mel=False, ifreq=False, exportable=exportable)
    specs = rep.encode(sine)
    _, phase = rep.magnitude_phase(sine)
    np.testing.assert_allclose(specs[..., 1], phase / np.pi, atol=1e-7)
    assert _rms((rep.decode(specs) - sine)[0, 4096:60000]) < 3e-6


def test_normaliser_constants_and_round_trip(rng):
    data = np.array([[LOG_EPS, 0.5], [10.3766, -1.0]], np.float32)
    np.testing.assert_allclose(normalise(data), [[-0.8, 0.4], [0.8, -0.8]], atol=1e-5)
    np.testing.assert_allclose(normalise([[20.0, 1.5], [-20.0, -1.5]]), [[1, 1], [-1, -1]])
    np.testing.assert_allclose(normalise([[20.0, 1.5]], clip=False), [[1.436462, 1.2]],
                               atol=1e-5)
    specs = np.stack([rng.uniform(-16.0, 13.0, (2, 8, 4)), rng.uniform(-1, 1, (2, 8, 4))], -1)
    np.testing.assert_allclose(denormalise(normalise(specs)), specs, atol=1e-4)
    y = rng.uniform(-1, 1, (3, 2)).astype(np.float32)
    np.testing.assert_allclose(normalise(denormalise(y)), y, atol=1e-6)


def test_bad_inputs_raise_clear_errors(reps):
    rep = reps[False, True]
    with pytest.raises(ValueError, match=r"waves must be \[batch, 64000\]"):
        rep.encode(np.zeros((1, 16000), np.float32))
    with pytest.raises(ValueError, match=r"specs must be \[batch, 256, 512, 2\]"):
        rep.decode(np.zeros((1, 128, 1024, 2), np.float32))
    with pytest.raises(ValueError, match="power of two"):
        GANSynthSpectrogram(spec_shape=(128, 1000))
    with pytest.raises(ValueError, match="fewer than audio_length"):
        GANSynthSpectrogram(spec_shape=(16, 1024), mel=False)


@pytest.mark.parametrize("exportable", [False, True])
def test_short_audio_like_upstream_test(rng, exportable):
    """Upstream specgrams_helper_test: 0.5 s at 128x1024, RMS <= 1e-5 on [2048:-2048]."""
    rep = GANSynthSpectrogram(mel=False, audio_length=8000, exportable=exportable)
    assert rep.pad_l == 67072 - 8000
    waves = _tone(440.0)[:, :8000].repeat(2, axis=0)
    recon = rep.decode(rep.encode(waves)).numpy()
    assert recon.shape == (2, 8000)
    assert _rms((recon - waves)[:, 2048:-2048]) <= 1e-5


def test_decode_and_encode_convert_to_tflite_builtins(tmp_path, rng):
    rep = GANSynthSpectrogram(high_res=True, mel=True, exportable=True)
    archive = keras.export.ExportArchive()
    archive.add_endpoint("decode", lambda specs: {"waves": rep.decode(specs)},
                         input_signature=[tf.TensorSpec([None, 128, 1024, 2], tf.float32)])
    archive.add_endpoint("encode", lambda waves: {"specs": rep.encode(waves)},
                         input_signature=[tf.TensorSpec([None, N], tf.float32)])
    archive.write_out(str(tmp_path / "model"), verbose=False)
    model = convert_tflite(tmp_path / "model")  # TFLITE_BUILTINS only, raises otherwise

    noise = rng.normal(0.0, 0.1, (1, N)).astype(np.float32)
    specs = rep.encode(noise).numpy()
    lite_specs = run_tflite(model, "encode", waves=noise)["specs"]
    loud = specs[..., 0] > -5.0  # skips silent padding frames, whose phase is rounding noise
    assert loud.sum() > 100000
    np.testing.assert_allclose(lite_specs[..., 0][loud], specs[..., 0][loud], atol=1e-3)
    # Mel IF mixes unwrapped linear phases: where a linear phase step is within rounding of
    # +-pi, the unwrap decision can flip, moving one frame of the mel IF (a few of 131072 values).
    gap = _wrapped_gap(lite_specs[..., 1], specs[..., 1])
    assert np.mean(gap > 1e-3) < 1e-4 and np.median(gap) < 1e-5
    waves = rep.decode(specs).numpy()
    lite_waves = run_tflite(model, "decode", specs=specs)["waves"]
    assert lite_waves.shape == (1, N)
    np.testing.assert_allclose(lite_waves, waves, atol=2e-4)
