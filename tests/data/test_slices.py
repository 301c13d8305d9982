"""Folder slicing of long recordings (WaveGAN v2 loader, reference/wavegan.md 4.3)."""

import logging

import numpy as np
import pytest
import soundfile as sf

from tfaudiogan.audio.io import AudioDecodeError
from tfaudiogan.data.slices import folder_slices, peak_normalize, slice_waveform

LOGGER = "tfaudiogan.test_slices"


def _ramp_file(path, n, sr=16000, amp=0.5):
    """A file whose sample values encode their index, so slice positions can be read back."""
    path.parent.mkdir(parents=True, exist_ok=True)
    wave = amp * (np.arange(n) % 1000 + 1) / 1000.0
    sf.write(path, wave.astype(np.float32), sr, subtype="FLOAT")
    return wave.astype(np.float32)


def test_slice_waveform_framing():
    x = np.arange(1, 11, dtype=np.float32)  # 10 samples
    np.testing.assert_array_equal(slice_waveform(x, 4), [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 0, 0]])
    np.testing.assert_array_equal(slice_waveform(x, 4, pad_end=False), [[1, 2, 3, 4], [5, 6, 7, 8]])
    np.testing.assert_array_equal(slice_waveform(x, 4, offset=3, pad_end=False),
                                  [[4, 5, 6, 7]])
    np.testing.assert_array_equal(slice_waveform(x, 4, hop=3, pad_end=False),
                                  [[1, 2, 3, 4], [4, 5, 6, 7], [7, 8, 9, 10]])
    np.testing.assert_array_equal(slice_waveform(x, 4, offset=5, first_slice=True), [[1, 2, 3, 4]])
    np.testing.assert_array_equal(slice_waveform(x[:3], 4, pad_end=False), [[1, 2, 3, 0]])


def test_peak_normalize():
    x = np.array([[0.1, -0.5, 0.25], [0.0, 0.0, 0.0]], np.float32)
    np.testing.assert_allclose(peak_normalize(x), [[0.2, -1.0, 0.5], [0.0, 0.0, 0.0]])


def test_folder_slices_random_offsets_are_seeded(tmp_path):
    wave = _ramp_file(tmp_path / "long.wav", 5 * 1024 + 300)
    out = folder_slices(tmp_path, 1024, 16000, seed=3)
    assert out.dtype == np.float32 and out.shape[1] == 1024
    # Find the offset from the first slice and check the rest are consecutive frames.
    start = int(round(out[0, 0] / 0.5 * 1000)) - 1
    assert 0 <= start < 1024
    assert out.shape[0] == -(-(wave.shape[0] - start) // 1024)  # pad_end keeps the tail
    np.testing.assert_allclose(out[1], wave[start + 1024 : start + 2048], atol=1e-6)
    np.testing.assert_array_equal(out, folder_slices(tmp_path, 1024, 16000, seed=3))
    starts = {float(folder_slices(tmp_path, 1024, 16000, seed=s)[0, 0]) for s in range(8)}
    assert len(starts) > 1  # different seeds, different offsets


def test_first_slice_pad_and_short_files(tmp_path):
    wave = _ramp_file(tmp_path / "a" / "long.wav", 3000)
    short = _ramp_file(tmp_path / "b" / "short.wav", 700)
    out = folder_slices(tmp_path, 1024, 16000, first_slice=True)
    assert out.shape == (2, 1024)
    np.testing.assert_allclose(out[0], wave[:1024], atol=1e-6)
    np.testing.assert_allclose(out[1, :700], short, atol=1e-6)
    assert not out[1, 700:].any()  # shorter than a slice: zero-padded
    for seed in range(4):
        no_pad = folder_slices(tmp_path / "a", 1024, 16000, pad_end=False, seed=seed)
        start = int(round(no_pad[0, 0] / 0.5 * 1000)) - 1
        assert no_pad.shape[0] == (3000 - start) // 1024  # full slices only
        np.testing.assert_allclose(no_pad[-1], wave[start + 1024 * (len(no_pad) - 1) :][:1024],
                                   atol=1e-6)


def test_n_slices_per_file_and_normalize(tmp_path):
    _ramp_file(tmp_path / "long.wav", 10 * 1024, amp=0.25)
    out = folder_slices(tmp_path, 1024, 16000, n_slices_per_file=3, normalize=True, seed=1)
    assert out.shape == (3, 1024)
    assert np.abs(out).max() == pytest.approx(1.0, abs=1e-6)  # whole-file peak is 1


def test_bad_files_resampling_and_errors(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger=LOGGER)
    log = logging.getLogger(LOGGER)
    _ramp_file(tmp_path / "ok.wav", 2048)
    _ramp_file(tmp_path / "slow.wav", 1024, sr=8000)  # -> 2048 samples at 16 kHz
    (tmp_path / "bad.wav").write_bytes(b"garbage")
    out = folder_slices(tmp_path, 1024, 16000, first_slice=True, log=log)
    assert out.shape == (2, 1024)
    assert "skipped 1 of 3 files" in caplog.text and "bad.wav" in caplog.text
    assert "resampled 1 of 3 files to 16000 Hz" in caplog.text
    with pytest.raises(AudioDecodeError, match="bad.wav"):
        folder_slices(tmp_path, 1024, 16000, strict=True)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no audio files"):
        folder_slices(tmp_path / "empty", 1024, 16000)
    with pytest.raises(ValueError, match="overlap"):
        folder_slices(tmp_path, 1024, 16000, overlap=1.0)
