"""Tests for the procedural two-timbre data (tfaudiogan.data.synthetic)."""

import numpy as np
import pytest
import soundfile as sf

from tfaudiogan.data import synthetic


def _mean_spectral_flatness(x, n_fft=1024, hop=256):
    """Mean over active frames (within 30 dB of the loudest) of geometric/arithmetic power."""
    idx = np.arange(0, len(x) - n_fft, hop)[:, None] + np.arange(n_fft)
    power = np.abs(np.fft.rfft(x[idx] * np.hanning(n_fft), axis=-1)) ** 2 + 1e-12
    energy = power.sum(-1)
    active = energy > 1e-3 * energy.max()
    flat = np.exp(np.mean(np.log(power), -1)) / np.mean(power, -1)
    return float(np.mean(flat[active]))


def _crest_factor(x):
    return float(np.max(np.abs(x)) / np.sqrt(np.mean(x.astype(np.float64) ** 2)))


@pytest.fixture(scope="module")
def clips_20():
    return synthetic.two_timbre_clips(20, 16000, 1.0, seed=0)


@pytest.mark.parametrize("fn", [synthetic.piano_like_phrase, synthetic.guitar_like_phrase])
def test_phrase_is_deterministic_and_seed_dependent(fn):
    x1 = fn(np.random.default_rng(7), 16000, 0.5)
    x2 = fn(np.random.default_rng(7), 16000, 0.5)
    x3 = fn(np.random.default_rng(8), 16000, 0.5)
    np.testing.assert_array_equal(x1, x2)
    assert not np.allclose(x1, x3)


@pytest.mark.parametrize("fn", [synthetic.piano_like_phrase, synthetic.guitar_like_phrase])
@pytest.mark.parametrize(
    "sample_rate,seconds", [(16000, 0.5), (25000, 0.3), (8000, 1.37), (8000, 0.02)]
)
def test_phrase_length_dtype_and_peak(fn, sample_rate, seconds):
    x = fn(np.random.default_rng(3), sample_rate, seconds)
    assert x.dtype == np.float32
    assert x.shape == (round(sample_rate * seconds),)
    assert np.all(np.isfinite(x))
    assert np.max(np.abs(x)) == pytest.approx(synthetic.PEAK, abs=1e-6)
    # not a near-silent phrase with one spike: a musical signal has substantial RMS
    assert np.sqrt(np.mean(x**2)) > 0.05


def test_two_timbre_clips_shapes_and_determinism(clips_20):
    a, b = clips_20
    assert a.shape == b.shape == (20, 16000)
    assert a.dtype == b.dtype == np.float32
    a2, b2 = synthetic.two_timbre_clips(20, 16000, 1.0, seed=0)
    np.testing.assert_array_equal(a, a2)
    np.testing.assert_array_equal(b, b2)
    a3, _ = synthetic.two_timbre_clips(3, 16000, 1.0, seed=1)
    assert not np.allclose(a[:3], a3)


def test_clip_i_does_not_depend_on_count(clips_20):
    a, b = clips_20
    a5, b5 = synthetic.two_timbre_clips(5, 16000, 1.0, seed=0)
    np.testing.assert_array_equal(a[:5], a5)
    np.testing.assert_array_equal(b[:5], b5)


def test_clips_within_a_domain_differ(clips_20):
    a, b = clips_20
    for x in (a, b):
        corr = np.corrcoef(x[:6])
        assert np.max(np.abs(corr - np.eye(6))) < 0.9


def test_domains_separate_by_mean_spectral_flatness(clips_20):
    """Piano hammer transients are noisy; the distorted guitar is purely harmonic.

    Measured (seed 0, 16 kHz, 1 s, 20 clips each): piano 4.4e-4 .. 1.9e-3, guitar
    6.4e-7 .. 1.3e-5, i.e. the smallest piano value is 33x the largest guitar value.
    """
    a, b = clips_20
    flat_a = np.array([_mean_spectral_flatness(x) for x in a])
    flat_b = np.array([_mean_spectral_flatness(x) for x in b])
    assert flat_a.min() > 10 * flat_b.max()


def test_domains_separate_by_crest_factor(clips_20):
    """Soft clipping compresses the guitar; piano notes decay (measured 3.7..5.6 vs 1.5..2.2)."""
    a, b = clips_20
    crest_a = np.array([_crest_factor(x) for x in a])
    crest_b = np.array([_crest_factor(x) for x in b])
    assert crest_a.min() > 1.3 * crest_b.max()


def test_write_two_timbre_folders(tmp_path):
    dir_a, dir_b = synthetic.write_two_timbre_folders(tmp_path / "synth", 3, 8000, 0.25, seed=2)
    assert dir_a == tmp_path / "synth" / "piano"
    assert dir_b == tmp_path / "synth" / "guitar"
    a, b = synthetic.two_timbre_clips(3, 8000, 0.25, seed=2)
    for d, clips in ((dir_a, a), (dir_b, b)):
        files = sorted(d.glob("*.wav"))
        assert len(files) == 3
        for f, clip in zip(files, clips):
            info = sf.info(f)
            assert (info.samplerate, info.channels, info.subtype) == (8000, 1, "PCM_16")
            data, _ = sf.read(f, dtype="float32")
            np.testing.assert_allclose(data, clip, atol=1.0 / 32768 + 1e-6)


def test_negative_count_rejected():
    with pytest.raises(ValueError, match="n_per_domain"):
        synthetic.two_timbre_clips(-1, 8000, 0.1)
