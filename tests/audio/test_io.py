"""Tests for tfaudiogan.audio.io: decoding, resampling, mono mix-down, errors, atomic writes."""

import os
import pickle

import numpy as np
import pytest
import soundfile as sf

from tfaudiogan.audio import io as audio_io
from tfaudiogan.audio.io import AudioDecodeError, load_audio, resample, save_audio, to_mono


def _tone(sample_rate, seconds, freq=440.0, amp=0.5):
    t = np.arange(int(sample_rate * seconds)) / sample_rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_save_load_pcm16_round_trip(tmp_path):
    x = _tone(16000, 0.25)
    path = tmp_path / "tone.wav"
    save_audio(path, x, 16000)
    info = sf.info(str(path))
    assert (info.format, info.subtype, info.samplerate, info.frames) == (
        "WAV",
        "PCM_16",
        16000,
        4000,
    )
    y = load_audio(path)
    assert y.dtype == np.float32 and y.shape == x.shape
    np.testing.assert_allclose(y, x, atol=1.0 / 32768)


def test_save_audio_clips_out_of_range(tmp_path):
    path = tmp_path / "loud.wav"
    save_audio(path, np.array([2.0, -3.0, 0.5], np.float32), 8000)
    np.testing.assert_allclose(load_audio(path), [32767 / 32768, -1.0, 0.5], atol=1e-4)


def test_float_wav_is_exact(tmp_path):
    x = np.linspace(-0.9, 0.9, 1001, dtype=np.float32)
    sf.write(tmp_path / "f.wav", x, 22050, subtype="FLOAT")
    np.testing.assert_array_equal(load_audio(tmp_path / "f.wav"), x)


def test_flac_and_stereo_channels(tmp_path):
    left, right = _tone(22050, 0.2, 300), _tone(22050, 0.2, 500, amp=0.25)
    stereo = np.stack([left, right], axis=1)
    sf.write(tmp_path / "s.flac", stereo, 22050)
    both = load_audio(tmp_path / "s.flac", mono=False)
    assert both.shape == (len(left), 2)
    np.testing.assert_allclose(both, stereo, atol=1.0 / 32768)  # FLAC default is 16 bit
    mono = load_audio(tmp_path / "s.flac")
    np.testing.assert_allclose(mono, (left + right) / 2, atol=1.0 / 32768)


@pytest.mark.skipif("OGG" not in sf.available_formats(), reason="libsndfile built without OGG")
def test_ogg_vorbis_decodes(tmp_path):
    x = _tone(22050, 0.5, 440, amp=0.5)
    sf.write(tmp_path / "t.ogg", x, 22050, format="OGG", subtype="VORBIS")
    y = load_audio(tmp_path / "t.ogg")
    assert abs(len(y) - len(x)) <= 1
    n = min(len(x), len(y))
    # Lossy codec: the waveform still correlates almost perfectly with the original.
    corr = np.corrcoef(x[:n], y[:n])[0, 1]
    assert corr > 0.99


def test_stereo_44k_to_mono_25k(tmp_path):
    sr = 44100
    n = 44100 + 37  # deliberately not a round number of samples
    t = np.arange(n) / sr
    tone = 0.4 * np.sin(2 * np.pi * 440 * t)
    stereo = np.stack([tone + 0.1, tone - 0.1], axis=1).astype(np.float32)  # mean removes DC
    sf.write(tmp_path / "st.wav", stereo, sr, subtype="FLOAT")
    y = load_audio(tmp_path / "st.wav", sample_rate=25000)
    assert y.ndim == 1 and y.dtype == np.float32
    assert len(y) == round(n * 25000 / 44100)
    t25 = np.arange(len(y)) / 25000
    expected = 0.4 * np.sin(2 * np.pi * 440 * t25)
    inner = slice(200, len(y) - 200)  # away from the resampler's edge transients
    np.testing.assert_allclose(y[inner], expected[inner], atol=2e-3)
    both = load_audio(tmp_path / "st.wav", sample_rate=25000, mono=False)
    assert both.shape == (len(y), 2)


@pytest.mark.parametrize("n", [1, 999, 44100, 44101, 12345])
def test_resample_length_is_rounded(n):
    x = np.zeros(n, np.float32)
    assert len(resample(x, 44100, 25000)) == (2 * n * 25000 + 44100) // (2 * 44100)
    assert len(resample(x, 16000, 16000)) == n


