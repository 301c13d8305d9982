"""tfaudiogan.synths.core: reference/ddsp.md section 7 checks 1-4 and oscillator semantics."""

import numpy as np
import pytest
import tensorflow as tf

from tfaudiogan.synths import core


# --- check 1: conversions (midi_to_hz / hz_to_midi: tests/audio/test_pitch.py) ---------------
def test_unit_to_hz_worked_value_and_inverse():
    assert core.unit_to_hz(0.5, 20.0, 8000.0).numpy() == pytest.approx(400.0, abs=1e-3)
    unit = np.linspace(0.0, 1.0, 11).astype(np.float32)
    back = core.hz_to_unit(core.unit_to_hz(unit, 20.0, 8000.0), 20.0, 8000.0).numpy()
    np.testing.assert_allclose(back, unit, atol=1e-5)


# --- check 2: exp_sigmoid --------------------------------------------------------------------
def test_exp_sigmoid_worked_values():
    x = [-10.0, -5.0, 0.0, 2.0, 5.0, 10.0, 50.0]
    want = [1.002e-7, 1.9793124e-5, 0.4053992, 1.4931451, 1.9693128, 1.9997909, 2.0]
    np.testing.assert_allclose(core.exp_sigmoid(x).numpy(), want, rtol=1e-6)


