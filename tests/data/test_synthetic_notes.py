"""Synthetic NSynth-like notes: labels, determinism, pitch accuracy, timbre, envelopes."""

import numpy as np
import pytest

from tfaudiogan.data.synthetic_notes import (
    FAMILIES,
    VELOCITIES,
    synthetic_note,
    synthetic_notes,
    to_examples,
)

SR = 16000


def _midi_hz(pitch):
    return 440.0 * 2.0 ** ((pitch - 69) / 12.0)


def _spectrum(x, sample_rate=SR, pad=8):
    """Magnitude spectrum (Hann window, zero-padded ``pad`` times) and its bin frequencies."""
    n = pad * len(x)
    return np.abs(np.fft.rfft(x * np.hanning(len(x)), n)), np.fft.rfftfreq(n, 1.0 / sample_rate)


def _level(spec, freqs, hz, width=3.0):
    """Peak magnitude within ``width`` Hz of ``hz``."""
    return spec[np.abs(freqs - hz) <= width].max()


def test_shapes_dtypes_and_labels():
    notes = synthetic_notes(12, seconds=0.5, pitches=range(40, 50), seed=1)
    assert notes["audio"].shape == (12, 8000) and notes["audio"].dtype == np.float32
    for key in ("pitch", "velocity", "instrument_family", "instrument_source"):
        assert notes[key].shape == (12,) and notes[key].dtype == np.int32
    assert set(notes["pitch"]) <= set(range(40, 50))
    assert set(notes["velocity"]) <= set(VELOCITIES)
    assert set(notes["instrument_family"]) <= set(FAMILIES.values())
    assert len(set(notes["instrument_family"])) >= 3  # several timbres in a dozen notes
    assert not notes["instrument_source"].any()
    assert np.isfinite(notes["audio"]).all()
    peaks = np.abs(notes["audio"]).max(axis=1)
    np.testing.assert_allclose(peaks, 0.2 + 0.7 * notes["velocity"] / 127, rtol=1e-6)
    assert synthetic_notes(0, seconds=0.5)["audio"].shape == (0, 8000)


def test_deterministic_and_prefix_stable():
    a = synthetic_notes(5, seconds=0.25, seed=4)
    b = synthetic_notes(3, seconds=0.25, seed=4)
    for key in a:
        np.testing.assert_array_equal(a[key][:3], b[key])
    c = synthetic_notes(3, seconds=0.25, seed=5)
    assert not np.array_equal(b["audio"], c["audio"])


@pytest.mark.parametrize("family", sorted(FAMILIES))
@pytest.mark.parametrize("pitch", [24, 45, 60, 84])
def test_fundamental_is_the_spectral_peak_within_one_percent(family, pitch):
    x = synthetic_note(pitch, 100, family, SR, 2.0, np.random.default_rng(pitch))
    spec, freqs = _spectrum(x)
    peak_hz = freqs[np.argmax(spec)]
    assert abs(peak_hz / _midi_hz(pitch) - 1) < 0.01, (family, pitch, peak_hz)


def test_timbre_families_differ():
    f0 = _midi_hz(48)
    spectra = {f: _spectrum(synthetic_note(48, 100, f, SR, 1.0)) for f in ("reed", "string")}
    reed, string = ({h: _level(*spectra[f], h * f0) for h in (1, 2, 3)} for f in spectra)
    assert reed[2] < 0.02 * reed[3]  # clarinet-like: even harmonics missing
    assert string[2] > 0.2 * string[3]  # bowed: all harmonics
    mallet = synthetic_note(60, 100, "mallet", SR, 2.0)
    spec, freqs = _spectrum(mallet[:3200], pad=64)  # the strike, where the upper modes live
    mode = _level(spec, freqs, 3.93 * _midi_hz(60))  # a bar's inharmonic second mode
    assert mode > 0.05 * spec.max() and _level(spec, freqs, 4 * _midi_hz(60)) < 0.5 * mode


def test_velocity_brightens_the_spectrum():
    def centroid(velocity):
        spec, freqs = _spectrum(synthetic_note(40, velocity, "string", SR, 1.0), pad=1)
        return (spec * freqs).sum() / spec.sum()

    assert centroid(127) > 1.3 * centroid(25)


