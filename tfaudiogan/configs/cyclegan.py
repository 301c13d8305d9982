"""CycleGAN instrument translation configs: seed 002 (IRMAS piano <-> electric guitar) and the
seed-004 "music style" variant.

Every default is the published value and names its source:
  [seed002] ../shared/seeds/002 "Instrumental Music Translation" (Gupta & Naik).
  [seed004] ../shared/seeds/004 "Learning Music Style Transformation" slides (Hongbo Zhu).
  [ref]     junyanz/pytorch-CycleGAN-and-pix2pix (reference/cyclegan.md section 1).
  [chosen]  not stated by any source; our choice, with the reason next to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from tfaudiogan.configs.base import register_preset

FAMILY_IRMAS = "cyclegan_irmas"
FAMILY_MUSIC_STYLE = "cyclegan_music_style"


@dataclass(frozen=True)
class SpectrogramConfig:
    """STFT magnitude/phase front-end (tfaudiogan.audio.representations.CycleGANSpectrogram)."""

    sample_rate: int = 25_000  # [seed002] "load ... at sampling rate 25KHz"
    frame_length: int = 511  # [seed002] Hann window of 511 samples
    # [seed002] "This will return 256 frequencies": 1 + 511 // 2. TF would default the FFT to
    # 512 (257 bins), so the FFT length is explicit.
    fft_length: int = 511
    frame_step: int = 127  # [seed002] librosa's default hop, win_length // 4 (the seed gives none)
    # [chosen] dB range mapped to [-1, 1] for the tanh generator, relative to the largest possible
    # bin magnitude; 120 dB keeps the identity round trip above 100 dB SNR.
    db_range: float = 120.0
    drop_nyquist: bool = False  # [chosen] only needed for even FFTs (seed 004: 257 -> 256 rows)


@dataclass(frozen=True)
class ModelConfig:
    """Generator and discriminator shapes (tfaudiogan.models.cyclegan)."""

    architecture: str = "resnet"  # "resnet" [ref] or "music_style" [seed004]
    channels: int = 1  # one magnitude channel: only the amplitude is translated [seed002]
    ngf: int = 64  # [ref] --ngf
    ndf: int = 64  # [ref] --ndf
    n_blocks: int = 9  # [ref] resnet_9blocks, the paper's 256x256 generator
    n_layers: int = 3  # [ref] 70x70 PatchGAN (n_layers_D=3)


@dataclass(frozen=True)
class LossConfig:
    """Loss kinds and weights (tfaudiogan.gans.cyclegan.CycleGAN)."""

    adversarial: str = "lsgan"  # [seed002] "Mean square error" discriminator loss; [ref] lsgan
    lambda_a: float = 10.0  # [seed002] forward cycle weight 10 (also [ref] lambda_A)
    lambda_b: float = 10.0  # [seed002] backward cycle weight 10 (also [ref] lambda_B)
    # [seed002] "kept as half ... of the forward cycle consistency loss; we changed it to 4";
    # [ref] uses 0.5 * 10 = 5.
    identity_weight: float = 4.0
    d_loss_factor: float = 0.5  # [seed002] discriminator loss halved; [ref] (real + fake) * 0.5


@dataclass(frozen=True)
class OptimizerConfig:
    """Adam with the reference's linear decay (tfaudiogan.training.schedules.LinearDecay)."""

    learning_rate: float = 2e-4  # [seed002] "The learning rate was 2.0e-4"; [ref] --lr
    beta_1: float = 0.5  # [ref] --beta1
    beta_2: float = 0.999  # [ref] PyTorch Adam default
    epsilon: float = 1e-8  # [ref] PyTorch Adam default (Keras would use 1e-7)
    n_epochs: int = 100  # [ref] epochs at the initial learning rate
    n_epochs_decay: int = 100  # [ref] epochs of linear decay towards zero


