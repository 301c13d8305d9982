"""tfaudiogan.data: dataset readers, synthetic data and tf.data pipelines.

:func:`load` ``(name, data_dir=None, split="train", **options)`` is the one entry point to
every reader, with per-dataset defaults; :data:`DATASETS` describes each entry (description,
splits, options and defaults, return type) and :func:`inspect_data` counts what a reader finds
in a folder (see :mod:`tfaudiogan.data.registry`). Undecodable files are handled by the one
policy of :mod:`tfaudiogan.data.bad_files`. The readers stay importable and callable on their
own.
"""

from __future__ import annotations

from tfaudiogan.data.audio_files import (
    AUDIO_EXTENSIONS,
    list_audio_files,
    load_clips,
    load_two_folders,
)
from tfaudiogan.data.bad_files import SkipPolicy
from tfaudiogan.data.irmas import (
    INSTRUMENTS,
    IrmasTags,
    list_irmas,
    parse_irmas_filename,
    recording_id,
    split_train_validation,
)
from tfaudiogan.data.nsynth import (
    gansynth_filter,
    nsynth_dataset,
    pitch_histogram,
    pitch_labelled,
)
from tfaudiogan.data.nsynth_writer import write_json_wav, write_tfrecord
from tfaudiogan.data.pipelines import (
    cache_if_fits,
    encode_spectrograms,
    spectrogram_crops,
    unaligned_pairs,
)
from tfaudiogan.data.registry import DATASETS, DatasetSpec, dataset_spec, inspect_data, load
from tfaudiogan.data.sc09 import list_sc09, load_sc09
from tfaudiogan.data.slices import folder_slices
from tfaudiogan.data.synthetic import (
    guitar_like_phrase,
    piano_like_phrase,
    two_timbre_clips,
    write_two_timbre_folders,
)
from tfaudiogan.data.synthetic_digits import digit_clips
from tfaudiogan.data.synthetic_notes import synthetic_notes
from tfaudiogan.data.two_domains import folder_domains, load_two_domains

__all__ = [
    "digit_clips",
    "folder_slices",
    "list_sc09",
    "load_sc09",
    "gansynth_filter",
    "nsynth_dataset",
    "pitch_histogram",
    "pitch_labelled",
    "synthetic_notes",
    "write_json_wav",
    "write_tfrecord",
    "AUDIO_EXTENSIONS",
    "DATASETS",
    "DatasetSpec",
    "SkipPolicy",
    "INSTRUMENTS",
    "IrmasTags",
    "cache_if_fits",
    "dataset_spec",
    "encode_spectrograms",
    "folder_domains",
    "inspect_data",
    "guitar_like_phrase",
    "list_audio_files",
    "list_irmas",
    "load",
    "load_clips",
    "load_two_domains",
    "load_two_folders",
    "parse_irmas_filename",
    "piano_like_phrase",
    "recording_id",
    "spectrogram_crops",
    "split_train_validation",
    "two_timbre_clips",
    "unaligned_pairs",
    "write_two_timbre_folders",
]
