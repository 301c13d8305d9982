"""Audio file input/output with soundfile (libsndfile) and resampling with soxr.

tensorflow-io no longer loads on TF >= 2.18 (reference/ecosystem.md section 4), so decoding
happens in NumPy: WAV (any subtype), FLAC and OGG/Vorbis are read through soundfile, and sample
rates are converted with soxr. Every decoding failure becomes an :class:`AudioDecodeError` whose
message names the file, so data pipelines can skip bad files with a useful warning.
"""

from __future__ import annotations

import os
import re
import tempfile

import numpy as np
import soundfile as sf
import soxr

__all__ = ["AudioDecodeError", "load_audio", "resample", "save_audio", "to_mono"]

# libsndfile writes "data : <declared bytes> (should be <bytes present>)" into its log when a
# WAV data chunk claims more bytes than the file holds, i.e. the file was cut short.
_WAV_TRUNCATED = re.compile(r"^data\s*:\s*(\d+)\s*\(should be (\d+)\)", re.MULTILINE)


class AudioDecodeError(ValueError):
    """An audio file could not be decoded into finite samples.

    Args:
        path: the offending file.
        reason: a short human-readable cause.
    """

    def __init__(self, path: str | os.PathLike, reason: str):
        self.path = os.fspath(path)
        self.reason = reason
        super().__init__(f"cannot decode audio file '{self.path}': {reason}")

    def __reduce__(self):
        return (type(self), (self.path, self.reason))


def to_mono(waveform: np.ndarray) -> np.ndarray:
    """Averages the channels of a waveform.

    Args:
        waveform: `[samples, channels]` (a 1-D `[samples]` array is returned unchanged).

    Returns:
        `[samples]` array, the mean over channels, in the input's floating dtype.
    """
    waveform = np.asarray(waveform)
    if waveform.ndim == 1:
        return waveform
    if waveform.ndim != 2:
        raise ValueError(f"to_mono expects [samples, channels], got shape {waveform.shape}")
    return waveform.mean(axis=1, dtype=np.float64).astype(waveform.dtype, copy=False)


def _resampled_length(n_samples: int, orig_sr: int, target_sr: int) -> int:
    """round(n * target / orig) with halves rounded up, in exact integer arithmetic."""
    return (2 * n_samples * target_sr + orig_sr) // (2 * orig_sr)


def resample(waveform: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    """Resamples with soxr (high quality) to exactly `round(samples * target_sr / orig_sr)`.

    soxr's one-shot output can be one sample shorter than that; the input is therefore padded
    with a few zeros (the signal is silent after its end) and the result cut to the exact length.

    Args:
        waveform: `[samples]` or `[samples, channels]` float array.
        orig_sr: sample rate of `waveform` in Hz.
        target_sr: wanted sample rate in Hz.

    Returns:
        float32 array `[round(samples * target_sr / orig_sr)]` (or `[..., channels]`).
    """
    if int(orig_sr) <= 0 or int(target_sr) <= 0:
        raise ValueError(f"sample rates must be positive, got {orig_sr} -> {target_sr}")
    waveform = np.asarray(waveform, dtype=np.float32)
    if orig_sr == target_sr:
        return waveform
    n_out = _resampled_length(waveform.shape[0], int(orig_sr), int(target_sr))
    if waveform.shape[0] == 0:
        return waveform
    tail = int(np.ceil(orig_sr / target_sr)) + 2
    padded = np.concatenate([waveform, np.zeros((tail,) + waveform.shape[1:], np.float32)])
    out = soxr.resample(padded, int(orig_sr), int(target_sr), quality="HQ")
    out = out[:n_out]
    if out.shape[0] < n_out:  # never observed; kept so the length contract always holds
        out = np.concatenate([out, np.zeros((n_out - out.shape[0],) + out.shape[1:], out.dtype)])
    return np.ascontiguousarray(out, dtype=np.float32)


def _read(path: str) -> tuple[np.ndarray, int]:
    """Decodes a file to `[samples, channels]` float32, raising AudioDecodeError on any fault."""
    if not os.path.exists(path):
        raise AudioDecodeError(path, "file not found")
    if os.path.isdir(path):
        raise AudioDecodeError(path, "is a directory")
    if os.path.getsize(path) == 0:
        raise AudioDecodeError(path, "file is empty (0 bytes)")
    try:
        with sf.SoundFile(path) as handle:
            declared = handle.frames
            log = handle.extra_info
            sample_rate = handle.samplerate
            data = handle.read(dtype="float32", always_2d=True)
    except (sf.SoundFileError, RuntimeError, TypeError, ValueError) as err:
        raise AudioDecodeError(path, f"not a readable audio file ({err})") from err
    match = _WAV_TRUNCATED.search(log)
    if match and int(match.group(2)) < int(match.group(1)):
        raise AudioDecodeError(
            path,
            f"truncated: data chunk declares {match.group(1)} bytes but only "
            f"{match.group(2)} are present",
        )
    if data.shape[0] < declared:
        raise AudioDecodeError(path, f"truncated: read {data.shape[0]} of {declared} frames")
    if data.shape[0] == 0:
        raise AudioDecodeError(path, "contains no samples (zero-length audio)")
    if not np.isfinite(data).all():
        raise AudioDecodeError(path, "contains NaN or infinite samples")
    return data, int(sample_rate)


def load_audio(
    path: str | os.PathLike, sample_rate: int | None = None, mono: bool = True
) -> np.ndarray:
    """Reads an audio file as float32, optionally resampled and mixed down to mono.

    Args:
        path: WAV, FLAC, OGG or any other format libsndfile reads.
        sample_rate: target rate in Hz; None keeps the file's rate. A different rate is
            converted with :func:`resample` (soxr).
        mono: average all channels into one.

    Returns:
        float32 `[samples]` if `mono`, else `[samples, channels]`.

    Raises:
        AudioDecodeError: the file is missing, empty, truncated, not audio, holds zero samples
            or contains NaN/inf samples. The message names the file.
    """
    path = os.fspath(path)
    data, file_sr = _read(path)
    if mono:
        data = to_mono(data)
    if sample_rate is not None and int(sample_rate) != file_sr:
        data = resample(data, file_sr, int(sample_rate))
    return np.ascontiguousarray(data, dtype=np.float32)


def save_audio(path: str | os.PathLike, waveform: np.ndarray, sample_rate: int) -> None:
    """Writes a 16-bit PCM WAV file atomically.

    The samples go to a temporary file in the destination folder, which is then moved over
    `path` with `os.replace`; if anything fails, the temporary file is removed and an existing
    `path` is left untouched.

    Args:
        path: destination file (parent folders are created).
        waveform: `[samples]` or `[samples, channels]` floats in [-1, 1] (values outside are
            clipped; NaN/inf are rejected).
        sample_rate: sample rate in Hz.

    Raises:
        ValueError: the waveform has the wrong rank or non-finite values.
    """
    path = os.fspath(path)
    data = np.asarray(waveform, dtype=np.float32)
    if data.ndim not in (1, 2):
        raise ValueError(f"waveform must be [samples] or [samples, channels], got {data.shape}")
    if not np.isfinite(data).all():
        raise ValueError(f"refusing to write non-finite samples to '{path}'")
    if int(sample_rate) <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")
    data = np.clip(data, -1.0, 1.0)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".wav", dir=folder)
    os.close(fd)
    try:
        sf.write(tmp, data, int(sample_rate), subtype="PCM_16", format="WAV")
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