@dataclass(frozen=True)
class DataConfig:
    """Where the two domains come from (tfaudiogan.data.load)."""

    dataset: str = "irmas"  # "irmas", "folders" or "synthetic"
    domain_a: str = "pia"  # [seed002] piano
    domain_b: str = "gel"  # [seed002] electric guitar
    clip_seconds: float = 3.0  # IRMAS training excerpts are 3 s (reference/cyclegan.md section 4)
    n_train: int = 600  # [seed002] "600 audio samples were taken for training"
    n_validation: int = 50  # [seed002] "while 50 were kept for validation"
    synthetic_train: int = 64  # [chosen] built-in two-timbre data: clips per domain
    synthetic_validation: int = 8  # [chosen]
    strict: bool = False  # raise on the first unreadable file instead of skipping it


@dataclass(frozen=True)
class TrainConfig:
    """Loop settings (tfaudiogan.recipes.cyclegan)."""

    batch_size: int = 2  # [seed002] "batch size of 2 training examples" ([ref] uses 1)
    crop_frames: int = 256  # [ref] 256x256 training crops; 256 frames ~ 1.3 s at hop 127
    pool_size: int = 50  # [ref] --pool_size; [seed002] buffer of earlier fakes
    epochs: int = 200  # [ref] n_epochs + n_epochs_decay (the seed trained ~27 h, epochs unstated)
    steps_per_epoch: int = 0  # 0 = one pass over the larger domain's clips per epoch
    # [chosen] steps between two backups (0: epoch ends only); a paper epoch is 300 steps
    backup_every_steps: int = 100
    seed: int = 0
    # Who updates when (tfaudiogan.gans.cyclegan):
    #   "reference" [ref] cycle_gan_model.py optimize_parameters: one G step on the joint loss
    #     (D frozen), then one D step on the pooled fakes from before the G step; one Adam over
    #     both generators, one over both discriminators.
    #   "seed" [seed002] section 2.2: "First we train both discriminators two times ... (real and
    #     fake images) and then trained the two generators ensuring that one generator is
    #     trained, the other generator as well as the discriminator of its domain is kept
    #     non-trainable"; one Adam per network (the seed's four compiled Keras models).
    update_order: str = "reference"
    # Seed order only: D updates per iteration. 2 = one on the real batch, then one on the pooled
    # fakes ([seed002] "two times ... (real and fake images)", read as Keras' train_on_batch per
    # kind); 1 = one update on their sum (the other reading). D learning-rate schedules still
    # count iterations, not optimizer steps.
    seed_d_steps: int = 2
    chunk_overlap_frames: int = 64  # [chosen] cross-fade between chunks when translating long audio
    # Clips per domain and split scored for metrics.json; 0 = all ([seed002] Figure 7 reports
    # "Train Data" and "Validation Data", i.e. the whole 600 / 50 clips). A positive value takes
    # the first clips of each split (a cap for quick runs).
    eval_clips: int = 0
    sample_clips: int = 1  # clips per domain written to samples/ each epoch


