"""The WaveGAN paper's other datasets (drums, piano, birds, TIMIT) as presets of wavegan_sc09
and specgan_sc09 (issue 10 item 14; reference/wavegan.md sections 4.3 and 7)."""

import contextlib
import importlib
import io
import json
import logging
import os
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
from absl import flags

from tfaudiogan import configs
from tfaudiogan.configs.wavegan import FAMILY_SPECGAN, FAMILY_WAVEGAN, OTHER_DATASETS
from tfaudiogan.experiments import common
from tfaudiogan.recipes import wavegan as recipe

FLAGS = flags.FLAGS
NAMES = ("drums", "piano", "birds", "timit")
MODULES = {FAMILY_WAVEGAN: "wavegan_sc09", FAMILY_SPECGAN: "specgan_sc09"}
# preset -> (first_slice, pad_end): drums as the reference README's sound effects
# (--data_first_slice, padded), the others sliced as its music default (no padded tail).
SLICING = {"drums": (True, True), "piano": (False, False), "birds": (False, False),
           "timit": (False, False)}


def _entry_point(family, *args):
    """``python -m tfaudiogan.experiments.<module> args`` in this process:
    (exit code, stdout, stderr)."""
    entry = importlib.import_module(f"tfaudiogan.experiments.{MODULES[family]}")
    run = getattr(entry, "run_or_moments", getattr(entry, "run", None))
    common.define_flags()
    FLAGS.unparse_flags()
    FLAGS([MODULES[family], *args])
    out, err, code = io.StringIO(), io.StringIO(), 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            common.main_for(family, run)([MODULES[family]])
    except SystemExit as stop:
        code = stop.code
    finally:
        FLAGS.unparse_flags()
    return code, out.getvalue(), err.getvalue()


def _write_folder(root, rate=16000):
    """Two short hits (0.3 s), a 1.5 s chunk and a 3 s recording of noise, in subfolders."""
    rng = np.random.default_rng(0)
    lengths = {"kick/a.wav": 4800, "snare/b.wav": 4800, "c.wav": 24000, "d.wav": 48000}
    for name, n in lengths.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        sf.write(root / name, rng.uniform(-0.5, 0.5, n), rate, subtype="FLOAT")
    return root


@pytest.mark.parametrize("family", [FAMILY_WAVEGAN, FAMILY_SPECGAN])
@pytest.mark.parametrize("name", NAMES)
def test_presets_have_the_papers_data_settings(family, name):
    assert name in configs.preset_names(family)  # listed by --preset's help
    config, paper = configs.get_preset(family, name), configs.get_preset(family, "paper")
    d = config.data
    assert (d.dataset, d.sample_rate, config.model.slice_len) == ("folder", 16000, 16384)
    assert (d.first_slice, d.pad_end) == SLICING[name] == (
        OTHER_DATASETS[name]["first_slice"], OTHER_DATASETS[name]["pad_end"])
    assert (d.overlap, d.slices_per_file, d.normalize) == (0.0, 0, False)
    # the SC09 setup otherwise: same networks, loss and optimiser as the family's paper preset
    assert (config.model, config.loss, config.optimizer, config.spectrogram) == (
        paper.model, paper.loss, paper.optimizer, paper.spectrogram)
    assert config.train.batch_size == 64
    # no SC09 classifier for these sounds; the SC09 runs' length in G steps
    assert (config.eval.checkpoint_selection, config.eval.classifier_path) == ("last", "")
    g_steps = config.train.epochs * config.train.steps_per_epoch
    assert g_steps == (200_000 if family == FAMILY_WAVEGAN else 100_000)


@pytest.mark.parametrize("name, layout", [
    ("drums", "one sound per file, of which the first 16384 samples are used"),
    ("piano", "recordings of any length, cut into 16384-sample slices"),
])
def test_without_data_dir_the_error_names_the_folder_layout(tmp_path, name, layout):
    code, _, err = _entry_point(FAMILY_WAVEGAN, "--preset", name, "--model_dir",
                                str(tmp_path / "run"))
    err = err.strip()
    assert code == 2 and "\n" not in err and err.startswith("error: dataset 'folder' needs "
                                                            "--data_dir: a folder of audio")
    assert ".wav .flac .ogg .mp3" in err and "resampled to 16000 Hz" in err and layout in err


