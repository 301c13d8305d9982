"""Evaluation metrics."""

from tfaudiogan.metrics.cycle import mean_relative_cycle_loss, relative_cycle_loss
from tfaudiogan.metrics.inception import classifier_probs, inception_score
from tfaudiogan.metrics.nearest_neighbour import (
    nearest_neighbour_distances,
    similarity_features,
)

__all__ = [
    "classifier_probs",
    "inception_score",
    "mean_relative_cycle_loss",
    "nearest_neighbour_distances",
    "relative_cycle_loss",
    "similarity_features",
]
