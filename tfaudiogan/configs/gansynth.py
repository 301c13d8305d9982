"""GANSynth configs (Engel et al., ICLR 2019): the paper's ``mel_prog_hires`` and reduced presets.

Every default is the published value and names its source:
  [cfg]    magenta/models/gansynth/configs/mel_prog_hires.py (reference/gansynth.md 2.1), the
           paper's best model (IF-Mel + H, progressive).
  [model]  lib/model.py / train_util.py / networks.py (reference/gansynth.md 2.2-2.5).
  [data]   lib/datasets.py, TFDS nsynth/gansynth_subset (reference/gansynth.md 3).
  [chosen] not stated by any source; our choice, with the reason next to it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

from tfaudiogan.configs.base import register_preset
from tfaudiogan.configs.pitch_classifier import PitchMetricsConfig, preset_metrics

FAMILY = "gansynth_nsynth"


@dataclass(frozen=True)
class SpectrogramConfig:
    """The representation (tfaudiogan.audio.gansynth.GANSynthSpectrogram)."""

    high_res: bool = True  # [cfg] hifreqres: 128 x 1024, nfft 2048, hop 512
    mel: bool = True  # [cfg] data_type 'mel' (log mel power + mel IF)
    # [cfg] IF (data_type 'linear' / 'mel'); False = data_type 'phase' (phase / pi)
    ifreq: bool = True
    sample_rate: int = 16_000  # [data] NSynth 16 kHz
    audio_length: int = 64_000  # [data] 4 s notes
    # (time, freq) override of the spectrogram image; () = the representation's default.
    spec_shape: tuple[int, ...] = ()


@dataclass(frozen=True)
class ModelConfig:
    """Progressive networks (tfaudiogan.models.gansynth)."""

    latent_size: int = 256  # [cfg] latent_vector_size
    min_pitch: int = 24  # [data] pitch one-hot covers MIDI 24..84
    max_pitch: int = 84  # [data]
    start_shape: tuple[int, ...] = (2, 16)  # [cfg] start height x width with hifreqres
    num_resolutions: int = 7  # [cfg] num_resolutions (13 stages)
    fmap_base: int = 4096  # [cfg]
    fmap_decay: float = 1.0  # [cfg]
    fmap_max: int = 256  # [cfg]
    kernel_size: int = 3  # [cfg]

    @property
    def num_pitches(self) -> int:
        """Classes of the one-hot / the auxiliary classifier (61 for 24..84)."""
        return self.max_pitch - self.min_pitch + 1


@dataclass(frozen=True)
class LossConfig:
    """WGAN-GP + drift + auxiliary pitch classification (tfaudiogan.gans.progressive)."""

    gp_weight: float = 10.0  # [cfg] gradient_penalty_weight (target 1.0)
    drift_weight: float = 0.001  # [cfg] real_score_penalty_weight
    g_ac_weight: float = 10.0  # [cfg] generator_ac_loss_weight
    d_ac_weight: float = 10.0  # [cfg] discriminator_ac_loss_weight
    # [model] the penalty is taken w.r.t. the data-space (denormalised) interpolates, with the
    # discriminator's normaliser (and clip) inside the critic (gansynth.md 2.5, 8.12).
    gp_data_space: bool = True
    # [model] the reference discriminator sees full-size images at every stage; our stage
    # models work at the stage resolution, whose input gradient norm is larger by the box
    # factor. True divides it back, so the penalty equals the reference's.
    gp_full_size_norm: bool = True


@dataclass(frozen=True)
class OptimizerConfig:
    """Adam for each network, re-created at every stage (the reference resets it)."""

    g_learning_rate: float = 8e-4  # [cfg] generator_learning_rate
    d_learning_rate: float = 8e-4  # [cfg] discriminator_learning_rate
    beta_1: float = 0.0  # [cfg] adam_beta1
    beta_2: float = 0.99  # [cfg] adam_beta2
    epsilon: float = 1e-8  # [cfg] TF Adam default (Keras would use 1e-7)


@dataclass(frozen=True)
class DataConfig:
    """Training notes (tfaudiogan.data.nsynth or the built-in synthetic notes)."""

    dataset: str = "nsynth"  # "nsynth" (needs --data_dir) or "synthetic"
    layout: str = "auto"  # NSynth layout: auto | tfrecord | jsonwav
    # [data] lib/datasets.py trains on TFDS nsynth/gansynth_subset, whose ids come from
    # nsynth-gansynth_splits.csv (columns id,split) over all three original splits: 60,788
    # training notes. "auto" = <data_dir>/nsynth-gansynth_splits.csv, required (a clear error
    # when missing, never a silent fall back); a path = that CSV; "none" (or "") = the older
    # code's nsynth-train filtered to acoustic 24-84 (81,454 notes), not the paper's data.
    gansynth_splits: str = "auto"
    synthetic_notes: int = 64  # [chosen] built-in notes for demo/smoke
    # [chosen] MIDI pitches the built-in notes are drawn from; () = every pitch of
    # model.min_pitch..max_pitch. The one-hot, the auxiliary classifier and the pitch metrics
    # stay 61-way whatever this holds (fake pitches follow the training histogram).
    synthetic_pitches: tuple[int, ...] = ()
    # [chosen] RMS of a white noise floor on the built-in notes (data/synthetic_notes.py);
    # 0 = noiseless. Without a floor the IF channel of the quiet bins carries the pitch.
    synthetic_noise_rms: float = 0.0
    # [data] order of the training notes. The published NSynth files are ordered by
    # instrument; the reference reads TFDS gansynth_subset (written in shuffled order) and
    # shuffles again. "full" = a seeded permutation of every training note per epoch, made
    # before reading (data/nsynth.py shuffle_seed); "buffer" = file order through a
    # shuffle_buffer-note buffer (does not mix instruments of the published files).
    shuffle: str = "full"
    shuffle_buffer: int = 2048  # [chosen] used by shuffle="buffer" and the eval reference
    strict: bool = False


@dataclass(frozen=True)
class TrainConfig:
    """The progressive schedule, counted in images (tfaudiogan.recipes.gansynth)."""

    batch_size: int = 8  # [cfg] batch_size_schedule [8] at every resolution
    stable_images: int = 800_000  # [cfg] stable_stage_num_images
    transition_images: int = 800_000  # [cfg] transition_stage_num_images
    total_images: int = 11_000_000  # [cfg] total_num_images (the last stage runs to it)
    # [chosen] an explicit schedule instead of the three above (not the reference's): the
    # images of every stage, stage 0 first (13 for 7 resolutions: stable, transition, ...,
    # stable), e.g. to spend more steps at the cheap low resolutions; () = uniform.
    stage_images: tuple[int, ...] = ()
    ema_decay: float = 0.999  # [model] generator weight averaging, used for samples/export
    # [model] per batch: "g_first" = one G step, then one D step (train_util.py
    # GANTrainSteps(1, 1) with tf-gan's get_sequential_train_hooks, which returns
    # [generator_hook, discriminator_hook]; gansynth.md 2.5); "d_first" = D step, then G step.
    update_order: str = "g_first"
    # [chosen] fit() epoch length: the granularity of logs, history and end-of-epoch backups.
    steps_per_epoch: int = 1000
    # [chosen] steps between two backups inside a stage (0: epoch ends only); stage ends
    # always write one
    backup_every_steps: int = 500
    epochs: int = 0  # unused: the schedule is in images (kept for training.run_dir)
    sample_notes: int = 4  # [chosen] sample wavs written at the end of each stage
    seed: int = 0
    # [cfg] train_progressive. False (gansynth_train.py run / model.py): only the last stage
    # is trained, all blocks from the start with progress = num_blocks - 1 (alpha 1), for
    # total_images (mel_prog_hires: 4M when not progressive).
    progressive: bool = True


@dataclass(frozen=True)
class StageMetricsConfig(PitchMetricsConfig):
    """GANSynth's ``eval`` section: the end-of-run scoring plus a pitch accuracy per stage."""

    # [chosen] not in the reference, which scores the finished model only: after every stage,
    # the pitch accuracy of this many EMA-generator notes (fixed latents and pitches drawn from
    # the training histogram, upscaled to the full size and decoded), scored by
    # eval.classifier and written to metrics.json ``stages.<s>.pitch_accuracy``; shows at which
    # stage the pitch arrives or is lost. 0 turns it off (no classifier: off as well).
    stage_notes: int = 48


