"""Every family's ``paper`` preset starts, trains and exports on real-layout data.

A paper preset that cannot start (a shape that only the paper's sizes hit, a data layout only
the real downloads have, an export that only the paper's networks reach) is otherwise caught
by nothing: the other tests run the smoke / demo presets on built-in data. Each case here
writes a small dataset in the layout of the real download into ``tmp_path``, runs the paper
preset through the experiment's ``main`` (flags: ``--data_dir`` picks the paper preset,
``--steps`` / ``--set`` shorten it) or through the training driver, and checks: the run
finished, its losses are finite, ``metrics.json`` and ``config.json`` (with the preset's
config name) are written, and the export loads: its ``serving_default`` signature runs on one
small input, and so does the same signature of the TFLite file, with the same output up to
1 % of its peak (the classifiers, which export nothing, load and run their ``.keras`` model).

Only the schedule and what does not fit a 2-core CPU in seconds are reduced; every data,
representation and architecture setting is the paper's (audio lengths, sample rates, STFT /
mel-IF shapes, crops, kernel sizes, layer and block counts, losses, D updates per G step).
Every case but GANSynth's runs the experiment's ``main`` with flags. Per case:

================================  =========================================================
case (data written)               reductions (everything else is the paper preset)
================================  =========================================================
nsynth_pitch_classifier           1 epoch of 1 step; batch 64 -> 16
  (NSynth TFRecords, 2 valid
  notes)
gansynth_nsynth (NSynth           stages 0 and 1 only (2 x 16 stable, 4 x 32 transition) of
  TFRecords + splits CSV,         8 images = 1 step of the paper batch 8 each, paper widths
  4 s notes -> 128 x 1024         (fmap 256); the run is stopped when stage 2 starts (after
  mel-IF)                         stage 2 is built from stage 1's weights): 13 stages up to
                                  128 x 1024 take minutes even at tiny widths. No final
                                  pitch metrics (they follow the last stage). The export is
                                  of an untrained final-stage (128 x 1024, 7 blocks)
                                  generator at paper widths.
ddsp_gan_nsynth (NSynth           1 epoch of 1 step; batch 32 -> 4; 1 sample clip; pitch
  json+wav, 4 s notes)            metrics (with the pitch classifier above) on 8 notes,
                                  is_splits 10 -> 2, ndb_bins 50 -> 2
sc09_classifier (SC09 WaveGAN     1 epoch of 1 step; batch 64 -> 16 (batch 64: ~3x longer)
  layout)
wavegan_sc09 (SC09 Speech         1 epoch of 1 G step (the paper's 5 D updates); batch
  Commands layout)                64 -> 4 and d 64 -> 32 (one paper-size step: minutes;
                                  d 64 at batch 4: 3-6x longer); IS / |D| / best-inception
                                  selection (with the classifier above) on 8 clips,
                                  2 splits; 2 sample clips
specgan_sc09 (SC09 WaveGAN        as wavegan_sc09, after ``--moments_only``
  layout)
cyclegan_irmas paper, seed        1 epoch of 1 iteration (learning rate constant over it:
  (IRMAS tree: 4 excerpts of      n_epochs 1, no decay epochs); ngf / ndf 64 -> 16 (9 ResNet
  pia / gel / cel, 3 s 44.1 kHz   blocks, 70x70 PatchGAN and the 256 x 256 crops kept: a
  16-bit stereo)                  paper-width iteration plus its whole-clip cycle evaluation
                                  take minutes); cycle loss and samples on 1 clip per domain
                                  and split; the seed preset is not exported (the same
                                  networks and export as paper)
cyclegan_music_style (two         as cyclegan_irmas paper (30 s clips kept)
  folders of 30 s 22.05 kHz)
================================  =========================================================
"""

import json
import math
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.datasets import write_irmas_tree, write_nsynth_tree, write_sc09
from tests.entry_points import entry_point
from tfaudiogan import configs
from tfaudiogan.configs import gansynth as gansynth_presets  # noqa: F401  (registers presets)
from tfaudiogan.export.saved_model import read_metadata

NOTE = 64_000  # NSynth notes: 4 s at 16 kHz, the length every NSynth family reads


