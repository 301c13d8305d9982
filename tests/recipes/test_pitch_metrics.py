"""Scoring generated notes with the pitch classifier: rows, reference sets, missing inputs."""

import logging
from dataclasses import replace

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfaudiogan.configs.pitch_classifier import PitchMetricsConfig
from tfaudiogan.recipes import pitch_metrics

RATE = 16000


@pytest.fixture(scope="module")
def classifier(tiny_pitch_classifier):
    return pitch_metrics.find_classifier(str(tiny_pitch_classifier), logging.getLogger("t"))


@pytest.fixture(scope="module")
def real():
    return pitch_metrics.synthetic_reference(40, RATE, 8000, range(40, 70), seed=5)


def test_a_run_directory_or_the_file_loads(tiny_pitch_classifier):
    logger = logging.getLogger("t")
    by_dir = pitch_metrics.find_classifier(str(tiny_pitch_classifier), logger)
    by_file = pitch_metrics.find_classifier(
        str(tiny_pitch_classifier / pitch_metrics.MODEL_FILE), logger)
    assert by_dir.inputs[0].shape[-1] == by_file.inputs[0].shape[-1] == 16000
    assert by_dir.get_layer("embedding") is not None


def test_missing_classifier_is_skipped_with_a_warning_naming_the_command(tmp_path, caplog):
    logger = logging.getLogger("tfaudiogan.test.pitch_metrics")
    with caplog.at_level(logging.WARNING, logger=logger.name):
        assert pitch_metrics.find_classifier(str(tmp_path / "nope"), logger) is None
    assert "nope" in caplog.text
    assert "python -m tfaudiogan.experiments.nsynth_pitch_classifier" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger=logger.name):
        assert pitch_metrics.find_classifier("", logger) is None
    assert caplog.text == ""


def test_fit_length_cuts_or_pads_with_zeros_at_the_end():
    x = np.arange(12, dtype=np.float32).reshape(2, 6) + 1
    np.testing.assert_array_equal(pitch_metrics.fit_length(x, 4), x[:, :4])
    padded = pitch_metrics.fit_length(x, 9)
    assert padded.shape == (2, 9)
    np.testing.assert_array_equal(padded[:, :6], x)
    assert not padded[:, 6:].any()


def test_synthetic_reference_is_seeded_and_in_range(real):
    audio, pitch = real
    assert audio.shape == (40, 8000) and audio.dtype == np.float32
    assert pitch.dtype == np.int32 and pitch.min() >= 40 and pitch.max() < 70
    again, _ = pitch_metrics.synthetic_reference(40, RATE, 8000, range(40, 70), seed=5)
    np.testing.assert_array_equal(audio, again)
    other, _ = pitch_metrics.synthetic_reference(40, RATE, 8000, range(40, 70), seed=6)
    assert not np.allclose(audio, other)


def test_dataset_reference_takes_n_shuffled_notes_and_refuses_too_few():
    audio = np.arange(20, dtype=np.float32)[:, None] * np.ones([1, 5], np.float32)
    ds = tf.data.Dataset.from_tensor_slices((audio, np.arange(20, dtype=np.int32) + 30))
    a, p = pitch_metrics.dataset_reference(ds, 8, seed=3, shuffle_buffer=20)
    assert a.shape == (8, 5) and len(set(p.tolist())) == 8
    np.testing.assert_array_equal(a[:, 0], p - 30)  # audio and pitch stay paired
    assert sorted(p.tolist()) != list(range(30, 38))  # shuffled, not the first eight
    b, q = pitch_metrics.dataset_reference(ds, 8, seed=3, shuffle_buffer=20)
    np.testing.assert_array_equal(p, q)
    with pytest.raises(ValueError, match="needs 30 real notes, the dataset has 20"):
        pitch_metrics.dataset_reference(ds, 30, seed=3, shuffle_buffer=20)


def test_generate_notes_batches_seeded_latents_and_forwards_pitches():
    calls = []

    def generate(z, pitch):
        calls.append((z.shape, None if pitch is None else pitch.tolist()))
        return np.repeat(z[:, :1], 3, axis=1)

    pitches = np.arange(10, dtype=np.int32) + 40
    out = pitch_metrics.generate_notes(generate, 4, 10, 4, pitches, seed=2)
    assert out.shape == (10, 3)
    assert [c[0] for c in calls] == [(4, 4), (4, 4), (2, 4)]
    assert sum((c[1] for c in calls), []) == pitches.tolist()
    again = pitch_metrics.generate_notes(generate, 4, 10, 5, None, seed=2)
    np.testing.assert_array_equal(out, again)  # same latents whatever the batch size
    assert calls[-1][1] is None


def test_real_notes_scored_as_generated_give_the_calibration_row(classifier, real):
    audio, pitch = real
    config = PitchMetricsConfig(is_splits=5, ndb_bins=5)
    table = pitch_metrics.score(classifier, audio[20:], pitch[20:], audio, pitch, config)
    assert table["reference_notes"] == 20 and table["generated_notes"] == 20
    assert table["generated"] == table["real_data"]
    row = table["real_data"]
    assert set(row) >= {"inception_score", "pitch_accuracy", "pitch_entropy",
                        "frechet_distance", "ndb", "jsd"}
    assert 1.0 <= row["inception_score"]["mean"] <= 61.0
    assert 0.0 <= row["pitch_accuracy"] <= 1.0
    assert 0 <= row["ndb"] <= 5
    assert np.isfinite(row["frechet_distance"]) and row["frechet_distance"] >= 0.0


def test_an_unconditional_generator_gets_no_pitch_accuracy_and_ndb_needs_enough_notes(
        classifier, real):
    audio, pitch = real
    silent = np.zeros([20, 4000], np.float32)  # shorter than the classifier input: padded
    config = PitchMetricsConfig(is_splits=5, ndb_bins=50)
    table = pitch_metrics.score(classifier, silent, None, audio, pitch, config)
    assert table["generated"]["pitch_accuracy"] is None
    assert "ndb" not in table["generated"]  # 20 notes < 2 * 50
    assert table["generated"]["frechet_distance"] > 0.0
    text = pitch_metrics.row_summary(table["generated"])
    assert text.startswith("IS ") and "PA" not in text and "FD" in text


def test_too_few_notes_for_the_inception_splits_is_a_clear_error(classifier, real):
    audio, pitch = real
    with pytest.raises(ValueError, match="at least 10 notes per set"):
        pitch_metrics.score(classifier, audio[:4], pitch[:4], audio, pitch,
                            replace(PitchMetricsConfig(), is_splits=10))


def test_the_classifiers_calibration_row_says_why_it_is_missing_with_one_note(
        tiny_pitch_classifier, real):
    from tfaudiogan.recipes.pitch_classifier import MODEL_FILE, calibration

    model = keras.models.load_model(tiny_pitch_classifier / MODEL_FILE)
    audio, pitch = real
    audio = np.pad(audio, [(0, 0), (0, 16000 - audio.shape[1])])  # the classifier's 1 s input
    batches = [(audio[:4], pitch[:4] - 24)]
    full = calibration(model, batches, batches, 24)
    assert np.isfinite(full["frechet_distance"]) and "note" not in full
    one = calibration(model, batches, [(audio[4:5], pitch[4:5] - 24)], 24)
    assert one["eval_notes"] == 1 and "frechet_distance" not in one
    assert "at least 2 notes" in one["note"] and "1 evaluation" in one["note"]