def test_exp_sigmoid_range_and_finite_gradient():
    x = tf.constant([-200.0, -50.0, 0.0, 50.0, 200.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = core.exp_sigmoid(x)
        total = tf.reduce_sum(y)
    g = tape.gradient(total, x).numpy()
    assert np.all(y.numpy() >= 1e-7) and np.all(y.numpy() <= 2.0 + 1e-6)
    assert np.all(np.isfinite(g)) and g[2] > 0


# --- check 3: dB -----------------------------------------------------------------------------
def test_db_worked_values():
    assert core.power_to_db(0.0).numpy() == pytest.approx(-80.0)
    assert core.amplitude_to_db(0.1).numpy() == pytest.approx(-20.0, abs=1e-4)
    assert core.amplitude_to_db(2.0).numpy() == pytest.approx(6.0206, abs=1e-4)
    assert core.power_to_db(1.0, ref_db=10.0).numpy() == pytest.approx(-10.0)
    assert core.power_to_db(1e-12, range_db=120.0).numpy() == pytest.approx(-120.0)
    assert core.db_to_power(core.power_to_db(0.25)).numpy() == pytest.approx(0.25, rel=1e-5)


# --- check 4: resampling ---------------------------------------------------------------------
def test_resample_worked_examples():
    x = np.array([0.0, 1.0, 2.0, 3.0], np.float32)
    np.testing.assert_allclose(core.resample(x, 8).numpy(), [0, .5, 1, 1.5, 2, 2.5, 3, 3])
    np.testing.assert_allclose(core.resample(x, 8, "nearest").numpy(), [0, 0, 1, 1, 2, 2, 3, 3])
    np.testing.assert_allclose(core.resample(x, 8, "cubic").numpy(),
                               [0, .40625, 1, 1.5, 2, 2.59375, 3, 3.09375], atol=1e-6)
    np.testing.assert_allclose(core.resample(x, 7, add_endpoint=False).numpy(),
                               [0, .5, 1, 1.5, 2, 2.5, 3], atol=1e-6)
    window = core.resample(np.array([0.0, 1.0, 0.0, 0.0], np.float32), 16, "window").numpy()
    want = [0, .14645, .5, .85355, 1, .85355, .5, .14645] + [0] * 8
    np.testing.assert_allclose(window, want, atol=1e-5)


@pytest.mark.parametrize("method", ["linear", "window", "nearest"])
def test_constant_frames_stay_constant(method):
    x = np.full((2, 250, 3), 0.7, np.float32)
    y = core.resample(x, 64000, method).numpy()
    assert y.shape == (2, 64000, 3)
    np.testing.assert_allclose(y, 0.7, atol=1e-6)


def _overlap_add_reference(x, n):
    """NumPy re-derivation of DDSP's window upsampling (explicit periodic-Hann overlap-add)."""
    frames = np.concatenate([x, x[:, -1:]], axis=1)
    hop = n // x.shape[1]
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(2 * hop) / (2 * hop))
    out = np.zeros((x.shape[0], (frames.shape[1] + 1) * hop, x.shape[2]))
    for i in range(frames.shape[1]):
        out[:, i * hop:i * hop + 2 * hop] += frames[:, i:i + 1] * window[None, :, None]
    return out[:, hop:hop + n]


def test_window_and_linear_match_numpy_rederivation(rng):
    x = rng.uniform(-1, 1, (2, 250, 4)).astype(np.float32)
    y = core.resample(x, 64000, "window").numpy()
    assert np.max(np.abs(y - _overlap_add_reference(x.astype(np.float64), 64000))) < 1e-6
    pos = np.arange(64000) * 250 / 64000
    i0 = np.floor(pos).astype(int)
    frac = (pos - i0)[None, :, None]
    lin = x[:, i0] * (1 - frac) + x[:, np.minimum(i0 + 1, 249)] * frac
    assert np.max(np.abs(core.resample(x, 64000).numpy() - lin)) < 1e-6


def test_window_resample_needs_divisible_length():
    with pytest.raises(ValueError, match="divisible"):
        core.resample(np.zeros((1, 3, 1), np.float32), 10, "window")
    with pytest.raises(ValueError, match="method"):
        core.resample(np.zeros((1, 3, 1), np.float32), 9, "spline")


# --- oscillators -----------------------------------------------------------------------------
def test_remove_above_nyquist_worked_example():
    got = core.remove_above_nyquist([7999.0, 8000.0, 8001.0], [1.0, 1.0, 1.0], 16000).numpy()
    assert got.tolist() == [1.0, 0.0, 0.0]


def test_angular_frequency_rounds_like_float32_division(rng):
    f = np.concatenate([rng.uniform(0, 8000, 20000), [440.0, 261.62555, 55.0]]).astype(np.float32)
    for sr in (16000, 44100, 22050):
        want = (f * np.float32(2 * np.pi)) / np.float32(sr)
        assert np.array_equal(core.angular_frequency(f, sr).numpy(), want)


def test_oscillator_bank_matches_float32_cumsum_and_silences_bad_frequencies(rng):
    n = 2000
    f = np.stack([np.full(n, 440.0), np.full(n, 9000.0), np.full(n, -300.0), np.zeros(n)],
                 -1)[None].astype(np.float32)
    a = rng.uniform(0.1, 1.0, (1, n, 4)).astype(np.float32)
    y = core.oscillator_bank(f, a, 16000, sum_sinusoids=False, phase_accumulation="ddsp").numpy()
    omega = np.cumsum(np.full(n, np.float32(2 * np.pi) * np.float32(440) / np.float32(16000),
                              np.float32), dtype=np.float32)
    assert np.max(np.abs(y[0, :, 0] - a[0, :, 0] * np.sin(omega.astype(np.float64)))) < 1e-6
    assert np.all(y[0, :, 1:] == 0.0)  # above Nyquist, negative and zero frequencies
    # The default accumulation follows the float64 phase instead (DDSP's is 4e-3 off by 2000).
    exact = a[0, :, 0] * np.sin(2 * np.pi * 440 / 16000 * np.arange(1, n + 1))
    accurate = core.oscillator_bank(f, a, 16000, sum_sinusoids=False).numpy()
    assert np.max(np.abs(accurate[0, :, 0] - exact)) < 1e-6
    assert np.max(np.abs(y[0, :, 0] - exact)) > 1e-3
    assert np.all(accurate[0, :, 1:] == 0.0)


def test_wrap_phase_accuracy(rng):
    phase = np.sort(rng.uniform(0, 6e4, 5000)).astype(np.float32)
    wrapped = core.wrap_phase(phase).numpy().astype(np.float64)
    exact = np.mod(phase.astype(np.float64), 2 * np.pi)
    diff = np.abs(np.angle(np.exp(1j * (wrapped - exact))))
    assert np.max(diff) < 2e-6 and wrapped.min() >= 0.0 and wrapped.max() < 2 * np.pi + 1e-5


def test_harmonic_sines_equal_oscillator_bank_on_harmonics(rng):
    n, k = 1000, 6
    f0 = rng.uniform(300, 2000, (2, n)).astype(np.float32)
    s = core.harmonic_sines(f0, k, 16000).numpy()
    assert s.shape == (2, n, k)
    # Harmonic 1 is bit-compatible with DDSP's oscillator (same float32 phase).
    ones = np.ones((2, n, 1), np.float32)
    ref1 = core.oscillator_bank(f0[..., None], ones, 16000, sum_sinusoids=False).numpy()
    assert np.max(np.abs(s[..., :1] - ref1)) < 1e-6
    # Harmonics k > 1: same sines up to float32 phase accumulation; masked above Nyquist.
    fk = f0[..., None] * np.arange(1, k + 1)
    ref = core.oscillator_bank(fk, np.ones_like(fk), 16000, sum_sinusoids=False).numpy()
    assert np.max(np.abs(s[:, :200] - ref[:, :200])) < 2e-3
    assert np.all(s[fk >= 8000] == 0.0) and np.any(s[fk < 8000] != 0.0)


def test_audible_harmonics_count():
    f0 = np.array([[0.0, -3.0, 1000.0, 3000.0]], np.float32)
    assert int(core.audible_harmonics(f0, 100, 16000)) == 9  # floor(8000 / 1000) + 1
    assert int(core.audible_harmonics(np.zeros((1, 4), np.float32), 100, 16000)) == 1
    assert int(core.audible_harmonics(np.full((1, 4), 20.0, np.float32), 100, 16000)) == 100


def test_audible_per_sample_worked_values():
    f0 = np.array([[3000.0, 2000.0, 7999.0, 8000.0, 0.0, -5.0, 20.0, np.nan]], np.float32)
    # 3000 Hz: harmonics 1, 2 (9 kHz is above 8 kHz); 2000 Hz: 4 * 2000 = 8000 is not below.
    assert core.audible_per_sample(f0, 16000).numpy().tolist() == [[2, 3, 1, 0, 0, 0, 399, 0]]
    assert core.audible_per_sample(f0, 16000, 100.0).numpy()[0, 6] == 100


def test_wrap_multiple_accuracy(rng):
    phase = rng.uniform(0, 2 * np.pi, 20000).astype(np.float32)
    for factor in (15, 100):
        got = core.wrap_multiple(phase, factor).numpy().astype(np.float64)
        exact = np.mod(phase.astype(np.float64) * factor, 2 * np.pi)
        err = np.abs(np.angle(np.exp(1j * (got - exact))))
        margin = np.pi * factor / 4096  # the 12-bit head's remainder times factor
        assert np.max(err) < 6e-7 and -margin < got.min() and got.max() < 2 * np.pi + margin
        plain = np.mod((phase * np.float32(factor)).astype(np.float64), 2 * np.pi)
        assert np.max(np.abs(np.angle(np.exp(1j * (plain - exact))))) > 3e-6  # what it avoids
    x = tf.constant(phase[:5])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = core.wrap_multiple(x, 15)
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), 15.0)