def _run_main(module, *flags):
    """The experiment's ``main`` in this process; fails with its stderr if it did not end
    with exit code 0."""
    code, out, err = entry_point(module, *flags)
    assert code == 0, f"{module} exited with {code}:\n{err[-3000:]}"
    return out


def _sets(*overrides):
    return [arg for item in overrides for arg in ("--set", item)]


def _finite(values: dict, where: str) -> None:
    assert values, f"no losses in {where}"
    for name, value in values.items():
        assert math.isfinite(value), f"{where}: {name} = {value}"


def _check_run(model_dir: Path, family: str, preset: str = "paper") -> dict:
    """metrics.json + config.json of a finished run; returns the metrics."""
    metrics = json.loads((model_dir / "metrics.json").read_text())
    config = json.loads((model_dir / "config.json").read_text())
    assert config["name"] == configs.get_preset(family, preset).name
    _finite(metrics["final_losses"], f"{family} final_losses")
    assert metrics["epochs_this_session"] >= 1
    return metrics


def _inputs(specs: dict, meta: dict) -> dict:
    """One small request for a signature's inputs, within the export's limits."""
    rng = np.random.default_rng(0)
    inputs = {}
    for name, spec in specs.items():
        shape = [1] + [d for d in spec.shape[1:]]
        if name == "waveform":
            n = max(int(meta.get("min_samples", 0)), int(meta.get("sample_rate", 16000)))
            value = 0.3 * np.sin(np.arange(n) * 0.05)[None]
        elif name == "pitch":
            value = np.full(shape, 60)
        elif name == "z":
            shape[-1] = shape[-1] or int(meta["latent_dim"])
            value = rng.uniform(-1, 1, shape)
        else:
            raise AssertionError(f"no test input for signature input '{name}'")
        inputs[name] = tf.constant(value, dtype=spec.dtype)
    return inputs


def _check_export(paths: dict, tflite_signature: str | None = None) -> None:
    """The SavedModel loads and its serving_default runs on one small input; the TFLite file
    was written and, with ``tflite_signature``, gives the SavedModel's output for that input."""
    version_dir = Path(paths["saved_model"])
    meta = read_metadata(version_dir)
    signature = tf.saved_model.load(str(version_dir)).signatures["serving_default"]
    inputs = _inputs(signature.structured_input_signature[1], meta)
    outputs = signature(**inputs)
    for name, value in outputs.items():
        assert value.shape[0] == 1 and np.all(np.isfinite(value.numpy())), name
    assert Path(paths["tflite"]).stat().st_size > 0
    if tflite_signature:
        from tfaudiogan.export.tflite import run_tflite

        lite = run_tflite(paths["tflite"], tflite_signature,
                          **{k: v.numpy() for k, v in inputs.items()})
        for name, value in outputs.items():
            value = value.numpy()
            assert lite[name].shape == value.shape
            # a loose bound: TF / TFLite parity is tested per family elsewhere
            np.testing.assert_allclose(lite[name], value, atol=1e-2 * np.abs(value).max())


def _check_keras_model(path: Path, length: int) -> None:
    model = keras.models.load_model(path, compile=False)
    out = model(np.zeros((1, length), np.float32), training=False)
    out = out[0] if isinstance(out, (list, tuple)) else out
    assert np.all(np.isfinite(np.asarray(out)))


# --- NSynth: pitch classifier, GANSynth, DDSP-GAN -------------------------------------------

@pytest.fixture(scope="module")
def pitch_classifier(tmp_path_factory):
    """The paper pitch classifier trained a step on NSynth TFRecords (original splits, as the
    paper preset reads them), through its entry point: the run directory."""
    root = tmp_path_factory.mktemp("pitch_classifier")
    write_nsynth_tree(root / "nsynth", "tfrecord", length=NOTE, held_out=2)
    _run_main("nsynth_pitch_classifier", "--data_dir", str(root / "nsynth"), "--model_dir",
              str(root / "run"), "--steps", "1",
              *_sets("train.epochs=1", "train.batch_size=16"))  # 1 step; batch 64 -> 16
    return root / "run"


