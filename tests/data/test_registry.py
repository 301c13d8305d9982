"""The dataset registry (tfaudiogan.data.load / DATASETS / inspect_data) and the one
skip-bad-file policy (tfaudiogan.data.bad_files) as used by the three decoding readers."""

import inspect
import logging

import numpy as np
import pytest
import soundfile as sf
import tensorflow as tf

from tests.data.test_irmas import irmas_root  # noqa: F401  (fixtures reused, not copied)
from tests.data.test_nsynth import _as_numpy, examples, trees  # noqa: F401
from tests.data.test_sc09 import speech_commands_tree, wavegan_tree  # noqa: F401
from tests.data.test_slices import _ramp_file
from tfaudiogan import data
from tfaudiogan.audio.io import AudioDecodeError
from tfaudiogan.configs.cyclegan import irmas_paper
from tfaudiogan.data import audio_files, nsynth, nsynth_writer
from tfaudiogan.data.bad_files import SKIP_MESSAGE, SUMMARY_MESSAGE, SkipPolicy

NAMES = ["irmas", "folders", "synthetic", "sc09", "audio_folder", "nsynth", "synthetic_digits",
         "synthetic_notes"]
FILE_DATASETS = ["irmas", "folders", "sc09", "audio_folder", "nsynth"]
LOGGER = "tfaudiogan.test_registry"


def _equal(a, b):
    """Bit-for-bit equality of reader outputs: arrays, tuples and dicts of arrays."""
    if isinstance(a, dict):
        assert list(a) == list(b)
        for key in a:
            _equal(a[key], b[key])
    elif isinstance(a, tuple):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _equal(x, y)
    else:
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)


@pytest.fixture
def folder_tree(tmp_path):
    """Two 1 s files at 16 kHz and one at 8 kHz, in nested folders."""
    _ramp_file(tmp_path / "audio" / "a.wav", 16000)
    _ramp_file(tmp_path / "audio" / "sub" / "b.wav", 40000)
    _ramp_file(tmp_path / "audio" / "c.wav", 12000, sr=8000)
    return tmp_path / "audio"


# ---- the table itself ------------------------------------------------------------------------

def test_every_entry_is_described_with_complete_defaults():
    assert list(data.DATASETS) == NAMES
    for name, spec in data.DATASETS.items():
        assert spec.name == name
        assert spec.description and "\n" not in spec.description
        assert spec.returns and spec.splits and spec.splits[0] == "train"
        options = spec.options()
        assert set(spec.defaults) <= set(options), name  # defaults name real reader options
        missing = [k for k, v in options.items() if v is inspect.Parameter.empty]
        assert not missing, f"{name}: options without a default: {missing}"
        assert spec.builtin == (name not in FILE_DATASETS)


def test_defaults_come_from_the_paper_presets():
    irmas = irmas_paper()
    for name in ("irmas", "folders", "synthetic"):
        options = data.DATASETS[name].options()
        assert options["sample_rate"] == irmas.spectrogram.sample_rate == 25_000
        assert options["clip_seconds"] == irmas.data.clip_seconds == 3.0
        assert options["instruments"] == ("pia", "gel")
    for name in ("sc09", "audio_folder", "synthetic_digits"):
        options = data.DATASETS[name].options()
        assert (options["sample_rate"], options["slice_len"]) == (16_000, 16_384)
    assert data.DATASETS["nsynth"].options()["audio_length"] == 64_000
    notes = data.DATASETS["synthetic_notes"].options()
    assert (notes["sample_rate"], notes["seconds"]) == (16_000, 4.0)


# ---- every name loads, with defaults and with explicit options ---------------------------------

def test_irmas_defaults_and_explicit_options(irmas_root):  # noqa: F811
    train = data.load("irmas", irmas_root, n_train=4, n_validation=1)
    # 25 kHz, 3 s: pia has one corrupt file among its 4 train files
    assert train["pia"].shape == (3, 75_000) and train["gel"].shape == (3, 75_000)
    kw = dict(sample_rate=8000, clip_seconds=0.25, n_train=4, n_validation=1, seed=2)
    got = data.load("irmas", irmas_root.parent, "validation", **kw)
    _equal(got, data.load_two_domains("irmas", irmas_root.parent, "validation", **kw))
    # the same clips from the building blocks: listing, split, decoding
    listed = data.list_irmas(irmas_root, ("pia", "gel"))
    for code in ("pia", "gel"):
        _, val = data.split_train_validation(listed[code], 4, 1, seed=2, group=data.recording_id)
        _equal(got[code], data.load_clips(val, 8000, 2000)[0])


def test_folders_defaults_and_explicit_options(tmp_path):
    data.write_two_timbre_folders(tmp_path, 4, 8000, 0.1, seed=0)
    got = data.load("folders", tmp_path)
    assert list(got) == ["guitar", "piano"] and got["piano"].shape == (3, 75_000)
    kw = dict(sample_rate=8000, clip_seconds=0.2, validation_fraction=0.5, seed=1)
    got = data.load("folders", tmp_path, "validation", **kw)
    _equal(got, data.load_two_domains("folders", tmp_path, "validation", **kw))
    files = data.list_audio_files(tmp_path / "piano")
    _, val = data.split_train_validation(files, 2, 2, seed=1)
    _equal(got["piano"], data.load_clips(val, 8000, 1600)[0])


