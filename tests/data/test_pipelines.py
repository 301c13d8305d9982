"""Tests for the spectrogram crop pipelines and tfaudiogan.data.load."""

import numpy as np
import pytest
import tensorflow as tf

from tfaudiogan import data
from tfaudiogan.data import pipelines


class FakeRepresentation:
    """Stand-in for CycleGANSpectrogram: spec[b, f, t, 0] = waveform[b, t * hop] + f / 1000.

    Every value tells which clip, frame and row it came from, so crops can be located exactly.
    """

    def __init__(self, freq_bins=5, hop=10):
        self.freq_bins = freq_bins
        self.hop = hop
        self.calls = []

    def encode(self, waveform):
        x = np.asarray(waveform)
        self.calls.append(x.shape[0])
        frames = x[:, :: self.hop]  # [batch, frames]; frames = ceil(samples / hop)
        spec = frames[:, None, :] + np.arange(self.freq_bins)[None, :, None] / 1000.0
        return tf.constant(spec[..., None], tf.float32), None


def _clips(n, frames, hop=10):
    """``[n, frames * hop]``: sample value 0.01 * (i + t / 1000) for clip i, frame t.

    With FakeRepresentation, row 0 of a crop therefore starts with 0.01 * (i + t0 / 1000).
    """
    t = np.arange(frames * hop) // hop
    return (np.arange(n)[:, None] * 1.0 + t[None, :] * 1e-3).astype(np.float32) * 0.01


def _decode_position(spec, freq):
    """(clip index, first frame) of a crop [freq, crop, 1] made by FakeRepresentation."""
    v = spec[0, 0, 0] * 100.0  # i + t0 / 1000
    return int(round(v)), int(round((v - round(v)) * 1000))


def test_encode_spectrograms_batches():
    rep = FakeRepresentation()
    specs = pipelines.encode_spectrograms(_clips(7, 12), rep, batch_size=3)
    assert specs.shape == (7, 5, 12, 1) and specs.dtype == np.float32
    assert rep.calls == [3, 3, 1]
    np.testing.assert_allclose(specs[:, 2, 0, 0], np.arange(7) * 0.01 + 0.002, atol=1e-6)


def test_training_crops_shape_and_content():
    rep = FakeRepresentation(freq_bins=5)
    clips = _clips(6, 20)
    ds = pipelines.spectrogram_crops(clips, rep, crop_frames=8, batch_size=4, seed=3)
    assert ds.element_spec.shape.as_list() == [4, 5, 8, 1]
    assert ds.element_spec.dtype == tf.float32
    full = pipelines.encode_spectrograms(clips, rep)
    seen_clips, offsets = set(), set()
    for batch in ds.take(12):  # 48 examples from an endless stream
        batch = batch.numpy()
        for spec in batch:
            i, t0 = _decode_position(spec, 5)
            np.testing.assert_allclose(spec, full[i, :, t0:t0 + 8], atol=1e-6)
            seen_clips.add(i)
            offsets.add(t0)
    assert seen_clips == set(range(6))  # repeats past the 6 clips
    assert offsets <= set(range(13)) and len(offsets) > 5  # random offsets over 0..12


def test_training_stream_is_seeded():
    rep = FakeRepresentation()
    clips = _clips(5, 16)

    def first(seed):
        ds = pipelines.spectrogram_crops(clips, rep, crop_frames=6, batch_size=2, seed=seed)
        return np.stack([b.numpy() for b in ds.take(5)])

    np.testing.assert_array_equal(first(0), first(0))
    assert not np.array_equal(first(0), first(1))


def test_epochs_are_reshuffled():
    rep = FakeRepresentation()
    ds = pipelines.spectrogram_crops(_clips(8, 4), rep, crop_frames=4, batch_size=8, seed=0)
    epochs = [[_decode_position(s, 5)[0] for s in b.numpy()] for b in ds.take(3)]
    for order in epochs:
        assert sorted(order) == list(range(8))  # one batch of 8 = exactly one epoch
    assert len({tuple(o) for o in epochs}) > 1


def test_short_clips_are_padded_with_minus_one():
    rep = FakeRepresentation(freq_bins=3)
    clips = _clips(2, 4)  # 4 frames < crop 7
    ds = pipelines.spectrogram_crops(clips, rep, crop_frames=7, batch_size=2, seed=0)
    batch = next(iter(ds)).numpy()
    assert batch.shape == (2, 3, 7, 1)
    np.testing.assert_array_equal(batch[:, :, 4:], -1.0)
    assert np.all(batch[:, :, :4] > -1.0)
    ev = pipelines.spectrogram_crops(clips, rep, crop_frames=7, batch_size=2, training=False)
    np.testing.assert_array_equal(next(iter(ev)).numpy()[:, :, 4:], -1.0)


def test_evaluation_centre_crops_in_order():
    rep = FakeRepresentation()
    clips = _clips(5, 21)
    ds = pipelines.spectrogram_crops(clips, rep, crop_frames=8, batch_size=2, training=False)
    batches = [b.numpy() for b in ds]
    assert [b.shape[0] for b in batches] == [2, 2, 1]  # no repeat, last batch kept
    specs = np.concatenate(batches)
    full = pipelines.encode_spectrograms(clips, rep)
    np.testing.assert_allclose(specs, full[:, :, 6:14], atol=0)  # (21 - 8) // 2 = 6
    again = np.concatenate([b.numpy() for b in ds])
    np.testing.assert_array_equal(specs, again)