def test_envelopes_hold_then_release():
    seconds = 2.0
    release = int(0.75 * seconds * SR)  # NSynth: held 3/4 of the note, then released
    for family in ("reed", "string", "brass"):
        x = synthetic_note(50, 100, family, SR, seconds)
        rms_held = np.sqrt(np.mean(x[release - 1600:release] ** 2))
        rms_end = np.sqrt(np.mean(x[-800:] ** 2))
        assert rms_end < 0.05 * rms_held, family
    keyboard = synthetic_note(50, 100, "keyboard", SR, seconds)
    early = np.sqrt(np.mean(keyboard[800:2400] ** 2))
    late = np.sqrt(np.mean(keyboard[release - 1600:release] ** 2))
    assert late < 0.7 * early  # a struck string decays while held


def test_partials_above_nyquist_are_dropped():
    sample_rate = 8000
    f0 = _midi_hz(84)  # 1046.5 Hz: harmonic 4 (4186 Hz) is above 4 kHz
    x = synthetic_note(84, 127, "string", sample_rate, 1.0)
    spec, freqs = _spectrum(x, sample_rate)
    alias = sample_rate - 4 * f0  # where harmonic 4 would fold to (3814 Hz)
    assert _level(spec, freqs, alias) < 1e-3 * spec.max()
    assert _level(spec, freqs, 3 * f0) > 0.05 * spec.max()


def test_bad_arguments():
    with pytest.raises(ValueError, match="not below Nyquist"):
        synthetic_note(127, 100, "reed", sample_rate=16000)
    with pytest.raises(ValueError, match="unknown family 'piano'"):
        synthetic_note(60, 100, "piano")
    with pytest.raises(ValueError, match="velocity"):
        synthetic_note(60, 0, "reed")
    with pytest.raises(ValueError, match="pitches"):
        synthetic_notes(2, pitches=[])
    with pytest.raises(ValueError, match="unknown families"):
        synthetic_notes(2, families=["reed", "kazoo"])
    with pytest.raises(ValueError, match="noise_rms"):
        synthetic_notes(2, noise_rms=-1e-3)


def test_to_examples_gives_unique_note_fields():
    notes = synthetic_notes(3, seconds=0.1, seed=2)
    examples = to_examples(notes)
    assert [e["instrument"] for e in examples] == [0, 1, 2]
    assert [e["pitch"] for e in examples] == notes["pitch"].tolist()
    np.testing.assert_array_equal(examples[1]["audio"], notes["audio"][1])


def test_noise_floor_is_white_noise_of_the_asked_rms_and_deterministic():
    clean = synthetic_notes(4, seconds=0.5, seed=6)
    assert all(np.array_equal(clean[k], synthetic_notes(4, seconds=0.5, seed=6, noise_rms=0.0)[k])
               for k in clean)  # no floor: the same notes as before the option existed
    noisy = synthetic_notes(4, seconds=0.5, seed=6, noise_rms=1e-3)
    for key in ("pitch", "velocity", "instrument_family"):
        np.testing.assert_array_equal(noisy[key], clean[key])
    floor = noisy["audio"] - clean["audio"]
    np.testing.assert_allclose(np.sqrt(np.mean(floor**2, axis=1)), 1e-3, rtol=0.03)
    spec = np.abs(np.fft.rfft(floor, axis=1)) ** 2  # white: equal power in the low and high half
    low, high = spec[:, 1:spec.shape[1] // 2].mean(), spec[:, spec.shape[1] // 2:].mean()
    assert 0.9 < low / high < 1.1
    np.testing.assert_array_equal(noisy["audio"][:2],
                                  synthetic_notes(2, seconds=0.5, seed=6, noise_rms=1e-3)["audio"])


def test_noise_floor_takes_the_pitch_out_of_the_quiet_bins_if():
    """Without a floor the IF of nearly every bin of a held reed note is steady (the leakage of
    the nearest partial, bands that show the harmonic spacing); with a -60 dB floor only the
    partials' bins are (experiments/gansynth_nsynth.md, "Fifth look")."""
    from tfaudiogan.audio.gansynth import normalise
    from tfaudiogan.configs.gansynth import demo
    from tfaudiogan.recipes.gansynth import representation

    rep = representation(demo())  # the paper's 128 x 1024 mel-IF of 4 s notes

    def steady_fraction(noise_rms):
        notes = synthetic_notes(2, pitches=[60], seed=3, families=["reed"], noise_rms=noise_rms)
        ifreq = normalise(rep.encode(notes["audio"])).numpy()[..., 1]  # [2, 128 frames, 1024]
        held = ifreq[:, 16:80]  # 0.5-2.5 s: the steady part of the note
        return float(np.mean(held.std(axis=1) < 0.05))  # bins whose IF hardly moves

    assert steady_fraction(0.0) > 0.5
    assert steady_fraction(1e-3) < 0.25
