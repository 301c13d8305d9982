"""Each family's training stream: parallel, prefetched, cached where it fits, and element for
element the same stream as the sequential pipeline it replaced (seeded runs resume exactly)."""

import logging

import numpy as np
import pytest
import tensorflow as tf

from tfaudiogan import configs
from tfaudiogan.audio.gansynth import normalise
from tfaudiogan.data.nsynth_writer import write_tfrecord
from tfaudiogan.data.order import shuffled_indices
from tfaudiogan.data.synthetic_notes import synthetic_notes, to_examples
from tfaudiogan.recipes import ddsp_gan, gansynth, wavegan

LOG = logging.getLogger("test")


def pipeline_ops(ds: tf.data.Dataset) -> list[tuple[str, dict]]:
    """(op, attributes) of every dataset op in the graph of ``ds``."""
    graph = tf.compat.v1.GraphDef.FromString(ds._as_serialized_graph().numpy())
    nodes = list(graph.node) + [n for f in graph.library.function for n in f.node_def]
    return [(n.op, n.attr) for n in nodes if n.op.endswith("Dataset") or "Dataset" in n.op]


def assert_parallel_and_prefetched(ds: tf.data.Dataset) -> None:
    ops = pipeline_ops(ds)
    maps = [attr for op, attr in ops if op.startswith("ParallelMapDataset")]
    # Order kept: "true", or "default" = the dataset option, which nothing turns off.
    assert maps and all(a["deterministic"].s in (b"true", b"default") for a in maps)
    assert ds.options().deterministic in (None, True)
    assert not [op for op, _ in ops if op == "MapDataset"]  # no sequential map left
    buffers = [attr for op, attr in ops if op == "PrefetchDataset"]
    assert buffers  # AUTOTUNE prefetch: its buffer size is the input -1 (a Const node)


def take(ds: tf.data.Dataset, n: int) -> list:
    return [tf.nest.map_structure(np.asarray, e) for e in ds.take(n)]


def assert_same_stream(a: list, b: list) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b):
        for u, v in zip(tf.nest.flatten(x), tf.nest.flatten(y)):
            np.testing.assert_array_equal(u, v)


@pytest.fixture(scope="module")
def gansynth_nsynth(tmp_path_factory):
    """The GANSynth smoke preset reading an NSynth TFRecord of 12 notes of 96 samples."""
    folder = tmp_path_factory.mktemp("nsynth")
    notes = synthetic_notes(12, 16000, 96 / 16000, pitches=range(40, 52), seed=3)
    write_tfrecord(folder / "nsynth-train.tfrecord", to_examples(notes))
    config = configs.apply_overrides(configs.get_preset("gansynth_nsynth", "smoke"),
                                     ["data.dataset=nsynth", "data.shuffle_buffer=5",
                                      "data.shuffle=buffer", "data.gansynth_splits=none"])
    notes_ds, counts = gansynth.load_notes(config, folder, LOG)
    return config, notes_ds, int(counts.sum())


def test_gansynth_stream_is_the_sequential_one(gansynth_nsynth):
    config, notes, n = gansynth_nsynth
    rep = gansynth.representation(config)
    ds = gansynth.training_dataset(notes, rep, config)
    assert_parallel_and_prefetched(ds)

    # The pipeline before issue 9: shuffle, batch, encode in a sequential map, prefetch(2).
    t = config.train
    encode = tf.function(lambda audio: normalise(rep.encode(audio)))
    old = (notes.shuffle(config.data.shuffle_buffer, seed=t.seed).repeat()
           .batch(t.batch_size, drop_remainder=True)
           .map(lambda audio, label: (encode(audio), label)).prefetch(2))
    steps = 3 * n // t.batch_size + 1  # more than two epochs: reshuffles
    got = take(ds, steps)
    assert_same_stream(got, take(old, steps))
    # a resumed stage's pipeline continues the same stream
    assert_same_stream(got[2:], take(gansynth.training_dataset(notes, rep, config,
                                                               skip_batches=2), steps - 2))


def test_wavegan_gathers_whole_batches_in_the_per_example_order(rng):
    config = configs.apply_overrides(configs.get_preset("wavegan_sc09", "smoke"),
                                     ["train.batch_size=3", "loss.d_updates=2"])
    x = rng.normal(size=(7, 16, 1)).astype(np.float32)
    ds = wavegan.real_dataset(x, config)
    assert_parallel_and_prefetched(ds)
    assert ds.element_spec.shape.as_list() == [3, 2, 16, 1]
    table = tf.constant(x)
    old = (shuffled_indices(7, config.train.seed)  # one example at a time, the same order
           .map(lambda i: tf.gather(table, i), num_parallel_calls=tf.data.AUTOTUNE)
           .batch(2, drop_remainder=True).batch(3, drop_remainder=True))
    assert_same_stream(take(ds, 8), take(old, 8))


def test_ddsp_nsynth_notes_are_sliced_in_parallel_and_prefetched(tmp_path):
    notes = synthetic_notes(4, 16000, 4.0, pitches=[60, 64], seed=1)
    write_tfrecord(tmp_path / "nsynth-train.tfrecord", to_examples(notes))
    config = configs.apply_overrides(configs.get_preset("ddsp_gan_nsynth", "smoke"),
                                     ["data.dataset=nsynth", "data.gansynth_subset=false"])
    loaded = ddsp_gan.load_notes(config, tmp_path, LOG)
    run = type("Run", (), {"config": config, "strategy": tf.distribute.get_strategy()})()
    ds = ddsp_gan.RECIPE.dataset(run, loaded)
    assert_parallel_and_prefetched(ds)
    batch = next(iter(ds))
    assert batch["audio"].shape == (4, config.model.n_samples)
