"""Tests for the IRMAS reader (tfaudiogan.data.irmas) and load("irmas") on a fake tree."""

import logging

import numpy as np
import pytest
import soundfile as sf

from tfaudiogan import data
from tfaudiogan.data import irmas
from tfaudiogan.data.irmas import IrmasTags

SR = 44100  # IRMAS training excerpts: 44.1 kHz stereo 16-bit (reference/cyclegan.md 4)

PIA_NAMES = [
    "[pia][cla]1283__1.wav",
    "[pia][cla]1283__2.wav",
    "001__[pia][nod][jaz_blu]0100__1.wav",
    "002__[pia][dru][pop_roc]0200__3.wav",
    "[pia][jaz_blu]1300__1.wav",
]
GEL_NAMES = [
    "001__[gel][dru][pop_roc]0829__1.wav",
    "003__[gel][nod][cou_fol]0830__2.wav",
    "[gel][lat_sou]0900__1.wav",
    "[gel][pop_roc]0901__1.wav",
]


def _stereo(seed, seconds=0.2):
    rng = np.random.default_rng(seed)
    n = int(SR * seconds)
    t = np.arange(n) / SR
    f = rng.uniform(200, 800)
    return np.stack([0.5 * np.sin(2 * np.pi * f * t), 0.3 * np.sin(2 * np.pi * f * t)], 1)


@pytest.fixture
def irmas_root(tmp_path):
    """A fake IRMAS download: parent/IRMAS-TrainingData/{pia,gel,cel}/..."""
    root = tmp_path / "download" / "IRMAS-TrainingData"
    for code, names in (("pia", PIA_NAMES), ("gel", GEL_NAMES), ("cel", ["[cel][cla]0001__1.wav"])):
        (root / code).mkdir(parents=True)
        for i, name in enumerate(names):
            sf.write(root / code / name, _stereo(i), SR, subtype="PCM_16")
    # a file in the gel folder whose tag says acoustic guitar
    sf.write(root / "gel" / "[gac][pop_roc]0777__1.wav", _stereo(9), SR, subtype="PCM_16")
    # a file in the pia folder whose name is not an IRMAS name
    sf.write(root / "pia" / "holiday_recording.wav", _stereo(10), SR, subtype="PCM_16")
    # a corrupt pia file with a valid name (found by list_irmas, skipped when decoding)
    (root / "pia" / "[pia][cla]9999__1.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunk")
    return root


@pytest.mark.parametrize(
    "name,expected",
    [
        (
            "001__[gel][dru][pop_roc]0829__1.wav",
            IrmasTags("gel", "dru", "pop_roc", "001", "0829__1"),
        ),
        ("008__[cel][nod][cla]0058__1.wav", IrmasTags("cel", "nod", "cla", "008", "0058__1")),
        ("[pia][cla]1283__1.wav", IrmasTags("pia", None, "cla", None, "1283__1")),
        ("[cla][nod][cla]0001__2.wav", IrmasTags("cla", "nod", "cla", None, "0001__2")),
        ("[cla][jaz_blu]0002__1.WAV", IrmasTags("cla", None, "jaz_blu", None, "0002__1")),
        ("[voi]0003__1.wav", IrmasTags("voi", None, None, None, "0003__1")),
    ],
)
def test_parse_irmas_filename(name, expected):
    assert irmas.parse_irmas_filename(name) == expected
    assert irmas.parse_irmas_filename(f"/some/dir/{name}") == expected


def test_cla_is_read_by_position():
    """[cla] is the clarinet in 1st position and classical in the genre position."""
    tags = irmas.parse_irmas_filename("[pia][cla]1283__1.wav")
    assert tags.instrument == "pia" and tags.genre == "cla" and tags.drums is None
    assert irmas.GENRES[tags.genre] == "classical"
    tags = irmas.parse_irmas_filename("[cla][pop_roc]0005__1.wav")
    assert irmas.INSTRUMENTS[tags.instrument] == "clarinet"


@pytest.mark.parametrize(
    "name",
    [
        "holiday.wav",
        "[pia][cla]1283__1.flac",
        "[xyz][cla]0001__1.wav",
        "[pia][rock]0001__1.wav",
        "[pia][dru][cla][pop_roc]0001__1.wav",
        "[pia][cla].wav",
    ],
)
def test_parse_irmas_filename_rejects_other_names(name):
    with pytest.raises(ValueError, match=rf"'{__import__('re').escape(name)}'"):
        irmas.parse_irmas_filename(name)


def test_instruments_table():
    assert len(irmas.INSTRUMENTS) == 11
    assert irmas.INSTRUMENTS["pia"] == "piano"
    assert irmas.INSTRUMENTS["gel"] == "electric guitar"


