"""DDSP-synth GAN config (seed 003 "NoisyGAN" + DDSP, Engel et al. 2020).

Sources, cited next to every default:
  [S ...]  seed 003 (shared/seeds/003_e4b77f66e9eb69ba.txt), by section name.
  [D x.y]  reference/ddsp.md section x.y (magenta/ddsp code facts).
  [chosen] not fixed by any source (the seed's code is private); our choice and why.

Family and presets (``configs.get_preset(FAMILY, name)``): ddsp_gan_nsynth  paper | demo | smoke.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from tfaudiogan.configs.base import register_preset
from tfaudiogan.configs.pitch_classifier import PitchMetricsConfig, preset_metrics

FAMILY = "ddsp_gan_nsynth"


@dataclass(frozen=True)
class ModelConfig:
    """tfaudiogan.models.ddsp_gan.generator / discriminator."""

    latent_dim: int = 64  # [chosen] the seed gives no size; CPPN GANs use 32 [D 4]
    n_samples: int = 64000  # [S Code and Dataset] NSynth notes: 4 s at 16 kHz [D 1.1]
    sample_rate: int = 16000  # [S Code and Dataset] [D 1.1]
    n_frames: int = 1000  # [D 1.1] DDSP feature rate 250 Hz -> 1000 frames for 4 s
    timbre_frames: int = 16  # [chosen] coarse timbre grid before upsampling ("upscales") [S Alg.]
    n_harmonics: int = 100  # [D 1.1] NSynth autoencoder harmonic_distribution 100
    n_noise_bands: int = 65  # [D 1.1] NSynth autoencoder noise_magnitudes 65
    cppn_units: int = 64  # [D 4] 32-128 hidden units
    cppn_depth: int = 3  # [D 4] 3-4 tanh layers
    # [chosen, measured] Fourier features of t: vibrato fit MSE 7.8e-6 vs 4.3e-2 without
    # (tests/models/test_cppn.py; experiments/ddsp_gan_nsynth.md).
    n_periodic: int = 4
    f0_min: float = 32.70  # [D 5.3] GANSynth subset MIDI 24 -> 32.70 Hz
    f0_max: float = 1046.5  # [D 5.3] GANSynth subset MIDI 84 -> 1046.5 Hz
    pitch_conditioned: bool = False  # [S Problem Definition] latent -> audio (unconditional)
    max_bend: float = 1.0  # [chosen] semitones of CPPN glide/vibrato around a given pitch
    amplitude_bias: float = 0.0  # [D 1.4] zero logits -> amplitude 0.4054 (audible at init)
    reverb: bool = False  # [D 3.1] no reverb for NSynth in the DDSP paper
    reverb_length: int = 48000  # [D 1.5] Reverb default 3 s
    use_fft: bool = False  # [chosen] builtins path in training too: exportable, same output
    # [D 1.5] DDSP's FilteredNoise filters fresh U(-1, 1) noise [B, n_samples] on every call
    # (synths.py). "fresh_in_training" (issue 10 item 15): fresh noise per example and call in
    # training; at inference the fixed buffer drawn from noise_seed, so G(z) is deterministic and
    # equals the SavedModel / TFLite export (random ops are not TFLite built-ins; exports always
    # use the buffer). "fresh": also at inference (the reference exactly). "fixed": the buffer
    # in training too (the deterministic option; one noise waveform for every example).
    noise_excitation: str = "fresh_in_training"
    noise_seed: int = 0  # [chosen] seed of the noise buffer and of the fresh-noise generator
    # [chosen, issue 10 item 16] harmonic phase: "accurate" (chunked sums + exact wrapped
    # offsets: 0.00 % framewise STFT magnitude error vs float64 at the end of a 4 s note with
    # moving F0, experiments/ddsp_gan_nsynth.md); "ddsp" = the reference's float32 cumsum
    # [D 1.4] bit for bit (9.7 % there, 15.4 % in its k * phi form).
    phase_accumulation: str = "accurate"
    ndf: int = 64  # [chosen] first discriminator width (the seed: "three-layer" conv net)
    mfcc_fft_size: int = 1024  # [D 1.1] DDSP MFCC encoder fft 1024
    mfcc_overlap: float = 0.5  # [D 1.1] overlap 0.5 (125 frames for 4 s)
    n_mels: int = 128  # [D 1.1] 128 mel bins
    n_mfcc: int = 30  # [D 1.1] 30 MFCCs


@dataclass(frozen=True)
class LossConfig:
    # [S Algorithm Definition] "binary classification": BCE; non-saturating G (issue 5).
    kind: str = "dcgan"  # also "hinge" | "lsgan"


@dataclass(frozen=True)
class OptimizerConfig:
    """Adam for G and D (the seed gives no optimizer; it cites GAN hacks [S ref 8])."""

    g_learning_rate: float = 2e-4  # [chosen] DCGAN / GAN-hacks convention [S ref 8]
    d_learning_rate: float = 2e-4  # [chosen] same
    beta_1: float = 0.5  # [chosen] DCGAN / GAN-hacks convention
    beta_2: float = 0.999  # [chosen] Adam default
    epsilon: float = 1e-8  # brief: explicit (Keras default 1e-7)
    # [D 1.1] DDSP grad-clip norm 3.0: the global norm of each network's global-batch gradient
    # (ddsp trainers.py clip_by_global_norm; gans/base.py clip_by_global_norm)
    clipnorm: float = 3.0


@dataclass(frozen=True)
class DataConfig:
    dataset: str = "nsynth"  # [S Code and Dataset] Google's NSynth; "synthetic" for demos
    gansynth_subset: bool = True  # [D 3.1] DDSP NSynth runs use the GANSynth-style subset
    synthetic_notes: int = 64  # [chosen] built-in notes for demo/smoke
    synthetic_pitches: tuple[int, ...] = (48, 52, 55, 60, 64, 67, 72)  # [chosen] demo range
    shuffle_buffer: int = 2048  # [chosen] NSynth stream (built-in notes: a full shuffle per pass)
    strict: bool = False  # raise on unreadable files instead of skipping them


@dataclass(frozen=True)
class TrainConfig:
    batch_size: int = 32  # [D 1.1] DDSP batch 32 (the seed gives none)
    epochs: int = 100  # [chosen] the seed reports no length; 100 x 1000 steps
    steps_per_epoch: int = 1000  # [chosen]
    backup_every_steps: int = 250  # [chosen] steps between two backups (0: epoch ends only)
    seed: int = 0
    sample_clips: int = 4  # [chosen] fixed-z clips written each epoch [S Methodology: listening]


@dataclass(frozen=True)
class DDSPGANConfig:
    name: str = FAMILY
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    # issue 5: the NSynth pitch-classifier metrics (IS, PE, FD, NDB/JSD; PA when
    # pitch-conditioned), computed as for GANSynth (recipes/pitch_metrics.py).
    eval: PitchMetricsConfig = field(default_factory=preset_metrics)


def demo() -> DDSPGANConfig:
    """Built-in synthetic notes; 1 s clips, 32 harmonics, small D: minutes on a 2-core CPU."""
    base = DDSPGANConfig()
    return replace(
        base,
        model=replace(base.model, n_samples=16000, n_frames=250, n_harmonics=32, ndf=16,
                      cppn_units=32),
        data=replace(base.data, dataset="synthetic", synthetic_notes=64),
        train=replace(base.train, batch_size=8, epochs=6, steps_per_epoch=50),
        eval=preset_metrics("demo"))


def smoke() -> DDSPGANConfig:
    """Seconds: 0.25 s clips, tiny networks, two epochs of two steps."""
    base = DDSPGANConfig()
    return replace(
        base,
        model=replace(base.model, latent_dim=8, n_samples=4000, n_frames=50, timbre_frames=4,
                      n_harmonics=8, n_noise_bands=9, cppn_units=8, cppn_depth=2, n_periodic=1,
                      ndf=4, mfcc_fft_size=256, n_mels=32, n_mfcc=13),
        data=replace(base.data, dataset="synthetic", synthetic_notes=8,
                     shuffle_buffer=8),
        train=replace(base.train, batch_size=4, epochs=2, steps_per_epoch=2, sample_clips=2),
        eval=preset_metrics("smoke"))


register_preset(FAMILY, "paper")(DDSPGANConfig)
register_preset(FAMILY, "demo")(demo)
register_preset(FAMILY, "smoke")(smoke)
