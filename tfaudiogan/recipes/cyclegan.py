"""CycleGAN instrument translation's recipe: two domains of clips -> CycleGAN -> cycle loss.

``python -m tfaudiogan.experiments.cyclegan_irmas`` (and ``cyclegan_music_style``) run
:data:`RECIPE` through the training driver (training/driver.py), which owns the run
directory, resume, callbacks, fit, metrics.json and the export call.
"""

from __future__ import annotations

import functools

import keras
import numpy as np
import tensorflow as tf

from tfaudiogan import data
from tfaudiogan.audio.batching import encode_in_batches
from tfaudiogan.audio.chunking import translate_frames, translate_waveform
from tfaudiogan.audio.representations import CycleGANSpectrogram, spectrogram_from_config
from tfaudiogan.configs.cyclegan import CycleGANConfig
from tfaudiogan.data.pipelines import spectrogram_crops, unaligned_pairs
from tfaudiogan.export.cyclegan import export_translator
from tfaudiogan.gans.cyclegan import CycleGAN
from tfaudiogan.metrics import mean_relative_cycle_losses
from tfaudiogan.models import cyclegan as networks
from tfaudiogan.training import driver, plots
from tfaudiogan.training.callbacks import CycleSamples
from tfaudiogan.training.recipe import Recipe, Run
from tfaudiogan.training.schedules import LinearDecay


def representation(config: CycleGANConfig) -> CycleGANSpectrogram:
    """The magnitude/phase front-end described by ``config.spectrogram`` (the one the export
    uses, so training and serving see the same spectrogram)."""
    return spectrogram_from_config(config.spectrogram)


def pictures(rep: CycleGANSpectrogram, sample_rate: int, waves) -> list[plots.Spectrogram]:
    """What the generators see of ``waves [n, samples]``, in dB re full scale, for the plots."""
    specs = rep.encode(tf.constant(waves, tf.float32))[0].numpy()[..., 0]  # [n, freq, frames]
    seconds = np.shape(waves)[1] / sample_rate
    row_hz = np.arange(rep.freq_bins) * sample_rate / rep.dft.fft_length
    return [plots.Spectrogram((spec + 1.0) * (rep.db_range / 2.0) - rep.db_range, seconds,
                              row_hz, db_range=rep.db_range) for spec in specs]


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
                   image_shape=(freq_bins, t.crop_frames, config.model.channels), seed=t.seed,
                   update_order=t.update_order, seed_d_steps=t.seed_d_steps)

    def adam(name, steps_per_iteration=1):
        # The linear decay counts iterations: an optimizer stepping k times per iteration
        # (a discriminator in the seed order) has k * steps_per_epoch steps per epoch.
        schedule = LinearDecay(opt.learning_rate, steps_per_epoch * steps_per_iteration,
                               opt.n_epochs, opt.n_epochs_decay)
        return keras.optimizers.Adam(schedule, beta_1=opt.beta_1, beta_2=opt.beta_2,
                                     epsilon=opt.epsilon, name=name)

    if t.update_order == "seed":  # one Adam per network; CycleGAN.compile copies these two
        gan.compile(g_optimizer=adam("g_ab_optimizer"),
                    d_optimizer=adam("d_a_optimizer", t.seed_d_steps))
    else:
        gan.compile(g_optimizer=adam("g_optimizer"), d_optimizer=adam("d_optimizer"))
    return gan


# metrics.json names of the optimizers' step counters
_ITERATION_NAMES = {"g_optimizer": "generators", "d_optimizer": "discriminators",
                    "g_ab_optimizer": "gen_ab", "g_ba_optimizer": "gen_ba",
                    "d_a_optimizer": "disc_a", "d_b_optimizer": "disc_b"}


