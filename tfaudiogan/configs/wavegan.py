"""WaveGAN, SpecGAN and SC09-classifier configs (Donahue et al. 2019, "Adversarial Audio
Synthesis"; facts in reference/wavegan.md, cited by section as [W x.y]).

Every default is the paper's / official code's value and names its source:
  [W x.y]  reference/wavegan.md section x.y (official chrisdonahue/wavegan code, paper).
  [chosen] not fixed by any source; our choice, with the reason next to it.

Families and presets (``configs.get_preset(family, name)``):
  wavegan_sc09     paper | demo | smoke, the Table 1 ablations paper_ps0 | paper_ps4 |
                   paper_nn | paper_post_filter, and the paper's other datasets
                   drums | piano | birds | timit (a folder of audio as --data_dir)
  specgan_sc09     paper | demo | smoke, paper_ps1 (SpecGAN + phase shuffle n = 1), and
                   drums | piano | birds | timit
  sc09_classifier  paper | demo | smoke
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from tfaudiogan.configs.base import register_preset

FAMILY_WAVEGAN = "wavegan_sc09"
FAMILY_SPECGAN = "specgan_sc09"
FAMILY_CLASSIFIER = "sc09_classifier"

# Where the demo / smoke classifier runs put their model (the GAN demos score with it).
DEMO_CLASSIFIER = "runs/sc09_classifier/demo/classifier.keras"


@dataclass(frozen=True)
class ModelConfig:
    """Generator and discriminator (tfaudiogan.models.wavegan / tfaudiogan.models.specgan)."""

    kind: str = "wavegan"  # "wavegan" (waveform) or "specgan" (128x128 log-magnitude image)
    slice_len: int = 16384  # [W 1] --data_slice_len (16384 | 32768 | 65536; SpecGAN: 16384)
    dim: int = 64  # [W 1] --wavegan_dim d
    channels: int = 1  # [W 1.3] --data_num_channels (mono)
    latent_dim: int = 100  # [W 4.2] z ~ U(-1, 1)^100
    kernel_size: int = 25  # [W 1] --wavegan_kernel_len 25 (SpecGAN: 5x5 [W 5.4])
    upsample: str = "zeros"  # [W 3.2] --wavegan_genr_upsample zeros | nn
    batchnorm: bool = False  # [W 3.3] --wavegan_batchnorm off
    post_filter: bool = False  # [W 3.1] --wavegan_genr_pp off
    post_filter_len: int = 512  # [W 3.1] --wavegan_genr_pp_len 512
    phaseshuffle_rad: int = 2  # [W 2] --wavegan_disc_phaseshuffle 2 (SpecGAN: none [W 5.4])


@dataclass(frozen=True)
class LossConfig:
    """Adversarial objective (tfaudiogan.gans.wavegan.WaveGAN)."""

    kind: str = "wgan-gp"  # [W 4.1] --wavegan_loss wgan-gp (also dcgan | lsgan | wgan)
    gp_weight: float = 10.0  # [W 4.1] LAMBDA = 10
    d_updates: int = 5  # [W 4.2] --wavegan_disc_nupdates 5
    clip: float = 0.01  # [W 3.4] wgan weight clipping +-0.01 (used by kind "wgan" only)


@dataclass(frozen=True)
class OptimizerConfig:
    """One optimizer each for G and D, same settings (reference train_wavegan.py).

    The reference pairs each loss with its own optimizer [W 3.4]: wgan-gp Adam(1e-4, 0.5,
    0.9); dcgan Adam(2e-4, beta_1 0.5); lsgan RMSProp(1e-4); wgan RMSProp(5e-5). Set them with
    ``--set optimizer.name=rmsprop --set optimizer.learning_rate=5e-5`` etc.
    """

    name: str = "adam"  # [W 4.2] "adam" or "rmsprop"
    learning_rate: float = 1e-4  # [W 4.2]
    beta_1: float = 0.5  # [W 4.2]
    beta_2: float = 0.9  # [W 4.2]
    epsilon: float = 1e-8  # [W 4.2] TF1 Adam epsilon (Keras would default to 1e-7)


@dataclass(frozen=True)
class SpectrogramConfig:
    """SpecGAN front-end (tfaudiogan.audio.specgan.SpecGANSpectrogram); unused by WaveGAN."""

    frame_length: int = 256  # [W 5.1] stft(x, 256, 128): 16 ms window at 16 kHz
    frame_step: int = 128  # [W 5.1] 8 ms hop
    clip_nstd: float = 3.0  # [W 5.1] _CLIP_NSTD
    griffin_lim_iters: int = 16  # [W 5.3] --specgan_ngl 16
    # [chosen] moments file inside the run directory ("beside the run"); an absolute path or a
    # path relative to the run directory.
    moments_file: str = "moments.npz"


@dataclass(frozen=True)
class DataConfig:
    """Training data (tfaudiogan.data.sc09 / slices / synthetic_digits)."""

    dataset: str = "sc09"  # "sc09" (either layout), "folder" (any audio) or "synthetic"
    sample_rate: int = 16000  # [W 4.3] fs = 16000
    # [W 4.4] the paper-era v1 loader did not peak-normalise (v2 always does).
    normalize: bool = False
    first_slice: bool = True  # [W 4.3] --data_first_slice --data_pad_end (SC09, drums)
    slices_per_file: int = 0  # "folder" without first_slice: random slices per file (0 = all)
    # "folder" without first_slice: keep a zero-padded last partial slice of each file
    # (--data_pad_end). [W 4.3] The reference's default is off; on here is this project's
    # folder behaviour before the other-dataset presets, which turn it off.
    pad_end: bool = True
    overlap: float = 0.0  # [W 4.3] --data_overlap_ratio 0 (hop = slice_len); "folder" only
    synthetic_per_class: int = 64  # [chosen] built-in spoken-digit-like clips per digit
    strict: bool = False  # raise on the first unreadable file instead of skipping it


@dataclass(frozen=True)
class EvalConfig:
    """metrics.json: inception score, nearest-neighbour distances, real-data calibration."""

    # The SC09 classifier: a .keras file from `python -m tfaudiogan.experiments.sc09_classifier`,
    # or the released TF1 classifier [W 6.1] as its checkpoint prefix (.../best_acc-103005) or
    # its directory, imported by models.classifiers.import_tf1_sc09_classifier (IS values then
    # comparable with the paper's); "" = none: metrics.json says the inception score was not
    # computed. Relative paths are tried against the working directory, then the run directory.
    classifier_path: str = ""
    inception_n: int = 50000  # [W 6.1] 50,000 generated clips (score.py default)
    inception_splits: int = 10  # [W 6.1] k = 10
    nearest_n: int = 1000  # [W 6.1] 1k generated clips for |D|self and |D|train
    real_inception_n: int = 0  # real-data calibration clips (0 = the whole train set [W 6.1])
    # [W 6.2] the paper's "Real (test)" row: IS, |D|self and |D|train of the SC09 test split
    # (synthetic data: other clips of the same generator); |D| values are also reported divided
    # by that row's |D|train (the paper lists 1.0 there; its normalisation is undocumented).
    test_calibration: bool = True
    batch_size: int = 100  # [W 6.1] score.py generates / classifies 100 at a time
    # [W 4.2] model selection as the reference: its `incept` mode scores every checkpoint with
    # the SC09 classifier and keeps the one with the best inception score as `best_score`
    # (train_wavegan.py l.500-502, ISSUE #61). "best_inception" scores the generator every
    # `select_every` epochs with `select_n` clips, keeps the best generator weights
    # (best_inception/generator.weights.h5 + .json) and ends the run with those (the
    # final scores, generators/generator.keras and the export); it needs a classifier and
    # falls back to "last" (with the reason in metrics.json) without one. "last": the final
    # weights are scored and exported (this project's behaviour before issue 10).
    checkpoint_selection: str = "best_inception"
    # [chosen] the reference checkpoints every 300 s, ~170 G steps at its ~200k steps in 4 days
    # [W 4.2]; 3 epochs of SC09 (58 G steps each) come closest.
    select_every: int = 3
    select_n: int = 5000  # [W 6.1] incept mode scores 5,000 generated clips


@dataclass(frozen=True)
class TrainConfig:
    """Loop settings (tfaudiogan.recipes.wavegan)."""

    batch_size: int = 64  # [W 4.2] train_batch_size 64
    # [W 4.2] ~200k G steps at batch 64 x 5 D updates = 64e6 clips, ~3,440 passes over the
    # 18,620 SC09 train clips ("~3500 epochs", PAPER? med). One epoch here = one pass.
    epochs: int = 3500
    steps_per_epoch: int = 0  # G steps per epoch; 0 = one pass (n // (batch * d_updates))
    backup_every_steps: int = 500  # [chosen] G steps between two backups (0: epoch ends only)
    seed: int = 0
    sample_clips: int = 10  # [chosen] generated clips written to samples/ (fixed z)
    sample_every: int = 25  # [chosen] epochs between sample writes (the paper run is long)
    keep_checkpoints: int = 3  # [chosen] newest end-of-epoch checkpoints kept (~440 MB each)


@dataclass(frozen=True)
class WaveGANConfig:
    """The complete WaveGAN / SpecGAN experiment config."""

    name: str = FAMILY_WAVEGAN
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    spectrogram: SpectrogramConfig = field(default_factory=SpectrogramConfig)
    data: DataConfig = field(default_factory=DataConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    train: TrainConfig = field(default_factory=TrainConfig)


#: The SpecGAN config has the same sections; presets set model.kind = "specgan".
SpecGANConfig = WaveGANConfig


def specgan_paper() -> WaveGANConfig:
    """SpecGAN as published [W 5]: 5x5 kernels, no phase shuffle, same training as WaveGAN.

    [W 4.2] SpecGAN converged in ~2 days (~1750 epochs, PAPER? med).
    """
    base = WaveGANConfig()
    return replace(
        base, name=FAMILY_SPECGAN,
        model=replace(base.model, kind="specgan", kernel_size=5, phaseshuffle_rad=0),
        train=replace(base.train, epochs=1750))


def _gan_demo(config: WaveGANConfig) -> WaveGANConfig:
    """Built-in synthetic digits, d = 8, batch 16, 600 G steps: ~5 minutes on a 2-core CPU.

    [chosen] learning rate 2e-4 (twice the paper's) to get further in a short run: trial runs
    gave periodic noise without any envelope after 240 steps at 1e-4, and the digits'
    burst-then-silence envelope after 600 steps at 2e-4 (experiments/wavegan_sc09.md).
    """
    return replace(
        config,
        model=replace(config.model, dim=8),
        optimizer=replace(config.optimizer, learning_rate=2e-4),
        data=replace(config.data, dataset="synthetic", synthetic_per_class=32),
        eval=replace(config.eval, classifier_path=DEMO_CLASSIFIER, inception_n=500,
                     nearest_n=100, real_inception_n=320, select_every=5, select_n=200),
        train=replace(config.train, batch_size=16, epochs=30, steps_per_epoch=20,
                      sample_clips=4, sample_every=3),
    )


def _gan_smoke(config: WaveGANConfig) -> WaveGANConfig:
    """Seconds: d = 2, 2 D updates, batch 4, two epochs of two steps."""
    return replace(
        config,
        model=replace(config.model, dim=2),
        loss=replace(config.loss, d_updates=2),
        data=replace(config.data, dataset="synthetic", synthetic_per_class=2),
        eval=replace(config.eval, classifier_path="", inception_n=20, nearest_n=10,
                     real_inception_n=10, batch_size=10, select_every=1, select_n=20),
        train=replace(config.train, batch_size=4, epochs=2, steps_per_epoch=2, sample_clips=2,
                      sample_every=1, keep_checkpoints=2),
    )


# The paper's Table 1 ablations [W 6.2] (the table's values there are PAPER? lo-med; the rows'
# exact definitions could not be checked against the paper's text). Each "+" row of the table
# is read as one change to the plain "WaveGAN" row (phase shuffle 0), the way "+ phase shuffle
# n = 2" and "n = 4" can only be; combine with e.g. --set model.phaseshuffle_rad=2. Not
# offered: "+ dropout" and 1-D linear / cubic upsampling, which the public WaveGAN code lacks
# [W 3.2, 3.4].
ABLATIONS_WAVEGAN = {
    "paper_ps0": dict(phaseshuffle_rad=0),  # "WaveGAN" (no phase shuffle)
    "paper_ps4": dict(phaseshuffle_rad=4),  # "+ phase shuffle (n = 4)"
    "paper_nn": dict(phaseshuffle_rad=0, upsample="nn"),  # "+ nearest neighbour" [W 3.2]
    "paper_post_filter": dict(phaseshuffle_rad=0, post_filter=True),  # "+ post-processing"
}
ABLATIONS_SPECGAN = {
    # "SpecGAN + phase shuffle (n = 1)" (not in the public SpecGAN [W 5.4]; along time)
    "paper_ps1": dict(phaseshuffle_rad=1),
}


def _ablation(base, changes: dict) -> WaveGANConfig:
    config = base()
    return replace(config, model=replace(config.model, **changes))


# The paper's other datasets [W 7]: drum sound effects, Bach piano, bird vocalisations and
# TIMIT speech, each a folder of audio read by the WaveGAN v2 folder slicer (data/slices.py;
# --data_dir names the folder). What the sources give for all four: 16 kHz audio [W 4.3, 7],
# 16384-sample slices (about 1 s) [W 1], WaveGAN / SpecGAN with SC09's hyperparameters (the
# reference code has no per-dataset settings besides its loader flags [W 4.3]), no peak
# normalisation in the paper-era loader [W 4.4] and no numeric results (qualitative only).
# Hours of audio per dataset (PAPER? lo except birds, [W 7]): drums ~0.7, piano ~0.3, birds
# 12.2 (ISSUE #67), TIMIT ~2.4.
OTHER_DATASETS = {
    # [reference README "Data considerations"] a folder of individual drum sound effects:
    # --data_first_slice, only the first slice of each file; [W 4.3 / ISSUE #31, #55] with
    # --data_pad_end, zero-padded to 16384 samples (hits are shorter than a slice). One hit
    # per file, as the drums.tar.gz archive of the reference README holds them [W 7].
    "drums": dict(first_slice=True, pad_end=True),
    # [reference README "Data considerations"] the default command suits a folder of music:
    # every slice of every file, from a random start offset [W 4.3]; the reference defaults
    # --data_overlap_ratio 0 and no --data_pad_end (train_wavegan.py set_defaults), so no
    # zero-padded partial slice at the end of a recording. Long Bach performances [W 7].
    "piano": dict(first_slice=False, pad_end=False),
    # [W 7 / ISSUE #67] the paper's bird set was cut from multi-minute recordings into 1.5 s
    # chunks (the up-to-4 loudest per recording); a folder of such chunks or of the raw
    # recordings is sliced like music (reference defaults as for piano): a 1.5 s chunk gives
    # one 16384-sample window at a random offset, as the paper-era loader's random window.
    "birds": dict(first_slice=False, pad_end=False),
    # [chosen] the sources are silent on TIMIT's slicing; its utterances are a few seconds
    # long, longer than one slice, so they are sliced like music (reference defaults as for
    # piano) rather than keeping only each utterance's first second.
    "timit": dict(first_slice=False, pad_end=False),
}
# [chosen] fixed-length epochs of 100 G steps: the folders' sizes are unknown, and a pass over
# a folder would make sample / backup cadence depend on it.
_OTHER_STEPS_PER_EPOCH = 100


def other_dataset(base, name: str) -> WaveGANConfig:
    """Preset ``name`` of :data:`OTHER_DATASETS` on top of ``base()`` (WaveGAN or SpecGAN)."""
    config = base()
    # [W 4.2] the SC09 runs' length in G steps (the paper gives none for these datasets):
    # ~200k for WaveGAN (3500 passes of 58 steps), ~100k for SpecGAN (1750 passes).
    epochs = {"wavegan": 2000, "specgan": 1000}[config.model.kind]
    return replace(
        config,
        data=replace(config.data, dataset="folder", slices_per_file=0, overlap=0.0,
                     **OTHER_DATASETS[name]),
        # [chosen] the inception score needs the SC09 digit classifier, meaningless for these
        # sounds (the paper reports none for them): keep the last weights, score |D| only.
        eval=replace(config.eval, checkpoint_selection="last", classifier_path=""),
        train=replace(config.train, epochs=epochs,
                      steps_per_epoch=_OTHER_STEPS_PER_EPOCH))


register_preset(FAMILY_WAVEGAN, "paper")(WaveGANConfig)
for _name in OTHER_DATASETS:
    register_preset(FAMILY_WAVEGAN, _name)(
        lambda name=_name: other_dataset(WaveGANConfig, name))
    register_preset(FAMILY_SPECGAN, _name)(
        lambda name=_name: other_dataset(specgan_paper, name))
for _name, _changes in ABLATIONS_WAVEGAN.items():
    register_preset(FAMILY_WAVEGAN, _name)(
        lambda changes=_changes: _ablation(WaveGANConfig, changes))
for _name, _changes in ABLATIONS_SPECGAN.items():
    register_preset(FAMILY_SPECGAN, _name)(
        lambda changes=_changes: _ablation(specgan_paper, changes))
register_preset(FAMILY_WAVEGAN, "demo")(lambda: _gan_demo(WaveGANConfig()))
register_preset(FAMILY_WAVEGAN, "smoke")(lambda: _gan_smoke(WaveGANConfig()))
register_preset(FAMILY_SPECGAN, "paper")(specgan_paper)
register_preset(FAMILY_SPECGAN, "demo")(lambda: _gan_demo(specgan_paper()))
register_preset(FAMILY_SPECGAN, "smoke")(lambda: _gan_smoke(specgan_paper()))


# ---------------------------------------------------------------------------------------------
# SC09 "inception" classifier [W 6.1]
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ClassifierModelConfig:
    """tfaudiogan.models.classifiers.sc09_classifier."""

    filters: int = 128  # [W 6.1] Conv2D 128 5x5 (1,331,850 trainable parameters)
    kernel_size: int = 5  # [W 6.1]
    n_blocks: int = 4  # [W 6.1] four conv/pool blocks
    # [W 1.1] TF1 tf.layers batch-norm momentum 0.99. The short demo / smoke runs use 0.9:
    # with 0.99 the moving statistics used at inference are still ~40 % of their initial
    # (0, 1) after 100 steps, and the demo classifier scored 0.8 instead of 1.0 on its own
    # training clips.
    bn_momentum: float = 0.99


@dataclass(frozen=True)
class ClassifierOptimizerConfig:
    """[W 6.1] eval/inception/train.py: plain SGD, learning rate 1e-4 (slow; [W 10.7])."""

    name: str = "sgd"  # "sgd" or "adam" (demo / smoke: Adam, to finish in minutes)
    learning_rate: float = 1e-4  # [W 6.1]
    momentum: float = 0.0  # [W 6.1] plain GradientDescentOptimizer
    epsilon: float = 1e-8  # Adam only (TF1 default)


@dataclass(frozen=True)
class ClassifierDataConfig:
    """SC09 train / valid / test, or the built-in synthetic digits."""

    dataset: str = "sc09"  # "sc09" or "synthetic"
    sample_rate: int = 16000  # [W 6.1] 16 kHz input
    slice_len: int = 16384  # [W 6.1] x:0 is [None, 16384]
    normalize: bool = False  # [W 4.4] paper-era loading (no peak normalisation)
    synthetic_per_class: int = 64  # [chosen] training clips per digit (valid/test: 1/4 each)
    strict: bool = False


@dataclass(frozen=True)
class ClassifierTrainConfig:
    """Loop settings (tfaudiogan.recipes.sc09_classifier)."""

    batch_size: int = 64  # [W 6.1] batch 64
    # [W 6.1] the released checkpoint is best_acc-103005: ~103k steps at batch 64, i.e. about
    # 355 passes over the 18,620 train clips (290 steps each).
    epochs: int = 355
    steps_per_epoch: int = 0  # 0 = one pass over the training clips
    backup_every_steps: int = 500  # [chosen] steps between two backups (0: epoch ends only)
    seed: int = 0


@dataclass(frozen=True)
class ClassifierConfig:
    """The SC09 classifier experiment config."""

    name: str = FAMILY_CLASSIFIER
    model: ClassifierModelConfig = field(default_factory=ClassifierModelConfig)
    optimizer: ClassifierOptimizerConfig = field(default_factory=ClassifierOptimizerConfig)
    data: ClassifierDataConfig = field(default_factory=ClassifierDataConfig)
    train: ClassifierTrainConfig = field(default_factory=ClassifierTrainConfig)


@register_preset(FAMILY_CLASSIFIER, "paper")
def classifier_paper() -> ClassifierConfig:
    """The reference classifier and its training setup on SC09."""
    return ClassifierConfig()


@register_preset(FAMILY_CLASSIFIER, "demo")
def classifier_demo() -> ClassifierConfig:
    """Synthetic digits, 32 filters, Adam 1e-3 (plain SGD 1e-4 would need hours): minutes."""
    c = ClassifierConfig()
    return replace(
        c, model=replace(c.model, filters=32, bn_momentum=0.9),
        optimizer=replace(c.optimizer, name="adam", learning_rate=1e-3),
        data=replace(c.data, dataset="synthetic", synthetic_per_class=40),
        train=replace(c.train, batch_size=32, epochs=8))


@register_preset(FAMILY_CLASSIFIER, "smoke")
def classifier_smoke() -> ClassifierConfig:
    """Seconds: 4 filters, 4 clips per digit, two epochs of two steps."""
    c = ClassifierConfig()
    return replace(
        c, model=replace(c.model, filters=4, bn_momentum=0.9),
        optimizer=replace(c.optimizer, name="adam", learning_rate=1e-3),
        data=replace(c.data, dataset="synthetic", synthetic_per_class=4),
        train=replace(c.train, batch_size=8, epochs=2, steps_per_epoch=2))
