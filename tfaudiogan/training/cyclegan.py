"""CycleGAN instrument translation: config -> data -> networks -> fit -> metrics -> export.

``run(config, model_dir, data_dir)`` is what ``python -m tfaudiogan.experiments.cyclegan_irmas``
calls. Re-running it with the same arguments resumes from ``backup/`` (epoch and optimizer
state restored by keras.callbacks.BackupAndRestore).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from tfaudiogan import data
from tfaudiogan.audio.chunking import translate_frames, translate_waveform
from tfaudiogan.audio.representations import CycleGANSpectrogram, spectrogram_from_config
from tfaudiogan.configs.cyclegan import CycleGANConfig
from tfaudiogan.data.pipelines import spectrogram_crops, unaligned_pairs
from tfaudiogan.gans.cyclegan import CycleGAN
from tfaudiogan.metrics import mean_relative_cycle_loss
from tfaudiogan.models import cyclegan as networks
from tfaudiogan.training import run_dir
from tfaudiogan.training.callbacks import CycleSamples, EpochLog
from tfaudiogan.training.schedules import LinearDecay
from tfaudiogan.training.strategy import get_strategy


def representation(config: CycleGANConfig) -> CycleGANSpectrogram:
    """The magnitude/phase front-end described by ``config.spectrogram`` (the one the export
    uses, so training and serving see the same spectrogram)."""
    return spectrogram_from_config(config.spectrogram)


def build_networks(config: CycleGANConfig) -> dict[str, keras.Model]:
    """The two generators and two discriminators, named gen_ab, gen_ba, disc_a, disc_b."""
    m = config.model
    if m.architecture == "resnet":
        def make_g(name):
            return networks.resnet_generator(m.channels, m.ngf, m.n_blocks, name=name)

        def make_d(name):
            return networks.patch_discriminator(m.channels, m.ndf, m.n_layers, name=name)
    elif m.architecture == "music_style":
        def make_g(name):
            return networks.music_style_generator(m.channels, m.ngf, m.n_blocks, name=name)

        def make_d(name):
            return networks.music_style_discriminator(m.channels, m.ndf, name=name)
    else:
        raise ValueError(f"unknown architecture '{m.architecture}'; use 'resnet' or 'music_style'")
    return {"gen_ab": make_g("gen_ab"), "gen_ba": make_g("gen_ba"),
            "disc_a": make_d("disc_a"), "disc_b": make_d("disc_b")}


def build_gan(config: CycleGANConfig, steps_per_epoch: int, freq_bins: int) -> CycleGAN:
    """A compiled CycleGAN; call inside the strategy scope."""
    nets = build_networks(config)
    t, loss, opt = config.train, config.loss, config.optimizer
    gan = CycleGAN(nets["gen_ab"], nets["gen_ba"], nets["disc_a"], nets["disc_b"],
                   lambda_a=loss.lambda_a, lambda_b=loss.lambda_b,
                   identity_weight=loss.identity_weight, adversarial=loss.adversarial,
                   d_loss_factor=loss.d_loss_factor, pool_size=t.pool_size,
                   image_shape=(freq_bins, t.crop_frames, config.model.channels), seed=t.seed)

    def adam(name):
        schedule = LinearDecay(opt.learning_rate, steps_per_epoch, opt.n_epochs, opt.n_epochs_decay)
        return keras.optimizers.Adam(schedule, beta_1=opt.beta_1, beta_2=opt.beta_2,
                                     epsilon=opt.epsilon, name=name)

    gan.compile(g_optimizer=adam("g_optimizer"), d_optimizer=adam("d_optimizer"))
    return gan


def load_domains(config: CycleGANConfig, data_dir, split: str, logger) -> dict[str, np.ndarray]:
    """{domain: float32 [n, samples]} for ``split`` ("train" or "validation")."""
    d = config.data
    if d.dataset == "synthetic":
        n = d.synthetic_train if split == "train" else d.synthetic_validation
        domains = data.load("synthetic", split=split, sample_rate=config.spectrogram.sample_rate,
                            clip_seconds=d.clip_seconds, n_per_domain=n, seed=config.train.seed)
    else:
        if data_dir is None:
            raise ValueError(f"dataset '{d.dataset}' needs --data_dir")
        domains = data.load(d.dataset, data_dir, split=split,
                            sample_rate=config.spectrogram.sample_rate,
                            clip_seconds=d.clip_seconds, instruments=(d.domain_a, d.domain_b),
                            strict=d.strict, seed=config.train.seed, n_train=d.n_train,
                            n_validation=d.n_validation, log=logger)
    ordered = {}
    for name in (d.domain_a, d.domain_b):
        if name not in domains:
            raise ValueError(f"domain '{name}' not found in the {d.dataset} data "
                             f"(found: {sorted(domains)})")
        ordered[name] = domains[name]
    logger.info("%s split: %s", split, ", ".join(f"{k} {len(v)} clips" for k, v in ordered.items()))
    return ordered


class Translator:
    """Runs a trained CycleGAN on spectrograms and waveforms of any length (chunked).

    Args:
      gan: the CycleGAN (its current generator weights are used).
      rep: the spectrogram front-end.
      chunk_frames: frames per generator call (the training crop).
      overlap_frames: frames shared by neighbouring chunks (cross-faded).
    """

    def __init__(self, gan: CycleGAN, rep: CycleGANSpectrogram, chunk_frames: int,
                 overlap_frames: int):
        self.gen = {"a2b": gan.gen_ab, "b2a": gan.gen_ba}
        self.rep, self.chunk, self.overlap = rep, chunk_frames, overlap_frames

    def frames(self, direction: str, spec) -> tf.Tensor:
        """[n, freq, frames, 1] -> the other domain, same shape."""
        gen = self.gen[direction]
        return translate_frames(spec, lambda x: gen(x, training=False), self.chunk, self.overlap)

    def waveform(self, direction: str, wave) -> np.ndarray:
        """[n, samples] -> [n, samples] in the other domain (input phase reused)."""
        gen = self.gen[direction]
        out = translate_waveform(tf.convert_to_tensor(wave, tf.float32),
                                 lambda x: gen(x, training=False), self.rep, self.chunk,
                                 self.overlap)
        return out.numpy()

    def cycle(self, first: str):
        """The forward cycle starting with ``first``: F(G(x))."""
        second = "b2a" if first == "a2b" else "a2b"
        return lambda spec: self.frames(second, self.frames(first, spec))


def evaluate(translator: Translator, splits: dict[str, dict[str, np.ndarray]],
             rep: CycleGANSpectrogram, max_clips: int) -> dict:
    """Mean relative forward-cycle loss per domain and split (metrics/cycle.py definition)."""
    results = {}
    for split, domains in splits.items():
        for (name, waves), first in zip(domains.items(), ("a2b", "b2a")):
            waves = waves[:max_clips] if max_clips else waves
            specs = np.concatenate([rep.encode(tf.constant(waves[i:i + 8]))[0].numpy()
                                    for i in range(0, len(waves), 8)])
            value = mean_relative_cycle_loss(specs, translator.cycle(first))
            results.setdefault(name, {})[split] = {"relative_forward_cycle_loss": value,
                                                   "clips": len(waves)}
    return results


def run(config: CycleGANConfig, model_dir, data_dir=None, strategy="default",
        export: bool = True) -> dict:
    """Trains (or resumes), evaluates, writes samples and metrics, optionally exports.

    Returns:
      The metrics dict also written to ``model_dir/metrics.json``.
    """
    model_dir = Path(model_dir)
    config = run_dir.prepare(model_dir, config, CycleGANConfig)
    logger = run_dir.run_logger(model_dir)
    logger.info("run directory %s (config.json written)", model_dir)
    strategy = get_strategy(strategy) if isinstance(strategy, str) else strategy
    keras.utils.set_random_seed(config.train.seed)
    rep = representation(config)
    splits = {split: load_domains(config, data_dir, split, logger)
              for split in ("train", "validation")}
    (a, train_a), (b, train_b) = splits["train"].items()
    t = config.train
    steps = t.steps_per_epoch or max(len(train_a), len(train_b)) // t.batch_size
    dataset = unaligned_pairs(
        spectrogram_crops(train_a, rep, t.crop_frames, t.batch_size, seed=t.seed),
        spectrogram_crops(train_b, rep, t.crop_frames, t.batch_size, seed=t.seed + 1))

    with strategy.scope():
        gan = build_gan(config, steps, rep.freq_bins)
    translator = Translator(gan, rep, t.crop_frames, t.chunk_overlap_frames)
    sample_clips = {name: waves[:t.sample_clips] for name, waves in splits["validation"].items()}
    callbacks = [
        keras.callbacks.BackupAndRestore(str(model_dir / "backup")),
        keras.callbacks.ModelCheckpoint(
            str(model_dir / "checkpoints" / "cyclegan-{epoch:03d}.weights.h5"),
            save_weights_only=True),
        keras.callbacks.TensorBoard(str(model_dir / "tensorboard")),
        CycleSamples(model_dir / "samples", sample_clips, translator.waveform,
                     lambda w: rep.encode(tf.constant(w))[0], config.spectrogram.sample_rate,
                     tensorboard_dir=model_dir / "tensorboard"),
        EpochLog(logger),
    ]
    initial_epoch = run_dir.restore_finished_epochs(gan, model_dir, logger, "cyclegan")
    logger.info("training epochs %d-%d x %d steps (batch %d, %d replica(s))", initial_epoch + 1,
                t.epochs, steps, t.batch_size, strategy.num_replicas_in_sync)
    start = time.perf_counter()
    history = gan.fit(dataset, epochs=t.epochs, initial_epoch=initial_epoch,
                      steps_per_epoch=steps, callbacks=callbacks, verbose=2,
                      shuffle=False)  # the dataset shuffles itself
    train_seconds = time.perf_counter() - start

    generators_dir = model_dir / "generators"
    generators_dir.mkdir(exist_ok=True)
    gan.gen_ab.save(generators_dir / "gen_ab.keras")
    gan.gen_ba.save(generators_dir / "gen_ba.keras")

    logger.info("evaluating the relative forward-cycle loss")
    metrics = {
        "definition": "mean over clips of sum|F(G(x)) - x| / sum|x| on the normalised "
                      "spectrogram of the whole clip (tfaudiogan/metrics/cycle.py)",
        "domains": evaluate(translator, splits, rep, t.eval_clips),
        "final_losses": {k: float(v[-1]) for k, v in history.history.items()},
        "epochs_this_session": len(history.history.get("g_loss", [])),
        "optimizer_iterations": {"generators": int(gan.g_optimizer.iterations.numpy()),
                                 "discriminators": int(gan.d_optimizer.iterations.numpy())},
        "train_seconds_this_session": round(train_seconds, 1),
    }
    (model_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    for name, values in metrics["domains"].items():
        logger.info("%s: %s", name, ", ".join(
            f"{s} {v['relative_forward_cycle_loss']:.4f}" for s, v in values.items()))
    if export:
        from tfaudiogan.export.cyclegan import export_translator

        paths = export_translator(gan.gen_ab, gan.gen_ba, config, model_dir / "export",
                                  domains=(a, b))
        metrics["export"] = {k: str(v) for k, v in paths.items()}
        (model_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
        logger.info("exported %s", ", ".join(f"{k}: {v}" for k, v in paths.items()))
    return metrics
