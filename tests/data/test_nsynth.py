"""NSynth reader: both layouts, the GANSynth subset and split, histogram, and clear errors."""

import logging

import numpy as np
import pytest
import tensorflow as tf

from tfaudiogan.data import nsynth, nsynth_writer
from tfaudiogan.data.synthetic_notes import synthetic_notes, to_examples

# (pitch, instrument_source, instrument_family, velocity): the GANSynth filter boundaries
# 23/24/84/85 for acoustic notes, and in-range notes from the other two sources.
NOTES = [
    (23, 0, 0, 25), (24, 0, 1, 50), (60, 0, 8, 127), (84, 0, 5, 75), (85, 0, 2, 100),
    (60, 1, 3, 100), (24, 1, 9, 25), (84, 2, 9, 50), (60, 2, 4, 127),
]
GANSYNTH_KEPT = (1, 2, 3)  # indices of NOTES in the GANSynth subset


def _examples(length=nsynth.AUDIO_LENGTH):
    rng = np.random.default_rng(7)
    out = []
    for i, (pitch, source, family, velocity) in enumerate(NOTES):
        # multiples of 1/32768 survive 16-bit PCM exactly, so both layouts can be compared
        audio = rng.integers(-20000, 20000, length) / 32768.0
        qualities = [int(b) for b in rng.integers(0, 2, 10)]
        out.append({"audio": audio.astype(np.float32), "pitch": pitch, "velocity": velocity,
                    "instrument_source": source, "instrument_family": family,
                    "instrument": 100 + i, "qualities": qualities})
    return out


@pytest.fixture(scope="module")
def examples():
    return _examples()


@pytest.fixture(scope="module")
def trees(tmp_path_factory, examples):
    """The same notes as a TFRecord tree and as a json+wav tree."""
    root = tmp_path_factory.mktemp("nsynth")
    nsynth_writer.write_tfrecord(root / "tf" / "nsynth-train.tfrecord", examples)
    nsynth_writer.write_json_wav(root / "json" / "nsynth-train", examples)
    return root / "tf", root / "json"


def _as_numpy(dataset):
    return [{k: v.numpy() for k, v in element.items()} for element in dataset]


def _assert_matches(elements, examples):
    assert len(elements) == len(examples)
    for got, ex in zip(elements, examples):
        want = nsynth_writer.complete_example(ex)
        assert set(got) == set(nsynth.OUTPUT_KEYS)
        assert got["note_str"].decode() == want["note_str"]
        assert got["audio"].dtype == np.float32 and got["audio"].shape == (64000,)
        np.testing.assert_array_equal(got["audio"], want["audio"])
        for key in ("pitch", "velocity", "instrument", "instrument_family", "instrument_source"):
            assert got[key].dtype == np.int32 and got[key] == want[key], key
        np.testing.assert_array_equal(got["qualities"], want["qualities"])


def test_feature_spec_is_the_reference_table(trees):
    spec = nsynth.FEATURE_SPEC
    assert len(spec) == 14
    assert spec["audio"].shape == [64000] and spec["audio"].dtype == tf.float32
    assert spec["qualities"].shape == [10] and isinstance(spec["qualities_str"],
                                                          tf.io.VarLenFeature)
    assert all(spec[k].shape == [] for k in ("note", "pitch", "velocity", "instrument_source"))
    # the canonical FixedLen spec parses our records exactly like parse_example
    serialized = next(iter(tf.data.TFRecordDataset(str(trees[0] / "nsynth-train.tfrecord"))))
    canonical = tf.io.parse_single_example(serialized, spec)
    ours = nsynth.parse_example(serialized)
    for key in spec:
        want = canonical[key]
        want = tf.sparse.to_dense(want) if isinstance(want, tf.SparseTensor) else want
        np.testing.assert_array_equal(ours[key].numpy(), want.numpy())
    assert ours["note_str"].numpy() == b"bass_acoustic_100-023-025"
    assert ours["sample_rate"].numpy() == 16000


def test_tfrecord_round_trip(trees, examples):
    _assert_matches(_as_numpy(nsynth.nsynth_dataset(trees[0], "train")), examples)


def test_json_wav_layout_equals_tfrecord_layout(trees, examples):
    from_json = _as_numpy(nsynth.nsynth_dataset(trees[1], "train"))
    from_tf = _as_numpy(nsynth.nsynth_dataset(trees[0], "train", layout="tfrecord"))
    _assert_matches(from_json, examples)
    for a, b in zip(from_json, from_tf):
        for key in nsynth.OUTPUT_KEYS:
            np.testing.assert_array_equal(a[key], b[key])


