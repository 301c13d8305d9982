"""Evaluation metrics."""

from tfaudiogan.metrics.cycle import mean_relative_cycle_loss, relative_cycle_loss

__all__ = ["mean_relative_cycle_loss", "relative_cycle_loss"]
