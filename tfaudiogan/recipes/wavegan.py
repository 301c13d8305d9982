"""WaveGAN / SpecGAN on SC09, the recipe: clips -> WGAN-GP -> samples, IS and |D| -> export.

``python -m tfaudiogan.experiments.wavegan_sc09`` (and ``specgan_sc09``) run :data:`RECIPE`
through the training driver (training/driver.py). SpecGAN needs the per-bin moments of its
training data in the run directory first: ``--moments_only`` computes them
(:func:`compute_run_moments`).
"""

from __future__ import annotations

import functools
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from tfaudiogan import data
from tfaudiogan.audio.batching import encode_in_batches
from tfaudiogan.audio.specgan import (
    SpecGANSpectrogram,
    compute_moments,
    save_moments,
    spectrogram_from_config,
)
from tfaudiogan.configs.wavegan import WaveGANConfig
from tfaudiogan.data.order import shuffled_indices
from tfaudiogan.export.generator import export_generator, moments_path
from tfaudiogan.gans.wavegan import WaveGAN, training_batches
from tfaudiogan.models import specgan as specgan_networks
from tfaudiogan.models import wavegan as wavegan_networks
from tfaudiogan.recipes.sc09_eval import (
    Synthesizer,
    evaluate_generator,
    generated_inception,
    load_classifier,
    resolve_classifier,
)
from tfaudiogan.training import cluster, driver, run_dir
from tfaudiogan.training.best_checkpoint import BestCheckpoint, read_state
from tfaudiogan.training.generated_samples import GeneratedSamples
from tfaudiogan.training.recipe import Recipe, Run

DATASETS = ("sc09", "folder", "synthetic")
SELECTIONS = ("best_inception", "last")  # eval.checkpoint_selection
#: The generator weights with the best inception score so far (eval.checkpoint_selection).
BEST_GENERATOR = "best_inception/generator.weights.h5"  # reference: incept/best_score


def build_networks(config: WaveGANConfig) -> tuple[keras.Model, keras.Model]:
    """The generator and discriminator described by ``config.model``."""
    m = config.model
    if m.kind == "wavegan":
        g = wavegan_networks.generator(
            m.slice_len, m.dim, m.channels, m.latent_dim, m.kernel_size, m.upsample, m.batchnorm,
            m.post_filter, m.post_filter_len, name="generator")
        d = wavegan_networks.discriminator(
            m.slice_len, m.dim, m.channels, m.kernel_size, m.batchnorm, m.phaseshuffle_rad,
            seed=config.train.seed + 100, name="discriminator")
        return g, d
    if m.kind == "specgan":
        # phase shuffle: the paper's "SpecGAN + phase shuffle" ablation (not in the public
        # SpecGAN, reference 5.4; 0 = the public model); along time, after layers 0-3.
        g = specgan_networks.generator(m.dim, m.channels, m.latent_dim, m.kernel_size,
                                       m.upsample, m.batchnorm, name="generator")
        d = specgan_networks.discriminator(m.dim, m.channels, m.kernel_size, m.batchnorm,
                                           m.phaseshuffle_rad, seed=config.train.seed + 100,
                                           name="discriminator")
        return g, d
    raise ValueError(f"unknown model.kind '{m.kind}'; use 'wavegan' or 'specgan'")


def make_optimizer(config: WaveGANConfig, name: str) -> keras.optimizers.Optimizer:
    """One G or D optimizer from ``config.optimizer`` (paper: Adam(1e-4, 0.5, 0.9, eps 1e-8))."""
    o = config.optimizer
    if o.name == "adam":
        return keras.optimizers.Adam(o.learning_rate, beta_1=o.beta_1, beta_2=o.beta_2,
                                     epsilon=o.epsilon, name=name)
    if o.name == "rmsprop":  # the reference's choice for lsgan / wgan (TF1 defaults)
        return keras.optimizers.RMSprop(o.learning_rate, rho=0.9, epsilon=1e-10, name=name)
    raise ValueError(f"unknown optimizer '{o.name}'; use 'adam' or 'rmsprop'")


def build_gan(config: WaveGANConfig) -> WaveGAN:
    """A compiled WaveGAN wrapper; call inside the strategy scope."""
    g, d = build_networks(config)
    loss = config.loss
    gan = WaveGAN(g, d, latent_dim=config.model.latent_dim, loss=loss.kind,
                  gp_weight=loss.gp_weight, d_updates=loss.d_updates, clip=loss.clip,
                  seed=config.train.seed)
    gan.compile(g_optimizer=make_optimizer(config, "g_optimizer"),
                d_optimizer=make_optimizer(config, "d_optimizer"))
    return gan


