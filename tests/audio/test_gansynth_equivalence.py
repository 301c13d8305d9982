"""The fast GANSynth front end against the literal reference formulas (reference/gansynth.md 1.2,
1.3), written out here as this library computed them before the speed work (matmul DFT, unwrap
through a running sum of corrections, dense mel matrices, `exp(2 log)` and `cumsum` round trips).

What may differ is float32 rounding only:

* the same STFT in (``exportable=True`` uses the same matmul DFT): the features differ by the
  rounding of the literal formulas' running sums, which grow to T * pi (~400 rad, float32
  spacing 3e-5 rad, i.e. 1e-5 in IF units);
* the FFT path: the STFT itself is rounded differently (FFT vs 2048-term dot products, both
  ~1e-6 of the frame's scale), so a bin's log magnitude and phase move by that absolute error
  divided by the bin's magnitude; the tolerances below are stated that way.
"""

import math

import numpy as np
import pytest
import tensorflow as tf

from tfaudiogan.audio.gansynth import GANSynthSpectrogram, wrap
from tfaudiogan.audio.spectral import DFTSTFT

N = 64000


def _gap(a, b):
    """|a - b| for IF values (units of pi), with +1 and -1 (a step of +-pi) equal."""
    d = np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)) % 2.0
    return np.minimum(d, 2.0 - d)


def _literal_if(phase):
    """concat(phase[0], diff(unwrap(phase))) / pi, numpy-style unwrap (floormod) along axis 1."""
    dd = phase[:, 1:] - phase[:, :-1]
    ddmod = tf.math.floormod(dd + math.pi, 2.0 * math.pi) - math.pi
    ddmod = tf.where((ddmod == -math.pi) & (dd > 0), math.pi * tf.ones_like(ddmod), ddmod)
    correction = tf.where(tf.abs(dd) < math.pi, tf.zeros_like(dd), ddmod - dd)
    unwrapped = phase + tf.concat([tf.zeros_like(phase[:, :1]),
                                   tf.math.cumsum(correction, axis=1)], axis=1)
    delta = unwrapped[:, 1:] - unwrapped[:, :-1]
    return tf.concat([phase[:, :1], delta], axis=1) / math.pi


class Literal:
    """The reference formulas as this library computed them before (commit 2432a05)."""

    def __init__(self, rep: GANSynthSpectrogram):
        self.rep = rep
        self.dft = DFTSTFT(rep.nfft, rep.hop, rep.nfft, center=False)
        if rep.mel:
            self.l2m = tf.constant(rep.l2m, tf.float32)
            self.m2l = tf.constant(rep.m2l, tf.float32)

    def magnitude_phase(self, waves):
        padded = tf.pad(tf.constant(waves), [[0, 0], [self.rep.pad_l, 0]])
        real, imag = self.dft.forward(padded)
        real, imag = real[:, :, 1:], imag[:, :, 1:]
        magnitude = tf.sqrt(tf.square(real) + tf.square(imag))
        return magnitude, tf.where(magnitude > 0, tf.math.atan2(imag, real), tf.zeros_like(real))

    def encode(self, waves):
        magnitude, phase = self.magnitude_phase(waves)
        logmag, p = tf.math.log(magnitude + 1e-6), _literal_if(phase)
        if not self.rep.mel:
            return tf.stack([logmag, p], axis=-1).numpy()
        mel_power = tf.tensordot(tf.exp(2.0 * logmag), self.l2m, axes=1)
        mel_phase = tf.tensordot(tf.math.cumsum(p * math.pi, axis=1), self.l2m, axes=1)
        return tf.stack([tf.math.log(mel_power + 1e-6), _literal_if(mel_phase)], -1).numpy()

    def decode(self, specs):
        specs = tf.constant(specs)
        logmag, p = specs[..., 0], specs[..., 1]
        if self.rep.mel:
            power = tf.tensordot(tf.exp(logmag), self.m2l, axes=1)
            phase = tf.tensordot(tf.math.cumsum(p * math.pi, axis=1), self.m2l, axes=1)
            logmag, p = 0.5 * tf.math.log(power + 1e-6), _literal_if(phase)
        magnitude, phase = tf.exp(logmag), tf.math.cumsum(p * math.pi, axis=1)
        spectrum = tf.concat([magnitude * tf.cos(phase), magnitude * tf.sin(phase)], axis=-1)
        frames = tf.tensordot(spectrum, self.rep._inverse_basis, axes=1)
        signal = tf.signal.overlap_and_add(frames, self.rep.hop)
        return signal[:, self.rep.pad_l:self.rep.pad_l + self.rep.audio_length].numpy()