def test_synthetic_defaults_and_explicit_options():
    a, b = data.two_timbre_clips(2, 25_000, 3.0, seed=0)
    _equal(data.load("synthetic", n_per_domain=2), {"piano": a, "guitar": b})
    got = data.load("synthetic", split="validation", sample_rate=8000, clip_seconds=0.1, seed=3)
    assert got["piano"].shape == (8, 800)  # 8 validation clips by default
    _equal(got, data.load_two_domains("synthetic", None, "validation", sample_rate=8000,
                                      clip_seconds=0.1, seed=3))


def test_sc09_both_layouts(wavegan_tree, speech_commands_tree):  # noqa: F811
    _equal(data.load("sc09", wavegan_tree), data.load_sc09(wavegan_tree, "train"))
    waves, labels = data.load("sc09", speech_commands_tree, "testing")
    assert waves.shape == (2, 16384) and labels.tolist() == [9, 7]
    kw = dict(sample_rate=8000, slice_len=9000, normalize=True)
    _equal(data.load("sc09", speech_commands_tree, "valid", **kw),
           data.load_sc09(speech_commands_tree, "valid", **kw))


def test_audio_folder(folder_tree):
    got = data.load("audio_folder", folder_tree)
    _equal(got, data.folder_slices(folder_tree, 16384, 16000))
    # a: 1 slice; b (2.5 s): 2 or 3 after the random offset; c (1.5 s once resampled): 2
    assert got.shape[1] == 16384 and 5 <= got.shape[0] <= 6
    kw = dict(slice_len=4000, sample_rate=8000, first_slice=True, normalize=True)
    _equal(data.load("audio_folder", folder_tree, **kw), data.folder_slices(folder_tree, **kw))


@pytest.mark.parametrize("layout", [0, 1])
def test_nsynth_both_layouts(trees, layout):  # noqa: F811
    root = trees[layout]
    got = data.load("nsynth", root, "train", gansynth_subset=True)
    assert isinstance(got, tf.data.Dataset)
    want = _as_numpy(nsynth.nsynth_dataset(root, "train", gansynth_subset=True))
    assert len(want) == 3
    for a, b in zip(_as_numpy(got), want, strict=True):
        assert list(a) == list(b)
        for key in a:
            np.testing.assert_array_equal(a[key], b[key])


def test_synthetic_digits_and_notes_splits_pick_seeds():
    waves, labels = data.load("synthetic_digits")
    assert waves.shape == (640, 16384) and labels.shape == (640,)
    _equal(data.load("synthetic_digits", "ignored", "valid", n_per_class=1, slice_len=4000,
                     seed=3),
           data.digit_clips(1, slice_len=4000, seed=1003))  # recipes/sc09_classifier.py rule
    notes = data.load("synthetic_notes", n=2, seconds=0.5)
    _equal(notes, data.synthetic_notes(2, seconds=0.5))
    assert data.load("synthetic_notes")["audio"].shape == (64, 64000)
    _equal(data.load("synthetic_notes", split="validation", n=2, seconds=0.25, seed=4),
           data.synthetic_notes(2, seconds=0.25, seed=5))  # recipes/pitch_classifier.py rule


# ---- clear errors ------------------------------------------------------------------------------

def test_unknown_name_split_and_option():
    with pytest.raises(ValueError, match="unknown dataset 'sc9'; valid names: " + ", ".join(NAMES)):
        data.load("sc9")
    with pytest.raises(ValueError, match="unknown split 'validation' for dataset 'audio_folder'; "
                                         "valid splits: train$"):
        data.load("audio_folder", "x", "validation")
    with pytest.raises(ValueError, match="unknown split 'dev' for dataset 'sc09'; valid splits: "
                                         "train, valid, test, validation, testing$"):
        data.load("sc09", "x", "dev")
    with pytest.raises(ValueError, match="unknown option.s. clip_seconds for dataset 'sc09'; "
                                         "valid options: sample_rate, slice_len, normalize, "
                                         "strict, log$"):
        data.load("sc09", "x", clip_seconds=1.0)
    with pytest.raises(ValueError, match="unknown option.s. sample_rate for dataset 'nsynth'"):
        data.load("nsynth", "x", sample_rate=16000)


@pytest.mark.parametrize("name", FILE_DATASETS)
def test_file_datasets_need_data_dir(name):
    with pytest.raises(ValueError, match=f"dataset '{name}' needs data_dir"):
        data.load(name)


# ---- inspect_data (what `tfaudiogan datasets --data_dir` prints) -------------------------------

