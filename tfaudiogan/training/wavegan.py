"""WaveGAN / SpecGAN on SC09: config -> data -> networks -> fit -> samples, metrics -> export.

``run(config, model_dir, data_dir)`` is what ``python -m tfaudiogan.experiments.wavegan_sc09``
(and ``specgan_sc09``) call. Re-running it with the same arguments resumes (BackupAndRestore
after a kill, the newest end-of-epoch checkpoint after a finished run). SpecGAN needs the
per-bin moments of its training data in the run directory first: ``--moments_only`` computes
them (:func:`compute_run_moments`).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from tfaudiogan.audio.specgan import SpecGANSpectrogram, compute_moments, save_moments
from tfaudiogan.configs import base as config_base
from tfaudiogan.configs.wavegan import WaveGANConfig
from tfaudiogan.gans.wavegan import WaveGAN, training_batches
from tfaudiogan.models import specgan as specgan_networks
from tfaudiogan.models import wavegan as wavegan_networks
from tfaudiogan.training import run_dir
from tfaudiogan.training.callbacks import EpochLog
from tfaudiogan.training.generated_samples import GeneratedSamples, waveform_picture
from tfaudiogan.training.sc09_eval import Synthesizer, evaluate_generator
from tfaudiogan.training.strategy import get_strategy

DATASETS = ("sc09", "folder", "synthetic")


def prepare_run_dir(model_dir: Path, config: WaveGANConfig) -> WaveGANConfig:
    """:func:`run_dir.prepare`, except that the ``eval`` section may change between sessions.

    The evaluation settings (classifier file, sample counts) do not affect training, so a
    finished run can be re-scored with another classifier by re-running with new ``--set
    eval.*`` values; every other difference is still refused.
    """
    path = Path(model_dir) / "config.json"
    if path.exists():
        stored = config_base.load_json(WaveGANConfig, path)
        if stored.eval != config.eval:
            config_base.save_json(dataclasses.replace(stored, eval=config.eval), path)
    return run_dir.prepare(model_dir, config, WaveGANConfig)


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
        if m.phaseshuffle_rad:
            raise ValueError("phase shuffle is not part of the public SpecGAN (reference 5.4); "
                             "set model.phaseshuffle_rad=0")
        g = specgan_networks.generator(m.dim, m.channels, m.latent_dim, m.kernel_size,
                                       m.upsample, m.batchnorm, name="generator")
        d = specgan_networks.discriminator(m.dim, m.channels, m.kernel_size, m.batchnorm,
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


def load_training_waves(config: WaveGANConfig, data_dir, logger) -> np.ndarray:
    """float32 ``[n, slice_len]`` training clips as the config's dataset describes them."""
    d, slice_len = config.data, config.model.slice_len
    if config.model.channels != 1:
        raise ValueError("the WaveGAN data readers are mono; set model.channels=1")
    if d.dataset == "synthetic":
        if data_dir is not None:
            raise ValueError(f"--data_dir '{data_dir}' was given but data.dataset is "
                             "'synthetic' (built-in digits); use --preset paper or --set "
                             "data.dataset=sc09 (or folder)")
        from tfaudiogan.data.synthetic_digits import digit_clips

        waves, _ = digit_clips(d.synthetic_per_class, d.sample_rate, slice_len,
                               seed=config.train.seed)
        logger.info("built-in synthetic digits: %d clips", len(waves))
    elif d.dataset not in DATASETS:
        raise ValueError(f"unknown dataset '{d.dataset}'; use one of {', '.join(DATASETS)}")
    elif data_dir is None:
        raise ValueError(f"dataset '{d.dataset}' needs --data_dir (or use --preset demo)")
    elif d.dataset == "sc09":
        from tfaudiogan.data.sc09 import load_sc09

        waves, _ = load_sc09(data_dir, "train", d.sample_rate, slice_len, d.normalize,
                             d.strict, log=logger)
    else:
        from tfaudiogan.data.slices import folder_slices

        waves = folder_slices(data_dir, slice_len, d.sample_rate,
                              n_slices_per_file=d.slices_per_file or None,
                              seed=config.train.seed, first_slice=d.first_slice,
                              normalize=d.normalize, strict=d.strict, log=logger)
    batch = config.train.batch_size * config.loss.d_updates
    if len(waves) < config.train.batch_size:
        raise ValueError(f"only {len(waves)} training clips; a batch needs "
                         f"{config.train.batch_size}")
    if len(waves) < batch:
        logger.info("note: %d clips < batch x d_updates = %d; examples repeat within a step",
                    len(waves), batch)
    return np.asarray(waves, np.float32)


