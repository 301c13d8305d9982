"""Learning-rate schedules that live inside the optimizers.

GAN wrappers compile with `optimizer=None` (reference/ecosystem.md P4), so epoch-level LR
callbacks cannot reach their optimizers; schedules are `LearningRateSchedule`s evaluated on the
optimizer's step counter instead.
"""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="tfaudiogan")
class LinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """The CycleGAN reference 'linear' policy (reference/cyclegan.md section 1.3), per epoch.

    With `epoch = step // steps_per_epoch` (0-based):
    `lr = initial_learning_rate * (1 - max(0, epoch + 1 - n_epochs) / (n_epochs_decay + 1))`.
    The rate is constant for the first `n_epochs` epochs, then falls linearly over
    `n_epochs_decay` epochs; it never reaches zero (the last decay epoch uses
    `initial / (n_epochs_decay + 1)`, e.g. 1.98e-6 for 2e-4 and 100 + 100 epochs). Beyond
    `n_epochs + n_epochs_decay` epochs (where the reference stops training) it stays at that last
    value instead of turning negative.

    Args:
        initial_learning_rate: Rate of the constant phase (reference 2e-4).
        steps_per_epoch: Optimizer steps per epoch (>= 1).
        n_epochs: Epochs at the initial rate (reference 100).
        n_epochs_decay: Epochs of linear decay (reference 100).
    """

    def __init__(self, initial_learning_rate: float, steps_per_epoch: int, n_epochs: int,
                 n_epochs_decay: int):
        if initial_learning_rate <= 0:
            raise ValueError(f"initial_learning_rate must be > 0, got {initial_learning_rate}")
        if int(steps_per_epoch) != steps_per_epoch or steps_per_epoch < 1:
            raise ValueError(f"steps_per_epoch must be an integer >= 1, got {steps_per_epoch}")
        if n_epochs < 0 or n_epochs_decay < 0:
            raise ValueError(
                f"n_epochs and n_epochs_decay must be >= 0, got {n_epochs}, {n_epochs_decay}")
        self.initial_learning_rate = float(initial_learning_rate)
        self.steps_per_epoch = int(steps_per_epoch)
        self.n_epochs = int(n_epochs)
        self.n_epochs_decay = int(n_epochs_decay)

    def __call__(self, step):
        """Learning rate at optimizer step `step` (scalar int or float tensor) as float32."""
        epoch = ops.floor_divide(ops.cast(step, "int64"), self.steps_per_epoch)
        decayed = ops.clip(epoch + 1 - self.n_epochs, 0, self.n_epochs_decay)
        factor = 1.0 - ops.cast(decayed, "float32") / float(self.n_epochs_decay + 1)
        return self.initial_learning_rate * factor

    def get_config(self) -> dict:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "steps_per_epoch": self.steps_per_epoch,
            "n_epochs": self.n_epochs,
            "n_epochs_decay": self.n_epochs_decay,
        }
