"""Instance normalisation with the CycleGAN reference settings.

The reference (junyanz ``networks.py``, ``norm='instance'``) uses
``InstanceNorm2d(affine=False, track_running_stats=False)``: per-sample, per-channel statistics
over height and width, biased variance, epsilon 1e-5, no learned scale or offset. Keras 3 has no
InstanceNormalization layer; ``GroupNormalization`` with one group per channel computes the same
thing, but its defaults (epsilon 1e-3, ``center=True``, ``scale=True``) differ, so every setting
is given explicitly here.
"""

from __future__ import annotations

import keras

# PyTorch nn.InstanceNorm2d default eps (reference/cyclegan.md section 1.1).
REFERENCE_EPSILON = 1e-5


def instance_norm(
    name: str | None = None, epsilon: float = REFERENCE_EPSILON
) -> keras.layers.GroupNormalization:
    """Returns a parameter-free instance-normalisation layer.

    Args:
        name: Keras layer name.
        epsilon: added to the variance; 1e-5 as in PyTorch ``InstanceNorm2d``.

    Returns:
        ``keras.layers.GroupNormalization(groups=-1, epsilon=epsilon, center=False,
        scale=False)``. Input and output shape ``[batch, height, width, channels]``; each
        ``[height, width]`` slice of each sample is normalised to zero mean, unit variance.
    """
    return keras.layers.GroupNormalization(
        groups=-1, epsilon=epsilon, center=False, scale=False, name=name
    )