@dataclass(frozen=True)
class CycleGANConfig:
    """The complete CycleGAN experiment config."""

    name: str = FAMILY_IRMAS
    spectrogram: SpectrogramConfig = field(default_factory=SpectrogramConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    @property
    def total_epochs(self) -> int:
        """Epochs of the run (the linear schedule spans n_epochs + n_epochs_decay)."""
        return self.train.epochs


def _demo(config: CycleGANConfig) -> CycleGANConfig:
    """The embedded default: built-in synthetic two-timbre data, ~7 minutes on a 2-core CPU.

    Networks at a quarter of the paper width (0.41 s per iteration at 2x256x64 here,
    tools/benchmark.py), 900 iterations.
    """
    epochs = 15
    return replace(
        config,
        model=replace(config.model, ngf=16, ndf=16, n_blocks=6),
        data=replace(config.data, dataset="synthetic", domain_a="piano", domain_b="guitar",
                     clip_seconds=3.0, synthetic_train=32, synthetic_validation=8),
        train=replace(config.train, crop_frames=64, epochs=epochs, steps_per_epoch=60,
                      chunk_overlap_frames=16, eval_clips=8),
        optimizer=replace(config.optimizer, n_epochs=epochs // 2,
                          n_epochs_decay=epochs - epochs // 2),
    )


def _smoke(config: CycleGANConfig) -> CycleGANConfig:
    """Seconds-long run for tests: tiny networks, 1 s clips, two epochs of two steps."""
    return replace(
        config,
        model=replace(config.model, ngf=4, ndf=4, n_blocks=1),
        data=replace(config.data, dataset="synthetic", domain_a="piano", domain_b="guitar",
                     clip_seconds=1.0, synthetic_train=4, synthetic_validation=2),
        # 32 frames: the 70x70 PatchGAN needs at least 24 columns for one output patch.
        train=replace(config.train, crop_frames=32, epochs=2, steps_per_epoch=2, pool_size=4,
                      chunk_overlap_frames=8, eval_clips=2),
        optimizer=replace(config.optimizer, n_epochs=1, n_epochs_decay=1),
    )


@register_preset(FAMILY_IRMAS, "paper")
def irmas_paper() -> CycleGANConfig:
    """Seed 002 as published: IRMAS piano <-> electric guitar, ResNet-9 + 70x70 PatchGAN."""
    return CycleGANConfig()


# [seed002] section 2.2: "we sub-optimally trained it for about 27 hours where each iteration
# (training size equal to batch size) took around 5-10 seconds": 97,200 s / (5-10 s) = 9,720-19,440
# iterations of batch 2, i.e. 32-65 epochs of 300 iterations (600 clips per domain / batch 2).
# 43 epochs = 12,900 iterations is 27 h at the middle of that range (7.5 s per iteration).
SEED_EPOCHS = 43


@register_preset(FAMILY_IRMAS, "seed")
def irmas_seed() -> CycleGANConfig:
    """Seed 002 as it was trained: the seed's update order (both discriminators first, then
    each generator with the other frozen), about 27 h of iterations, no learning-rate decay
    (the seed names only "The learning rate was 2.0e-4")."""
    config = CycleGANConfig()
    return replace(
        config,
        train=replace(config.train, update_order="seed", epochs=SEED_EPOCHS),
        optimizer=replace(config.optimizer, n_epochs=SEED_EPOCHS, n_epochs_decay=0),
    )


@register_preset(FAMILY_IRMAS, "demo")
def irmas_demo() -> CycleGANConfig:
    return _demo(CycleGANConfig())


@register_preset(FAMILY_IRMAS, "smoke")
def irmas_smoke() -> CycleGANConfig:
    return _smoke(CycleGANConfig())


def music_style_paper() -> CycleGANConfig:
    """Seed 004: log-magnitude STFT (20.5 kHz, 10 ms hop, FFT 512), its G/D variant, log loss."""
    return CycleGANConfig(
        name=FAMILY_MUSIC_STYLE,
        spectrogram=SpectrogramConfig(
            sample_rate=20_500,  # [seed004] "Audio sampling rate of 20.5kHz"
            # [seed004] "Frame-size 30ms" is 615 samples, longer than "FFT-size 512"; we use
            # 512-sample frames (25 ms) so no frame is truncated (documented in the record).
            frame_length=512,
            fft_length=512,  # [seed004] "FFT-size 512"
            frame_step=205,  # [seed004] "Frame-step 10ms"
            drop_nyquist=True,  # [chosen] 257 -> 256 rows so the height divides by 4
        ),
        model=ModelConfig(architecture="music_style"),
        # [seed004] eq. (1) is the log-likelihood GAN loss; eq. (3) adds L_cyc with lambda (10 in
        # [ref]) and L_iden with no weight shown, i.e. 1.
        loss=LossConfig(adversarial="bce", identity_weight=1.0),
        data=DataConfig(dataset="folders", domain_a="a", domain_b="b",
                        clip_seconds=30.0),  # [seed004] "Duration 30s"
    )


register_preset(FAMILY_MUSIC_STYLE, "paper")(music_style_paper)
register_preset(FAMILY_MUSIC_STYLE, "demo")(lambda: _demo(music_style_paper()))
register_preset(FAMILY_MUSIC_STYLE, "smoke")(lambda: _smoke(music_style_paper()))