def _expected_layout(config: WaveGANConfig) -> str:
    """What ``--data_dir`` must hold for ``config.data`` (for the error without it)."""
    d, n = config.data, config.model.slice_len
    if d.dataset == "sc09":
        return (": an SC09 folder, sc09/{train,valid,test}/<Digit>_<hash>_nohash_<k>.wav or "
                "Speech Commands v0.01 (<word>/<hash>_nohash_<k>.wav)")
    if d.dataset != "folder":
        return ""
    exts = " ".join(data.AUDIO_EXTENSIONS)
    use = (f"one sound per file, of which the first {n} samples are used (zero-padded)"
           if d.first_slice else f"recordings of any length, cut into {n}-sample slices")
    return (f": a folder of audio files ({exts}, searched recursively, any sample rate, "
            f"resampled to {d.sample_rate} Hz), {use}")


def load_training_waves(config: WaveGANConfig, data_dir, logger) -> np.ndarray:
    """float32 ``[n, slice_len]`` training clips as the config's dataset describes them."""
    d, slice_len = config.data, config.model.slice_len
    if config.model.channels != 1:
        raise ValueError("the WaveGAN data readers are mono; set model.channels=1")
    if d.dataset not in DATASETS:
        raise ValueError(f"unknown dataset '{d.dataset}'; use one of {', '.join(DATASETS)}")
    if d.dataset == "synthetic":
        if data_dir is not None:
            raise ValueError(f"--data_dir '{data_dir}' was given but data.dataset is "
                             "'synthetic' (built-in digits); use --preset paper or --set "
                             "data.dataset=sc09 (or folder)")
        waves, _ = data.load("synthetic_digits", n_per_class=d.synthetic_per_class,
                             sample_rate=d.sample_rate, slice_len=slice_len,
                             seed=config.train.seed)
        logger.info("built-in synthetic digits: %d clips", len(waves))
    elif data_dir is None:
        raise ValueError(f"dataset '{d.dataset}' needs --data_dir{_expected_layout(config)} "
                         "(or use --preset demo)")
    elif d.dataset == "sc09":
        waves, _ = data.load("sc09", data_dir, "train", sample_rate=d.sample_rate,
                             slice_len=slice_len, normalize=d.normalize, strict=d.strict,
                             log=logger)
    else:
        waves = data.load("audio_folder", data_dir, slice_len=slice_len,
                          sample_rate=d.sample_rate,
                          n_slices_per_file=d.slices_per_file or None,
                          seed=config.train.seed, first_slice=d.first_slice,
                          pad_end=d.pad_end, overlap=d.overlap, normalize=d.normalize,
                          strict=d.strict, log=logger)
    batch = config.train.batch_size * config.loss.d_updates
    if len(waves) < config.train.batch_size:
        raise ValueError(f"only {len(waves)} training clips; a batch needs "
                         f"{config.train.batch_size}")
    if len(waves) < batch:
        logger.info("note: %d clips < batch x d_updates = %d; examples repeat within a step",
                    len(waves), batch)
    return np.asarray(waves, np.float32)