def optimizer_iterations(gan: CycleGAN) -> dict[str, int]:
    """Steps taken by each optimizer: ``generators`` / ``discriminators`` in the reference
    order; ``gen_ab``, ``gen_ba``, ``disc_a``, ``disc_b`` in the seed order (a discriminator
    steps ``seed_d_steps`` times per iteration)."""
    return {_ITERATION_NAMES[name]: int(getattr(gan, name).iterations.numpy())
            for name in gan.optimizer_variables()}


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
             rep: CycleGANSpectrogram, max_clips: int = 0) -> dict:
    """Mean relative forward-cycle loss per domain and split (metrics/cycle.py definitions),
    on the normalised dB image (``relative_forward_cycle_loss``) and on the linear magnitude
    (``relative_forward_cycle_loss_linear``); ``max_clips`` > 0 scores only the first clips."""
    views = {"relative_forward_cycle_loss": None,
             "relative_forward_cycle_loss_linear": rep.denormalise}
    results = {}
    for split, domains in splits.items():
        for (name, waves), first in zip(domains.items(), ("a2b", "b2a")):
            waves = waves[:max_clips] if max_clips else waves
            specs = encode_in_batches(lambda w: rep.encode(w)[0], waves, 8)
            values = mean_relative_cycle_losses(specs, translator.cycle(first), views)
            results.setdefault(name, {})[split] = {**values, "clips": len(waves)}
    return results


class CycleGANRecipe(Recipe):
    """CycleGAN translation (seed 002 and the seed-004 variant) for the training driver."""

    config_cls = CycleGANConfig
    checkpoint_prefix = "cyclegan"

    def load_data(self, run: Run) -> dict:
        """``{"rep": front-end, "splits": {split: {domain: waves [n, samples]}}}``."""
        return {"rep": representation(run.config),
                "splits": {split: load_domains(run.config, run.data_dir, split, run.logger)
                           for split in ("train", "validation")}}

    def steps_per_epoch(self, run: Run, data) -> int:
        t = run.config.train
        longest = max(len(waves) for waves in data["splits"]["train"].values())
        return t.steps_per_epoch or longest // t.batch_size

    def dataset(self, run: Run, data):
        t, rep = run.config.train, data["rep"]
        train_a, train_b = data["splits"]["train"].values()
        return unaligned_pairs(
            spectrogram_crops(train_a, rep, t.crop_frames, t.batch_size, seed=t.seed),
            spectrogram_crops(train_b, rep, t.crop_frames, t.batch_size, seed=t.seed + 1))

    def build_model(self, run: Run, data) -> CycleGAN:
        return build_gan(run.config, self.steps_per_epoch(run, data), data["rep"].freq_bins)

    def callbacks(self, run: Run, model: CycleGAN, data) -> list:
        t, rep = run.config.train, data["rep"]
        translator = Translator(model, rep, t.crop_frames, t.chunk_overlap_frames)
        clips = {name: waves[:t.sample_clips]
                 for name, waves in data["splits"]["validation"].items()}
        rate = run.config.spectrogram.sample_rate
        return [CycleSamples(run.samples_dir, clips, translator.waveform,
                             functools.partial(pictures, rep, rate), rate,
                             tensorboard_dir=run.tensorboard_dir)]

    def save(self, run: Run, model: CycleGAN) -> None:
        folder = run.model_dir / "generators"
        folder.mkdir(exist_ok=True)
        model.gen_ab.save(folder / "gen_ab.keras")
        model.gen_ba.save(folder / "gen_ba.keras")

    def evaluate(self, run: Run, model: CycleGAN, data) -> dict:
        t, rep = run.config.train, data["rep"]
        run.logger.info("evaluating the relative forward-cycle loss")
        translator = Translator(model, rep, t.crop_frames, t.chunk_overlap_frames)
        domains = evaluate(translator, data["splits"], rep, t.eval_clips)
        for name, values in domains.items():
            run.logger.info("%s: %s", name, ", ".join(
                f"{s} {v['relative_forward_cycle_loss']:.4f} (linear magnitude "
                f"{v['relative_forward_cycle_loss_linear']:.4f}, {v['clips']} clips)"
                for s, v in values.items()))
        return {
            "definition": "mean over clips of sum|F(G(x)) - x| / sum|x| on the normalised "
                          "spectrogram of the whole clip (tfaudiogan/metrics/cycle.py)",
            "definition_linear": "the same ratio on the linear magnitude the normalised "
                                 "spectrogram encodes, sum||X_cyc| - |X|| / sum|X|",
            "domains": domains,
            "optimizer_iterations": optimizer_iterations(model),
        }

    def export(self, run: Run, model: CycleGAN, data) -> dict:
        return export_translator(model.gen_ab, model.gen_ba, run.config,
                                 run.model_dir / "export",
                                 domains=tuple(data["splits"]["train"]))


RECIPE = CycleGANRecipe()
run = functools.partial(driver.run, RECIPE)  # run(config, model_dir, data_dir, strategy, export)
