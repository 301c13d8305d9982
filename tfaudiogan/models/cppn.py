"""CPPN controls: a small MLP from a time coordinate (and the latent) to a value per frame.

A compositional pattern-producing network (Stanley 2007; reference/ddsp.md section 4) is a
function of a coordinate. Seed 003 ("NoisyGAN", Algorithm Definition) uses one per control
curve: the coordinate is time, so one network evaluated on every frame gives a curve that is
smooth and "biased toward regular patterns" (a guitar's fade = a gradient in time, a violin's
vibrato = a sinusoid), which the seed prefers to 1-D transposed convolutions.

Design (ours; ddsp.md section 4 lists it as a suggestion, not a NoisyGAN fact):

* Coordinates: `t_i = scale * (2 i / (n - 1) - 1)` in `[-scale, scale]` over the frames, plus
  `|t|` (Ha 2016's radius `r` in 1-D: symmetric shapes such as swells) and, optionally,
  `n_periodic` pairs `sin(2^j pi t), cos(2^j pi t)` (Fourier features) so vibrato and tremolo
  are reachable without deep tanh stacks. Their benefit is measured in
  tests/models/test_cppn.py (fit of a vibrato curve with and without them).
* First layer as Ha's `cppn-tensorflow`: `U = W_z z + b + W_c c(t)` (no bias on the coordinate
  projection), then tanh; `depth - 1` more tanh Dense layers; a linear output head. The latent
  enters every frame, so one z is one curve; the curve's values are unbounded logits that the
  generator squashes (sigmoid -> F0 range, exp_sigmoid -> amplitude).
* Keras default Glorot init instead of Ha's N(0, 1): N(0, 1) with 64 units saturates tanh and
  gives white-noise-like curves, which the seed's smoothness prior argues against.

Shapes: `z [batch, latent]` -> `[batch, frames, n_outputs]`.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

__all__ = ["CPPN", "time_coordinates"]


def time_coordinates(n_frames: int, scale: float = 1.0, n_periodic: int = 0) -> np.ndarray:
    """Coordinate features of `n_frames` equally spaced times.

    Args:
        n_frames: Number of frames (>= 1).
        scale: Half-range of `t` (Ha 2016 uses a scale factor on the coordinates).
        n_periodic: Number of `(sin, cos)` pairs with frequencies `2^j pi`, j = 0..n-1, of the
            *unscaled* coordinate in [-1, 1] (one full cycle over the clip for j = 1).

    Returns:
        float32 `[n_frames, 2 + 2 n_periodic]`: columns `t, |t|, sin.., cos..`.

    Raises:
        ValueError: `n_frames < 1` or `n_periodic < 0`.
    """
    if n_frames < 1 or n_periodic < 0:
        raise ValueError(f"need n_frames >= 1 and n_periodic >= 0, got {n_frames}, {n_periodic}")
    u = np.linspace(-1.0, 1.0, n_frames) if n_frames > 1 else np.zeros(1)
    cols = [scale * u, scale * np.abs(u)]
    for j in range(n_periodic):
        cols.append(np.sin((2.0 ** j) * np.pi * u))
        cols.append(np.cos((2.0 ** j) * np.pi * u))
    return np.stack(cols, axis=-1).astype(np.float32)


@keras.saving.register_keras_serializable(package="tfaudiogan")
class CPPN(keras.layers.Layer):
    """Time CPPN: `z [batch, latent] -> [batch, n_frames, n_outputs]` logits.

    Args:
        n_frames: Frames the curve is evaluated on (the coordinate grid).
        n_outputs: Values per frame (1 for F0 or loudness; K + bands for a timbre CPPN).
        units: Hidden width (ddsp.md section 4: 32-128).
        depth: Number of tanh layers including the first (ddsp.md section 4: 3-4).
        n_periodic: Fourier-feature pairs of t (0 = Ha's plain t, |t|).
        coordinate_scale: Scale of `t` and `|t|` (Ha 2016 scales coordinates; 1 = [-1, 1]).
        latent_scale: Factor on z before the first layer (Ha 2016 multiplies z by `scale`).
        output_bias: Initial bias of the output head (e.g. so amplitude starts audible).
        **kwargs: `keras.layers.Layer` arguments.
    """

    def __init__(self, n_frames: int, n_outputs: int = 1, units: int = 64, depth: int = 3,
                 n_periodic: int = 4, coordinate_scale: float = 1.0, latent_scale: float = 1.0,
                 output_bias: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        if depth < 1 or units < 1 or n_outputs < 1:
            raise ValueError(f"CPPN needs depth, units, n_outputs >= 1; got {depth}, {units}, "
                             f"{n_outputs}")
        self.n_frames, self.n_outputs = int(n_frames), int(n_outputs)
        self.units, self.depth, self.n_periodic = int(units), int(depth), int(n_periodic)
        self.coordinate_scale = float(coordinate_scale)
        self.latent_scale = float(latent_scale)
        self.output_bias = float(output_bias)
        self._coords = time_coordinates(self.n_frames, self.coordinate_scale, self.n_periodic)
        policy = self.dtype_policy  # the sub-layers compute in the CPPN's dtype
        self.z_proj = keras.layers.Dense(self.units, dtype=policy, name="z_proj")
        self.c_proj = keras.layers.Dense(self.units, use_bias=False, dtype=policy,
                                         name="coord_proj")
        self.hidden = [keras.layers.Dense(self.units, activation="tanh", dtype=policy,
                                          name=f"hidden_{i}")
                       for i in range(1, self.depth)]
        self.head = keras.layers.Dense(
            self.n_outputs, name="head", dtype=policy,
            bias_initializer=keras.initializers.Constant(self.output_bias))

    def build(self, z_shape):
        self.z_proj.build(z_shape)
        self.c_proj.build((self.n_frames, self._coords.shape[-1]))
        shape = (None, self.n_frames, self.units)
        for layer in self.hidden:
            layer.build(shape)
        self.head.build(shape)

    def call(self, z):
        z = tf.cast(z, tf.float32) * self.latent_scale
        u_z = tf.expand_dims(self.z_proj(z), 1)  # [B, 1, units]
        u_c = tf.expand_dims(self.c_proj(tf.constant(self._coords)), 0)  # [1, F, units]
        h = tf.tanh(u_z + u_c)  # [B, F, units]
        for layer in self.hidden:
            h = layer(h)
        return self.head(h)  # [B, F, n_outputs]

    def compute_output_shape(self, z_shape):
        return (z_shape[0], self.n_frames, self.n_outputs)

    def get_config(self):
        return {**super().get_config(), "n_frames": self.n_frames, "n_outputs": self.n_outputs,
                "units": self.units, "depth": self.depth, "n_periodic": self.n_periodic,
                "coordinate_scale": self.coordinate_scale, "latent_scale": self.latent_scale,
                "output_bias": self.output_bias}