def test_data_dir_keeps_the_presets_folder_settings():
    common.define_flags()
    try:
        FLAGS(["prog", "--data_dir", "somewhere", "--preset", "piano"])
        config, preset = common.resolve_config(FAMILY_SPECGAN)
    finally:
        FLAGS.unparse_flags()
    assert preset == "piano" and config.data == configs.get_preset(FAMILY_SPECGAN, "piano").data


def _small(name, *overrides):
    return configs.apply_overrides(configs.get_preset(FAMILY_WAVEGAN, name),
                                   ["train.batch_size=2", *overrides])


def test_slicing_first_slice_for_drums_and_whole_slices_for_the_others(tmp_path):
    root = _write_folder(tmp_path / "audio")
    log = logging.getLogger("test_wavegan_datasets")
    drums = recipe.load_training_waves(_small("drums"), root, log)
    assert drums.shape == (4, 16384)  # one (first) slice per file
    # files in sorted order: c.wav, d.wav, kick/a.wav, snare/b.wav; the hits are padded
    assert np.all(drums[2:, 4800:] == 0) and np.all(drums[2:, :4800] != 0)
    for name in ("piano", "birds", "timit"):
        waves = recipe.load_training_waves(_small(name), root, log)
        # hits: one padded slice each; the 1.5 s chunk: one window; 3 s: one or two windows,
        # every one full (no zero-padded tail: the reference's pad_end default is off)
        assert 4 <= len(waves) <= 5 and waves.shape[1] == 16384
        assert np.all(waves[:-2, -1] != 0) and np.all(waves[-2:, 4800:] == 0)
    padded = _small("piano", "data.pad_end=true", "data.overlap=0.5")  # --set works too
    more = recipe.load_training_waves(padded, root, log)
    assert len(more) > 5


def test_timit_reads_nist_sphere_wav_files(tmp_path):
    # TIMIT ships its utterances as NIST SPHERE files named *.WAV (upper case)
    folder = tmp_path / "TIMIT" / "TRAIN" / "DR1" / "FCJF0"
    folder.mkdir(parents=True)
    wave = np.random.default_rng(1).uniform(-0.5, 0.5, 40000)
    for name in ("SA1.WAV", "SA2.WAV"):
        sf.write(folder / name, wave, 16000, format="NIST", subtype="PCM_16")
    waves = recipe.load_training_waves(_small("timit"), tmp_path / "TIMIT",
                                       logging.getLogger("test_wavegan_datasets"))
    assert len(waves) >= 2 and np.all(waves[:, -1] != 0)


SMALL = ["--set", "model.dim=2", "--set", "loss.d_updates=1", "--set", "train.batch_size=2",
         "--set", "train.epochs=1", "--steps", "2", "--set", "train.sample_clips=1",
         "--set", "eval.nearest_n=4", "--set", "eval.batch_size=4", "--noexport"]


@pytest.mark.parametrize("family, name", [(FAMILY_WAVEGAN, "drums"),
                                          (FAMILY_SPECGAN, "piano")])
def test_preset_trains_on_a_folder_through_the_entry_point(tmp_path, family, name):
    root = _write_folder(tmp_path / "audio")
    run = tmp_path / "run"
    args = ["--preset", name, "--data_dir", str(root), "--model_dir", str(run), *SMALL]
    if family == FAMILY_SPECGAN:  # moments of the same slices first
        code, out, err = _entry_point(family, *args, "--moments_only")
        assert code == 0, err[-2000:]
        assert (run / "moments.npz").is_file()
    code, _, err = _entry_point(family, *args)
    assert code == 0, err[-2000:]
    saved = json.loads((run / "config.json").read_text())
    assert saved["data"]["dataset"] == "folder"
    assert saved["data"]["first_slice"] == SLICING[name][0]
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["optimizer_iterations"]["generator"] == 2
    log = (run / "run.log").read_text()
    assert "slices of 16384 samples from 4 files" in log


def test_help_lists_the_dataset_presets():
    done = subprocess.run([sys.executable, "-m", "tfaudiogan.experiments.specgan_sc09", "--help"],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    text = " ".join(done.stdout.split())  # absl wraps long help lines
    assert "Traceback" not in done.stderr and "flags:" in done.stdout, done.stderr[-2000:]
    assert " | ".join(configs.preset_names(FAMILY_SPECGAN)) in text
    assert all(name in configs.preset_names(FAMILY_SPECGAN) for name in NAMES)