def moments_path(config: WaveGANConfig, model_dir) -> Path:
    """Where the SpecGAN moments of this run live (``spectrogram.moments_file``)."""
    path = Path(config.spectrogram.moments_file)
    return path if path.is_absolute() else Path(model_dir) / path


def spectrogram_frontend(config: WaveGANConfig, model_dir) -> SpecGANSpectrogram:
    """The run's SpecGAN front-end; FileNotFoundError naming ``--moments_only`` if missing."""
    s = config.spectrogram
    return SpecGANSpectrogram.from_file(moments_path(config, model_dir),
                                        frame_length=s.frame_length, frame_step=s.frame_step,
                                        slice_len=config.model.slice_len,
                                        clip_nstd=s.clip_nstd)


def compute_run_moments(config: WaveGANConfig, model_dir, data_dir=None) -> Path:
    """Computes the per-bin log-magnitude moments of the training clips and saves them.

    The clips are exactly those the run trains on (same dataset, normalisation and slicing).

    Returns:
        The written moments file.
    """
    model_dir = Path(model_dir)
    config = prepare_run_dir(model_dir, config)
    logger = run_dir.run_logger(model_dir)
    waves = load_training_waves(config, data_dir, logger)
    s = config.spectrogram
    mean, std = compute_moments(waves, frame_length=s.frame_length, frame_step=s.frame_step)
    path = save_moments(moments_path(config, model_dir), mean, std)
    logger.info("SpecGAN moments of %d clips written to %s", len(waves), path)
    return path


def real_dataset(x: np.ndarray, config: WaveGANConfig) -> tf.data.Dataset:
    """Shuffled, repeated ``[batch, d_updates, ...]`` elements of the examples ``x``.

    A full permutation of the example indices per pass (the reference shuffles its files and
    then buffers 4096 slices; a full shuffle mixes at least as well).
    """
    table = tf.constant(x)
    n = len(x)
    examples = (tf.data.Dataset.range(n)
                .shuffle(n, seed=config.train.seed, reshuffle_each_iteration=True)
                .repeat()
                .map(lambda i: tf.gather(table, i), num_parallel_calls=tf.data.AUTOTUNE))
    return training_batches(examples, config.train.batch_size,
                            config.loss.d_updates).prefetch(tf.data.AUTOTUNE)


class PruneCheckpoints(keras.callbacks.Callback):
    """Keeps only the newest ``keep`` end-of-epoch checkpoints (paper runs have thousands)."""

    def __init__(self, model_dir, prefix: str, keep: int):
        super().__init__()
        self.model_dir, self.prefix, self.keep = Path(model_dir), prefix, max(1, int(keep))

    def on_epoch_end(self, epoch, logs=None):
        for old in run_dir.finished_checkpoints(self.model_dir, self.prefix)[:-self.keep]:
            old.unlink(missing_ok=True)


def loss_curve(model_dir) -> dict[str, list[float]]:
    """Per-epoch losses of every session of the run, from ``history.csv`` (last row wins)."""
    path = Path(model_dir) / "history.csv"
    if not path.exists():
        return {}
    lines = [line.split(",") for line in path.read_text().splitlines() if line.strip()]
    rows = {}
    header = None
    for parts in lines:
        if parts[0] == "epoch":
            header = parts
            continue
        if header is not None:  # CSVLogger writes "NA" for the absent validation columns
            rows[int(parts[0])] = {k: float(v) for k, v in zip(header[1:], parts[1:])
                                   if v != "NA"}
    epochs = sorted(rows)
    names = sorted({k for r in rows.values() for k in r})
    curve = {"epoch": [e + 1 for e in epochs]}
    curve.update({k: [rows[e].get(k) for e in epochs] for k in names})
    return curve