@pytest.fixture(scope="module")
def noise():
    """Two notes: white noise, and noise with a 20 dB louder 3 s tone burst (wide range)."""
    rng = np.random.default_rng(7)
    waves = rng.normal(0.0, 0.1, (2, N))
    n = np.arange(N)
    waves[1] = 0.01 * waves[1] + 0.8 * np.sin(2 * np.pi * 523.25 * n / 16000) * (n < 48000)
    return waves.astype(np.float32)


def _float64_features(rep: GANSynthSpectrogram, waves) -> np.ndarray:
    """The reference formulas evaluated in float64 (numpy FFT, np.unwrap): the exact values."""
    x = np.pad(np.asarray(waves, np.float64), [[0, 0], [rep.pad_l, 0]])
    frames = np.arange(rep.spec_shape[0])[:, None] * rep.hop + np.arange(rep.nfft)[None]
    spec = np.fft.rfft(x[:, frames] * rep._dft.window.astype(np.float64), axis=-1)[..., 1:]
    magnitude = np.abs(spec)
    phase = np.where(magnitude > 0, np.angle(spec), 0.0)

    def ifreq(p):
        return np.concatenate([p[:, :1], np.diff(np.unwrap(p, axis=1), axis=1)], 1) / np.pi

    if not rep.mel:
        return np.stack([np.log(magnitude + 1e-6), ifreq(phase)], -1)
    mel_power = np.square(magnitude + 1e-6) @ rep.l2m
    mel_if = ifreq(np.cumsum(ifreq(phase) * np.pi, axis=1) @ rep.l2m)
    return np.stack([np.log(mel_power + 1e-6), mel_if], -1)


PARAMS = [(h, m) for h in (True, False) for m in (False, True)]


@pytest.mark.parametrize("high_res, mel", PARAMS)
def test_exportable_path_equals_the_literal_formulas(noise, high_res, mel):
    """Same matmul STFT in: only the formulas' own rounding differs."""
    rep = GANSynthSpectrogram(high_res, mel, exportable=True)
    literal = Literal(rep)
    want = literal.encode(noise)
    got = rep.encode(noise).numpy()
    np.testing.assert_allclose(got[..., 0], want[..., 0], atol=2e-6, rtol=0)
    assert _gap(got[..., 1], want[..., 1]).max() < 3e-5  # 1e-5 .. 2e-5 measured
    np.testing.assert_allclose(rep.decode(want).numpy(), literal.decode(want), atol=1e-6)