def test_to_mono_averages_channels():
    x = np.array([[1.0, 3.0], [-2.0, 0.0]], np.float32)
    np.testing.assert_array_equal(to_mono(x), [2.0, -1.0])
    np.testing.assert_array_equal(to_mono(np.array([0.5, 0.25])), [0.5, 0.25])
    with pytest.raises(ValueError):
        to_mono(np.zeros((2, 2, 2)))


def _assert_decode_error(path, reason_fragment):
    with pytest.raises(AudioDecodeError) as info:
        load_audio(path)
    message = str(info.value)
    assert message.startswith(f"cannot decode audio file '{os.fspath(path)}': ")
    assert reason_fragment in message
    assert isinstance(info.value, ValueError)


def test_missing_file(tmp_path):
    _assert_decode_error(tmp_path / "nope.wav", "not found")


def test_empty_file(tmp_path):
    (tmp_path / "empty.wav").write_bytes(b"")
    _assert_decode_error(tmp_path / "empty.wav", "0 bytes")


def test_garbage_bytes(tmp_path):
    (tmp_path / "junk.wav").write_bytes(np.random.default_rng(0).bytes(4096))
    _assert_decode_error(tmp_path / "junk.wav", "not a readable audio file")


def test_truncated_header(tmp_path):
    save_audio(tmp_path / "ok.wav", _tone(8000, 0.1), 8000)
    (tmp_path / "cut.wav").write_bytes((tmp_path / "ok.wav").read_bytes()[:30])
    _assert_decode_error(tmp_path / "cut.wav", "not a readable audio file")


def test_truncated_wav_data(tmp_path):
    save_audio(tmp_path / "ok.wav", _tone(8000, 0.5), 8000)
    data = (tmp_path / "ok.wav").read_bytes()
    (tmp_path / "half.wav").write_bytes(data[: len(data) // 2])
    _assert_decode_error(tmp_path / "half.wav", "truncated")


def test_truncated_flac(tmp_path):
    sf.write(tmp_path / "ok.flac", _tone(8000, 0.5), 8000)
    data = (tmp_path / "ok.flac").read_bytes()
    (tmp_path / "half.flac").write_bytes(data[: len(data) // 2])
    with pytest.raises(AudioDecodeError, match="half.flac"):
        load_audio(tmp_path / "half.flac")


def test_zero_length_audio(tmp_path):
    sf.write(tmp_path / "zero.wav", np.zeros(0, np.float32), 16000)
    assert os.path.getsize(tmp_path / "zero.wav") > 0  # a valid header, no samples
    _assert_decode_error(tmp_path / "zero.wav", "no samples")


def test_nan_samples(tmp_path):
    x = np.array([0.1, np.nan, 0.2], np.float32)
    sf.write(tmp_path / "nan.wav", x, 16000, subtype="FLOAT")
    _assert_decode_error(tmp_path / "nan.wav", "NaN")


def test_decode_error_pickles():
    err = pickle.loads(pickle.dumps(AudioDecodeError("a.wav", "bad")))
    assert str(err) == "cannot decode audio file 'a.wav': bad" and err.path == "a.wav"


def test_save_audio_rejects_nan(tmp_path):
    with pytest.raises(ValueError, match="non-finite"):
        save_audio(tmp_path / "n.wav", np.array([0.0, np.nan]), 8000)
    assert os.listdir(tmp_path) == []


def test_save_audio_is_atomic_on_failure(tmp_path, monkeypatch):
    target = tmp_path / "out.wav"
    save_audio(target, _tone(8000, 0.1), 8000)
    before = target.read_bytes()

    def failing_write(path, data, *args, **kwargs):
        with open(path, "wb") as handle:  # leave a partial temp file behind, then fail
            handle.write(b"RIFF partial")
        raise OSError("disk full")

    monkeypatch.setattr(audio_io.sf, "write", failing_write)
    with pytest.raises(OSError, match="disk full"):
        save_audio(target, _tone(8000, 0.3), 8000)
    assert os.listdir(tmp_path) == ["out.wav"]  # no temp file left
    assert target.read_bytes() == before  # the old file is untouched
    with pytest.raises(OSError):
        save_audio(tmp_path / "new.wav", _tone(8000, 0.1), 8000)
    assert os.listdir(tmp_path) == ["out.wav"]


def test_save_audio_stereo_and_creates_folder(tmp_path):
    x = np.stack([_tone(8000, 0.1), -_tone(8000, 0.1)], axis=1)
    path = tmp_path / "sub" / "dir" / "st.wav"
    save_audio(path, x, 8000)
    y = load_audio(path, mono=False)
    np.testing.assert_allclose(y, x, atol=1.0 / 32768)