def test_unaligned_pairs():
    rep = FakeRepresentation()
    ds_a = pipelines.spectrogram_crops(_clips(4, 10), rep, 6, 2, seed=0)
    ds_b = pipelines.spectrogram_crops(_clips(3, 10) + 0.5, rep, 6, 2, seed=1)
    pairs = pipelines.unaligned_pairs(ds_a, ds_b)
    assert pairs.element_spec[0].shape.as_list() == [2, 5, 6, 1]
    for a, b in pairs.take(4):
        assert np.all(a.numpy() < 0.05) and np.all(b.numpy() > 0.49)  # domains never mix


def test_argument_errors():
    rep = FakeRepresentation()
    with pytest.raises(ValueError, match="crop_frames"):
        pipelines.spectrogram_crops(_clips(2, 8), rep, crop_frames=0, batch_size=1)
    with pytest.raises(ValueError, match=r"\[n, samples\]"):
        pipelines.spectrogram_crops(np.zeros(100), rep, crop_frames=4, batch_size=1)


def test_with_real_cyclegan_spectrogram():
    from tfaudiogan.audio.representations import CycleGANSpectrogram
    from tfaudiogan.audio.spectral import DFTSTFT

    rep = CycleGANSpectrogram(DFTSTFT(511, 127, 511))  # seed 002: hann 511 -> 256 bins
    a, b = data.two_timbre_clips(3, 8000, 0.5, seed=0)  # 4000 samples -> 1 + 4000 // 127 = 32
    ds_a = pipelines.spectrogram_crops(a, rep, crop_frames=16, batch_size=2, seed=0)
    ds_b = pipelines.spectrogram_crops(b, rep, crop_frames=16, batch_size=2, seed=1)
    real_a, real_b = next(iter(pipelines.unaligned_pairs(ds_a, ds_b)))
    assert real_a.shape == real_b.shape == (2, 256, 16, 1)
    for x in (real_a.numpy(), real_b.numpy()):
        assert x.min() >= -1.0 and x.max() <= 1.0
        assert x.std() > 0.05
    ev = pipelines.spectrogram_crops(a, rep, crop_frames=16, batch_size=2, training=False)
    full, _ = rep.encode(a)
    np.testing.assert_allclose(np.concatenate([e.numpy() for e in ev]),
                               full.numpy()[:, :, 8:24], atol=1e-6)  # (32 - 16) // 2 = 8


def test_load_synthetic():
    train = data.load("synthetic", split="train", sample_rate=8000, clip_seconds=0.25,
                      n_per_domain=3, seed=4)
    val = data.load("synthetic", split="validation", sample_rate=8000, clip_seconds=0.25,
                    n_per_domain=3, seed=4)
    assert list(train) == ["piano", "guitar"]
    assert train["piano"].shape == train["guitar"].shape == (3, 2000)
    a, b = data.two_timbre_clips(3, 8000, 0.25, seed=4)
    np.testing.assert_array_equal(train["piano"], a)
    np.testing.assert_array_equal(train["guitar"], b)
    for domain in train:  # validation clips are new clips, not copies of train
        corr = np.corrcoef(np.concatenate([train[domain], val[domain]]))[:3, 3:]
        assert np.max(np.abs(corr)) < 0.9


def test_load_synthetic_default_sizes():
    val = data.load("synthetic", split="validation", sample_rate=2000, clip_seconds=0.1)
    assert val["piano"].shape == (8, 200)  # 8 validation clips per domain by default


def test_load_folders(tmp_path):
    data.write_two_timbre_folders(tmp_path, 10, 8000, 0.1, seed=0)  # piano/, guitar/
    (tmp_path / "guitar" / "bad.wav").write_bytes(b"not audio")
    kw = dict(sample_rate=8000, clip_seconds=0.1, seed=0)
    train = data.load("folders", tmp_path, "train", **kw)
    val = data.load("folders", tmp_path, "validation", **kw)
    assert list(train) == ["guitar", "piano"]  # sorted sub-folder names
    # piano: 10 files -> 1 validation (10 %) + 9 train; guitar: 11 listed (1 bad) -> 1 + 10
    assert train["piano"].shape == (9, 800) and val["piano"].shape == (1, 800)
    assert train["guitar"].shape[0] + val["guitar"].shape[0] == 10


def test_load_folders_needs_two_subfolders(tmp_path):
    (tmp_path / "only").mkdir()
    with pytest.raises(ValueError, match=r"exactly two sub-folders.*found 1: \['only'\]"):
        data.load("folders", tmp_path, sample_rate=8000, clip_seconds=0.1)


def test_load_rejects_unknown_name_and_split():
    with pytest.raises(ValueError, match="unknown dataset 'irmass'; valid names: irmas, folders, "
                                         "synthetic, sc09, audio_folder, nsynth, "
                                         "synthetic_digits, synthetic_notes$"):
        data.load("irmass", sample_rate=16000, clip_seconds=1.0)
    with pytest.raises(ValueError, match="valid splits: train, validation"):
        data.load("synthetic", split="test", sample_rate=16000, clip_seconds=1.0)


@pytest.mark.parametrize("limit, decodes", [(10 * 4 * 6, 6), (10 * 4 * 6 - 1, 12)])
def test_cache_if_fits_decodes_once_only_when_the_data_fit(limit, decodes):
    calls = []

    def decode(i):
        calls.append(int(i))
        return np.full(10, i, np.float32)

    ds = tf.data.Dataset.range(6).map(lambda i: tf.numpy_function(decode, [i], tf.float32))
    ds = pipelines.cache_if_fits(ds, 6, 10 * 4, limit=limit)
    ds = ds.shuffle(6, seed=1).repeat(2)
    values = [int(v[0]) for v in ds.as_numpy_iterator()]
    assert len(calls) == decodes
    assert sorted(values) == sorted(list(range(6)) * 2)