@pytest.mark.parametrize("high_res, mel", PARAMS)
def test_fft_path_equals_the_literal_formulas_to_float32_rounding(noise, high_res, mel):
    rep = GANSynthSpectrogram(high_res, mel)
    literal = Literal(GANSynthSpectrogram(high_res, mel, exportable=True))
    want, got = literal.encode(noise), rep.encode(noise).numpy()
    # The largest |STFT| any bin can reach: the float32 error of either STFT is ~1e-7 of it.
    scale = np.abs(noise).max(axis=1)[:, None, None] * rep._dft.window.sum()
    if not mel:
        magnitude = np.exp(want[..., 0])
        # A bin's log magnitude and phase move by (absolute STFT error) / (its magnitude); the
        # IF also by the rounding of the unwrapped phase, whose 2 pi corrections add up to
        # 2 pi T (1600 rad for T = 256: float32 spacing 1.2e-4 rad = 4e-5 in IF units).
        assert (np.abs(got[..., 0] - want[..., 0]) * magnitude / scale).max() < 1e-6  # 2e-7
        gap = np.maximum(_gap(got[..., 1], want[..., 1]) - 5e-5, 0.0)
        assert (gap * np.pi * magnitude / scale).max() < 3e-6  # 1.3e-6 measured
    else:
        # The mel IF averages the IF of neighbouring linear bins whatever their magnitude, so
        # bin j passes its own error, up to 1e-5 * scale / |X_j| (the bound above; at most 2),
        # on with weight L2M[j, k]; plus 3e-5 for the literal formulas' running sums. A step
        # within rounding of +-pi can flip one linear IF between +1 and -1 anywhere: the
        # literal formulas differ from the exact float64 values in the same handful of places.
        magnitude = literal.magnitude_phase(noise)[0].numpy().astype(np.float64)
        bound = 3e-5 + np.minimum(2.0, 1e-5 * scale / np.maximum(magnitude, 1e-30)) @ rep.l2m
        assert np.mean(_gap(got[..., 1], want[..., 1]) > bound) < 3e-5  # 1 to 4 of 262144
        exact = _float64_features(rep, noise)
        assert np.mean(_gap(want[..., 1], exact[..., 1]) > bound) < 3e-5  # the same for the old
        # log mel power: (absolute error of an STFT magnitude) / sqrt(mel power), as above.
        magnitude = np.sqrt(np.exp(want[..., 0]))
        assert (np.abs(got[..., 0] - want[..., 0]) * magnitude / scale).max() < 1e-6
    decoded = literal.decode(want)
    np.testing.assert_allclose(rep.decode(want).numpy(), decoded, atol=5e-6)  # 1e-6 measured


def test_wrap_matches_numpy_unwrap_differences(rng):
    steps = rng.uniform(-3 * np.pi, 3 * np.pi, 10000).astype(np.float32)
    steps[:4] = [np.pi, -np.pi, 0.5, -2.0]
    got = wrap(steps).numpy()
    want = np.diff(np.unwrap(np.concatenate([[0.0], np.cumsum(steps, dtype=np.float64)])))
    assert np.all(np.abs(got) <= np.float32(np.pi))
    np.testing.assert_array_equal(got[:4], steps[:4])  # |step| <= pi: kept exactly
    assert _gap(got / np.pi, want / np.pi).max() < 1e-6


@pytest.mark.parametrize("high_res", [True, False])
def test_banded_mel_products_equal_dense_products(rng, high_res):
    rep = GANSynthSpectrogram(high_res, mel=True)
    x = rng.uniform(-3, 3, (2, 5, rep.spec_shape[1])).astype(np.float32)
    for banded, dense in ((rep._l2m, rep.l2m), (rep._m2l, rep.m2l)):
        np.testing.assert_allclose(banded(tf.constant(x)).numpy(), x @ dense, atol=2e-5)
    cost = sum((r1 - r0) * int(w.shape[1]) for r0, r1, w in rep._l2m.blocks)
    assert cost < 0.15 * rep.l2m.size  # the point of the banding (6 % H, 13 % normal)


@pytest.mark.parametrize("steps", [1, 16, 127, 128, 256])
def test_blocked_running_sum_equals_cumsum(rng, steps):
    rep = GANSynthSpectrogram(high_res=False, mel=False)  # 256 frames
    x = rng.uniform(-np.pi, np.pi, (2, steps, 3)).astype(np.float32)
    got = rep._cumsum_time(tf.constant(x)).numpy()
    np.testing.assert_allclose(got, np.cumsum(x.astype(np.float64), axis=1), atol=2e-4)
    k = rng.integers(-1, 2, (2, steps, 3)).astype(np.float32)  # integers: exact in any order
    np.testing.assert_array_equal(rep._cumsum_time(tf.constant(k)).numpy(), np.cumsum(k, 1))
