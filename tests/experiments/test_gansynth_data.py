"""GANSynth training data: the paper's subset CSV (counts, missing CSV) on a real-layout tree."""

import logging
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

from tests.datasets import write_nsynth_tree as write_tree
from tfaudiogan.configs import gansynth as presets
from tfaudiogan.data import nsynth
from tfaudiogan.recipes import gansynth as training

LENGTH = 96  # the smoke preset's note length
LOG = logging.getLogger("test")


def nsynth_config(splits="auto", **data):
    config = presets.smoke()
    return replace(config, data=replace(config.data, dataset="nsynth", gansynth_splits=splits,
                                        **data))


@pytest.mark.parametrize("layout", ["tfrecord", "jsonwav"])
def test_paper_data_reads_the_subset_csv_over_all_original_splits(tmp_path, layout, caplog):
    train, _ = write_tree(tmp_path, layout)
    config = nsynth_config()
    with caplog.at_level(logging.INFO, logger="test"):
        notes, counts = training.load_notes(config, tmp_path, LOG)
    assert "50 training notes read of 50 train ids listed" in caplog.text
    assert int(counts.sum()) == len(train) == 12 * 4 + 2
    assert counts[60 - 24] == 2  # the valid and test notes the CSV assigns to train
    assert len(list(notes)) == len(train)
    summary = training.data_summary(config, tmp_path, counts)
    assert summary == {"dataset": "nsynth", "training_notes": 50,
                       "splits_csv": str(tmp_path / training.SPLITS_CSV), "csv_train_ids": 50}


def test_paper_preset_reads_the_csv_by_default():
    assert presets.paper().data.gansynth_splits == "auto"


def test_missing_splits_csv_is_a_one_line_error_naming_where_to_get_it(tmp_path):
    write_tree(tmp_path, "tfrecord")
    (tmp_path / training.SPLITS_CSV).unlink()
    with pytest.raises(FileNotFoundError) as err:
        training.load_notes(nsynth_config(), tmp_path, LOG)
    message = str(err.value)
    assert "\n" not in message and training.SPLITS_URL in message
    assert str(tmp_path / training.SPLITS_CSV) in message
    with pytest.raises(FileNotFoundError, match="elsewhere.csv"):
        training.load_notes(nsynth_config(str(tmp_path / "elsewhere.csv")), tmp_path, LOG)


def test_paper_command_without_the_csv_exits_with_one_line(tmp_path):
    write_tree(tmp_path / "data", "tfrecord")
    (tmp_path / "data" / training.SPLITS_CSV).unlink()
    proc = subprocess.run([sys.executable, "-m", "tfaudiogan.experiments.gansynth_nsynth",
                           "--data_dir", str(tmp_path / "data"), "--model_dir",
                           str(tmp_path / "run")], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("error:") and training.SPLITS_URL in last


def test_without_a_csv_only_on_request_nsynth_train_is_filtered(tmp_path):
    write_tree(tmp_path, "tfrecord")
    config = nsynth_config("none")
    _, counts = training.load_notes(config, tmp_path, LOG)
    assert int(counts.sum()) == 12 * 5  # nsynth-train only, every note
    assert training.data_summary(config, tmp_path, counts)["splits_csv"] is None


def _labels(ds, batches):
    return np.concatenate([y.numpy() for _, y in ds.take(batches)])


def test_full_shuffle_mixes_instrument_sorted_files_and_is_seeded(tmp_path):
    """The published files are sorted by instrument (here pitch 24 + instrument, so the label
    names the instrument): the whole-set order mixes them, a 2-note buffer does not."""
    write_tree(tmp_path, "tfrecord")
    config = nsynth_config()
    rep = training.representation(config)

    def source(seed):
        return training.nsynth_notes(config, tmp_path, LOG, shuffle_seed=seed)

    full = _labels(training.training_dataset(source, rep, config, stage=0), 3)
    assert len(set(full[:12].tolist())) >= 6  # the first 12 notes: many instruments
    again = _labels(training.training_dataset(source, rep, config, stage=0), 3)
    np.testing.assert_array_equal(full, again)  # same seed, same order
    other = _labels(training.training_dataset(source, rep, config, stage=1), 3)
    assert not np.array_equal(full, other)  # each stage its own seed
    # the resume contract: skipping k batches continues the same order
    skipped = _labels(training.training_dataset(source, rep, config, stage=0,
                                                skip_batches=1), 2)
    np.testing.assert_array_equal(skipped, full[4:])
    buffered = replace(config, data=replace(config.data, shuffle="buffer", shuffle_buffer=2))
    notes, _ = training.load_notes(buffered, tmp_path, LOG)
    first = _labels(training.training_dataset(notes, rep, buffered, stage=0), 3)
    assert len(set(first.tolist())) <= 4  # a small buffer keeps the file's instrument order


@pytest.mark.parametrize("layout", ["tfrecord", "jsonwav"])
def test_whole_set_order_is_a_new_permutation_each_epoch(tmp_path, layout):
    _, written = write_tree(tmp_path, layout)
    ds = nsynth.nsynth_dataset(tmp_path, "train", layout=layout, audio_length=LENGTH,
                               shuffle_seed=7)
    epochs = [[e["note_str"].numpy().decode() for e in ds] for _ in range(2)]
    train_file = [ex["note_str"] for ex in written[:60]]
    for order in epochs:
        assert sorted(order) == sorted(train_file)  # every note once
        assert order != train_file
    assert epochs[0] != epochs[1]
    again = nsynth.nsynth_dataset(tmp_path, "train", layout=layout, audio_length=LENGTH,
                                  shuffle_seed=7)
    assert [e["note_str"].numpy().decode() for e in again] == epochs[0]
    if layout == "tfrecord":  # the same records as the sequential reader, bit for bit
        plain = {e["note_str"].numpy(): e["audio"].numpy() for e in nsynth.nsynth_dataset(
            tmp_path, "train", audio_length=LENGTH)}
        for e in again.take(5):
            np.testing.assert_array_equal(e["audio"].numpy(), plain[e["note_str"].numpy()])


def test_tfrecord_index_finds_every_record_and_a_truncated_file_is_an_error(tmp_path):
    _, written = write_tree(tmp_path, "tfrecord")
    path = tmp_path / "nsynth-train.tfrecord"
    index = nsynth.tfrecord_index(path)
    assert index.shape == (60, 2)
    raw = path.read_bytes()
    first = nsynth.parse_example(raw[index[0, 0]:index[0, 0] + index[0, 1]], ["note_str"],
                                 LENGTH)
    assert first["note_str"].numpy().decode() == written[0]["note_str"]
    (tmp_path / "cut.tfrecord").write_bytes(raw[:-10])
    with pytest.raises(ValueError, match="truncated"):
        nsynth.tfrecord_index(tmp_path / "cut.tfrecord")


def test_built_in_notes_get_the_configured_noise_floor():
    config = presets.smoke()  # noiseless built-in notes
    noisy = replace(config, data=replace(config.data, synthetic_noise_rms=1e-3))
    audio = [np.stack([a for a, _ in training.load_notes(c, None, LOG)[0].as_numpy_iterator()])
             for c in (config, noisy)]
    floor = audio[1] - audio[0]
    np.testing.assert_allclose(np.sqrt(np.mean(floor**2)), 1e-3, rtol=0.1)
