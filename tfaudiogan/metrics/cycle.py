"""Mean relative forward-cycle consistency loss (the seed 002 evaluation table).

Definition used throughout tfaudiogan (the seed does not give its normalisation): for a clip
whose model-domain spectrogram is ``x`` (normalised log magnitude in [-1, 1], shape
[freq, frames, channels], the whole clip) and whose forward cycle is ``x_cyc = F(G(x))`` (both
generators run in chunks over the whole clip),

    relative_cycle_loss(x) = sum(|x_cyc - x|) / sum(|x|)

i.e. the cycle L1 the model is trained on, relative to the L1 norm of the input. The reported
figure is the mean over the clips of one domain and one split.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf


def relative_cycle_loss(x, cycled) -> np.ndarray:
    """Per-example relative L1 between inputs and their cycle reconstructions.

    Args:
      x: [batch, freq, frames, channels] inputs.
      cycled: same shape, F(G(x)).

    Returns:
      float64 [batch] array of sum|cycled - x| / sum|x| per example.

    Raises:
      ValueError: the shapes differ.
    """
    x = np.asarray(x, np.float64)
    cycled = np.asarray(cycled, np.float64)
    if x.shape != cycled.shape:
        raise ValueError(f"shapes differ: inputs {x.shape} vs cycled {cycled.shape}")
    axes = tuple(range(1, x.ndim))
    return np.abs(cycled - x).sum(axis=axes) / np.maximum(np.abs(x).sum(axis=axes), 1e-12)


def mean_relative_cycle_loss(specs, cycle_fn, batch_size: int = 4) -> float:
    """Mean :func:`relative_cycle_loss` of ``cycle_fn`` over ``specs``.

    Args:
      specs: [n, freq, frames, channels] array.
      cycle_fn: maps a [b, freq, frames, channels] tensor to its forward cycle F(G(x)).
      batch_size: clips per call.
    """
    values = []
    for start in range(0, len(specs), batch_size):
        batch = tf.convert_to_tensor(specs[start:start + batch_size], tf.float32)
        values.append(relative_cycle_loss(batch.numpy(), np.asarray(cycle_fn(batch))))
    return float(np.concatenate(values).mean())