def test_sharded_gzip_records_one_folder_down(tmp_path, examples):
    shards = tmp_path / "extracted" / "nsynth-valid.tfrecord"
    nsynth_writer.write_tfrecord(shards / "part-00000.gz", examples[:4])
    nsynth_writer.write_tfrecord(shards / "part-00001.gz", examples[4:])
    (tmp_path / "nsynth-valid.tfrecord.tar").write_bytes(b"not extracted")  # ignored
    assert nsynth.find_tfrecords(tmp_path, "valid") == sorted(shards.iterdir())
    elements = _as_numpy(nsynth.nsynth_dataset(tmp_path, "validation"))  # alias of "valid"
    assert [e["note_str"] for e in elements] == [e["note_str"] for e in _as_numpy(
        nsynth.nsynth_dataset(tmp_path, "valid"))]
    assert [int(e["pitch"]) for e in elements] == [n[0] for n in NOTES]


@pytest.mark.parametrize("layout", ["tfrecord", "jsonwav"])
def test_gansynth_subset_keeps_exactly_acoustic_24_to_84(trees, examples, layout):
    root = trees[0] if layout == "tfrecord" else trees[1]
    want = [nsynth_writer.complete_example(examples[i])["note_str"].encode() for i in GANSYNTH_KEPT]
    subset = nsynth.nsynth_dataset(root, "train", layout=layout, gansynth_subset=True)
    assert [e["note_str"] for e in _as_numpy(subset)] == want
    filtered = nsynth.nsynth_dataset(root, "train", layout=layout).filter(nsynth.gansynth_filter)
    assert [e["note_str"] for e in _as_numpy(filtered)] == want


def test_gansynth_filter_on_a_batch():
    batch = {"pitch": tf.constant([23, 24, 84, 85, 60, 60, 60]),
             "instrument_source": tf.constant([0, 0, 0, 0, 0, 1, 2], tf.int64)}
    keep = nsynth.gansynth_filter(batch).numpy().tolist()
    assert keep == [False, True, True, False, True, False, False]
    # the pre-fix GANSynth code filtered source 1 by mistake; the parameter exposes it
    assert nsynth.gansynth_filter(batch, sources=(1,)).numpy().tolist()[5] is True


@pytest.mark.parametrize("layout", ["tfrecord", "jsonwav"])
def test_gansynth_splits_csv_reads_all_original_splits(tmp_path, examples, layout):
    done = [nsynth_writer.complete_example(ex, i) for i, ex in enumerate(examples)]
    writers = {"tfrecord": lambda s, exs: nsynth_writer.write_tfrecord(
        tmp_path / f"nsynth-{s}.tfrecord", exs),
        "jsonwav": lambda s, exs: nsynth_writer.write_json_wav(tmp_path / f"nsynth-{s}", exs)}
    writers[layout]("train", done[:5])
    writers[layout]("test", done[5:])
    rows = ["id,split"] + [f"{ex['note_str']},{'train' if i % 2 else 'valid'}"
                           for i, ex in enumerate(done)]
    csv_path = tmp_path / "nsynth-gansynth_splits.csv"
    csv_path.write_text("\n".join(rows) + "\n")
    want = [done[i]["note_str"] for i in (1, 3, 5, 7)]  # from both original splits
    assert nsynth.gansynth_split_ids(csv_path, "train") == want
    got = nsynth.nsynth_dataset(tmp_path, "train", gansynth_splits=csv_path)
    assert [e["note_str"].decode() for e in _as_numpy(got)] == want
    with pytest.raises(ValueError, match="assigns no notes to split 'test'"):
        nsynth.nsynth_dataset(tmp_path, "test", gansynth_splits=csv_path)


def test_pitch_histogram(trees):
    want = np.zeros(128, np.int64)
    for pitch, *_ in NOTES:
        want[pitch] += 1
    dataset = nsynth.nsynth_dataset(trees[0], "train")
    hist = nsynth.pitch_histogram(dataset)
    assert hist.shape == (128,) and hist.dtype == np.int64
    np.testing.assert_array_equal(hist, want)
    np.testing.assert_array_equal(nsynth.pitch_histogram(dataset.batch(4)), want)
    np.testing.assert_array_equal(nsynth.pitch_histogram([n[0] for n in NOTES]), want)
    assert hist[60] == 3 and hist.sum() == len(NOTES)
    with pytest.raises(ValueError, match=r"\[0, 128\)"):
        nsynth.pitch_histogram([3, 128])
    with pytest.raises(tf.errors.InvalidArgumentError, match="pitches must lie"):
        nsynth.pitch_histogram(tf.data.Dataset.from_tensor_slices([5, -1]))