def test_inspect_counts(irmas_root, wavegan_tree, folder_tree, trees, tmp_path):  # noqa: F811
    assert data.inspect_data("irmas", irmas_root, instruments=("pia", "gel")) == [
        ("pia (piano)", 6, "audio files"), ("gel (electric guitar)", 4, "audio files")]
    with pytest.raises(ValueError, match="not found"):  # the other 8 instruments are missing
        data.inspect_data("irmas", irmas_root)
    assert data.inspect_data("folders", irmas_root, instruments=("gel", "cel")) == [
        ("gel", 5, "audio files"), ("cel", 1, "audio files")]
    assert data.inspect_data("sc09", wavegan_tree.parent) == [
        ("train (wavegan layout)", 5, "audio files"), ("valid (wavegan layout)", 1, "audio files"),
        ("test (wavegan layout)", 1, "audio files")]
    assert data.inspect_data("audio_folder", folder_tree) == [(str(folder_tree), 3,
                                                               "audio files")]
    assert data.inspect_data("nsynth", trees[0]) == [("nsynth-train", 1, "TFRecord files")]
    assert data.inspect_data("nsynth", trees[1]) == [("nsynth-train", 9, "notes (json+wav)")]
    with pytest.raises(FileNotFoundError, match="no NSynth data"):
        data.inspect_data("nsynth", tmp_path)
    with pytest.raises(ValueError, match="'synthetic_notes' is built in and reads no files; "
                                         "datasets read from a folder: " + ", ".join(FILE_DATASETS)):
        data.inspect_data("synthetic_notes", tmp_path)


# ---- the one skip-bad-file format, in each of the three readers --------------------------------

def _skip_records(caplog):
    return [r for r in caplog.records if r.msg == SKIP_MESSAGE]


def _summaries(caplog):
    return [r.args for r in caplog.records if r.msg == SUMMARY_MESSAGE]


def test_skip_policy_unit(tmp_path, caplog):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio")
    good = tmp_path / "good.wav"
    sf.write(good, np.full(100, 0.25, np.float32), 8000, subtype="FLOAT")
    policy = SkipPolicy(log=logging.getLogger(LOGGER))
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        assert policy.decode(bad, 8000) is None
        np.testing.assert_array_equal(policy.decode(good, 8000), np.full(100, 0.25, np.float32))
        policy.finish(2, "'here'")
    (record,) = _skip_records(caplog)
    assert record.args[0] == str(bad) and "not a readable audio file" in record.args[1]
    assert record.getMessage().startswith(f"skipping bad file '{bad}': not a readable")
    assert SKIP_MESSAGE % ("x.wav", "why") == "skipping bad file 'x.wav': why"
    assert _summaries(caplog) == [(1, 2)] and "skipped 1 of 2 files" in caplog.text
    assert len(policy) == 1 and policy.skipped[0][0] == bad and str(bad) in policy.skipped[0][1]
    with pytest.raises(ValueError, match=r"all 1 audio files in 'here' failed to decode; "
                                         r"first error: cannot decode audio file '.*bad.wav'"):
        policy.finish(1, "'here'")
    with pytest.raises(AudioDecodeError, match="bad.wav"):
        SkipPolicy(strict=True).decode(bad, 8000)


def test_one_format_in_load_clips_folder_slices_and_nsynth(tmp_path, examples, caplog):  # noqa: F811
    log = logging.getLogger(LOGGER)
    _ramp_file(tmp_path / "clips" / "a.wav", 3000)
    bad_clip = tmp_path / "clips" / "b.wav"
    bad_clip.write_bytes(b"RIFF\x00\x00garbage")
    nsynth_writer.write_json_wav(tmp_path / "nsynth-train", examples[:2])
    bad_note = tmp_path / "nsynth-train" / "audio" / (
        nsynth_writer.complete_example(examples[0])["note_str"] + ".wav")
    bad_note.write_bytes(b"")
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        audio_files.load_clips(audio_files.list_audio_files(tmp_path / "clips"), 16000, 100,
                               log=log)
        data.folder_slices(tmp_path / "clips", 1024, 16000, log=log)
        notes = _as_numpy(data.load("nsynth", tmp_path, log=log))
    assert len(notes) == 1
    records = _skip_records(caplog)
    assert [r.args[0] for r in records] == [str(bad_clip), str(bad_clip), str(bad_note)]
    assert records[2].args[1] == "file is empty (0 bytes)"
    assert _summaries(caplog) == [(1, 2), (1, 2)]  # NSynth: a dataset has no end-of-pass line
    warnings = [r for r in caplog.records if r.name == LOGGER and r.levelno >= logging.WARNING]
    assert len(warnings) == len(records) + 2  # nothing but the one format and the summaries
    with pytest.raises(AudioDecodeError, match="b.wav"):
        data.load("audio_folder", tmp_path / "clips", strict=True)
    with pytest.raises(AudioDecodeError, match="b.wav"):
        audio_files.load_clips([bad_clip], 16000, 100, strict=True)
    with pytest.raises(tf.errors.OpError, match=bad_note.name):
        list(data.load("nsynth", tmp_path, strict=True))
