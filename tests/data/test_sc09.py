"""SC09 readers for the WaveGAN and Speech Commands layouts (reference/ddsp.md section 6)."""

import logging

import numpy as np
import pytest
import soundfile as sf

from tfaudiogan.audio.io import AudioDecodeError
from tfaudiogan.data.sc09 import DIGITS, detect_layout, list_sc09, load_sc09

LOGGER = "tfaudiogan.test_sc09"


def _tone(n, freq, sr=16000, amp=0.5):
    return (amp * np.sin(2 * np.pi * freq * np.arange(n) / sr)).astype(np.float32)


def _write(path, wave, sr=16000):
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, wave, sr, subtype="PCM_16")


@pytest.fixture
def wavegan_tree(tmp_path):
    """sc09/{train,valid,test}: 3 + 1 + 1 good train files, one corrupt, one 8 kHz, one long."""
    root = tmp_path / "sc09"
    _write(root / "train" / "Zero_aaaa1111_nohash_0.wav", _tone(16000, 200))
    _write(root / "train" / "Three_bbbb2222_nohash_1.wav", _tone(12000, 300, amp=0.25))
    _write(root / "train" / "Nine_cccc3333_nohash_0.wav", _tone(20000, 400))  # > 16384
    _write(root / "train" / "Five_dddd4444_nohash_0.wav", _tone(8000, 500), sr=8000)  # 1 s
    (root / "train" / "Two_eeee5555_nohash_0.wav").write_bytes(b"RIFF\x00\x00not a wav")
    _write(root / "valid" / "Eight_ffff6666_nohash_0.wav", _tone(16000, 600))
    _write(root / "test" / "One_gggg7777_nohash_2.wav", _tone(16000, 700))
    return root


@pytest.fixture
def speech_commands_tree(tmp_path):
    """Speech Commands v0.01 style: digit folders, a non-digit word, two list files."""
    root = tmp_path / "speech_commands_v0.01"
    for word, freq in (("zero", 200), ("seven", 300), ("nine", 400)):
        for k in range(3):
            _write(root / word / f"{word[:2]}{k:06d}_nohash_{k}.wav", _tone(16000, freq + k))
    _write(root / "left" / "abcd0000_nohash_0.wav", _tone(16000, 900))  # not a digit
    _write(root / "_background_noise_" / "white_noise.wav", _tone(32000, 100))
    (root / "validation_list.txt").write_text(
        "zero/ze000001_nohash_1.wav\nleft/abcd0000_nohash_0.wav\n")
    (root / "testing_list.txt").write_text(
        "seven/se000002_nohash_2.wav\nnine/ni000000_nohash_0.wav\n")
    return root


def test_detect_layout(wavegan_tree, speech_commands_tree):
    assert detect_layout(wavegan_tree) == ("wavegan", wavegan_tree)
    assert detect_layout(wavegan_tree.parent) == ("wavegan", wavegan_tree)  # parent of sc09/
    assert detect_layout(speech_commands_tree) == ("speech_commands", speech_commands_tree)


def test_list_wavegan_layout_labels(wavegan_tree):
    items = list_sc09(wavegan_tree, "train")
    names = {p.name.split("_")[0]: label for p, label in items}
    assert names == {"Zero": 0, "Three": 3, "Nine": 9, "Five": 5, "Two": 2}
    assert [label for _, label in list_sc09(wavegan_tree, "valid")] == [DIGITS.index("Eight")]
    assert [label for _, label in list_sc09(wavegan_tree, "validation")] == [8]
    assert [label for _, label in list_sc09(wavegan_tree, "test")] == [1]


def test_list_speech_commands_splits(speech_commands_tree):
    def keys(split):
        return sorted(f"{p.parent.name}/{p.name}:{label}"
                      for p, label in list_sc09(speech_commands_tree, split))

    assert keys("valid") == ["zero/ze000001_nohash_1.wav:0"]  # left/ is not a digit
    assert keys("test") == ["nine/ni000000_nohash_0.wav:9", "seven/se000002_nohash_2.wav:7"]
    train = keys("train")
    assert len(train) == 9 - 3  # everything in neither list
    assert "zero/ze000000_nohash_0.wav:0" in train and "seven/se000000_nohash_0.wav:7" in train
    assert not any(k.startswith(("left", "_background")) for k in train)


def test_load_wavegan_train_pads_crops_resamples_skips(wavegan_tree, caplog):
    caplog.set_level(logging.INFO, logger=LOGGER)
    waves, labels = load_sc09(wavegan_tree, "train", log=logging.getLogger(LOGGER))
    # Sorted by path: Five, Nine, Three, Two (corrupt, skipped), Zero.
    assert labels.tolist() == [5, 9, 3, 0]
    assert waves.shape == (4, 16384) and waves.dtype == np.float32
    # Five: 8 kHz, 8000 samples -> 16000 samples at 16 kHz, then 384 zeros.
    assert np.abs(waves[0, :16000]).max() > 0.4 and not waves[0, 16000:].any()
    # Nine: 20000 samples cut to the first 16384 (no zero tail).
    np.testing.assert_allclose(waves[1], _tone(20000, 400)[:16384], atol=1e-4)
    # Three: 12000 samples zero-padded; level kept (normalize=False, paper v1 loader).
    assert np.abs(waves[2]).max() == pytest.approx(0.25, abs=1e-3)
    assert not waves[2, 12000:].any()
    text = caplog.text
    assert "resampled 1 of 5 SC09 files to 16000 Hz" in text
    assert "skipped 1 of 5 files" in text and "Two_eeee5555" in text


def test_load_normalize_is_peak_one(wavegan_tree):
    waves, labels = load_sc09(wavegan_tree, "train", normalize=True)
    np.testing.assert_allclose(np.abs(waves).max(axis=1), 1.0, atol=1e-6)


def test_load_strict_raises_on_corrupt_file(wavegan_tree):
    with pytest.raises(AudioDecodeError, match="Two_eeee5555"):
        load_sc09(wavegan_tree, "train", strict=True)


def test_load_speech_commands(speech_commands_tree):
    waves, labels = load_sc09(speech_commands_tree, "test", slice_len=16384)
    assert waves.shape == (2, 16384) and labels.tolist() == [9, 7]
    assert not waves[:, 16000:].any()


def test_clear_errors(tmp_path, wavegan_tree, speech_commands_tree):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        list_sc09(tmp_path / "nowhere", "train")
    with pytest.raises(ValueError, match="unknown SC09 split 'dev'"):
        list_sc09(wavegan_tree, "dev")
    (tmp_path / "empty" / "train").mkdir(parents=True)
    with pytest.raises(ValueError, match="no audio files"):
        list_sc09(tmp_path / "empty", "train")
    with pytest.raises(FileNotFoundError, match="split folder"):
        list_sc09(tmp_path / "empty", "test")
    (tmp_path / "music").mkdir()
    with pytest.raises(ValueError, match="not an SC09 folder"):
        list_sc09(tmp_path / "music", "train")
    (speech_commands_tree / "testing_list.txt").unlink()
    with pytest.raises(FileNotFoundError, match="testing_list.txt"):
        list_sc09(speech_commands_tree, "train")


def test_unparseable_names(wavegan_tree):
    _write(wavegan_tree / "valid" / "Hello_0000_nohash_0.wav", _tone(1000, 100))
    assert len(list_sc09(wavegan_tree, "valid")) == 1  # ignored with a warning
    with pytest.raises(ValueError, match="do not start with a digit word"):
        list_sc09(wavegan_tree, "valid", strict=True)
