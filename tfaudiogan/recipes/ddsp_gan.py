"""DDSP-synth GAN on NSynth, the recipe: notes -> GAN -> samples, pitch metrics -> export.

``python -m tfaudiogan.experiments.ddsp_gan_nsynth`` runs :data:`RECIPE` through the training
driver (training/driver.py), which owns the run directory, resume, fit and metrics.json.

Each epoch writes ``samples/epoch_NNNN/``: ``sample_<i>.wav`` for fixed latents,
``sample_<i>.png`` (spectrogram) and ``controls_<i>.png`` (three stacked panels over time in
seconds: F0 in Hz on a log axis, amplitude, and the harmonic distribution as an image,
harmonic 1 at the bottom), drawn by training/plots.py; ``samples/index.html`` lists them.
"""

from __future__ import annotations

import functools
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from tfaudiogan import data
from tfaudiogan.audio.io import save_audio
from tfaudiogan.configs.ddsp_gan import DDSPGANConfig
from tfaudiogan.data.order import shuffled_examples
from tfaudiogan.export.ddsp import export_ddsp
from tfaudiogan.gans.ddsp import DDSPGAN
from tfaudiogan.models import ddsp_gan as networks
from tfaudiogan.recipes import pitch_metrics
from tfaudiogan.training import cluster, driver, listening_page, plots
from tfaudiogan.training.recipe import Recipe, Run

PREFIX = "ddsp_gan"


def build_generator(config: DDSPGANConfig, use_fft: bool | None = None) -> keras.Model:
    """The generator of ``config.model`` (``use_fft`` overrides the convolution path)."""
    m = config.model
    return networks.generator(
        m.latent_dim, m.n_samples, m.sample_rate, m.n_frames, m.timbre_frames, m.n_harmonics,
        m.n_noise_bands, m.cppn_units, m.cppn_depth, m.n_periodic, m.f0_min, m.f0_max,
        m.pitch_conditioned, m.max_bend, m.amplitude_bias, m.reverb, m.reverb_length,
        m.use_fft if use_fft is None else use_fft, m.noise_seed,
        noise_excitation=m.noise_excitation, phase_accumulation=m.phase_accumulation)


def parameter_counts(model: keras.Model) -> dict[str, int]:
    """`{"trainable": ..., "non_trainable": ...}` scalar counts of a model's weights.

    The generator's non-trainable count is the synth's fixed noise buffer (`n_samples` values);
    `count_params()` is the sum of both.
    """
    def count(weights):
        return int(sum(np.prod(w.shape) for w in weights))

    return {"trainable": count(model.trainable_weights),
            "non_trainable": count(model.non_trainable_weights)}


def build_discriminator(config: DDSPGANConfig) -> keras.Model:
    m = config.model
    return networks.discriminator(m.n_samples, m.sample_rate, m.mfcc_fft_size, m.mfcc_overlap,
                                  m.n_mels, m.n_mfcc, m.ndf)


def build_gan(config: DDSPGANConfig) -> DDSPGAN:
    """A compiled DDSPGAN; call inside the strategy scope."""
    o = config.optimizer
    gan = DDSPGAN(build_generator(config), build_discriminator(config),
                  latent_dim=config.model.latent_dim, loss=config.loss.kind,
                  pitch_conditioned=config.model.pitch_conditioned,
                  clip_norm=o.clipnorm or None, seed=config.train.seed)

    def adam(lr, name):
        return keras.optimizers.Adam(lr, beta_1=o.beta_1, beta_2=o.beta_2, epsilon=o.epsilon,
                                     name=name)  # clipping: DDSPGAN(clip_norm=...)

    gan.compile(g_optimizer=adam(o.g_learning_rate, "g_optimizer"),
                d_optimizer=adam(o.d_learning_rate, "d_optimizer"))
    return gan


def load_notes(config: DDSPGANConfig, data_dir, logger) -> tf.data.Dataset:
    """Unbatched dataset of ``{"audio": [n_samples], "pitch": int32 []}``."""
    d, m = config.data, config.model
    if d.dataset == "synthetic":
        notes = data.load("synthetic_notes", n=d.synthetic_notes, sample_rate=m.sample_rate,
                          seconds=m.n_samples / m.sample_rate, pitches=d.synthetic_pitches,
                          seed=config.train.seed)
        audio = np.asarray(notes["audio"], np.float32)[:, :m.n_samples]
        logger.info("synthetic notes: %d x %d samples", *audio.shape)
        return tf.data.Dataset.from_tensor_slices(
            {"audio": audio, "pitch": np.asarray(notes["pitch"], np.int32)})
    if d.dataset != "nsynth":
        raise ValueError(f"unknown dataset '{d.dataset}'; use 'nsynth' or 'synthetic'")
    if data_dir is None:
        raise ValueError("dataset 'nsynth' needs --data_dir (or use --preset demo)")
    if m.sample_rate != 16000 or m.n_samples > 64000:
        raise ValueError("NSynth notes are 64000 samples at 16 kHz; set model.sample_rate=16000 "
                         f"and model.n_samples <= 64000 (got {m.sample_rate}, {m.n_samples})")
    ds = data.load("nsynth", data_dir, "train", gansynth_subset=d.gansynth_subset,
                   strict=d.strict, log=logger)
    return ds.map(lambda e: {"audio": e["audio"][:m.n_samples], "pitch": e["pitch"]},
                  num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)


