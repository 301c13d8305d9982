"""WaveGAN phase shuffle (Donahue et al. 2019, section 3.3; reference/wavegan.md section 2).

The discriminator's activations are shifted in time by a random integer ``phase`` drawn
uniformly from ``{-rad, ..., rad}``; the samples shifted in are filled by reflection (the edge
sample is not repeated, ``np.pad(mode="reflect")`` / ``tf.pad(mode="REFLECT")``) and the result
is cropped back to the input length. Following the reference code:

- ONE scalar shift per call, shared by every example of the batch and every channel (it is not
  drawn per example);
- positive ``phase`` delays the signal (shifts it right): ``out[:, t] = x[:, r(t - phase)]``
  with the reflection ``r(i) = -i`` for ``i < 0``, ``2 (L - 1) - i`` for ``i > L - 1``;
- every call draws a new shift from TF random ops driven by the layer's
  ``keras.random.SeedGenerator`` (never Python ``random``, which would be frozen at trace
  time), so inside one ``tf.function`` the real, fake and gradient-penalty passes of the
  discriminator each get their own shift, as the reference's three discriminator instances do.

Training flag (a decision; the reference discriminator is training-only and always shuffles):
the shift is applied when ``training`` is True or None (a bare ``D(x)`` call, as inside a
hand-written ``train_step``) and skipped only when ``training=False`` is passed explicitly
(``predict``/``evaluate``, diagnostics). ``rad == 0`` is the identity.

Under ``tf.distribute.MirroredStrategy`` the seed generator's state is mirrored, so every replica
draws the same shift: the whole global batch shares one shift, as on a single device.
"""

from __future__ import annotations

import keras
import tensorflow as tf


def reflect_indices(length, phase) -> tf.Tensor:
    """Source indices of a shift by ``phase`` with reflection at both ends.

    Args:
        length: ``L``, the number of time steps (Python int or scalar int32 tensor).
        phase: scalar int32 shift; needs ``|phase| <= L - 1``.

    Returns:
        ``[L]`` int32 tensor ``r(t - phase)`` for ``t = 0..L-1`` (see module docstring).
    """
    length = tf.cast(length, tf.int32)
    idx = tf.abs(tf.range(length, dtype=tf.int32) - tf.cast(phase, tf.int32))  # r(i) = -i, i < 0
    return tf.where(idx > length - 1, 2 * (length - 1) - idx, idx)


def phase_shuffle(x: tf.Tensor, phase) -> tf.Tensor:
    """Shifts ``x`` in time by ``phase`` samples with reflection padding, keeping the length.

    Same values as ``np.pad(x, pad_l=max(phase, 0), pad_r=max(-phase, 0), mode="reflect")``
    followed by the crop ``[:, pad_r : pad_r + L]`` (the reference ``apply_phaseshuffle``),
    computed as a gather so the shift may be a tensor and gradients flow to ``x``.

    Args:
        x: ``[batch, time, channels]``.
        phase: scalar int shift (Python int or int32 tensor), ``|phase| <= time - 1``.

    Returns:
        ``[batch, time, channels]``, same dtype as ``x``.
    """
    x = tf.convert_to_tensor(x)
    return tf.gather(x, reflect_indices(tf.shape(x)[1], phase), axis=1)


@keras.saving.register_keras_serializable(package="tfaudiogan")
class PhaseShuffle(keras.layers.Layer):
    """Random time shift by one integer in ``{-rad..rad}`` per call, reflect-padded.

    Args:
        rad: shift radius ``n`` (reference ``--wavegan_disc_phaseshuffle``, default 2 there);
            0 makes the layer the identity.
        seed: integer seed of the layer's ``keras.random.SeedGenerator`` (None: random).
        **kwargs: standard ``keras.layers.Layer`` arguments (``name``, ``dtype``...).

    Input shape: ``[batch, time, channels]`` with ``time > rad`` (reflection needs it), or
    ``[batch, time, ..., channels]`` (e.g. SpecGAN's ``[batch, time, freq, channels]`` feature
    maps), shifted along axis 1 only. Output shape: the same.
    """

    def __init__(self, rad: int = 2, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(rad, bool) or int(rad) != rad or rad < 0:
            raise ValueError(f"PhaseShuffle: rad must be a non-negative integer; got {rad!r}")
        self.rad = int(rad)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed, name=f"{self.name}_seed")
        self.input_spec = keras.layers.InputSpec(min_ndim=3)

    def build(self, input_shape):
        length = input_shape[1]
        if length is not None and self.rad > length - 1:
            raise ValueError(
                f"PhaseShuffle: rad {self.rad} needs at least {self.rad + 1} time steps for the "
                f"reflection; got input shape {tuple(input_shape)}"
            )
        super().build(input_shape)

    def draw_phase(self) -> tf.Tensor:
        """Draws one shift, a scalar int32 uniform over ``{-rad..rad}`` (advances the seed)."""
        return keras.random.randint((), -self.rad, self.rad + 1, dtype="int32",
                                    seed=self.seed_generator)

    def call(self, inputs, training=None):
        """Shifts ``inputs`` ``[batch, time, channels]`` by a fresh shift unless training=False."""
        if self.rad == 0 or training is False:
            return inputs
        return phase_shuffle(inputs, self.draw_phase())

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "rad": self.rad, "seed": self.seed}