def test_pitch_classifier_paper(pitch_classifier):
    from tfaudiogan.recipes.pitch_classifier import MODEL_FILE

    _check_run(pitch_classifier, "nsynth_pitch_classifier")
    _check_keras_model(pitch_classifier / MODEL_FILE, NOTE)


class _StopAtStage(keras.callbacks.Callback):
    """Ends the run (KeyboardInterrupt) when the fit of stage ``stage`` begins."""

    def __init__(self, stage: int):
        super().__init__()
        self.stage, self.fits = stage, 0

    def on_train_begin(self, logs=None):
        self.fits += 1
        if self.fits > self.stage:
            raise KeyboardInterrupt(f"stopped at stage {self.stage}")


def test_gansynth_paper_first_stages(tmp_path):
    """mel_prog_hires on TFRecords + the splits CSV: stages 0 and 1 at paper widths and
    batch (the paper's 128 x 1024 mel-IF notes are read and encoded)."""
    from tfaudiogan.recipes import gansynth as training

    train_ids, _ = write_nsynth_tree(tmp_path / "nsynth", "tfrecord", length=NOTE)
    # stages of 8 images (1 step of batch 8); stopped when stage 2 starts
    config = configs.apply_overrides(configs.get_preset("gansynth_nsynth", "paper"), [
        "train.stable_images=8", "train.transition_images=8", "train.sample_notes=1"])
    model_dir = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt, match="stopped at stage 2"):
        training.run(config, model_dir, tmp_path / "nsynth", export=True,
                     extra_callbacks=[_StopAtStage(2)])
    metrics = json.loads((model_dir / "metrics.json").read_text())
    assert metrics["data"]["training_notes"] == len(train_ids)
    assert config.train.batch_size == 8 and config.model.fmap_max == 256  # the paper's
    for stage, blocks in (("0", 1), ("1", 2)):
        row = metrics["stages"][stage]
        assert row["blocks"] == blocks and row["g_steps"] == row["d_steps"] == 1
        _finite(row["final_losses"], f"stage {stage}")
        assert (training.stage_dir(model_dir, int(stage)) / "generator.weights.h5").exists()
    assert json.loads((model_dir / "config.json").read_text())["name"] == config.name


def test_gansynth_paper_final_stage_exports(tmp_path):
    """The final-stage (128 x 1024, 7 blocks) generator at paper widths exports and
    generates a 4 s note (untrained: the export path, not the sound)."""
    from tfaudiogan.export.gansynth import export_gansynth
    from tfaudiogan.gans.progressive import new_alpha
    from tfaudiogan.models.gansynth import generator
    from tfaudiogan.recipes.gansynth import model_kwargs

    config = configs.get_preset("gansynth_nsynth", "paper")
    final = 2 * config.model.num_resolutions - 2
    gen = generator(final, alpha=new_alpha(), name="generator_ema", **model_kwargs(config))
    paths = export_gansynth(gen, config, tmp_path / "export")
    _check_export(paths, tflite_signature="generate")


def test_ddsp_gan_paper(tmp_path, pitch_classifier):
    """NSynth json+wav (GANSynth-style subset), 4 s notes, scored with the pitch classifier."""
    write_nsynth_tree(tmp_path / "nsynth", "jsonwav", length=NOTE)
    # 1 step; batch 32 -> 4; pitch metrics on 8 notes, 2 IS splits, 2 NDB bins
    _run_main("ddsp_gan_nsynth", "--data_dir", str(tmp_path / "nsynth"), "--model_dir",
              str(tmp_path / "run"), "--steps", "1",
              *_sets("train.epochs=1", "train.batch_size=4", "train.sample_clips=1",
                     f"eval.classifier={pitch_classifier}", "eval.notes=8",
                     "eval.is_splits=2", "eval.ndb_bins=2"))
    metrics = _check_run(tmp_path / "run", "ddsp_gan_nsynth")
    _check_export(metrics["export"], tflite_signature="generate")


# --- SC09: classifier, WaveGAN, SpecGAN -------------------------------------------------------