def pitch_table(gan: DDSPGAN, config: DDSPGANConfig, notes: tf.data.Dataset,
                logger) -> dict | None:
    """IS, PE, FD, NDB/JSD (and PA when pitch-conditioned) of generated notes beside real data.

    The real reference is ``2 * eval.notes`` notes (fresh synthetic notes, or shuffled training
    notes); a pitch-conditioned generator is asked for the pitches of the real calibration
    half. None when ``eval.classifier`` is off or missing (recipes/pitch_metrics.py).
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


class ControlSamples(keras.callbacks.Callback):
    """Writes wavs, spectrograms and control plots for fixed latents after each epoch.

    Files in ``samples/epoch_NNNN/`` (module docstring), listed in the epoch's section of
    ``samples/index.html``.

    Args:
        out_dir: the run's ``samples/`` directory.
        render: ``render(z [n, latent], pitch [n] or None) -> {"audio": [n, samples],
            "f0_hz": [n, frames, 1], "amplitude": [n, frames, 1],
            "harmonic_distribution": [n, frames, K], ...}`` with the current generator.
        z: float32 ``[n, latent]`` fixed latents.
        sample_rate: Hz of the audio.
        pitch: MIDI pitches ``[n]`` of a pitch-conditioned generator, or None.
    """

    def __init__(self, out_dir, render, z: np.ndarray, sample_rate: int, pitch=None):
        super().__init__()
        self.out_dir, self.render = Path(out_dir), render
        self.z, self.pitch, self.sample_rate = z, pitch, int(sample_rate)

    def on_epoch_end(self, epoch, logs=None):
        self.write(epoch + 1)

    def write(self, epoch: int) -> Path:
        """Writes the samples of ``epoch``, updates the listening page, returns the folder."""
        folder = self.out_dir / f"epoch_{epoch:04d}"
        folder.mkdir(parents=True, exist_ok=True)
        out = {k: np.asarray(v) for k, v in self.render(self.z, self.pitch).items()}
        waves = np.clip(np.nan_to_num(out["audio"]), -1.0, 1.0)
        seconds = waves.shape[1] / self.sample_rate
        rows = []
        for i, (wave, spec) in enumerate(zip(waves, plots.stft(waves, self.sample_rate))):
            name = f"sample_{i}" + ("" if self.pitch is None else f" (MIDI {self.pitch[i]:g})")
            save_audio(folder / f"sample_{i}.wav", wave, self.sample_rate)
            plots.write_spectrograms(folder / f"sample_{i}.png", [("", spec)],
                                     f"{name}, epoch {epoch}")
            plots.write_controls(folder / f"controls_{i}.png", out["f0_hz"][i, :, 0],
                                 out["amplitude"][i, :, 0], out["harmonic_distribution"][i],
                                 seconds, f"{name}: synthesizer controls, epoch {epoch}")
            rows.append(listening_page.Row(name, [("", f"sample_{i}.wav")],
                                           [f"sample_{i}.png", f"controls_{i}.png"]))
        listening_page.add_section(self.out_dir, folder, f"epoch {epoch}", epoch, rows)
        return folder


class DDSPGANRecipe(Recipe):
    """The DDSP-synth GAN (seed 003) for the training driver."""

    config_cls = DDSPGANConfig
    checkpoint_prefix = "ddsp_gan"

    def load_data(self, run: Run) -> tf.data.Dataset:
        """Unbatched notes ``{"audio": [n_samples], "pitch": int32 []}``."""
        return load_notes(run.config, run.data_dir, run.logger)

    def dataset(self, run: Run, notes):
        t = run.config.train
        if run.config.data.dataset == "synthetic":  # in memory: every pass a seeded order
            stream = shuffled_examples(next(iter(notes.batch(2**31 - 1))), t.seed)
        else:  # streamed NSynth notes: each worker of a cluster streams its own
            stream = cluster.worker_shard(notes, run.strategy).shuffle(
                run.config.data.shuffle_buffer, seed=t.seed).repeat()
        return stream.batch(t.batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)

    def build_model(self, run: Run, notes) -> DDSPGAN:
        return build_gan(run.config)

    def callbacks(self, run: Run, model: DDSPGAN, notes) -> list:
        t, m = run.config.train, run.config.model
        z = np.random.RandomState(t.seed).standard_normal(
            (t.sample_clips, m.latent_dim)).astype(np.float32)
        pitch = None
        if m.pitch_conditioned:
            pitches = np.asarray(run.config.data.synthetic_pitches, np.float32)
            pitch = pitches[np.arange(t.sample_clips) % len(pitches)]

        def render(zs, ps):
            return model.generate(tf.constant(zs), None if ps is None else tf.constant(ps))

        return [ControlSamples(run.samples_dir, render, z, m.sample_rate, pitch)]

    def save(self, run: Run, model: DDSPGAN) -> None:
        model.generator.save(run.model_dir / "generator.keras")

    def evaluate(self, run: Run, model: DDSPGAN, notes) -> dict:
        metrics = {
            "evaluation": "listening (seed 003 Methodology); pitch_metrics with a classifier",
            "optimizer_iterations": {"generator": int(model.g_optimizer.iterations.numpy()),
                                     "discriminator": int(model.d_optimizer.iterations.numpy())},
            # Trainable weights and non-trainable buffers (the generator's noise buffer).
            "parameters": {name: parameter_counts(net) for name, net in (
                ("generator", model.generator), ("discriminator", model.discriminator))},
        }
        table = pitch_table(model, run.config, notes, run.logger)
        if table is not None:
            metrics["pitch_metrics"] = table
        return metrics

    def export(self, run: Run, model: DDSPGAN, notes) -> dict:
        return export_ddsp(model.generator, run.config, run.model_dir / "export")


RECIPE = DDSPGANRecipe()
run = functools.partial(driver.run, RECIPE)  # run(config, model_dir, data_dir, strategy, export)