def _one_record(tmp_path, drop=(), **changes):
    ex = nsynth_writer.complete_example(dict(_examples()[0], **changes))
    ex = {k: v for k, v in ex.items() if k not in drop}
    nsynth_writer.write_tfrecord(tmp_path / "nsynth-test.tfrecord", [ex], complete=False)
    return next(iter(tf.data.TFRecordDataset(str(tmp_path / "nsynth-test.tfrecord"))))


@pytest.mark.parametrize("field", ["pitch", "audio", "instrument_source", "note_str"])
def test_missing_field_names_the_field(tmp_path, field):
    serialized = _one_record(tmp_path, drop=(field,))
    with pytest.raises(ValueError, match=f"^NSynth record is missing field '{field}'$"):
        nsynth.parse_example(serialized)
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=rf"missing field \\?'{field}\\?'"):
        list(nsynth.nsynth_dataset(tmp_path, "test"))
    # fields that are not requested may be absent
    assert nsynth.parse_example(serialized, ["velocity"])["velocity"].numpy() == 25


def test_wrong_audio_length_is_an_error(tmp_path):
    serialized = _one_record(tmp_path, audio=np.zeros(63999, np.float32))
    with pytest.raises(ValueError, match="'audio' must hold 64000 values, found 63999"):
        nsynth.parse_example(serialized)
    with pytest.raises(tf.errors.InvalidArgumentError, match="must hold 64000 values"):
        list(nsynth.nsynth_dataset(tmp_path, "test"))
    assert nsynth.parse_example(serialized, audio_length=63999)["audio"].shape == (63999,)
    short = _examples(length=32000)[:1]
    nsynth_writer.write_json_wav(tmp_path / "json" / "nsynth-test", short)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"has 32000 samples.*expected 64000"):
        list(nsynth.nsynth_dataset(tmp_path / "json", "test"))


def test_json_record_missing_field(tmp_path, examples):
    split_dir = tmp_path / "nsynth-train"
    nsynth_writer.write_json_wav(split_dir, examples[:2])
    text = (split_dir / "examples.json").read_text().replace('"velocity"', '"velocityX"', 1)
    (split_dir / "examples.json").write_text(text)
    with pytest.raises(ValueError, match="bass_acoustic_100-023-025.*missing field 'velocity'"):
        nsynth.nsynth_dataset(tmp_path, "train")


def test_bad_wav_is_skipped_with_warning_or_raised_when_strict(tmp_path, examples, caplog):
    split_dir = tmp_path / "nsynth-train"
    nsynth_writer.write_json_wav(split_dir, examples[:3])
    bad = split_dir / "audio" / (nsynth_writer.complete_example(examples[1])["note_str"] + ".wav")
    bad.write_bytes(b"RIFF not really a wav file")
    with caplog.at_level(logging.WARNING):
        got = _as_numpy(nsynth.nsynth_dataset(tmp_path, "train"))
    assert [int(e["pitch"]) for e in got] == [NOTES[0][0], NOTES[2][0]]
    assert any(bad.name in r.getMessage() for r in caplog.records)
    with pytest.raises(tf.errors.OpError, match=bad.name):
        list(nsynth.nsynth_dataset(tmp_path, "train", strict=True))


def test_missing_directory_and_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="NSynth data directory .*does not exist"):
        nsynth.nsynth_dataset(tmp_path / "absent", "train")
    with pytest.raises(FileNotFoundError, match=r"no NSynth test data found; searched "
                                                r".*nsynth-test\.tfrecord\*.*examples\.json"):
        nsynth.nsynth_dataset(tmp_path, "test")
    with pytest.raises(FileNotFoundError, match=r"searched [^;]*nsynth-test/examples\.json$"):
        nsynth.nsynth_dataset(tmp_path, "test", layout="jsonwav")
    with pytest.raises(ValueError, match="unknown NSynth split 'dev'"):
        nsynth.nsynth_dataset(tmp_path, "dev")
    with pytest.raises(ValueError, match="unknown NSynth layout"):
        nsynth.nsynth_dataset(tmp_path, "test", layout="wav")


def test_synthetic_notes_through_the_writer(tmp_path):
    notes = synthetic_notes(4, seconds=4.0, seed=3)
    nsynth_writer.write_tfrecord(tmp_path / "nsynth-train.tfrecord", to_examples(notes))
    got = _as_numpy(nsynth.nsynth_dataset(tmp_path, "train", gansynth_subset=True))
    assert len(got) == 4  # pitches 24..84, acoustic: all pass the GANSynth filter
    np.testing.assert_array_equal(np.stack([e["audio"] for e in got]), notes["audio"])
    np.testing.assert_array_equal([e["instrument_family"] for e in got],
                                  notes["instrument_family"])
