"""Tests for CycleGANSpectrogram: bins, value range, normalisation constants, round trips."""

import numpy as np
import pytest
import tensorflow as tf

from tfaudiogan.audio.representations import CycleGANSpectrogram, spectrogram_from_config
from tfaudiogan.audio.spectral import DFTSTFT


def _music_like(rng, sample_rate=25000, seconds=3.0):
    """Harmonic tones with decaying envelopes plus a little noise; peak well below 1."""
    t = np.arange(int(sample_rate * seconds)) / sample_rate
    x = np.zeros_like(t)
    for f0, start in ((220.0, 0.0), (329.6, 0.9), (440.0, 1.7)):
        envelope = np.where(t >= start, np.exp(-2.0 * (t - start)), 0.0)
        for h in range(1, 9):
            x += 0.12 / h * envelope * np.sin(2 * np.pi * f0 * h * t + 0.3 * h)
    x += 1e-3 * rng.standard_normal(t.shape)
    assert np.max(np.abs(x)) < 1.0
    return x.astype(np.float32)


def _snr_db(reference, estimate):
    reference = np.asarray(reference, np.float64)
    noise = reference - np.asarray(estimate, np.float64)
    return 10.0 * np.log10(np.sum(reference**2) / np.sum(noise**2))


@pytest.mark.parametrize("hop", [127, 256])
def test_identity_round_trip_above_100_db(rng, hop):
    x = _music_like(rng)[None]
    rep = CycleGANSpectrogram(DFTSTFT(511, hop, 511))
    spec, phase = rep.encode(x)
    frames = 1 + x.shape[1] // hop
    assert spec.shape == (1, 256, frames, 1) and phase.shape == (1, frames, 256)
    y = rep.decode(spec, phase, x.shape[1]).numpy()
    assert y.shape == x.shape and y.dtype == np.float32
    assert _snr_db(x, y) > 100.0


