"""Tests for folder listing and clip loading (tfaudiogan.data.audio_files)."""

import logging

import numpy as np
import pytest
import soundfile as sf

from tfaudiogan.audio.io import AudioDecodeError
from tfaudiogan.data import audio_files


def _write(path, data, sr, subtype="PCM_16", fmt=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, data, sr, subtype=subtype, format=fmt)
    return path


def _tone(n, sr=8000, f=440.0, amp=0.5):
    return (amp * np.sin(2 * np.pi * f * np.arange(n) / sr)).astype(np.float32)


def test_list_audio_files_recursive_sorted_case_insensitive(tmp_path):
    tone = _tone(100)
    expected = [
        _write(tmp_path / "a.wav", tone, 8000),
        _write(tmp_path / "b" / "c.FLAC", tone, 8000, subtype="PCM_16", fmt="FLAC"),
        _write(tmp_path / "b" / "d.Wav", tone, 8000),
        _write(tmp_path / "z.ogg", tone, 8000, subtype="VORBIS", fmt="OGG"),
    ]
    (tmp_path / "notes.txt").write_text("not audio")
    (tmp_path / "x.mp3").write_bytes(b"\x00" * 10)  # listed by extension; decoding is later
    (tmp_path / "._a.wav").write_bytes(b"\x00" * 10)  # macOS resource fork: ignored
    _write(tmp_path / "__MACOSX" / "e.wav", tone, 8000)  # zip debris: ignored
    _write(tmp_path / ".hidden" / "f.wav", tone, 8000)  # hidden folder: ignored
    files = audio_files.list_audio_files(tmp_path)
    assert files == sorted(expected + [tmp_path / "x.mp3"])
    assert files == sorted(files)


def test_list_audio_files_errors(tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(FileNotFoundError, match=f"data directory '{missing}' does not exist"):
        audio_files.list_audio_files(missing)
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.txt").write_text("x")
    with pytest.raises(ValueError, match=r"no audio files \(.wav, .flac, .ogg, .mp3\) found in"):
        audio_files.list_audio_files(tmp_path / "empty")
    f = _write(tmp_path / "one.wav", _tone(10), 8000)
    with pytest.raises(NotADirectoryError):
        audio_files.list_audio_files(f)


def test_load_clips_pads_crops_and_downmixes(tmp_path):
    sr = 8000
    long_tone = _tone(1000, sr)
    stereo = np.stack([_tone(300, sr, 220.0, 0.4), _tone(300, sr, 330.0, 0.2)], axis=1)
    paths = [
        _write(tmp_path / "long.wav", long_tone, sr, subtype="FLOAT"),
        _write(tmp_path / "short_stereo.wav", stereo, sr, subtype="FLOAT"),
    ]
    clips, skipped = audio_files.load_clips(paths, sr, clip_samples=500)
    assert skipped == []
    assert clips.shape == (2, 500) and clips.dtype == np.float32
    np.testing.assert_allclose(clips[0], long_tone[:500], atol=1e-6)  # cropped from the start
    np.testing.assert_allclose(clips[1, :300], stereo.mean(axis=1), atol=1e-6)  # mono mix
    np.testing.assert_array_equal(clips[1, 300:], 0.0)  # zero padded at the end


def test_load_clips_resamples(tmp_path):
    path = _write(tmp_path / "hi.wav", _tone(4410, 44100, 1000.0), 44100)  # 0.1 s at 44.1 kHz
    clips, _ = audio_files.load_clips([path], 8000, clip_samples=1000)
    # 0.1 s at 8 kHz = 800 samples of signal, then zeros
    assert np.max(np.abs(clips[0, 100:700])) > 0.4
    np.testing.assert_array_equal(clips[0, 810:], 0.0)
    spectrum = np.abs(np.fft.rfft(clips[0, 100:700] * np.hanning(600)))
    peak_hz = np.argmax(spectrum) * 8000 / 600
    assert abs(peak_hz - 1000.0) < 8000 / 600


def _bad_files(tmp_path):
    good = _write(tmp_path / "good.wav", _tone(400), 8000)
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    garbage = tmp_path / "garbage.wav"
    garbage.write_bytes(b"this is not a RIFF file at all" * 10)
    truncated = tmp_path / "truncated.wav"
    truncated.write_bytes(good.read_bytes()[:300])
    return good, [empty, garbage, truncated]


def test_load_clips_skips_bad_files_with_warnings(tmp_path, caplog):
    good, bad = _bad_files(tmp_path)
    paths = [bad[0], good, bad[1], bad[2]]
    with caplog.at_level(logging.WARNING):
        clips, skipped = audio_files.load_clips(paths, 8000, clip_samples=400)
    assert clips.shape == (1, 400)
    np.testing.assert_allclose(clips[0], _tone(400), atol=1.0 / 16384)
    assert [p for p, _ in skipped] == [bad[0], bad[1], bad[2]]
    for path, reason in skipped:
        assert str(path) in reason
    text = caplog.text
    for path in bad:
        assert str(path) in text
    assert "skipped 3 of 4 files" in text


def test_load_clips_strict_raises_first_error(tmp_path):
    good, bad = _bad_files(tmp_path)
    with pytest.raises(AudioDecodeError, match="garbage.wav"):
        audio_files.load_clips([good, bad[1], bad[0]], 8000, 400, strict=True)


def test_load_clips_all_failed_names_directory_and_count(tmp_path):
    _, bad = _bad_files(tmp_path)
    with pytest.raises(ValueError, match=rf"all 3 audio files in '{tmp_path}' failed"):
        audio_files.load_clips(bad, 8000, 400)


def test_load_clips_argument_errors(tmp_path):
    with pytest.raises(ValueError, match="no files"):
        audio_files.load_clips([], 8000, 400)
    with pytest.raises(ValueError, match="clip_samples"):
        audio_files.load_clips([tmp_path / "x.wav"], 8000, 0)


def test_load_two_folders(tmp_path):
    for i in range(3):
        _write(tmp_path / "a" / f"{i}.wav", _tone(200, f=300.0 + i), 8000)
    for i in range(2):
        _write(tmp_path / "b" / f"{i}.wav", _tone(200, f=500.0 + i), 8000)
    (tmp_path / "b" / "broken.wav").write_bytes(b"RIFF")
    a, b, skipped = audio_files.load_two_folders(tmp_path / "a", tmp_path / "b", 8000, 256)
    assert a.shape == (3, 256) and b.shape == (2, 256)
    assert [p.name for p, _ in skipped] == ["broken.wav"]
