"""Mean relative forward-cycle consistency loss (the seed 002 evaluation table).

Definition used throughout tfaudiogan (the seed does not give its normalisation): for a clip
whose model-domain spectrogram is ``x`` (normalised log magnitude in [-1, 1], shape
[freq, frames, channels], the whole clip) and whose forward cycle is ``x_cyc = F(G(x))`` (both
generators run in chunks over the whole clip),

    relative_cycle_loss(x) = sum(|x_cyc - x|) / sum(|x|)

i.e. the cycle L1 the model is trained on, relative to the L1 norm of the input. The reported
figure is the mean over the clips of one domain and one split.

The seed does not say on which scale its 0.010 / 0.031 were taken, so the same ratio is also
computed on the linear magnitude the image stands for (``view=`` the representation's
``denormalise``, i.e. ``|X| = ref * 10^(dB / 20)`` with the dB value the image encodes):

    relative_cycle_loss_linear(x) = sum(||X_cyc| - |X||) / sum(|X|)

On the dB image a bin that is off by a fixed number of dB counts the same at any level; on the
linear magnitude the loud bins dominate and the errors in quiet bins hardly count.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

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


def mean_relative_cycle_losses(specs, cycle_fn, views: Mapping[str, Callable | None],
                               batch_size: int = 4) -> dict[str, float]:
    """Mean :func:`relative_cycle_loss` of ``cycle_fn`` over ``specs`` under several views,
    running the cycle once per batch.

    Args:
      specs: [n, freq, frames, channels] array.
      cycle_fn: maps a [b, freq, frames, channels] tensor to its forward cycle F(G(x)).
      views: name -> function applied to both the inputs and their cycles before the ratio
        (e.g. a representation's ``denormalise`` for the linear magnitude), or None for the
        images themselves.
      batch_size: clips per call.

    Returns:
      ``{name: mean over the clips}``.
    """
    values = {name: [] for name in views}
    for start in range(0, len(specs), batch_size):
        batch = tf.convert_to_tensor(specs[start:start + batch_size], tf.float32)
        cycled = tf.convert_to_tensor(cycle_fn(batch), tf.float32)
        for name, view in views.items():
            x, y = (batch, cycled) if view is None else (view(batch), view(cycled))
            values[name].append(relative_cycle_loss(np.asarray(x), np.asarray(y)))
    return {name: float(np.concatenate(v).mean()) for name, v in values.items()}


def mean_relative_cycle_loss(specs, cycle_fn, batch_size: int = 4,
                             view: Callable | None = None) -> float:
    """Mean :func:`relative_cycle_loss` of ``cycle_fn`` over ``specs``.

    Args:
      specs: [n, freq, frames, channels] array.
      cycle_fn: maps a [b, freq, frames, channels] tensor to its forward cycle F(G(x)).
      batch_size: clips per call.
      view: optional function applied to inputs and cycles first (see
        :func:`mean_relative_cycle_losses`).
    """
    return mean_relative_cycle_losses(specs, cycle_fn, {"value": view}, batch_size)["value"]
