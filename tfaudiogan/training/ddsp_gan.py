"""DDSP-synth GAN on NSynth: config -> data -> networks -> fit -> samples/metrics -> export.

``run(config, model_dir, data_dir)`` is what ``python -m tfaudiogan.experiments.ddsp_gan_nsynth``
calls. Re-running it with the same arguments resumes (BackupAndRestore for interrupted runs,
the newest end-of-epoch checkpoint for finished ones).

Each epoch writes ``samples/epoch_NNNN/``: ``sample_<i>.wav`` for fixed latents,
``sample_<i>.png`` (spectrogram) and ``controls_<i>.png`` (three stacked panels: F0 in Hz on a
log axis, amplitude, and the harmonic distribution as an image, harmonic 1 at the bottom).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from tfaudiogan.audio.io import save_audio
from tfaudiogan.configs.ddsp_gan import DDSPGANConfig
from tfaudiogan.gans.ddsp import DDSPGAN
from tfaudiogan.models import ddsp_gan as networks
from tfaudiogan.training import pitch_metrics, run_dir
from tfaudiogan.training.callbacks import EpochLog
from tfaudiogan.training.generated_samples import waveform_picture
from tfaudiogan.training.media import spectrogram_image, write_png
from tfaudiogan.training.strategy import get_strategy

PREFIX = "ddsp_gan"


def build_generator(config: DDSPGANConfig, use_fft: bool | None = None) -> keras.Model:
    """The generator of ``config.model`` (``use_fft`` overrides the convolution path)."""
    m = config.model
    return networks.generator(
        m.latent_dim, m.n_samples, m.sample_rate, m.n_frames, m.timbre_frames, m.n_harmonics,
        m.n_noise_bands, m.cppn_units, m.cppn_depth, m.n_periodic, m.f0_min, m.f0_max,
        m.pitch_conditioned, m.max_bend, m.amplitude_bias, m.reverb, m.reverb_length,
        m.use_fft if use_fft is None else use_fft, m.noise_seed)


def build_discriminator(config: DDSPGANConfig) -> keras.Model:
    m = config.model
    return networks.discriminator(m.n_samples, m.sample_rate, m.mfcc_fft_size, m.mfcc_overlap,
                                  m.n_mels, m.n_mfcc, m.ndf)


def build_gan(config: DDSPGANConfig) -> DDSPGAN:
    """A compiled DDSPGAN; call inside the strategy scope."""
    o = config.optimizer
    gan = DDSPGAN(build_generator(config), build_discriminator(config),
                  latent_dim=config.model.latent_dim, loss=config.loss.kind,
                  pitch_conditioned=config.model.pitch_conditioned, seed=config.train.seed)

    def adam(lr, name):
        return keras.optimizers.Adam(lr, beta_1=o.beta_1, beta_2=o.beta_2, epsilon=o.epsilon,
                                     clipnorm=o.clipnorm or None, name=name)

    gan.compile(g_optimizer=adam(o.g_learning_rate, "g_optimizer"),
                d_optimizer=adam(o.d_learning_rate, "d_optimizer"))
    return gan


def load_notes(config: DDSPGANConfig, data_dir, logger) -> tf.data.Dataset:
    """Unbatched dataset of ``{"audio": [n_samples], "pitch": int32 []}``."""
    d, m = config.data, config.model
    if d.dataset == "synthetic":
        from tfaudiogan.data.synthetic_notes import synthetic_notes

        notes = synthetic_notes(d.synthetic_notes, m.sample_rate, m.n_samples / m.sample_rate,
                                pitches=d.synthetic_pitches, seed=config.train.seed)
        audio = np.asarray(notes["audio"], np.float32)[:, :m.n_samples]
        logger.info("synthetic notes: %d x %d samples", *audio.shape)
        return tf.data.Dataset.from_tensor_slices(
            {"audio": audio, "pitch": np.asarray(notes["pitch"], np.int32)})
    if d.dataset != "nsynth":
        raise ValueError(f"unknown dataset '{d.dataset}'; use 'nsynth' or 'synthetic'")
    if data_dir is None:
        raise ValueError("dataset 'nsynth' needs --data_dir (or use --preset demo)")
    from tfaudiogan.data.nsynth import nsynth_dataset

    if m.sample_rate != 16000 or m.n_samples > 64000:
        raise ValueError("NSynth notes are 64000 samples at 16 kHz; set model.sample_rate=16000 "
                         f"and model.n_samples <= 64000 (got {m.sample_rate}, {m.n_samples})")
    ds = nsynth_dataset(data_dir, "train", gansynth_subset=d.gansynth_subset, strict=d.strict,
                        log=logger)
    return ds.map(lambda e: {"audio": e["audio"][:m.n_samples], "pitch": e["pitch"]})


def pitch_table(gan: DDSPGAN, config: DDSPGANConfig, notes: tf.data.Dataset,
                logger) -> dict | None:
    """IS, PE, FD, NDB/JSD (and PA when pitch-conditioned) of generated notes beside real data.

    The real reference is ``2 * eval.notes`` notes (fresh synthetic notes, or shuffled training
    notes); a pitch-conditioned generator is asked for the pitches of the real calibration
    half. None when ``eval.classifier`` is off or missing (training/pitch_metrics.py).
    """
    e, m = config.eval, config.model
    classifier = pitch_metrics.find_classifier(e.classifier, logger)
    if classifier is None:
        return None
    if config.data.dataset == "synthetic":
        real, real_pitch = pitch_metrics.synthetic_reference(
            2 * e.notes, m.sample_rate, m.n_samples, config.data.synthetic_pitches,
            config.train.seed + 1)
    else:
        real, real_pitch = pitch_metrics.dataset_reference(
            notes.map(lambda note: (note["audio"], note["pitch"])), 2 * e.notes, e.seed,
            config.data.shuffle_buffer)
    pitches = real_pitch[e.notes:] if m.pitch_conditioned else None

    def generate(z, pitch):
        return gan.generate(tf.constant(z), None if pitch is None else tf.constant(pitch))[
            "audio"].numpy()

    fake = pitch_metrics.generate_notes(generate, m.latent_dim, e.notes, e.batch_size, pitches,
                                        e.seed, logger)
    table = pitch_metrics.score(classifier, fake, pitches, real, real_pitch, e)
    for row in ("real_data", "generated"):
        logger.info("pitch metrics, %s: %s", row, pitch_metrics.row_summary(table[row]))
    return {**table, "classifier": e.classifier}


def curve_panel(values: np.ndarray, height: int = 64, log: bool = False) -> np.ndarray:
    """A line plot of ``values [frames]`` as a uint8 ``[height, frames, 3]`` picture."""
    v = np.asarray(values, np.float64)
    v = np.log(np.maximum(v, 1e-6)) if log else v
    lo, hi = float(v.min()), float(v.max())
    rows = ((v - lo) / (hi - lo + 1e-12) * (height - 1)).round().astype(int)
    image = np.full((height, len(v), 3), 20, np.uint8)
    cols = np.arange(len(v))
    image[height - 1 - rows, cols] = (252, 200, 90)
    return image


def controls_picture(out: dict, index: int, height: int = 64) -> np.ndarray:
    """F0, amplitude and harmonic-distribution panels of one generated example (uint8 RGB)."""
    f0 = out["f0_hz"][index, :, 0]
    amp = out["amplitude"][index, :, 0]
    dist = out["harmonic_distribution"][index].T  # [K, frames]
    dist_img = spectrogram_image(2.0 * dist / (dist.max() + 1e-12) - 1.0)  # harmonic 1 at bottom
    gap = np.full((2, len(f0), 3), 255, np.uint8)
    return np.concatenate([curve_panel(f0, height, log=True), gap, curve_panel(amp, height),
                           gap, dist_img])


class ControlSamples(keras.callbacks.Callback):
    """Writes wavs, spectrograms and control-curve plots for fixed latents after each epoch."""

    def __init__(self, out_dir, render, z: np.ndarray, sample_rate: int, pitch=None):
        super().__init__()
        self.out_dir, self.render = Path(out_dir), render
        self.z, self.pitch, self.sample_rate = z, pitch, int(sample_rate)

    def on_epoch_end(self, epoch, logs=None):
        self.write(epoch + 1)

    def write(self, epoch: int) -> Path:
        folder = self.out_dir / f"epoch_{epoch:04d}"
        folder.mkdir(parents=True, exist_ok=True)
        out = {k: np.asarray(v) for k, v in self.render(self.z, self.pitch).items()}
        waves = np.clip(np.nan_to_num(out["audio"]), -1.0, 1.0)
        pictures = waveform_picture(waves)
        for i, wave in enumerate(waves):
            save_audio(folder / f"sample_{i}.wav", wave, self.sample_rate)
            write_png(folder / f"sample_{i}.png", spectrogram_image(pictures[i]))
            write_png(folder / f"controls_{i}.png", controls_picture(out, i))
        return folder


def run(config: DDSPGANConfig, model_dir, data_dir=None, strategy="default",
        export: bool = True) -> dict:
    """Trains (or resumes), writes samples and metrics.json, optionally exports.

    Returns:
      The metrics dict also written to ``model_dir/metrics.json``.
    """
    model_dir = Path(model_dir)
    config = run_dir.prepare(model_dir, config, DDSPGANConfig)
    logger = run_dir.run_logger(model_dir)
    logger.info("run directory %s (config.json written)", model_dir)
    strategy = get_strategy(strategy) if isinstance(strategy, str) else strategy
    keras.utils.set_random_seed(config.train.seed)
    t, m = config.train, config.model
    notes = load_notes(config, data_dir, logger)
    dataset = (notes.shuffle(config.data.shuffle_buffer, seed=t.seed).repeat()
               .batch(t.batch_size, drop_remainder=True).prefetch(2))
    with strategy.scope():
        gan = build_gan(config)
    rng = np.random.RandomState(t.seed)
    z = rng.standard_normal((t.sample_clips, m.latent_dim)).astype(np.float32)
    pitch = None
    if m.pitch_conditioned:
        pitch = np.asarray(config.data.synthetic_pitches, np.float32)[
            np.arange(t.sample_clips) % len(config.data.synthetic_pitches)]

    def render(zs, pitches):
        return gan.generate(tf.constant(zs), None if pitches is None else tf.constant(pitches))

    callbacks = [
        keras.callbacks.BackupAndRestore(str(model_dir / "backup")),
        keras.callbacks.ModelCheckpoint(
            str(model_dir / "checkpoints" / (PREFIX + "-{epoch:03d}.weights.h5")),
            save_weights_only=True),
        keras.callbacks.TensorBoard(str(model_dir / "tensorboard")),
        ControlSamples(model_dir / "samples", render, z, m.sample_rate, pitch),
        EpochLog(logger),
    ]
    initial_epoch = run_dir.restore_finished_epochs(gan, model_dir, logger, PREFIX)
    logger.info("training epochs %d-%d x %d steps (batch %d, %d replica(s))", initial_epoch + 1,
                t.epochs, t.steps_per_epoch, t.batch_size, strategy.num_replicas_in_sync)
    start = time.perf_counter()
    history = gan.fit(dataset, epochs=t.epochs, initial_epoch=initial_epoch,
                      steps_per_epoch=t.steps_per_epoch, callbacks=callbacks, verbose=2,
                      shuffle=False)  # the dataset shuffles itself
    train_seconds = time.perf_counter() - start
    gan.generator.save(model_dir / "generator.keras")
    metrics = {
        "evaluation": "listening (seed 003 Methodology); pitch_metrics with a classifier",
        "final_losses": {k: float(v[-1]) for k, v in history.history.items()},
        "epochs_this_session": len(history.history.get("g_loss", [])),
        "optimizer_iterations": {"generator": int(gan.g_optimizer.iterations.numpy()),
                                 "discriminator": int(gan.d_optimizer.iterations.numpy())},
        "train_seconds_this_session": round(train_seconds, 1),
        "parameters": {"generator": gan.generator.count_params(),
                       "discriminator": gan.discriminator.count_params()},
    }
    table = pitch_table(gan, config, notes, logger)
    if table is not None:
        metrics["pitch_metrics"] = table
    (model_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    if export:
        from tfaudiogan.export.ddsp import export_ddsp

        paths = export_ddsp(gan.generator, config, model_dir / "export")
        metrics["export"] = {k: str(v) for k, v in paths.items()}
        (model_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
        logger.info("exported %s", ", ".join(f"{k}: {v}" for k, v in paths.items()))
    return metrics
