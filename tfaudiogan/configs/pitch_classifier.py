"""Config of the NSynth pitch classifier used by the GANSynth metrics (IS, PA, PE, FID).

The GANSynth paper's classifier is unreleased (reference/gansynth.md section 4), so every
network and training default here is [chosen] (our design, reason next to it) unless it names
a source. The network is tfaudiogan.models.pitch_classifier.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from tfaudiogan.configs.base import default_model_dir, register_preset

FAMILY = "nsynth_pitch_classifier"


def classifier_run_dir(preset: str) -> str:
    """Where ``python -m tfaudiogan.experiments.nsynth_pitch_classifier --preset <preset>``
    saves its classifier by default (the other experiments' default ``eval.classifier``)."""
    return default_model_dir(FAMILY, preset)


@dataclass(frozen=True)
class ModelConfig:
    """Front-end and network widths (tfaudiogan.models.pitch_classifier.pitch_classifier)."""

    sample_rate: int = 16000  # NSynth (gansynth.md section 3)
    audio_length: int = 64000  # NSynth 4 s notes
    min_pitch: int = 24  # GANSynth subset, gansynth.md section 3: MIDI 24-84 -> 61 classes
    max_pitch: int = 84
    fft_length: int = 4096  # [chosen] resolves the partials of MIDI 24 (32.7 Hz)
    frame_step: int = 1024  # [chosen]
    min_midi: float = 21.0  # [chosen] lowest log-frequency band (A0)
    bins_per_semitone: int = 2  # [chosen]
    n_bins: int = 192  # [chosen] 8 octaves
    log_floor: float = 12.0  # [chosen] ~104 dB below each note's peak
    channels: tuple[int, ...] = (16, 32)  # [chosen]
    freq_channels: int = 32  # [chosen]
    freq_kernel: int = 49  # [chosen] two octaves of bins
    embedding_dim: int = 128  # [chosen] Frechet-distance feature width


@dataclass(frozen=True)
class DataConfig:
    """Training notes: NSynth (GANSynth subset) with --data_dir, else synthetic notes."""

    dataset: str = "nsynth"  # "nsynth" or "synthetic" (tfaudiogan.data.synthetic_notes)
    gansynth_splits: str = ""  # path of nsynth-gansynth_splits.csv ("" = original splits)
    eval_split: str = "valid"  # NSynth split used for metrics.json
    max_eval: int = 0  # evaluation notes (0 = the whole split)
    shuffle_buffer: int = 2048  # [chosen] NSynth notes (files are ordered by instrument); built-in: full shuffle
    synthetic_train: int = 2440  # [chosen] 40 notes per pitch on average
    synthetic_validation: int = 610  # [chosen] 10 per pitch
    strict: bool = False  # raise on the first unreadable wav instead of skipping it


@dataclass(frozen=True)
class TrainConfig:
    """Loop settings (tfaudiogan.recipes.pitch_classifier)."""

    batch_size: int = 64  # [chosen]
    epochs: int = 20  # [chosen]
    # one pass over the GANSynth-subset train split: 60,788 notes (gansynth.md section 3) / 64.
    # 0 = one pass over the synthetic notes; NSynth needs a positive value.
    steps_per_epoch: int = 949
    backup_every_steps: int = 250  # [chosen] steps between two backups (0: epoch ends only)
    learning_rate: float = 1e-3  # [chosen] Adam
    epsilon: float = 1e-8  # [chosen] as the rest of the project (Keras would use 1e-7)
    seed: int = 0


@dataclass(frozen=True)
class PitchMetricsConfig:
    """Scoring generated notes with a trained classifier (tfaudiogan.recipes.pitch_metrics).

    GANSynth and the DDSP-GAN carry this as their ``eval`` section. Changing it does not change
    training, so a finished run can be re-scored with ``--set eval.classifier=PATH``.
    """

    # pitch_classifier.keras or the run directory holding it; "" turns scoring off. A path that
    # does not exist is skipped with a warning naming the command that trains the classifier.
    classifier: str = ""
    notes: int = 1000  # [chosen] generated notes; as many real notes for each comparison
    batch_size: int = 8  # [chosen] notes per generator call
    is_splits: int = 10  # [chosen] the usual 10-split inception score (Salimans et al. 2016)
    ndb_bins: int = 50  # gansynth.md section 4: k-means with k = 50
    ndb_alpha: float = 0.05  # gansynth.md section 4: Richardson & Weiss default
    seed: int = 1  # [chosen] latents and the real reference draw (not the training seed)


def preset_metrics(preset: str = "paper") -> PitchMetricsConfig:
    """The ``eval`` section of a generator experiment's preset (GANSynth, DDSP-GAN).

    paper / demo: the classifier this experiment saves for the same preset; demo scores 200
    notes, the fewest that keep NDB's 50 bins at 4 notes per bin on average. smoke: off.
    """
    if preset == "smoke":
        return PitchMetricsConfig(classifier="")
    config = PitchMetricsConfig(classifier=classifier_run_dir(preset))
    return replace(config, notes=200) if preset == "demo" else config


@dataclass(frozen=True)
class PitchClassifierConfig:
    """The complete pitch-classifier experiment config."""

    name: str = FAMILY
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)


@register_preset(FAMILY, "paper")
def paper() -> PitchClassifierConfig:
    """NSynth GANSynth subset, full network."""
    return PitchClassifierConfig()


@register_preset(FAMILY, "demo")
def demo() -> PitchClassifierConfig:
    """Built-in synthetic notes, full network; a few minutes on a 2-core CPU."""
    c = PitchClassifierConfig()
    return replace(c, data=replace(c.data, dataset="synthetic", synthetic_train=1830,
                                   synthetic_validation=610),
                   train=replace(c.train, batch_size=32, epochs=8, steps_per_epoch=0))


@register_preset(FAMILY, "smoke")
def smoke() -> PitchClassifierConfig:
    """Seconds-long run for tests: 1 s notes, tiny widths, two epochs of two steps."""
    c = PitchClassifierConfig()
    return replace(
        c,
        model=replace(c.model, audio_length=16000, channels=(4,), freq_channels=4,
                      freq_kernel=9, embedding_dim=8),
        data=replace(c.data, dataset="synthetic", synthetic_train=16, synthetic_validation=8),
        train=replace(c.train, batch_size=4, epochs=2, steps_per_epoch=2),
    )
