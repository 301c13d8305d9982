"""The precision policy of a run: ``--precision float32 | mixed``.

``mixed`` is Keras' ``mixed_float16`` (with dynamic loss scaling) when TensorFlow sees a GPU,
and ``mixed_bfloat16`` (no loss scaling needed: bfloat16 has float32's exponent range) on a
CPU or TPU. The policy is Keras' global one, so it is set before any network is built
(:func:`set_policy`, called by the driver's ``start``) and put back afterwards for in-process
callers (:func:`restores_policy` around ``driver.run``). Tests force ``mixed_float16`` on a
CPU by passing the policy name itself as the precision.

What stays float32 under a mixed policy:

* every variable (weights, optimizer slots, EMA copies, the image pools, alpha); Keras keeps
  variables in float32 and casts them to the compute dtype inside each layer;
* every loss, the gradient penalty (its gradient norm and square), the drift and auxiliary
  classifier terms and every reported metric (tfaudiogan.losses casts logits to float32);
* the spectral front ends inside networks (the SC09 classifier's log-mel, the pitch
  classifier's log-frequency spectrogram, the DDSP discriminator's MFCC) and the DDSP
  synthesis (F0 curve and head, harmonic and filtered-noise synths, reverb); the input
  pipelines' STFT / mel / IF transforms run outside the networks and were float32 already;
* the output layers of every network: generator outputs (WaveGAN / SpecGAN last up-conv and
  tanh, CycleGAN's last conv and tanh, GANSynth's to_rgb / fade head), discriminator logits and
  classifier logits, so losses, samples, spectrogram inversions (GANSynth IF -> waveform,
  SpecGAN Griffin-Lim, CycleGAN iSTFT) and metrics get float32 tensors;
* normalisation statistics under float16 (instance norm, pixel norm, minibatch stddev, and
  Keras' batch / group norm): see tfaudiogan/layers/mixed_precision.py;
* the CycleGAN generators' encoder (the stem and strided convs before the residual blocks,
  with their pads, norms and ReLUs) and every instance norm of theirs
  (tfaudiogan/models/cyclegan.py, ``GENERATOR_FLOAT32``): about 3 % of the paper generator's
  multiply-adds, and the layers whose 16-bit rounding the translation amplified most. All in
  bfloat16, the paper generator's 30 s translation was 23.5 dB from float32 (the dB image
  29.4 dB; the image -> magnitude map multiplies an image error by about 6.9); with these
  layers in float32 it is 32.4 dB (image 38.4 dB) at the same speed-up over float32 (1.69x
  against 1.68x all in bfloat16, measured back to back; README, "Mixed precision and XLA");
* the exported SavedModel and TFLite graphs (float32 inputs, outputs and compute: the
  signatures are traced with every layer switched to float32) and the saved ``.keras``
  networks.

Not reachable with a policy: GANSynth's waveform. Its inversion integrates the IF channel over
the 128 frames of a note, so the phase error grows along the note: with the paper generator in
bfloat16 the IF image is 36.7 dB from float32 (magnitude 37.3 dB) and the phase error 0.02 rad
after the first frame, 0.21 rad after 16 and 0.97 rad at the last (the waveform about 1 dB).
With every layer in float32 but one bfloat16 conv (the first or the last) the IF image is
46.6-47.0 dB and the waveform still 0.9-4.7 dB: a 30 dB waveform needs the phase within about
0.03 rad over the whole note; the measured rms phase error is 72-132 rad per unit of rms IF
error (IF rms 0.64), so that takes an IF image 64-69 dB from float32, better than a single
bfloat16 rounding of a feature map (52-55 dB): no policy that leaves a generator conv in
bfloat16 reaches it. Generate GANSynth notes in float32.

The gradient penalty's inner gradient (the critic's input gradient) is not loss-scaled: under
float16 it is computed at the critic's scale, which WGAN-GP drives towards norm 1.
"""

from __future__ import annotations

import contextlib
import functools
import logging

import keras
import tensorflow as tf

#: Values of ``--precision``.
PRECISIONS = ("float32", "mixed")
#: Keras policy names a caller may pass instead (tests force ``mixed_float16`` on a CPU).
POLICIES = ("float32", "mixed_float16", "mixed_bfloat16")


def policy_name(precision: str = "float32") -> str:
    """The Keras policy ``precision`` stands for on this machine.

    Args:
        precision: ``"float32"``, ``"mixed"`` (``mixed_float16`` where a GPU is visible, else
            ``mixed_bfloat16``) or one of :data:`POLICIES` to force a policy.

    Raises:
        ValueError: an unknown value.
    """
    if precision in POLICIES:
        return precision
    if precision == "mixed":
        return "mixed_float16" if tf.config.list_physical_devices("GPU") else "mixed_bfloat16"
    raise ValueError(f"precision must be one of {', '.join(PRECISIONS + POLICIES[1:])}, "
                     f"got {precision!r}")


def uses_loss_scaling(policy: str) -> bool:
    """True for ``mixed_float16``: its optimizers need a LossScaleOptimizer."""
    return policy == "mixed_float16"


def describe(policy: str) -> str:
    """One line on a policy: compute and variable dtypes, loss scaling."""
    p = keras.mixed_precision.Policy(policy)
    scaling = "dynamic loss scaling" if uses_loss_scaling(policy) else "no loss scaling"
    return (f"{policy} (compute {p.compute_dtype}, variables {p.variable_dtype}, {scaling}; "
            "losses, spectral front ends, synthesis and exports in float32)"
            if policy != "float32" else "float32")


def set_policy(precision: str = "float32", logger: logging.Logger | None = None) -> str:
    """Sets Keras' global policy for ``precision`` (before any network is built).

    Returns:
        The policy name set.
    """
    name = policy_name(precision)
    keras.mixed_precision.set_global_policy(name)
    if logger is not None:
        logger.info("precision: --precision %s -> %s", precision, describe(name))
    return name


def restores_policy(fn):
    """Decorator: the global policy is put back as it was when ``fn`` returns or raises."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        before = keras.mixed_precision.global_policy()
        try:
            return fn(*args, **kwargs)
        finally:
            keras.mixed_precision.set_global_policy(before)

    return wrapper


@contextlib.contextmanager
def policy_scope(precision: str):
    """Runs the block under ``precision``'s policy (yields its name), then puts the previous
    global policy back (tests, benchmarks, notebooks)."""
    before = keras.mixed_precision.global_policy()
    try:
        yield set_policy(precision)
    finally:
        keras.mixed_precision.set_global_policy(before)
