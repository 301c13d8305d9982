"""SpecGAN front-end: reference/wavegan.md 5.1-5.3 and check 9 of section 11."""

import numpy as np
import pytest
import tensorflow as tf

from tfaudiogan.audio import specgan
from tfaudiogan.audio.specgan import (
    MOMENTS_COMMAND,
    SpecGANSpectrogram,
    compute_moments,
    load_moments,
    log_magnitude,
    save_moments,
    spectrogram_from_config,
    unnormalised_inverse_stft,
)


def _speechy(rng, n=3, samples=16384):
    t = np.arange(samples) / 16000.0
    tone = 0.3 * np.sin(2 * np.pi * 220.0 * t) * np.hanning(samples)
    return (tone[None] + 0.05 * rng.standard_normal((n, samples))).astype(np.float32)


@pytest.fixture(scope="module")
def front_end():
    rng = np.random.default_rng(7)
    x = _speechy(rng, 4)
    return SpecGANSpectrogram(compute_moments(x, batch_size=2)), x


def _reference_log_magnitude(x):
    return tf.math.log(tf.abs(tf.signal.stft(x, 256, 128, pad_end=True)) + 1e-6)


def test_log_magnitude_shape_and_matches_tf_signal(rng):
    x = _speechy(rng, 2)
    lmag = log_magnitude(x)
    assert lmag.shape == (2, 128, 129)  # pad_end=True: 128 frames (127 without)
    np.testing.assert_allclose(lmag, _reference_log_magnitude(x), atol=1e-3)
    # Dynamic length inside tf.function: still ceil(n / 128) frames.
    fn = tf.function(log_magnitude, input_signature=[tf.TensorSpec([None, None], tf.float32)])
    assert fn(x[:, :1000]).shape == (2, 8, 129)
    np.testing.assert_allclose(fn(x[:, :1000]), _reference_log_magnitude(x[:, :1000]), atol=1e-3)


def test_encode_matches_reference_formula(rng, front_end):
    spec, _ = front_end
    x = _speechy(rng, 2)
    out = spec.encode(x)
    assert out.shape == (2, 128, 128, 1)
    assert float(tf.reduce_min(out)) >= -1.0 and float(tf.reduce_max(out)) <= 1.0
    lmag = _reference_log_magnitude(x)[:, :, :-1]
    expected = np.clip((lmag - spec.mean[:-1]) / spec.std[:-1] / 3.0, -1, 1)[..., None]
    np.testing.assert_allclose(out, expected, atol=1e-3)
    # [batch, samples, 1] (a WaveGAN-style output) is accepted too.
    np.testing.assert_allclose(spec.encode(x[..., None]), out, atol=1e-6)


def test_encode_stops_gradient(front_end):
    spec, x = front_end
    xt = tf.constant(x[:1])
    with tf.GradientTape() as tape:
        tape.watch(xt)
        y = tf.reduce_sum(spec.encode(xt))
    assert tape.gradient(y, xt) is None


def test_unnormalised_inverse_matches_tf_inverse_stft(rng):
    re = rng.standard_normal((2, 128, 129)).astype(np.float32)
    im = rng.standard_normal((2, 128, 129)).astype(np.float32)
    ours = unnormalised_inverse_stft(re, im)
    ref = tf.signal.inverse_stft(tf.complex(re, im), 256, 128)
    assert ours.shape == ref.shape == (2, 16512)  # reference/wavegan.md 5.3: 16512 before crop
    np.testing.assert_allclose(ours, ref, atol=1e-4)


def test_inverse_is_not_window_normalised(rng):
    # istft(stft(x)) returns x times the overlap-added squared Hann window (hop N/2), which
    # swings between 0.5 and 1 with a 128-sample period: no COLA / least-squares division.
    x = _speechy(rng, 1)
    real, imag = specgan._analysis(256, 128).forward(x)
    y = unnormalised_inverse_stft(real, imag).numpy()
    hann = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(256) / 256)
    wss = np.zeros(16384 + 128)
    for start in range(0, 16384 - 128, 128):
        wss[start : start + 256] += hann**2
    np.testing.assert_allclose(y[0, 256:16000], wss[256:16000] * x[0, 256:16000], atol=1e-4)
    assert wss[256:16000].min() == pytest.approx(0.5) and wss[256:16000].max() == pytest.approx(1.0)


def _reference_f_to_t(spec, mean, std, ngl):
    """train_specgan.py f_to_t / invert_spectra_griffin_lim with tf.signal complex ops."""
    x = tf.pad(spec[..., 0], [[0, 0], [0, 0], [0, 1]]) * 3.0
    mag = tf.exp(x * std + mean)
    target = tf.complex(mag, tf.zeros_like(mag))
    best = target
    for _ in range(ngl):
        wave = tf.signal.inverse_stft(best, 256, 128)
        est = tf.signal.stft(wave, 256, 128)
        best = target * (est / tf.cast(tf.maximum(1e-8, tf.abs(est)), tf.complex64))
    return tf.signal.inverse_stft(best, 256, 128)[:, :16384]


@pytest.mark.parametrize("ngl", [0, 3, 16])
def test_decode_matches_reference_griffin_lim(front_end, ngl):
    spec, x = front_end
    image = spec.encode(x[:2])
    out = spec.decode(image, n_iter=ngl)
    assert out.shape == (2, 16384)
    ref = _reference_f_to_t(image, spec.mean, spec.std, ngl)
    scale = float(tf.reduce_max(tf.abs(ref)))
    np.testing.assert_allclose(out / scale, ref / scale, atol=2e-3)