def load_test_waves(config: WaveGANConfig, data_dir, logger) -> tuple[np.ndarray | None, str]:
    """Held-out real clips for the paper's "Real (test)" calibration row [W 6.2]:
    ``(float32 [m, slice_len] or None, note)``.

    SC09: its test split, read like the training clips; synthetic digits: other clips of the
    same generator (seed + 1, a quarter as many per digit); a folder of audio has no split.
    """
    d, slice_len = config.data, config.model.slice_len
    if not config.eval.test_calibration:
        return None, "eval.test_calibration is off"
    if d.dataset == "synthetic":
        waves, _ = data.load("synthetic_digits", n_per_class=max(2, d.synthetic_per_class // 4),
                             sample_rate=d.sample_rate, slice_len=slice_len,
                             seed=config.train.seed + 1)
        return np.asarray(waves, np.float32), "built-in synthetic digits (other seed)"
    if d.dataset != "sc09" or data_dir is None:
        return None, f"dataset '{d.dataset}' has no test split"
    try:
        waves, _ = data.load("sc09", data_dir, "test", sample_rate=d.sample_rate,
                             slice_len=slice_len, normalize=d.normalize, strict=d.strict,
                             log=logger)
    except (FileNotFoundError, ValueError) as error:
        logger.info("no real test-split calibration: %s", error)
        return None, f"SC09 test split not readable: {error}"
    return np.asarray(waves, np.float32), "SC09 test split"


def spectrogram_frontend(config: WaveGANConfig, model_dir) -> SpecGANSpectrogram:
    """The run's SpecGAN front-end; FileNotFoundError naming ``--moments_only`` if missing."""
    return spectrogram_from_config(config.spectrogram, config.model.slice_len,
                                   moments_path(config, model_dir))


def compute_run_moments(config: WaveGANConfig, model_dir, data_dir=None) -> Path:
    """Computes the per-bin log-magnitude moments of the training clips and saves them.

    The clips are exactly those the run trains on (same dataset, normalisation and slicing).

    Returns:
        The written moments file.
    """
    model_dir = Path(model_dir)
    config = run_dir.prepare(model_dir, config, WaveGANConfig)
    logger = run_dir.run_logger(model_dir)
    waves = load_training_waves(config, data_dir, logger)
    s = config.spectrogram
    mean, std = compute_moments(waves, frame_length=s.frame_length, frame_step=s.frame_step)
    path = save_moments(moments_path(config, model_dir), mean, std)
    logger.info("SpecGAN moments of %d clips written to %s", len(waves), path)
    return path


def real_dataset(x: np.ndarray, config: WaveGANConfig) -> tf.data.Dataset:
    """Shuffled, repeated ``[batch, d_updates, ...]`` elements of the examples ``x``.

    A full permutation of the example indices per pass (data/order.py; the reference shuffles
    its files and then buffers 4096 slices; a full shuffle mixes at least as well). The indices are grouped
    into ``[batch, d_updates]`` elements first and the examples gathered a whole element at a
    time (one gather instead of ``batch * d_updates``; the same stream).
    """
    table = tf.constant(x)
    n = len(x)
    indices = shuffled_indices(n, config.train.seed)  # data/order.py: same from any iterator
    batches = training_batches(indices, config.train.batch_size, config.loss.d_updates)
    return (batches.map(lambda i: tf.gather(table, i), num_parallel_calls=tf.data.AUTOTUNE,
                        deterministic=True)
            .prefetch(tf.data.AUTOTUNE))


class WaveGANRecipe(Recipe):
    """WaveGAN and SpecGAN (``model.kind``) for the training driver."""

    config_cls = WaveGANConfig

    def keep_checkpoints(self, run: Run) -> int:
        return run.config.train.keep_checkpoints

    def load_data(self, run: Run) -> dict:
        """``{"waves": [n, slice_len], "x": training examples, "rep": SpecGAN front-end}``.

        ``x`` is ``[n, slice_len, 1]`` for WaveGAN and the normalised ``[n, 128, 128, 1]``
        images for SpecGAN (whose front-end needs the moments of ``--moments_only``).
        """
        config = run.config
        rep = (spectrogram_frontend(config, run.model_dir) if config.model.kind == "specgan"
               else None)
        waves = load_training_waves(config, run.data_dir, run.logger)
        if rep is None:
            x = waves[..., None]
        else:
            x = encode_in_batches(rep.encode, waves, 256)
        return {"waves": waves, "x": x, "rep": rep}

    def checkpoint_name(self, run: Run) -> str:
        return run.config.model.kind  # "wavegan" or "specgan"

    def steps_per_epoch(self, run: Run, data) -> int:
        t = run.config.train
        return t.steps_per_epoch or max(1, len(data["x"]) // (t.batch_size
                                                              * run.config.loss.d_updates))

    def dataset(self, run: Run, data):
        return real_dataset(data["x"], run.config)

    def build_model(self, run: Run, data) -> WaveGAN:
        return build_gan(run.config)

    def describe_training(self, run: Run, data, steps: int) -> str:
        t = run.config.train
        return (f"{steps} G steps ({cluster.batch_text(t.batch_size, run.strategy)}, "
                f"{run.config.loss.d_updates} D updates each)")

    def selection(self, run: Run) -> tuple[str, str | None, Path | None]:
        """``(mode, reason for falling back to "last" or None, classifier path)`` of
        ``eval.checkpoint_selection``."""
        e = run.config.eval
        if e.checkpoint_selection not in SELECTIONS:
            raise ValueError(f"unknown eval.checkpoint_selection '{e.checkpoint_selection}'; "
                             f"use one of {', '.join(SELECTIONS)}")
        if e.checkpoint_selection == "last":
            return "last", None, None
        path = resolve_classifier(e.classifier_path, run.model_dir)
        if path is None:
            reason = ("no classifier configured (eval.classifier_path is empty)"
                      if not e.classifier_path else
                      f"classifier '{e.classifier_path}' not found")
            return "last", f"best_inception needs a classifier: {reason}", None
        return "best_inception", None, path

    def callbacks(self, run: Run, model: WaveGAN, data) -> list:
        config, t, e = run.config, run.config.train, run.config.eval
        z_fixed = np.random.default_rng(t.seed).uniform(
            -1, 1, (t.sample_clips, config.model.latent_dim)).astype(np.float32)
        synth = synthesizer(model, config, data["rep"])
        callbacks = [GeneratedSamples(run.samples_dir, synth, z_fixed, config.data.sample_rate,
                                      every=t.sample_every, tensorboard_dir=run.tensorboard_dir)]
        mode, reason, path = self.selection(run)
        if mode == "best_inception":
            classifier = load_classifier(path)
            run.logger.info("checkpoint selection: best inception score (%d clips every %d "
                            "epochs, classifier %s)", e.select_n, e.select_every, path)
            callbacks.append(BestCheckpoint(
                lambda: generated_inception(synth, classifier, e.select_n, e.inception_splits,
                                            t.seed + 5, e.batch_size),
                model.generator, run.model_dir / BEST_GENERATOR, every=e.select_every,
                last_epoch=t.epochs, step=lambda: int(model.g_optimizer.iterations.numpy()),
                logger=run.logger))
        else:
            run.logger.info("checkpoint selection: the last weights%s",
                            f" ({reason})" if reason else "")
        return callbacks

    def trained_model(self, run: Run, data, last) -> WaveGAN:
        """The trained GAN; with ``best_inception`` selection its generator holds the kept
        best-scoring weights (the reference's ``best_score`` checkpoint)."""
        model = last.model
        best = run.model_dir / BEST_GENERATOR
        if self.selection(run)[0] == "best_inception" and best.is_file():
            state = read_state(best)["best"]
            model.generator.load_weights(best)
            run.logger.info("generator: the best inception score's weights (epoch %d, G step "
                            "%d, IS %.4f)", state["epoch"], state["step"],
                            state["score"]["mean"])
        return model

    def selection_report(self, run: Run) -> dict:
        """metrics.json's ``checkpoint_selection``: the mode and, for best_inception, which
        epoch / G step was kept and its selection-time inception score."""
        e = run.config.eval
        mode, reason, _ = self.selection(run)
        if mode == "last":
            report = {"mode": "last"}
            if reason:
                report.update(requested=e.checkpoint_selection, reason=reason)
            return report
        state = read_state(run.model_dir / BEST_GENERATOR)
        best = state["best"]
        if best is None:
            return {"mode": "last", "requested": "best_inception",
                    "reason": "no epoch was scored"}
        return {"mode": "best_inception", "epoch": best["epoch"], "generator_step": best["step"],
                "selection_inception_score": best["score"], "weights": BEST_GENERATOR,
                "select_every_epochs": e.select_every, "select_n": e.select_n,
                "scores": [{"epoch": s["epoch"], "generator_step": s["step"],
                            "mean": s["score"]["mean"], "std": s["score"]["std"]}
                           for s in state["scores"]]}

    def save(self, run: Run, model: WaveGAN) -> None:
        (run.model_dir / "generators").mkdir(exist_ok=True)
        model.generator.save(run.model_dir / "generators" / "generator.keras")

    def evaluate(self, run: Run, model: WaveGAN, data) -> dict:
        run.logger.info("evaluating (inception score, nearest-neighbour distances)")
        synth = synthesizer(model, run.config, data["rep"])
        return {
            "family": run.config.model.kind,
            "checkpoint_selection": self.selection_report(run),
            "optimizer_iterations": {"generator": int(model.g_optimizer.iterations.numpy()),
                                     "discriminator": int(model.d_optimizer.iterations.numpy())},
            **evaluate_generator(synth, data["waves"], run.config, run.model_dir, run.logger,
                                 *load_test_waves(run.config, run.data_dir, run.logger)),
        }

    def export(self, run: Run, model: WaveGAN, data) -> dict:
        return export_generator(model.generator, run.config, run.model_dir / "export",
                                postprocess=synthesizer(model, run.config,
                                                        data["rep"]).postprocess)


def synthesizer(gan: WaveGAN, config: WaveGANConfig, rep) -> Synthesizer:
    """Latents -> waveforms with the generator (SpecGAN: Griffin-Lim of its images)."""
    postprocess = (None if rep is None else
                   functools.partial(rep.decode, n_iter=config.spectrogram.griffin_lim_iters))
    return Synthesizer(gan.generator, config.model.latent_dim, postprocess,
                       config.eval.batch_size)


RECIPE = WaveGANRecipe()
run = functools.partial(driver.run, RECIPE)  # run(config, model_dir, data_dir, strategy, export)