def stage_metrics(preset: str = "paper") -> StageMetricsConfig:
    """The ``eval`` section of a GANSynth preset (:func:`preset_metrics` + ``stage_notes``)."""
    return StageMetricsConfig(**asdict(preset_metrics(preset)))


@dataclass(frozen=True)
class GANSynthConfig:
    """The complete GANSynth experiment config."""

    name: str = FAMILY
    spectrogram: SpectrogramConfig = field(default_factory=SpectrogramConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    # IS / PA / PE / FD / NDB-JSD of the EMA generator's notes after the last stage
    # (gansynth.md section 4), and PA after every stage; the classifier is trained by
    # experiments.nsynth_pitch_classifier.
    eval: StageMetricsConfig = field(default_factory=stage_metrics)


@register_preset(FAMILY, "paper")
def paper() -> GANSynthConfig:
    """mel_prog_hires exactly: 13 stages of 800k images (the last to 11M), batch 8."""
    return GANSynthConfig()


# Table 1 rows (gansynth.md section 4): representation, then "+ H" (high frequency
# resolution: 128 x 1024 from a 2 x 16 start; without: 256 x 512 from 4 x 8, mel_prog_hires'
# hifreqres switch). data_type 'mel' = IF-Mel, 'linear' = IF, 'phase' = Phase.
TABLE1_ROWS = {
    "if_mel_h": dict(mel=True, ifreq=True, high_res=True),   # "IF-Mel + H" (= paper)
    "if_h": dict(mel=False, ifreq=True, high_res=True),      # "IF + H"
    "phase_h": dict(mel=False, ifreq=False, high_res=True),  # "Phase + H"
    "if_mel": dict(mel=True, ifreq=True, high_res=False),    # "IF-Mel"
    "if": dict(mel=False, ifreq=True, high_res=False),       # "IF"
    "phase": dict(mel=False, ifreq=False, high_res=False),   # "Phase"
}
NON_PROGRESSIVE_IMAGES = 4_000_000  # [cfg] total_num_images when not train_progressive


def table1_row(row: str, progressive: bool = True) -> GANSynthConfig:
    """The paper config with the representation of a Table 1 row; ``progressive=False`` is
    the reference's train_progressive=False (one stage, all blocks, 4M images)."""
    rep = TABLE1_ROWS[row]
    config = GANSynthConfig()
    config = replace(
        config, spectrogram=replace(config.spectrogram, **rep),
        model=replace(config.model, start_shape=(2, 16) if rep["high_res"] else (4, 8)))
    if not progressive:
        config = replace(config, train=replace(config.train, progressive=False,
                                               total_images=NON_PROGRESSIVE_IMAGES))
    return config


def _register_table1() -> None:
    for row in TABLE1_ROWS:
        for progressive, suffix in ((True, ""), (False, "_no_prog")):
            register_preset(FAMILY, row + suffix)(
                lambda row=row, progressive=progressive: table1_row(row, progressive))


_register_table1()


# The demo's pitch set: the six Cs of the one-hot's range (MIDI 24, 36, ..., 84).
DEMO_PITCHES = (24, 36, 48, 60, 72, 84)


@register_preset(FAMILY, "demo")
def demo() -> GANSynthConfig:
    """Every one of the 13 stages at the paper's spectrogram size, tiny widths, synthetic notes.

    Channels fmap_base 512 / max 8 (nf = 8, 8, 8, 8, 8, 8, 4 instead of 256 ... 32) and
    800 images per phase (100 steps of batch 8), so the whole schedule runs in 10-20 minutes
    on a 2-core CPU (measured in the record). It is far too short to sound like instruments (experiments/gansynth_nsynth.md,
    "Does the pitch conditioning learn?"): its auxiliary classifier learns the six pitches
    of its notes, but the generated audio is not yet realistic enough for the 61-way pitch
    classifier. Every block keeps >= 4 channels: with 1 channel (fmap_base 128) pixel norm is
    sign(x), and float rounding near 0 flipped single pixels between TF and TFLite
    (percent-level audio differences; export/gansynth.py, experiments/gansynth_nsynth.md).

    Settings that differ from the paper besides widths and schedule, all [chosen] for a run
    of ~1,300 steps instead of 1,375,000 (measurements in the record):
      * latent_size 4: the one-hot is 1 of latent_size + 61 pixel-normed inputs; at 256,
        changing the pitch moves the initial generator's output 5x less than changing z
        (mean |diff| 0.11 vs 0.61; 0.33 vs 0.41 at 4), and a generator trained only on the
        aux loss through a frozen, 100 %-accurate classifier stayed at chance for 300 steps.
      * Adam 2e-3 (paper 8e-4): with equalised learning rates a weight moves ~lr per step;
        at 8e-4 the discriminator trained as a pure pitch classifier was still near chance
        after 600 steps (cross-entropy 3.78 vs ln 61 = 4.11); 3e-3 diverged in the last
        stages (w_distance 106, gp 27).
      * 192 notes on the six Cs (32 per pitch): 48 notes over 61 pitches held ~1 note per
        pitch, which the classifier can only memorise (held-out cross-entropy rose). The
        one-hot, the classifier and the pitch metrics stay 61-way.
      * EMA decay 0.95 (paper 0.999, an average over ~1000 steps): after 100-step stages a
        0.999 average is still 90 % (0.999**100) its initialisation, and samples, metrics
        and export use the EMA generator.
      * noiseless notes (data.synthetic_noise_rms 0): their IF channel carries the pitch in
        every quiet bin, and the auxiliary head learns to read it there. A -60 dB floor
        (1e-3) moves the head and the generator to the magnitude in 6,000-step single-stage
        probes, but in this schedule it left d_ac at chance after stage 6 (19-22 vs 17.9),
        IS 1.25 and PA 0.045 (record, "Fifth look"), so the demo stays noiseless.
    """
    config = GANSynthConfig()
    return replace(
        config,
        model=replace(config.model, latent_size=4, fmap_base=512, fmap_max=8),
        optimizer=replace(config.optimizer, g_learning_rate=2e-3, d_learning_rate=2e-3),
        data=replace(config.data, dataset="synthetic", synthetic_notes=192,
                     synthetic_pitches=DEMO_PITCHES),
        train=replace(config.train, stable_images=800, transition_images=800,
                      total_images=13 * 800, ema_decay=0.95, steps_per_epoch=50,
                      sample_notes=2),
        eval=stage_metrics("demo"),
    )


@register_preset(FAMILY, "smoke")
def smoke() -> GANSynthConfig:
    """Seconds: 2 resolutions (3 stages: stable, transition, stable) of a 4 x 32 image of
    96-sample notes, width 4, two steps of batch 4 per stage."""
    config = GANSynthConfig()
    return replace(
        config,
        spectrogram=replace(config.spectrogram, audio_length=96, spec_shape=(4, 32)),
        model=replace(config.model, latent_size=8, num_resolutions=2, fmap_base=16,
                      fmap_max=4),
        data=replace(config.data, dataset="synthetic", synthetic_notes=8),
        train=replace(config.train, batch_size=4, stable_images=8, transition_images=8,
                      total_images=3 * 8, steps_per_epoch=1, sample_notes=1),
        eval=stage_metrics("smoke"),
    )