def run(config: WaveGANConfig, model_dir, data_dir=None, strategy="default",
        export: bool = True) -> dict:
    """Trains (or resumes), writes samples, evaluates, optionally exports.

    Returns:
        The metrics dict also written to ``model_dir/metrics.json``.
    """
    model_dir = Path(model_dir)
    config = prepare_run_dir(model_dir, config)
    logger = run_dir.run_logger(model_dir)
    logger.info("run directory %s (config.json written)", model_dir)
    kind = config.model.kind
    rep = spectrogram_frontend(config, model_dir) if kind == "specgan" else None
    strategy = get_strategy(strategy) if isinstance(strategy, str) else strategy
    keras.utils.set_random_seed(config.train.seed)
    waves = load_training_waves(config, data_dir, logger)
    if rep is None:
        x = waves[..., None]
    else:
        x = np.concatenate([rep.encode(waves[i:i + 256]).numpy()
                            for i in range(0, len(waves), 256)])
    t, d_updates = config.train, config.loss.d_updates
    steps = t.steps_per_epoch or max(1, len(x) // (t.batch_size * d_updates))
    with strategy.scope():
        gan = build_gan(config)
    postprocess = (None if rep is None else
                   functools.partial(rep.decode, n_iter=config.spectrogram.griffin_lim_iters))
    synth = Synthesizer(gan.generator, config.model.latent_dim, postprocess,
                        config.eval.batch_size)

    def render(z):
        if rep is None:
            audio = synth(z)
            return audio, waveform_picture(audio)
        images = gan.generator(z, training=False)
        return postprocess(images).numpy(), np.transpose(images.numpy()[..., 0], (0, 2, 1))

    z_fixed = np.random.default_rng(t.seed).uniform(
        -1, 1, (t.sample_clips, config.model.latent_dim)).astype(np.float32)
    ckpt = model_dir / "checkpoints" / f"{kind}-{{epoch:04d}}.weights.h5"
    callbacks = [
        keras.callbacks.BackupAndRestore(str(model_dir / "backup")),
        keras.callbacks.ModelCheckpoint(str(ckpt), save_weights_only=True),
        PruneCheckpoints(model_dir, kind, t.keep_checkpoints),
        keras.callbacks.TensorBoard(str(model_dir / "tensorboard")),
        keras.callbacks.CSVLogger(str(model_dir / "history.csv"), append=True),
        GeneratedSamples(model_dir / "samples", render, z_fixed, config.data.sample_rate,
                         every=t.sample_every, tensorboard_dir=model_dir / "tensorboard"),
        EpochLog(logger),
    ]
    initial_epoch = run_dir.restore_finished_epochs(gan, model_dir, logger, kind)
    logger.info("training epochs %d-%d x %d G steps (batch %d, %d D updates each, %d replica(s))",
                initial_epoch + 1, t.epochs, steps, t.batch_size, d_updates,
                strategy.num_replicas_in_sync)
    start = time.perf_counter()
    history = gan.fit(real_dataset(x, config), epochs=t.epochs, initial_epoch=initial_epoch,
                      steps_per_epoch=steps, callbacks=callbacks, verbose=2,
                      shuffle=False)  # the dataset shuffles itself
    train_seconds = time.perf_counter() - start
    (model_dir / "generators").mkdir(exist_ok=True)
    gan.generator.save(model_dir / "generators" / "generator.keras")

    logger.info("evaluating (inception score, nearest-neighbour distances)")
    metrics = {
        "family": kind,
        "loss_curve": loss_curve(model_dir),
        "epochs_this_session": len(history.history.get("g_loss", [])),
        "optimizer_iterations": {"generator": int(gan.g_optimizer.iterations.numpy()),
                                 "discriminator": int(gan.d_optimizer.iterations.numpy())},
        "train_seconds_this_session": round(train_seconds, 1),
        **evaluate_generator(synth, waves, config, model_dir, logger),
    }
    _write_metrics(model_dir, metrics)
    if export:
        from tfaudiogan.export.generator import export_generator

        paths = export_generator(gan.generator, config, model_dir / "export",
                                 postprocess=postprocess)
        metrics["export"] = {k: str(v) for k, v in paths.items()}
        _write_metrics(model_dir, metrics)
        logger.info("exported %s", ", ".join(f"{k}: {v}" for k, v in paths.items()))
    return metrics


def _write_metrics(model_dir: Path, metrics: dict) -> None:
    (model_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
