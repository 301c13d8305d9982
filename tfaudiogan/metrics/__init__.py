"""Evaluation metrics."""

from tfaudiogan.metrics.cycle import (
    mean_relative_cycle_loss,
    mean_relative_cycle_losses,
    relative_cycle_loss,
)
from tfaudiogan.metrics.gansynth import (
    frechet_distance,
    gansynth_metrics,
    ndb_jsd,
    pitch_accuracy,
    pitch_entropy,
)
from tfaudiogan.metrics.inception import classifier_probs, inception_score
from tfaudiogan.metrics.nearest_neighbour import (
    nearest_neighbour_distances,
    similarity_features,
)

__all__ = [
    "classifier_probs",
    "frechet_distance",
    "gansynth_metrics",
    "inception_score",
    "mean_relative_cycle_loss",
    "mean_relative_cycle_losses",
    "ndb_jsd",
    "nearest_neighbour_distances",
    "pitch_accuracy",
    "pitch_entropy",
    "relative_cycle_loss",
    "similarity_features",
]