def _scaled_convergence(estimate, target):
    """||a * est - tgt|| / ||tgt|| with the least-squares gain a (the inverse is unnormalised)."""
    est, tgt = tf.exp(log_magnitude(estimate)).numpy(), tf.exp(log_magnitude(target)).numpy()
    gain = (est * tgt).sum() / (est * est).sum()
    return float(np.linalg.norm(gain * est - tgt) / np.linalg.norm(tgt))


def test_decode_encode_round_trip_length_and_content():
    t = np.arange(16384) / 16000.0
    sweep = sum(np.sin(2 * np.pi * 150 * k * t * (1 + 0.2 * t)) / k for k in range(1, 20))
    x = (0.2 * sweep * np.hanning(16384)).astype(np.float32)[None]
    spec = SpecGANSpectrogram(compute_moments(x, batch_size=1))
    image = spec.encode(x)
    y0, y16 = spec.decode(image, n_iter=0), spec.decode(image)
    assert y16.shape == (1, 16384) and np.isfinite(y16.numpy()).all()
    # 16 Griffin-Lim iterations recover the magnitudes far better than zero phase.
    before, after = _scaled_convergence(y0, x), _scaled_convergence(y16, x)
    assert after < 0.45 and after < 0.6 * before, (before, after)


def test_magnitude_restores_nyquist_as_exp_mean(front_end):
    spec, _ = front_end
    zeros = tf.zeros([1, 4, 128, 1])
    mag = spec.magnitude(zeros).numpy()
    assert mag.shape == (1, 4, 129)
    np.testing.assert_allclose(mag[0, 0], np.exp(spec.mean), rtol=1e-5)  # eps not subtracted


def test_decode_converts_to_tflite_builtins(front_end):
    from ai_edge_litert.interpreter import Interpreter

    spec, x = front_end
    fn = tf.function(lambda s: spec.decode(s, n_iter=2),
                     input_signature=[tf.TensorSpec([None, 128, 128, 1], tf.float32)])
    converter = tf.lite.TFLiteConverter.from_concrete_functions([fn.get_concrete_function()], fn)
    converter.target_spec.supported_ops = {tf.lite.OpsSet.TFLITE_BUILTINS}
    interpreter = Interpreter(model_content=converter.convert())
    image = spec.encode(x[:1]).numpy()
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    interpreter.resize_tensor_input(inp["index"], image.shape)
    interpreter.allocate_tensors()
    interpreter.set_tensor(inp["index"], image)
    interpreter.invoke()
    np.testing.assert_allclose(interpreter.get_tensor(out["index"]), fn(image), atol=1e-4)


def test_compute_moments_equals_numpy_over_all_frames(rng):
    x = _speechy(rng, 5, 4096)
    lmag = _reference_log_magnitude(x).numpy().reshape(-1, 129)
    for batch_size, source in ((2, x), (3, list(x)), (64, [x[:2], x[2:]])):
        mean, std = compute_moments(source, batch_size=batch_size)
        assert mean.shape == std.shape == (129,)
        np.testing.assert_allclose(mean, lmag.mean(0), atol=1e-3)
        np.testing.assert_allclose(std, lmag.std(0), atol=1e-3)


def test_compute_moments_rejects_nothing():
    with pytest.raises(ValueError, match="no clips"):
        compute_moments([], batch_size=4)


def test_moments_file_round_trip(tmp_path, front_end):
    spec, _ = front_end
    path = save_moments(tmp_path / "run" / "moments.npz", spec.mean, spec.std)
    mean, std = load_moments(path)
    np.testing.assert_array_equal(mean, spec.mean)
    np.testing.assert_array_equal(std, spec.std)
    assert SpecGANSpectrogram.from_file(path).freq_bins == 128


def test_spectrogram_from_config_reads_the_section_and_the_moments(tmp_path, front_end):
    from dataclasses import replace

    from tfaudiogan.configs.wavegan import WaveGANConfig

    spec, x = front_end
    path = save_moments(tmp_path / "moments.npz", spec.mean, spec.std)
    section = WaveGANConfig().spectrogram  # 256 / 128, clip 3 std
    rep = spectrogram_from_config(section, 16384, path)
    assert (rep.frame_length, rep.frame_step, rep.clip_nstd, rep.slice_len) == (256, 128, 3.0,
                                                                                16384)
    np.testing.assert_array_equal(rep.encode(x), spec.encode(x))
    other = spectrogram_from_config(replace(section, clip_nstd=2.0), 8192, path)
    assert (other.clip_nstd, other.slice_len) == (2.0, 8192)
    with pytest.raises(FileNotFoundError, match="--moments_only"):
        spectrogram_from_config(section, 16384, tmp_path / "missing.npz")


def test_missing_moments_file_names_the_command(tmp_path):
    with pytest.raises(FileNotFoundError) as err:
        load_moments(tmp_path / "moments.npz")
    assert MOMENTS_COMMAND in str(err.value)
    assert "python -m tfaudiogan.experiments.specgan_sc09 --moments_only" in str(err.value)


def test_bad_moments_rejected():
    with pytest.raises(ValueError, match="129 bins"):
        SpecGANSpectrogram((np.zeros(128), np.ones(128)))
    with pytest.raises(ValueError, match="zero standard deviation"):
        SpecGANSpectrogram((np.zeros(129), np.zeros(129)))
    with pytest.raises(ValueError, match="n_iter"):
        SpecGANSpectrogram((np.zeros(129), np.ones(129))).decode(tf.zeros([1, 128, 128, 1]), -1)
