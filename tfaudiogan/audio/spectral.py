"""Short-time Fourier transforms: tf.signal STFT and a TFLite-safe matmul STFT/iSTFT pair.

Framing follows librosa >= 0.10 with `center=True`: the signal is padded with `fft_length // 2`
zeros on the left (pad_mode="constant") and frame `t` is centred on sample `t * frame_step`,
giving `1 + n_samples // frame_step` frames. A window shorter than the FFT sits in the middle of
the FFT frame, as in librosa, so magnitudes agree with `librosa.stft` for any window length.
(For an odd `fft_length` and `n_samples % frame_step == 0` librosa stops one frame earlier; the
extra frame here only sees one trailing zero, so all shared frames are identical.)

The window is a periodic Hann window of `frame_length` samples (librosa's `window="hann"`,
i.e. `0.5 - 0.5 cos(2 pi n / frame_length)` also for odd lengths).

:class:`DFTSTFT` computes the same transform with two real matrix products (window folded into
precomputed cosine/sine bases), and inverts it with the matching real inverse DFT, the synthesis
window, `tf.signal.overlap_and_add` and division by the window sum-square (least-squares iSTFT,
as `librosa.istft`). It uses no FFT, complex or angle ops, so graphs built from it convert to
TFLite with built-in ops only (reference/ecosystem.md section 2.2).

Frame settings of the two CycleGAN seeds:

* "Instrumental Music Translation" (Gupta & Naik): 25 kHz, Hann window of 511 samples, which
  gives `1 + 511 // 2 = 256` bins when the FFT length is passed explicitly as 511.
* "Learning Music Style Transformation" (Zhu): 20.5 kHz, 30 ms frames, 10 ms step, FFT 512.
  30 ms at 20.5 kHz is 615 samples, longer than the 512-point FFT, so the stated settings are
  inconsistent. Our resolution: 512-sample Hann frames (25 ms) with a 205-sample (10 ms) step,
  i.e. `DFTSTFT(frame_length=512, frame_step=205, fft_length=512)`.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

__all__ = [
    "DFTSTFT",
    "check_stft_params",
    "griffin_lim",
    "num_frames",
    "overlap_add_window",
    "stft",
]

# librosa.istft divides by the window sum-square only where it exceeds the smallest normal float.
_WSS_TINY = float(np.finfo(np.float32).tiny)


def check_stft_params(frame_length: int, frame_step: int, fft_length: int) -> None:
    """Validates STFT settings for analysis and overlap-add resynthesis.

    The step may be at most half the window, rounded up (256 for a 511- or 512-sample window).
    A larger step leaves samples at the end of the signal covered by no window (reference
    cyclegan.md section 3.1: hop 293 with a 511 window reconstructs at only 33.6 dB).
    Since `frame_length <= fft_length`, this also enforces `frame_step <= ceil(fft_length / 2)`.

    Args:
        frame_length: window length in samples.
        frame_step: hop between frames in samples.
        fft_length: DFT size; at least `frame_length`.

    Raises:
        ValueError: a value is not a positive integer, `frame_length > fft_length`, or the step
            is larger than half the window.
    """
    for name, value in (
        ("frame_length", frame_length),
        ("frame_step", frame_step),
        ("fft_length", fft_length),
    ):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value <= 0:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if frame_length > fft_length:
        raise ValueError(f"frame_length {frame_length} is longer than fft_length {fft_length}")
    max_step = (frame_length + 1) // 2
    if frame_step > max_step:
        raise ValueError(
            f"frame_step {frame_step} exceeds half the window (at most {max_step} for "
            f"frame_length {frame_length}, fft_length {fft_length}): overlap-add would no "
            "longer cover the signal"
        )


def num_frames(n_samples, frame_step: int):
    """Number of frames of a centred STFT: `1 + n_samples // frame_step`.

    Args:
        n_samples: signal length (int or scalar int tensor).
        frame_step: hop in samples.
    """
    return 1 + n_samples // frame_step


def _periodic_hann(length: int) -> np.ndarray:
    """Periodic Hann window `[length]` in float64 (scipy/librosa `fftbins=True`)."""
    return 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(length) / length)


def _hann_window_fn(length: int, dtype=tf.float32) -> tf.Tensor:
    """`window_fn` for tf.signal.stft giving the true periodic Hann window.

    `tf.signal.hann_window(n, periodic=True)` ignores `periodic` for odd `n` (it returns the
    symmetric window, 0.5 % off for n = 511), so the window is built here instead.
    """
    return tf.constant(_periodic_hann(int(length)), dtype=dtype)


def _check_min_length(x: tf.Tensor, frame_length: int) -> None:
    """Rejects signals shorter than one window when the length is known statically."""
    n = x.shape[-1]
    if n is not None and n < frame_length:
        raise ValueError(
            f"audio of {n} samples is shorter than one STFT frame ({frame_length} samples)"
        )


def _pad_last_axis(x: tf.Tensor, left, right) -> tf.Tensor:
    """Zero-pads the last axis of a tensor of known rank."""
    rank = x.shape.rank
    if rank is None:
        raise ValueError("the waveform rank must be known statically")
    pad = [[0, 0]] * (rank - 1) + [[left, right]]
    return tf.pad(x, pad)


def _center_frames_input(x: tf.Tensor, frame_length: int, frame_step: int, fft_length: int):
    """Pads and offsets `[..., samples]` so plain framing yields librosa's centred frames.

    Returns `[..., (F - 1) * frame_step + frame_length]` with `F = 1 + samples // frame_step`.
    """
    n = tf.shape(x)[-1]
    left = fft_length // 2
    offset = (fft_length - frame_length) // 2  # window centred inside the FFT frame (librosa)
    right = offset + frame_length - left  # enough zeros for frame F - 1 (always > 0)
    padded = _pad_last_axis(x, left, right)
    needed = (num_frames(n, frame_step) - 1) * frame_step + frame_length
    return padded[..., offset : offset + needed]


def stft(
    waveform, frame_length: int, frame_step: int, fft_length: int, center: bool = True
) -> tf.Tensor:
    """Complex STFT through `tf.signal.stft` with an explicit FFT length.

    Not TFLite-safe for odd or non-power-of-two `fft_length`; use :class:`DFTSTFT` in exported
    graphs.

    Args:
        waveform: float `[..., samples]`.
        frame_length: periodic Hann window length.
        frame_step: hop in samples.
        fft_length: DFT size (511 gives 256 bins).
        center: pad as librosa's `center=True`; else frames start at sample 0.

    Returns:
        complex64 `[..., frames, fft_length // 2 + 1]`.
    """
    check_stft_params(frame_length, frame_step, fft_length)
    x = tf.convert_to_tensor(waveform, tf.float32)
    _check_min_length(x, frame_length)
    if center:
        x = _center_frames_input(x, frame_length, frame_step, fft_length)
    return tf.signal.stft(
        x,
        frame_length,
        frame_step,
        fft_length=fft_length,
        window_fn=_hann_window_fn,
        pad_end=False,
    )


class DFTSTFT:
    """STFT and inverse STFT as real matrix products (TFLite built-in ops only).

    The bases are built once per instance in float64 and stored as float32 constants:
    forward `[frame_length, 2 * bins]` (analysis window folded in, cosine then minus sine) and
    inverse `[2 * bins, frame_length]` (irfft weights 1/N, 2/N, Nyquist 1/N for even N, with the
    synthesis window folded in). Both odd and even FFT lengths are supported.

    Args:
        frame_length: periodic Hann window length in samples.
        frame_step: hop in samples (at most half the window, see :func:`check_stft_params`).
        fft_length: DFT size.
        center: librosa-style centred frames (see module docstring).

    Attributes:
        bins: `fft_length // 2 + 1`.
        window: float32 `[frame_length]` analysis (and synthesis) window.
    """

    def __init__(self, frame_length: int, frame_step: int, fft_length: int, center: bool = True):
        check_stft_params(frame_length, frame_step, fft_length)
        self.frame_length = int(frame_length)
        self.frame_step = int(frame_step)
        self.fft_length = int(fft_length)
        self.center = bool(center)
        self.bins = self.fft_length // 2 + 1

        window = _periodic_hann(self.frame_length)
        n = np.arange(self.frame_length)
        k = np.arange(self.bins)
        # Reduce n*k modulo N in integers before scaling, so large products keep full accuracy.
        angle = 2.0 * np.pi * (np.outer(n, k) % self.fft_length) / self.fft_length
        cos, sin = np.cos(angle), np.sin(angle)  # [frame_length, bins]
        forward = np.concatenate([window[:, None] * cos, -window[:, None] * sin], axis=1)
        weight = np.full(self.bins, 2.0)
        weight[0] = 1.0
        if self.fft_length % 2 == 0:
            weight[-1] = 1.0  # the Nyquist bin appears once in the full spectrum
        weight /= self.fft_length
        inverse = np.concatenate([weight[:, None] * cos.T, -weight[:, None] * sin.T], axis=0)
        inverse = inverse * window[None, :]

        self.window = window.astype(np.float32)
        with tf.init_scope():  # eager constants, even if constructed while tracing
            self._forward_basis = tf.constant(forward, tf.float32)
            self._inverse_basis = tf.constant(inverse, tf.float32)
            self._window_sq = tf.constant(window**2, tf.float32)

    def num_frames(self, n_samples):
        """Frames produced for `n_samples` samples (int or scalar tensor)."""
        if self.center:
            return num_frames(n_samples, self.frame_step)
        return 1 + (n_samples - self.frame_length) // self.frame_step

    def forward(self, waveform) -> tuple[tf.Tensor, tf.Tensor]:
        """Real and imaginary STFT parts.

        Args:
            waveform: float `[batch, samples]` (any leading dims work).

        Returns:
            `(real, imag)`, each float32 `[batch, frames, bins]`; equals `stft(...)` split
            into real and imaginary parts.

        Raises:
            ValueError: the (static) length is shorter than one frame.
        """
        x = tf.convert_to_tensor(waveform, tf.float32)
        _check_min_length(x, self.frame_length)
        if self.center:
            x = _center_frames_input(x, self.frame_length, self.frame_step, self.fft_length)
        frames = tf.signal.frame(x, self.frame_length, self.frame_step)  # [..., F, frame]
        spectrum = tf.tensordot(frames, self._forward_basis, axes=1)  # [..., F, 2 * bins]
        return spectrum[..., : self.bins], spectrum[..., self.bins :]

    def inverse(self, real, imag, length) -> tf.Tensor:
        """Least-squares inverse STFT (window sum-square normalised), cropped to `length`.

        Args:
            real: float `[batch, frames, bins]`.
            imag: float `[batch, frames, bins]`; its DC (and even-N Nyquist) entries are
                ignored, as in `irfft`.
            length: output samples (int or scalar int tensor); positions no frame covers are 0.
                With a step near half the window, the last few samples may lie only under the
                tail of the last window, where float32 errors are divided by a small window
                sum-square; with `center=True` and `frame_step <= frame_length / 4` every
                sample is under a window value >= 0.5.

        Returns:
            float32 `[batch, length]`.
        """
        real = tf.convert_to_tensor(real, tf.float32)
        imag = tf.convert_to_tensor(imag, tf.float32)
        spectrum = tf.concat([real, imag], axis=-1)  # [..., F, 2 * bins]
        frames = tf.tensordot(spectrum, self._inverse_basis, axes=1)  # [..., F, frame], windowed
        signal = tf.signal.overlap_and_add(frames, self.frame_step)
        wss = overlap_add_window(self._window_sq, tf.shape(real)[-2], self.frame_step)
        covered = wss > _WSS_TINY
        signal = signal / tf.where(covered, wss, tf.ones_like(wss))
        start = 0
        if self.center:
            start = self.fft_length // 2 - (self.fft_length - self.frame_length) // 2
        length = tf.cast(length, tf.int32)
        deficit = tf.maximum(0, start + length - tf.shape(signal)[-1])
        signal = _pad_last_axis(signal, 0, deficit)
        return signal[..., start : start + length]

    def magnitude_phase(self, waveform) -> tuple[tf.Tensor, tf.Tensor]:
        """Magnitude and phase (`atan2(imag, real)`, in (-pi, pi]), each `[batch, frames, bins]`."""
        real, imag = self.forward(waveform)
        return tf.sqrt(tf.square(real) + tf.square(imag)), tf.math.atan2(imag, real)

    def from_magnitude_phase(self, magnitude, phase, length) -> tf.Tensor:
        """Inverse STFT of `magnitude * exp(i * phase)` (`[batch, frames, bins]`) -> `[batch, length]`."""
        magnitude = tf.convert_to_tensor(magnitude, tf.float32)
        phase = tf.convert_to_tensor(phase, tf.float32)
        return self.inverse(magnitude * tf.cos(phase), magnitude * tf.sin(phase), length)


def overlap_add_window(window, n_frames, frame_step: int) -> tf.Tensor:
    """Overlap-adds `n_frames` copies of `window` `[length]` -> `[(n_frames - 1) * step + length]`.

    Computed on a `[1, n_frames, length]` tensor: tf.signal.overlap_and_add slices with an
    ellipsis, which the TFLite converter cannot lower when the ellipsis covers no dimension.
    """
    tiled = tf.tile(window[tf.newaxis, tf.newaxis, :], tf.stack([1, n_frames, 1]))
    return tf.signal.overlap_and_add(tiled, frame_step)[0]


def _fit_frames(x: tf.Tensor, n_frames) -> tf.Tensor:
    """Crops or zero-pads axis -2 of `[batch, frames, bins]` to `n_frames`."""
    deficit = tf.maximum(0, n_frames - tf.shape(x)[-2])
    x = tf.pad(x, [[0, 0], [0, deficit], [0, 0]])
    return x[:, :n_frames, :]


def griffin_lim(
    magnitude, dft: DFTSTFT, length, n_iter: int = 32, momentum: float = 0.99
) -> tf.Tensor:
    """Fast Griffin-Lim phase reconstruction, in-graph and TFLite-safe (uses :class:`DFTSTFT`).

    Starts from zero phase and runs `n_iter` projections with the "fast Griffin-Lim" momentum
    update (Perraudin et al. 2013; `momentum=0.99` is the `librosa.griffinlim` default).

    Args:
        magnitude: float `[batch, frames, bins]` target magnitudes.
        dft: the transform that produced the frame layout of `magnitude`.
        length: output samples (int or scalar int tensor); normally the original length.
        n_iter: number of iterations (static).
        momentum: fast Griffin-Lim momentum; 0 gives the classic algorithm.

    Returns:
        float32 `[batch, length]`.
    """
    if n_iter < 0:
        raise ValueError(f"n_iter must be >= 0, got {n_iter}")
    magnitude = tf.convert_to_tensor(magnitude, tf.float32)
    n_frames = tf.shape(magnitude)[1]
    beta = float(momentum) / (1.0 + float(momentum))

    def body(i, ang_re, ang_im, prev_re, prev_im):
        y = dft.inverse(magnitude * ang_re, magnitude * ang_im, length)
        re, im = dft.forward(y)
        re, im = _fit_frames(re, n_frames), _fit_frames(im, n_frames)
        new_re, new_im = re - beta * prev_re, im - beta * prev_im
        norm = tf.sqrt(tf.square(new_re) + tf.square(new_im)) + 1e-16
        return i + 1, new_re / norm, new_im / norm, re, im

    zeros = tf.zeros_like(magnitude)
    _, ang_re, ang_im, _, _ = tf.while_loop(
        lambda i, *_: i < n_iter,
        body,
        (tf.constant(0), tf.ones_like(magnitude), zeros, zeros, zeros),
    )
    return dft.inverse(magnitude * ang_re, magnitude * ang_im, length)