@pytest.fixture(scope="module")
def sc09_classifier(tmp_path_factory):
    """The paper SC09 classifier trained a step on the WaveGAN layout: its run directory."""
    root = tmp_path_factory.mktemp("sc09_classifier")
    data_dir = write_sc09(root / "sc09", "wavegan", per_digit=2)
    _run_main("sc09_classifier", "--data_dir", str(data_dir), "--model_dir", str(root / "run"),
              "--steps", "1", *_sets("train.epochs=1", "train.batch_size=16"))  # 1 step, 64 -> 16
    return root / "run"


def test_sc09_classifier_paper(sc09_classifier):
    _check_run(sc09_classifier, "sc09_classifier")
    _check_keras_model(sc09_classifier / "classifier.keras", 16384)


# schedule: 1 G step; batch 64 -> 4, d 64 -> 32; scores on 8 clips (module docstring)
GAN_SETS = ("train.epochs=1", "train.batch_size=4", "model.dim=32", "train.sample_clips=2",
            "eval.inception_n=8", "eval.nearest_n=8", "eval.real_inception_n=8",
            "eval.batch_size=8", "eval.inception_splits=2", "eval.select_every=1",
            "eval.select_n=8")


@pytest.mark.parametrize("module, layout", [("wavegan_sc09", "speech_commands"),
                                            ("specgan_sc09", "wavegan")])
def test_wavegan_and_specgan_paper(tmp_path, sc09_classifier, module, layout):
    data_dir = write_sc09(tmp_path / "sc09", layout, per_digit=1)
    flags = ["--data_dir", str(data_dir), "--model_dir", str(tmp_path / "run"), "--steps", "1",
             *_sets(*GAN_SETS, f"eval.classifier_path={sc09_classifier / 'classifier.keras'}")]
    if module == "specgan_sc09":
        assert "moments written to" in _run_main(module, *flags, "--moments_only")
    _run_main(module, *flags)
    metrics = _check_run(tmp_path / "run", module)
    assert metrics["checkpoint_selection"]["mode"] == "best_inception"
    assert math.isfinite(metrics["inception_score"]["mean"])
    _check_export(metrics["export"], tflite_signature="generate")


# --- CycleGAN: IRMAS (paper and seed order), music style -----------------------------------

# schedule: 1 iteration; width: ngf / ndf 64 -> 16; cycle loss / samples: 1 clip per domain
CYCLEGAN_SETS = ("train.epochs=1", "optimizer.n_epochs=1", "optimizer.n_epochs_decay=0",
                 "model.ngf=16", "model.ndf=16", "train.eval_clips=1", "train.sample_clips=1")


@pytest.mark.parametrize("family, preset", [("cyclegan_irmas", "paper"),
                                            ("cyclegan_irmas", "seed"),
                                            ("cyclegan_music_style", "paper")])
def test_cyclegan_paper(tmp_path, family, preset):
    if family == "cyclegan_irmas":  # the download: 3 s excerpts, 44.1 kHz 16-bit stereo
        data_dir = write_irmas_tree(tmp_path / "IRMAS-TrainingData",
                                    instruments=("pia", "gel", "cel"), per_instrument=4,
                                    seconds=3.0, stereo=True)
    else:  # seed 004: two folders of 30 s songs (domain names: the preset's a / b)
        data_dir = write_irmas_tree(tmp_path / "songs", instruments=("a", "b"),
                                    per_instrument=2, seconds=30.0, sample_rate=22_050)
    # the seed preset exports exactly as the paper preset (same networks): not again
    preset_flags = [] if preset == "paper" else ["--preset", preset, "--noexport"]
    _run_main(family, "--data_dir", str(data_dir), "--model_dir", str(tmp_path / "run"),
              "--steps", "1", *preset_flags, *_sets(*CYCLEGAN_SETS))
    metrics = _check_run(tmp_path / "run", family, preset)
    order = configs.get_preset(family, preset).train.update_order
    assert set(metrics["optimizer_iterations"]) == (
        {"generators", "discriminators"} if order == "reference"
        else {"gen_ab", "gen_ba", "disc_a", "disc_b"})
    if preset == "paper":
        _check_export(metrics["export"], tflite_signature="translate_a_to_b")