@pytest.mark.parametrize("use_parent", [False, True])
def test_list_irmas_checks_tags(irmas_root, use_parent, caplog):
    data_dir = irmas_root.parent if use_parent else irmas_root
    with caplog.at_level(logging.WARNING):
        files = irmas.list_irmas(data_dir, ("pia", "gel"))
    assert list(files) == ["pia", "gel"]
    assert [p.name for p in files["pia"]] == sorted(PIA_NAMES + ["[pia][cla]9999__1.wav"])
    assert [p.name for p in files["gel"]] == sorted(GEL_NAMES)
    assert all(p.parent == irmas_root / code for code in files for p in files[code])
    assert "[gac][pop_roc]0777__1.wav" in caplog.text and "disagrees" in caplog.text
    assert "holiday_recording.wav" in caplog.text


def test_list_irmas_errors(irmas_root, tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        irmas.list_irmas(tmp_path / "missing")
    with pytest.raises(ValueError, match=r"\['sax'\] not found") as err:
        irmas.list_irmas(irmas_root.parent, ("pia", "sax"))
    message = str(err.value)
    assert str(irmas_root) in message
    assert "['cel', 'gel', 'pia']" in message  # the folders it did find
    with pytest.raises(ValueError, match="unknown IRMAS instrument code"):
        irmas.list_irmas(irmas_root, ("pia", "piano"))
    wrong = tmp_path / "wrong"
    (wrong / "stuff").mkdir(parents=True)
    with pytest.raises(ValueError, match=r"\['pia', 'gel'\] not found.*found folders: \['stuff'\]"):
        irmas.list_irmas(wrong)


def test_split_full_size_is_deterministic_and_disjoint(tmp_path):
    files = [tmp_path / f"{i:04d}.wav" for i in range(700)]
    shuffled = list(np.random.default_rng(5).permutation(files))
    train, val = irmas.split_train_validation(shuffled, 600, 50, seed=0)
    assert len(train) == 600 and len(val) == 50
    assert not set(train) & set(val)
    assert train == sorted(train) and val == sorted(val)
    assert (train, val) == irmas.split_train_validation(files, 600, 50, seed=0)  # order-free
    train2, val2 = irmas.split_train_validation(files, 600, 50, seed=1)
    assert val2 != val
    # validation is taken first, so it does not depend on n_train
    assert irmas.split_train_validation(files, 100, 50, seed=0)[1] == val
    # worked example of the documented rule: sorted, then default_rng(seed).permutation
    perm = np.random.default_rng(0).permutation(700)
    assert val == sorted(files[i] for i in perm[:50])
    assert train == sorted(files[i] for i in perm[50:650])


@pytest.mark.parametrize(
    "n,expected",
    [(130, (120, 10)), (13, (12, 1)), (6, (5, 1)), (2, (1, 1)), (1, (1, 0)), (650, (600, 50))],
)
def test_split_shortfall_keeps_validation_share(tmp_path, n, expected, caplog):
    files = [tmp_path / f"{i}.wav" for i in range(n)]
    with caplog.at_level(logging.WARNING):
        train, val = irmas.split_train_validation(files, 600, 50, seed=3)
    assert (len(train), len(val)) == expected
    assert sorted(train + val) == sorted(files)
    assert ("only" in caplog.text) == (n < 650)


def test_split_edge_counts(tmp_path):
    files = [tmp_path / f"{i}.wav" for i in range(10)]
    assert irmas.split_train_validation(files, 0, 50)[0] == []
    assert len(irmas.split_train_validation(files, 0, 50)[1]) == 10
    assert len(irmas.split_train_validation(files, 50, 0)[0]) == 10
    with pytest.raises(ValueError):
        irmas.split_train_validation(files, 0, 0)
    with pytest.raises(ValueError):
        irmas.split_train_validation([], 600, 50)


def test_load_irmas_end_to_end(irmas_root, caplog):
    kw = dict(sample_rate=8000, clip_seconds=0.25, n_train=4, n_validation=1)
    with caplog.at_level(logging.WARNING):
        train = data.load("irmas", irmas_root.parent, "train", **kw)
        val = data.load("irmas", irmas_root.parent, "validation", **kw)
    assert list(train) == ["pia", "gel"]
    # the same split the loader uses: pia has 6 listed files (one corrupt) -> 4 train + 1
    # validation (one unused); gel has 4 -> shortfall rule 3 train + 1 validation
    listed = irmas.list_irmas(irmas_root, ("pia", "gel"))
    pia_train, pia_val = irmas.split_train_validation(listed["pia"], 4, 1, seed=0,
                                                       group=irmas.recording_id)
    corrupt = irmas_root / "pia" / "[pia][cla]9999__1.wav"
    assert corrupt in pia_train  # with seed 0, so the skip path below really runs
    assert train["pia"].shape == (3, 2000) and val["pia"].shape == (1, 2000)
    assert train["gel"].shape == (3, 2000) and val["gel"].shape == (1, 2000)
    assert "9999__1.wav" in caplog.text and "skipped 1 of 4 files" in caplog.text
    # 0.2 s of audio resampled to 8 kHz = 1600 samples, zero padded to 2000
    clips = np.concatenate([train["pia"], train["gel"], val["pia"], val["gel"]])
    assert np.all(np.abs(clips[:, 100:1500]).max(axis=1) > 0.1)
    np.testing.assert_array_equal(clips[:, 1610:], 0.0)


def test_load_irmas_strict_raises(irmas_root):
    from tfaudiogan.audio.io import AudioDecodeError

    with pytest.raises(AudioDecodeError, match="9999__1.wav"):  # 6 files: 5 + 1 uses all
        for split in ("train", "validation"):
            data.load("irmas", irmas_root, split, sample_rate=8000, clip_seconds=0.1,
                      n_train=5, n_validation=1, strict=True)


def test_load_irmas_needs_data_dir():
    with pytest.raises(ValueError, match="needs data_dir"):
        data.load("irmas", None, sample_rate=8000, clip_seconds=0.1)


@pytest.mark.parametrize("name, recording", [
    ("008__[cel][nod][cla]0058__2.wav", "0058"),
    ("[pia][cla]1283__1.wav", "1283"),
    ("001__[gel][dru][pop_roc]0829__1.wav", "0829"),
    ("[voi]0003.wav", "0003"),  # no excerpt number: its own recording
])
def test_recording_id(name, recording):
    assert irmas.recording_id(name) == recording


def _real_layout_tree(root, recordings):
    """``IRMAS-TrainingData/pia`` with 44.1 kHz 16-bit stereo excerpts named as the real
    download (prefixed and plain names; 1-3 excerpts per recording). Every sample of an
    excerpt of recording number r is (r + 1) / 256, so a decoded clip names its recording."""
    folder = root / "IRMAS-TrainingData" / "pia"
    folder.mkdir(parents=True)
    names = {}
    for r, excerpts in enumerate(recordings):
        rid = f"{1283 + r:04d}"
        stem = (f"{r % 90 + 1:03d}__[pia][nod][cla]{rid}" if r % 3 == 0
                else f"[pia][{('cla', 'jaz_blu', 'pop_roc')[r % 3]}]{rid}")
        for k in range(1, excerpts + 1):
            name = f"{stem}__{k}.wav"
            level = np.full((4410, 2), (r + 1) / 256.0)
            sf.write(folder / name, level, SR, subtype="PCM_16")
            names[name] = rid
    return folder, names


def test_split_keeps_every_recording_in_one_split(tmp_path):
    sizes = [3, 1, 2, 3, 3, 1, 2, 3] * 5  # 40 recordings, 90 excerpts
    folder, names = _real_layout_tree(tmp_path, sizes)
    files = irmas.list_irmas(tmp_path, ("pia",))["pia"]
    assert len(files) == 90

    def recordings(paths):
        return {irmas.recording_id(p) for p in paths}

    for seed in range(4):
        train, val = irmas.split_train_validation(files, 60, 12, seed=seed,
                                                  group=irmas.recording_id)
        assert (len(train), len(val)) == (60, 12)  # first fit reaches the requested counts
        assert not recordings(train) & recordings(val)
        # all excerpts of a chosen recording come along
        for chosen in (train, val):
            for rid in recordings(chosen):
                assert {p for p in files if names[p.name] == rid} <= set(chosen)
    # The same counts drawn file by file would split recordings (the leak this prevents).
    train, val = irmas.split_train_validation(files, 60, 12, seed=0)
    assert recordings(train) & recordings(val)


def test_load_irmas_never_shares_a_recording_between_splits(tmp_path):
    """Through data.load on the written tree: decode each clip's level back to its recording."""
    sizes = [3, 1, 2, 3] * 6  # 24 recordings, 54 excerpts; shortfall rule: 50 + 4 of 600 + 50
    _real_layout_tree(tmp_path, sizes)
    kw = dict(sample_rate=8000, clip_seconds=0.1, instruments=("pia",), seed=0)
    got = {split: data.load("irmas", tmp_path, split, **kw)["pia"]
           for split in ("train", "validation")}

    def recordings(clips):
        return set(np.round(np.median(clips[:, 100:700], axis=1) * 256).astype(int) - 1)

    assert len(got["validation"]) == 4 and len(got["train"]) == 50
    assert not recordings(got["train"]) & recordings(got["validation"])
    assert len(recordings(got["train"]) | recordings(got["validation"])) == 24


def test_split_says_when_whole_recordings_cannot_reach_the_counts(tmp_path, caplog):
    files = [tmp_path / f"[pia][cla]{r:04d}__{k}.wav" for r in range(6) for k in (1, 2, 3)]
    with caplog.at_level(logging.WARNING):
        train, val = irmas.split_train_validation(files, 8, 4, seed=0, group=irmas.recording_id)
    assert (len(train), len(val)) == (6, 3)  # groups of 3 only
    assert "whole recordings give 6 train + 3 validation files instead of 8 + 4" in caplog.text
