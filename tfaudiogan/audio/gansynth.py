"""GANSynth spectrogram representation: waves <-> (log magnitude | log mel power, IF | mel IF).

Follows the reference GANSynth code (magenta/models/gansynth/lib/specgrams_helper.py and
spectral_ops.py; facts in reference/gansynth.md section 1):

* FFT size `2 * freq_bins`, hop `(1 - overlap) * nfft` with overlap 0.75, periodic Hann window,
  no centring. All padding goes at the FRONT: `pad_l = hop * (T - 1) + nfft - audio_length`.
  Normal setting: 256x512, nfft 1024, hop 256, pad 2304. High-frequency-resolution ("H"):
  128x1024, nfft 2048, hop 512, pad 3072 (64000 samples at 16 kHz).
* The DC bin is dropped and the Nyquist bin kept (bins `1..nfft/2`).
* Channel 0 is `log(|STFT| + 1e-6)`; channel 1 is the instantaneous frequency (IF): frame 0 is
  the raw phase / pi, later frames the time difference of the unwrapped phase / pi, i.e. the
  phase advance per hop wrapped to [-1, 1] (or, with `ifreq=False`, the phase / pi).
* Mel variant: `log(exp(2 * logmag) @ L2M + 1e-6)` (log mel *power*) and the IF of
  `cumsum(IF * pi) @ L2M`, with the HTK mel matrix of :func:`linear_to_mel_matrix` (triangles in
  Hz with a minimum band width) and its pseudo-inverse :func:`mel_to_linear_matrix`.
* Inverse: mel -> linear as the reference does, `phase = cumsum(IF * pi)`, polar -> rectangular,
  inverse STFT with the window `hann / sum(overlapping hann^2)` (tf.signal.inverse_stft_window_fn,
  which is hann / 1.5 at 75 % overlap everywhere, so the last, not overlap-complete, ~1.5 frames
  are attenuated exactly as in the reference), then the front padding is cropped.

Two interchangeable transforms (same numbers up to float32 rounding; tested):

* the default, for input pipelines and in-process generation: `tf.signal.rfft` / `irfft`
  (an FFT costs ~1/200 of the 2048-point matmul DFT);
* `exportable=True`, for SavedModel / TFLite graphs: matrix products only (the forward
  transform is :class:`~tfaudiogan.audio.spectral.DFTSTFT`, the inverse a matmul inverse DFT
  with the synthesis window folded in, plus `overlap_and_add`), `atan2`, `cumsum` and `round`,
  so both directions convert to TFLite with built-in ops only.

Both paths share the feature formulas. The linear IF is the reference's unwrap-then-difference
(its round trip IF -> `cumsum(IF * pi)` telescopes back onto the same float32 phases: 6e-7 RMS
on the 440 Hz example), with the unwrap's running sum of 2 pi corrections as one matrix
product. Elsewhere the reference's round trips through running sums are replaced by identities
that hold exactly in real arithmetic:

* the mel IF `IF(cumsum(IF * pi) @ L2M)` is `IF @ L2M` in frame 0 and `wrap(pi * IF @ L2M) / pi`
  in later frames (the difference of a cumsum is its summand; the matrix product is linear),
  with the linear IF itself taken as `wrap(diff(phase))` (:func:`wrap`; `diff(unwrap(p))` in
  numpy's semantics);
* `exp(2 log(|X| + eps)) = (|X| + eps)^2`, `exp(0.5 log(P + eps)) = sqrt(P + eps)`;
* decoding, `cumsum(IF(cumsum(melIF * pi) @ M2L) * pi)` equals `cumsum(melIF * pi) @ M2L` up to
  multiples of 2 pi, which cos/sin do not see.

They differ from the literal reference formulas only by float32 rounding (the literal forms
round sums that grow to hundreds of radians; tests/audio/test_gansynth_equivalence.py bounds
the differences and compares both with a float64 evaluation). The mel matrices have at most 6
non-zeros per column (2042 of 1024 x 1024), so they are applied as a few dense blocks along
their band (:class:`_BandedMatrix`), ~6 % of the dense product.
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from tfaudiogan.audio.mel_scale import (
    hz_to_mel,
    linear_to_mel_matrix,
    mel_to_hz,
    mel_to_linear_matrix,
)
from tfaudiogan.audio.phase import (
    _TWO_PI,
    _instantaneous_frequency,
    instantaneous_frequency,
    unwrap,
    wrap,
)
from tfaudiogan.audio.spectral import DFTSTFT

__all__ = [
    "spectrogram_from_config",
    "IF_OFFSET", "IF_SCALE", "LOG_EPS", "MAG_OFFSET", "MAG_SCALE", "GANSynthSpectrogram",
    "denormalise", "hz_to_mel", "instantaneous_frequency", "linear_to_mel_matrix", "mel_to_hz",
    "mel_to_linear_matrix", "normalise", "unwrap", "wrap",
]

# specgrams_helper._safe_log: log(x + 1e-6) (reference/gansynth.md 1.2).
LOG_EPS = 1e-6
# 'specgrams_prespecified_normalizer' constants (lib/data_normalizer.py; gansynth.md 1.4).
MAG_SCALE = 0.0661371661726
MAG_OFFSET = 0.113718730221
IF_SCALE = 0.8
IF_OFFSET = 0.0

_CUMSUM_BLOCK = 16  # frames per block of the matmul running sum (GANSynthSpectrogram)

def _inverse_stft_window(window: np.ndarray, hop: int) -> np.ndarray:
    """`window / sum of overlapping window^2` (tf.signal.inverse_stft_window_fn), float64."""
    length = window.size
    overlaps = -(-length // hop)
    squares = np.pad(window**2, [0, overlaps * hop - length]).reshape(overlaps, hop).sum(axis=0)
    return window / np.tile(squares, overlaps)[:length]


class _BandedMatrix:
    """`x @ matrix` for a banded matrix (non-zero rows of each column contiguous, moving down).

    The columns are cut into blocks of `block` columns; block `b` multiplies only the rows
    `[r0_b, r1_b)` its columns use. For the 1024 x 1024 GANSynth mel matrices and blocks of 64
    this is ~6 % of the dense product; the sums keep the same non-zero terms (only exact zeros
    are skipped), so results differ from `x @ matrix` by float32 rounding only.

    Args:
        matrix: float64 `[rows, cols]`.
        block: columns per block.
    """

    def __init__(self, matrix: np.ndarray, block: int = 64):
        matrix = np.asarray(matrix, np.float64)
        self.rows, self.cols = matrix.shape
        self.blocks = []
        with tf.init_scope():  # eager constants, even if constructed while tracing
            for c0 in range(0, self.cols, block):
                used = np.flatnonzero(matrix[:, c0:c0 + block].any(axis=1))
                r0, r1 = (int(used[0]), int(used[-1]) + 1) if used.size else (0, 1)
                self.blocks.append((r0, r1, tf.constant(matrix[r0:r1, c0:c0 + block],
                                                        tf.float32)))

    def __call__(self, x: tf.Tensor) -> tf.Tensor:
        """`[..., rows]` -> `[..., cols]` (static rank)."""
        shape = tf.shape(x)
        flat = tf.reshape(x, [-1, self.rows])
        out = tf.concat([tf.matmul(flat[:, r0:r1], w) for r0, r1, w in self.blocks], axis=-1)
        return tf.reshape(out, tf.concat([shape[:-1], [self.cols]], axis=0))


class GANSynthSpectrogram:
    """GANSynth's (log magnitude, IF) or (log mel power, mel IF) spectrogram and its inverse.

    Args:
        high_res: True for the "H" setting (128x1024, nfft 2048, hop 512), False for the
            normal one (256x512, nfft 1024, hop 256) (reference/gansynth.md 1.1).
        mel: True for log mel power + mel IF ("IF-Mel"), False for log magnitude + IF.
        ifreq: True for IF, False for the "phase" data type (phase / pi); reference True.
        audio_length: samples per note (reference 64000).
        sample_rate: Hz (reference 16000).
        spec_shape: `(time, freq)` override; default (128, 1024) or (256, 512). `freq` must be
            a power of two, and `hop * (time - 1) + nfft >= audio_length`.
        overlap: frame overlap (reference 0.75).
        mel_downscale: mel bins = freq // mel_downscale (reference 1 for the mel data type).
        exportable: build graphs from TFLite built-in ops only (matmul DFT and inverse DFT, no
            FFT or complex tensors): for SavedModel / TFLite export. The default uses
            `tf.signal.rfft` / `irfft` (the same numbers up to float32 rounding, several times
            faster: training pipelines, in-process generation and metrics).

    Attributes:
        spec_shape: `(time, freq)`; encode returns `[batch, time, freq, 2]`.
        nfft, hop, pad_l: FFT/frame size, hop and front padding in samples.
        l2m, m2l: float64 mel matrices `[freq, mel]` and `[mel, freq]` (None if not `mel`).
    """

    def __init__(self, high_res: bool = True, mel: bool = True, *, ifreq: bool = True,
                 audio_length: int = 64000, sample_rate: int = 16000,
                 spec_shape: tuple[int, int] | None = None, overlap: float = 0.75,
                 mel_downscale: int = 1, exportable: bool = False):
        if spec_shape is None:
            spec_shape = (128, 1024) if high_res else (256, 512)  # gansynth.md 1.1 table
        time_steps, freq_bins = (int(v) for v in spec_shape)
        if time_steps < 1 or freq_bins < 2 or freq_bins & (freq_bins - 1):
            raise ValueError(f"spec_shape {spec_shape}: freq must be a power of two >= 2 and "
                             "time >= 1")
        if not 0.0 <= overlap < 1.0:
            raise ValueError(f"overlap must be in [0, 1), got {overlap}")
        self.high_res, self.mel, self.ifreq = bool(high_res), bool(mel), bool(ifreq)
        self.exportable = bool(exportable)
        self.audio_length, self.sample_rate = int(audio_length), int(sample_rate)
        self.spec_shape = (time_steps, freq_bins)
        self.nfft = 2 * freq_bins
        self.hop = int((1.0 - overlap) * self.nfft)
        self.pad_l = self.hop * (time_steps - 1) + self.nfft - self.audio_length
        if self.pad_l < 0:
            raise ValueError(f"spec_shape {spec_shape} covers {self.pad_l + self.audio_length} "
                             f"samples, fewer than audio_length {self.audio_length}")
        self._dft = DFTSTFT(self.nfft, self.hop, self.nfft, center=False)
        # The float32 periodic Hann window, as tf.signal.hann_window gives the reference.
        window = self._dft.window.astype(np.float64)
        synthesis = _inverse_stft_window(window, self.hop)

        # Inverse real DFT of bins 1..nfft/2 (DC is zero) with the synthesis window folded in.
        n = np.arange(self.nfft)
        k = np.arange(1, freq_bins + 1)
        angle = 2.0 * np.pi * (np.outer(k, n) % self.nfft) / self.nfft  # [freq, nfft]
        weight = np.full(freq_bins, 2.0 / self.nfft)
        weight[-1] = 1.0 / self.nfft  # Nyquist appears once in the full spectrum
        basis = np.concatenate([weight[:, None] * np.cos(angle),
                                -weight[:, None] * np.sin(angle)], axis=0)
        basis *= synthesis[None, :]

        self.l2m = self.m2l = None
        if self.mel:
            if mel_downscale < 1 or freq_bins % mel_downscale:
                raise ValueError(f"mel_downscale {mel_downscale} must divide {freq_bins}")
            self.l2m = linear_to_mel_matrix(freq_bins // mel_downscale, freq_bins, sample_rate)
            self.m2l = mel_to_linear_matrix(self.l2m)
            self._l2m = _BandedMatrix(self.l2m)
            self._m2l = _BandedMatrix(self.m2l)
        with tf.init_scope():  # eager constants, even if constructed while tracing
            self._inverse_basis = tf.constant(basis, tf.float32)  # [2 * freq, nfft]
            self._window = tf.constant(self._dft.window, tf.float32)  # [nfft]
            self._synthesis = tf.constant(synthesis, tf.float32)  # [nfft]
            # Running sums over time as matrix products (see _cumsum_time).
            self._block_sum = tf.constant(np.tril(np.ones((_CUMSUM_BLOCK,) * 2)), tf.float32)
            blocks = -(-time_steps // _CUMSUM_BLOCK)
            self._block_offsets = tf.constant(np.tril(np.ones((blocks, blocks)), -1),
                                              tf.float32)

    @property
    def output_shape(self) -> tuple[int, int, int]:
        """`(time, bins, 2)` of one encoded example (bins = mel bins for the mel variant)."""
        bins = self.l2m.shape[1] if self.mel else self.spec_shape[1]
        return (self.spec_shape[0], bins, 2)

    def _check_waves(self, waves) -> tf.Tensor:
        waves = tf.convert_to_tensor(waves, tf.float32)
        if waves.shape.rank != 2 or waves.shape[1] not in (None, self.audio_length):
            raise ValueError(f"waves must be [batch, {self.audio_length}], got {waves.shape}")
        return waves

    def _check_specs(self, specs) -> tf.Tensor:
        specs = tf.convert_to_tensor(specs, tf.float32)
        expected = self.output_shape
        if specs.shape.rank != 4 or any(
                s is not None and s != e for s, e in zip(specs.shape[1:], expected)):
            raise ValueError(f"specs must be [batch, {', '.join(map(str, expected))}], "
                             f"got {specs.shape}")
        return specs

    # Layout helpers: [batch, time, bins] x 2 <-> [batch, time, bins, 2]. tf.stack on the last
    # axis is slow on CPU (~10x an elementwise op); a complex64 tensor already holds (real,
    # imag) pairs, so the default path bitcasts one (complex tensors are not TFLite builtins).
    def _channels_last(self, first: tf.Tensor, second: tf.Tensor) -> tf.Tensor:
        if self.exportable:
            return tf.stack([first, second], axis=-1)
        return tf.bitcast(tf.complex(first, second), tf.float32)

    def _split_channels(self, specs: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        if self.exportable:
            return specs[:, :, :, 0], specs[:, :, :, 1]
        pairs = tf.bitcast(specs, tf.complex64)
        return tf.math.real(pairs), tf.math.imag(pairs)

    def _cumsum_time(self, x: tf.Tensor, axis: int = 1) -> tf.Tensor:
        """Running sum over axis 1 of `[batch, time, bins]`.

        tf.math.cumsum is slow on CPU (9 ms for 8 x 128 x 1024); the default path sums blocks
        of 16 frames with a 16 x 16 triangular matrix product and adds the running sum of the
        block totals (1.6 ms). Same sums, in another order.
        """
        steps, bins = x.shape[1], x.shape[2]
        block = _CUMSUM_BLOCK
        if (self.exportable or axis != 1 or x.shape.rank != 3 or steps is None or bins is None
                or -(-steps // block) > self._block_offsets.shape[0]):
            return tf.math.cumsum(x, axis=axis)
        blocks = -(-steps // block)
        padded = tf.pad(x, [[0, 0], [0, blocks * block - steps], [0, 0]])
        parts = tf.reshape(padded, [-1, blocks, block, bins])
        inner = tf.matmul(self._block_sum, parts)  # running sums within each block
        offsets = tf.matmul(self._block_offsets[:blocks, :blocks], inner[:, :, -1, :])
        out = tf.reshape(inner + offsets[:, :, tf.newaxis, :], [-1, blocks * block, bins])
        return out[:, :steps]

    def _ifreq(self, phase: tf.Tensor, telescoping: bool = True) -> tf.Tensor:
        """IF of `[batch, time, bins]` phases (:func:`instantaneous_frequency`).

        `telescoping=False` wraps the phase differences directly (`wrap(diff(phase))`, no
        running sum): equal up to rounding and cheaper, for the mel IF, where the mel matrix
        mixes the values anyway and nothing integrates them back exactly.
        """
        # With a zero frame before frame 0 the differences need no concat: the first is
        # phase[0] itself, |phase[0]| <= pi, which no wrapping or unwrapping changes.
        def previous(x):
            return tf.pad(x, [[0, 0], [1, 0], [0, 0]])[:, :-1]

        if self.exportable:  # the reference's layout of the same sums (TFLite-friendly ops)
            if telescoping:
                return _instantaneous_frequency(phase, 1, True, self._cumsum_time)
            return tf.concat([phase[:, :1], wrap(phase[:, 1:] - phase[:, :-1])], 1) / math.pi
        if not telescoping:
            return wrap(phase - previous(phase)) / math.pi
        turns = tf.round((phase - previous(phase)) * (1.0 / _TWO_PI))  # 0 in frame 0
        unwrapped = phase - _TWO_PI * self._cumsum_time(turns)
        return (unwrapped - previous(unwrapped)) / math.pi

    def magnitude_phase(self, waves) -> tuple[tf.Tensor, tf.Tensor]:
        """Linear STFT magnitude and phase (`atan2`, in [-pi, pi]), DC bin dropped.

        Args:
            waves: float `[batch, audio_length]`.

        Returns:
            `(magnitude, phase)`, each float32 `[batch, time, freq]`.
        """
        waves = self._check_waves(waves)
        padded = tf.pad(waves, [[0, 0], [self.pad_l, 0]])  # all padding at the front
        if self.exportable:
            real, imag = self._dft.forward(padded)  # [batch, time, freq + 1]
            real, imag = real[:, :, 1:], imag[:, :, 1:]
        else:
            frames = tf.signal.frame(padded, self.nfft, self.hop) * self._window
            spectrum = tf.signal.rfft(frames)[:, :, 1:]
            real, imag = tf.math.real(spectrum), tf.math.imag(spectrum)
        magnitude = tf.sqrt(tf.square(real) + tf.square(imag))
        # angle(0) = 0 in the reference; guard against a signed zero turning atan2 into +-pi.
        phase = tf.where(magnitude > 0, tf.math.atan2(imag, real), tf.zeros_like(real))
        return magnitude, phase

    def encode(self, waves) -> tf.Tensor:
        """Waves -> spectrogram image.

        Args:
            waves: float `[batch, audio_length]` (16 kHz).

        Returns:
            float32 `[batch, time, bins, 2]`: (log magnitude, IF), or (log mel power, mel IF).
        """
        magnitude, phase = self.magnitude_phase(waves)
        p = self._ifreq(phase, telescoping=not self.mel) if self.ifreq else phase / math.pi
        if not self.mel:
            return self._channels_last(tf.math.log(magnitude + LOG_EPS), p)
        return self._channels_last(*self._to_mel(tf.square(magnitude + LOG_EPS), p))

    def _to_mel(self, power: tf.Tensor, p: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """Linear power and IF (or phase / pi) -> log mel power and mel IF (or phase / pi)."""
        mel_power = self._l2m(power)
        mel_p = self._l2m(p)
        if self.ifreq:  # IF(cumsum(IF * pi) @ L2M): frame 0 as is, later frames wrapped
            mel_p = tf.concat([mel_p[:, :1], wrap(math.pi * mel_p[:, 1:]) / math.pi], axis=1)
        return tf.math.log(mel_power + LOG_EPS), mel_p

    def _from_mel(self, logmel: tf.Tensor, mel_p: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """Log mel power and mel IF (or phase / pi) -> linear magnitude and phase (radians;
        with IF, equal to the reference's up to multiples of 2 pi)."""
        magnitude = tf.sqrt(self._m2l(tf.exp(logmel)) + LOG_EPS)
        mel_phase = math.pi * mel_p
        if self.ifreq:
            mel_phase = self._cumsum_time(mel_phase)
        return magnitude, self._m2l(mel_phase)

    def linear_to_mel(self, specs) -> tf.Tensor:
        """`[batch, time, freq, 2]` (log mag, IF) -> `[batch, time, mel, 2]` (log mel power, mel IF)."""
        logmag, p = self._split_channels(tf.convert_to_tensor(specs, tf.float32))
        return self._channels_last(*self._to_mel(tf.exp(2.0 * logmag), p))

    def mel_to_linear(self, specs) -> tf.Tensor:
        """`[batch, time, mel, 2]` -> `[batch, time, freq, 2]` through the approximate inverse."""
        magnitude, phase = self._from_mel(*self._split_channels(
            tf.convert_to_tensor(specs, tf.float32)))
        p = self._ifreq(phase) if self.ifreq else phase / math.pi
        return self._channels_last(tf.math.log(magnitude), p)

    def decode(self, specs) -> tf.Tensor:
        """Spectrogram image -> waves (inverse of :meth:`encode`; lossy for the mel variant).

        Args:
            specs: float `[batch, time, bins, 2]` as returned by :meth:`encode`.

        Returns:
            float32 `[batch, audio_length]`.
        """
        first, second = self._split_channels(self._check_specs(specs))
        if self.mel:
            magnitude, phase = self._from_mel(first, second)
        else:
            magnitude, phase = tf.exp(first), math.pi * second
            if self.ifreq:
                phase = self._cumsum_time(phase)
        real, imag = magnitude * tf.cos(phase), magnitude * tf.sin(phase)
        if self.exportable:
            spectrum = tf.concat([real, imag], axis=-1)
            frames = tf.tensordot(spectrum, self._inverse_basis, axes=1)  # [batch, time, nfft]
        else:
            spectrum = tf.pad(tf.complex(real, imag), [[0, 0], [0, 0], [1, 0]])  # zero DC
            frames = tf.signal.irfft(spectrum, [self.nfft]) * self._synthesis
        signal = tf.signal.overlap_and_add(frames, self.hop)  # [batch, pad_l + audio_length]
        return signal[:, self.pad_l : self.pad_l + self.audio_length]


def spectrogram_from_config(spectrogram, exportable: bool = False) -> GANSynthSpectrogram:
    """The front-end described by a GANSynth ``SpectrogramConfig`` (duck-typed: ``high_res``,
    ``mel``, ``ifreq`` (default True), ``audio_length``, ``sample_rate``, ``spec_shape``; an
    empty shape = the default); ``exportable`` as in :class:`GANSynthSpectrogram` (True inside
    exported graphs)."""
    s = spectrogram
    return GANSynthSpectrogram(s.high_res, s.mel, ifreq=getattr(s, "ifreq", True),
                               audio_length=s.audio_length, sample_rate=s.sample_rate,
                               spec_shape=tuple(s.spec_shape) or None, exportable=exportable)


def _affine(mag_scale, mag_offset, if_scale, if_offset):
    scale = tf.constant([mag_scale, if_scale], tf.float32)
    offset = tf.constant([mag_offset, if_offset], tf.float32)
    return scale, offset


def normalise(specs, mag_scale: float = MAG_SCALE, mag_offset: float = MAG_OFFSET,
              if_scale: float = IF_SCALE, if_offset: float = IF_OFFSET,
              clip: bool = True) -> tf.Tensor:
    """Data space -> network space: `clip(a * x + b, -1, 1)` per channel (gansynth.md 1.4).

    The defaults map log(1e-6) -> -0.8 and 10.3766 -> +0.8 on channel 0 and scale IF by 0.8.

    Args:
        specs: float `[..., 2]` (magnitude channel, IF channel).
        clip: clip to [-1, 1] (the discriminator's `normalize_op` does).

    Returns:
        float32 `[..., 2]`.
    """
    scale, offset = _affine(mag_scale, mag_offset, if_scale, if_offset)
    out = tf.convert_to_tensor(specs, tf.float32) * scale + offset
    return tf.clip_by_value(out, -1.0, 1.0) if clip else out


def denormalise(specs, mag_scale: float = MAG_SCALE, mag_offset: float = MAG_OFFSET,
                if_scale: float = IF_SCALE, if_offset: float = IF_OFFSET) -> tf.Tensor:
    """Network space -> data space: `(y - b) / a` per channel (the generator's output).

    Args:
        specs: float `[..., 2]`, normally in [-1, 1] (tanh output).

    Returns:
        float32 `[..., 2]`.
    """
    scale, offset = _affine(mag_scale, mag_offset, if_scale, if_offset)
    return (tf.convert_to_tensor(specs, tf.float32) - offset) / scale