def _cycle_error(got, want):
    """Distance between phases in cycles, modulo 1."""
    return np.abs((np.asarray(got, np.float64) - want + 0.5) % 1.0 - 0.5)


def test_wrapped_cumsum_is_exact_modulo_one(rng):
    values = rng.uniform(0, 40, (2, 30000)).astype(np.float32)  # sums reach 6e5 cycles
    want = np.cumsum(values.astype(np.float64), axis=1)
    for exclusive, shift in ((False, want), (True, want - values)):
        got = core.wrapped_cumsum(values, exclusive=exclusive).numpy()
        assert np.max(_cycle_error(got, shift % 1.0)) < 2e-7
        assert got.min() >= 0.0 and got.max() <= 1.0
    parts = np.stack([values, rng.uniform(-1e-4, 1e-4, values.shape).astype(np.float32)], -1)
    got = core.wrapped_cumsum(parts).numpy()
    assert np.max(_cycle_error(got, np.cumsum(parts.astype(np.float64).sum(-1), 1))) < 2e-7
    plain = np.cumsum(values, axis=1, dtype=np.float32)
    assert np.max(_cycle_error(plain, want)) > 1e-3  # what a float32 cumsum does


def test_cumulative_cycles_stays_on_the_float64_phase(rng):
    """200003 samples (12.5 s at 16 kHz, not a multiple of the chunk): within 3e-7 cycles of a
    float64 cumsum, where DDSP's float32 cumsum is off by whole percents of a cycle."""
    n = 200003
    f = rng.uniform(20, 7999, (2, n)).astype(np.float32)
    f[1] = np.float32(440.0)  # a held note: the same rounding at every sample
    hi, lo = core.cycles_per_sample(f, 16000)
    np.testing.assert_allclose(hi.numpy() + lo.numpy().astype(np.float64), f / np.float64(16000),
                               rtol=1e-13)
    want = np.cumsum(f.astype(np.float64) / 16000.0, axis=1)
    got = core.cumulative_cycles((hi, lo)).numpy()
    assert got.shape == (2, n) and np.max(_cycle_error(got, want)) < 3e-7
    assert np.max(_cycle_error(core.cumulative_cycles(hi).numpy(), want)) > 1e-5  # lo matters
    ddsp = core.fundamental_phase(f, 16000, "ddsp").numpy() / (2 * np.pi)
    assert np.max(_cycle_error(ddsp, want)) > 1e-2
    radians = core.fundamental_phase(f, 16000).numpy().astype(np.float64)
    assert np.max(_cycle_error(radians / (2 * np.pi), want)) < 3e-7
    with pytest.raises(ValueError, match="phase_accumulation"):
        core.fundamental_phase(f, 16000, "float64")


def test_cumulative_cycles_gradient_is_a_cumsum_gradient(rng):
    x = tf.constant(rng.uniform(0, 0.3, (2, 130)).astype(np.float32))
    w = rng.normal(size=(2, 130)).astype(np.float32)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(w * core.cumulative_cycles(x, chunk=16))
    want = np.cumsum(w[:, ::-1], axis=1)[:, ::-1]  # d phase_t / d x_s = 1 for s <= t
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), want, rtol=1e-5, atol=1e-5)