def test_seed_004_setting_round_trip(rng):
    x = _music_like(rng, sample_rate=20500, seconds=1.0)[None]
    dft = DFTSTFT(512, 205, 512)
    rep = CycleGANSpectrogram(dft)
    spec, phase = rep.encode(x)
    assert spec.shape == (1, 257, 1 + x.shape[1] // 205, 1)
    assert _snr_db(x, rep.decode(spec, phase, x.shape[1])) > 100.0


def test_drop_nyquist_restores_zero_nyquist(rng):
    x = _music_like(rng, sample_rate=20500, seconds=1.0)[None]
    x = x + 0.01 * np.cos(np.pi * np.arange(x.shape[1]))[None].astype(np.float32)  # Nyquist tone
    dft = DFTSTFT(512, 205, 512)
    rep = CycleGANSpectrogram(dft, drop_nyquist=True)
    assert rep.freq_bins == 256
    spec, phase = rep.encode(x)
    assert spec.shape[1] == 256 and phase.shape[-1] == 257
    assert np.all(rep.denormalise(spec).numpy()[..., -1] == 0.0)
    y = rep.decode(spec, phase, x.shape[1])
    real, imag = dft.forward(x)
    mask = np.ones(257, np.float32)
    mask[-1] = 0.0
    expected = dft.inverse(real * mask, imag * mask, x.shape[1])
    assert _snr_db(expected, y) > 100.0
    assert _snr_db(x, y) < 60.0  # the Nyquist tone really is gone


def test_freq_bins_for_both_seeds():
    assert CycleGANSpectrogram(DFTSTFT(511, 127, 511)).freq_bins == 256
    assert CycleGANSpectrogram(DFTSTFT(512, 205, 512), drop_nyquist=True).freq_bins == 256
    assert CycleGANSpectrogram(DFTSTFT(512, 205, 512)).freq_bins == 257


def test_values_in_unit_range(rng):
    rep = CycleGANSpectrogram(DFTSTFT(511, 127, 511))
    n = 8000
    square = np.sign(np.sin(2 * np.pi * 100 * np.arange(n) / 25000)).astype(np.float32)
    batch = np.stack([square, np.zeros(n, np.float32), 0.5 * rng.standard_normal(n)])
    spec, _ = rep.encode(np.clip(batch, -1, 1).astype(np.float32))
    spec = spec.numpy()
    assert spec.min() >= -1.0 and spec.max() <= 1.0
    assert np.all(spec[1] == -1.0)  # silence sits at the floor
    assert spec[0].max() > 0.8  # a full-scale square wave comes close to 0 dB


def test_normalisation_worked_example():
    dft = DFTSTFT(511, 127, 511)
    rep = CycleGANSpectrogram(dft, db_range=120.0)
    ref = 511 / 2  # sum of a periodic Hann window of length N is N / 2
    assert rep.ref == pytest.approx(ref)
    assert rep.floor == pytest.approx(ref * 1e-6)  # -120 dB
    # 0 dB -> 1, -60 dB -> 0, -120 dB -> -1, below the floor and above 0 dB are clipped.
    mags = np.array([[[ref, ref * 1e-3, ref * 1e-6, ref * 1e-9, 2 * ref]]], np.float32)
    mags = np.pad(mags, [[0, 0], [0, 0], [0, 256 - 5]])
    spec = rep.normalise(mags).numpy()
    assert spec.shape == (1, 256, 1, 1)
    np.testing.assert_allclose(spec[0, :5, 0, 0], [1.0, 0.0, -1.0, -1.0, 1.0], atol=1e-5)
    back = rep.denormalise(spec).numpy()[0, 0, :3]
    np.testing.assert_allclose(back, [ref, ref * 1e-3, ref * 1e-6], rtol=1e-4)


def _tone_then_silence(n=25000):
    x = (0.3 * np.sin(2 * np.pi * 330 * np.arange(n) / 25000)).astype(np.float32)
    x[n // 2:] = 0.0
    return x[None]


def test_phase_is_the_input_phase_above_the_floor_and_pulled_to_zero_below():
    rep = CycleGANSpectrogram(DFTSTFT(511, 127, 511))
    x = _tone_then_silence()
    _, phase = rep.encode(x)
    real, imag = rep.dft.forward(x)
    magnitude = np.hypot(real, imag)
    phase, atan2 = phase.numpy(), tf.math.atan2(imag, real).numpy()
    above, zero = magnitude >= rep.floor, magnitude == 0.0
    assert above.sum() > 1000 and zero.sum() > 1000 and (~above & ~zero).sum() > 1000
    np.testing.assert_array_equal(phase[above], atan2[above])
    assert np.all(phase[zero] == 0.0)  # silence: a defined phase, whatever the signed zeros
    tiny = magnitude < 1e-3 * rep.floor  # rounding-level bins: atan2 is noise there
    assert np.abs(atan2[tiny]).max() > 1.0
    assert np.abs(phase[tiny]).max() < 2e-3


def test_decoded_louder_spectrogram_does_not_depend_on_rounding_of_the_input():
    # Two inputs one float32 ulp apart per sample stand in for TF vs TFLite, which sum the
    # matmul STFT in different orders. A "generator" that raises every bin by 60 dB gives
    # rounding-level bins real magnitude; with the plain atan2 phase they decode differently
    # (1.7e-4 of the peak, measured), with the floor rule they agree to rounding (1.6e-6).
    rep = CycleGANSpectrogram(DFTSTFT(511, 127, 511))
    x = _tone_then_silence()
    y = np.where(x != 0, np.nextafter(x, np.float32(np.inf)), x).astype(np.float32)
    assert np.abs(y - x).max() < 1e-7 and np.any(y != x)

    def louder(spec):
        return tf.clip_by_value(spec + 1.0, -1.0, 1.0)

    spec_x, phase_x = rep.encode(x)
    spec_y, phase_y = rep.encode(y)
    out_x = rep.decode(louder(spec_x), phase_x, x.shape[1]).numpy()
    out_y = rep.decode(louder(spec_y), phase_y, x.shape[1]).numpy()
    assert np.abs(out_x - out_y).max() < 1e-5 * np.abs(out_x).max()


def test_short_audio_rejected():
    rep = CycleGANSpectrogram(DFTSTFT(511, 127, 511))
    with pytest.raises(ValueError, match="shorter than one STFT frame"):
        rep.encode(np.zeros((1, 300), np.float32))


def test_invalid_options():
    with pytest.raises(ValueError, match="even fft_length"):
        CycleGANSpectrogram(DFTSTFT(511, 127, 511), drop_nyquist=True)
    with pytest.raises(ValueError, match="log_scale"):
        CycleGANSpectrogram(DFTSTFT(512, 128, 512), log_scale="mel")
    with pytest.raises(ValueError, match="db_range"):
        CycleGANSpectrogram(DFTSTFT(512, 128, 512), db_range=0.0)


def test_encode_decode_in_graph_with_dynamic_length(rng):
    # hop <= N/4 keeps even the last samples of a one-frame-long clip under a well-conditioned
    # part of a window (with hop ~ N/2 the final samples can sit where the window is ~1e-4).
    rep = CycleGANSpectrogram(DFTSTFT(511, 127, 511))

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.float32)])
    def round_trip(w):
        spec, phase = rep.encode(w)
        return rep.decode(spec, phase, tf.shape(w)[1])

    for n in (511, 4000):
        x = (0.2 * rng.standard_normal((2, n))).astype(np.float32)
        assert _snr_db(x, round_trip(x)) > 100.0


def test_spectrogram_from_config_builds_the_configured_front_end(rng):
    from dataclasses import replace

    from tfaudiogan.configs.cyclegan import CycleGANConfig

    section = CycleGANConfig().spectrogram  # seed 002: 511 / 127 / 511, 120 dB
    rep = spectrogram_from_config(section)
    assert isinstance(rep, CycleGANSpectrogram)
    assert (rep.dft.frame_length, rep.dft.frame_step, rep.dft.fft_length) == (511, 127, 511)
    assert (rep.db_range, rep.drop_nyquist, rep.freq_bins) == (120.0, False, 256)
    x = _music_like(rng, seconds=0.5)[None]
    direct = CycleGANSpectrogram(DFTSTFT(511, 127, 511), db_range=120.0)
    np.testing.assert_array_equal(rep.encode(x)[0], direct.encode(x)[0])
    seed_004 = replace(section, frame_length=512, frame_step=205, fft_length=512, db_range=80.0,
                       drop_nyquist=True)
    rep = spectrogram_from_config(seed_004)
    assert (rep.freq_bins, rep.db_range, rep.dft.frame_step) == (256, 80.0, 205)
