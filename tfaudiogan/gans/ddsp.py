"""DDSP-synth GAN training wrapper (seed 003 "NoisyGAN"; reference/ddsp.md sections 1, 4).

The generator renders z through CPPN control curves and DDSP synths
(tfaudiogan.models.ddsp_gan.generator, output dict with "audio"); the discriminator classifies
MFCCs of real and generated audio as real or fake (seed 003: "a binary classification").

Losses (tfaudiogan.losses.discriminator_loss / generator_loss):
  "dcgan" (default) the seed's binary classification, sigmoid cross entropy on logits, with
          the non-saturating generator loss BCE(D(G(z)), 1);
  "hinge", "lsgan" options.

Pitch conditioning: with a pitch-conditioned generator each fake uses the MIDI pitch of a real
example of the same batch (so fakes follow the data's pitch distribution, as GANSynth's
conditioning does); the discriminator stays unconditional (the seed's D has no labels).
"""

from __future__ import annotations

import keras
import tensorflow as tf

from tfaudiogan.gans.base import GANModel
from tfaudiogan.losses import discriminator_loss, generator_loss, num_replicas, replica_id

LOSS_KINDS = ("dcgan", "hinge", "lsgan")


def replica_normal(shape, seed_generator) -> tf.Tensor:
    """This replica's rows of one N(0, 1) draw over the global batch.

    Every replica draws `[local * replicas, ...]` with the same (mirrored) seed and keeps its
    own slice, so a distributed step sees exactly the latents of the single-device step.

    Args:
        shape: `[local_batch, dims...]` (the batch may be a tensor).
        seed_generator: `keras.random.SeedGenerator`.

    Returns:
        float32 `[local_batch, dims...]`.
    """
    local = shape[0]
    full = keras.random.normal([local * num_replicas(), *shape[1:]], seed=seed_generator)
    start = replica_id() * tf.cast(local, tf.int32)
    return full[start:start + local]


class DDSPGAN(GANModel):
    """One discriminator update then one generator update per step.

    Reported metrics (unscaled means): `d_loss`, `g_loss`, `d_real` (mean real logit),
    `d_fake` (mean fake logit).

    Args:
        generator: Built model `z [B, latent]` (+ `pitch [B]`) -> dict with `audio [B, samples]`.
        discriminator: Built model `audio [B, samples] -> logits [B, 1]`.
        latent_dim: Size of z ~ N(0, 1) (the seed does not state the prior; CPPN practice).
        loss: "dcgan" (seed: binary classification, non-saturating G), "hinge" or "lsgan".
        pitch_conditioned: The generator takes a pitch input; batches must carry `pitch`.
        clip_norm: Clip each network's global-batch gradient to this global norm (DDSP's
            trainers.py: 3.0), the same with any number of replicas; None: no clipping.
        seed: Seed of the z stream (None: random).
        **kwargs: Passed to `keras.Model`.
    """

    def __init__(self, generator: keras.Model, discriminator: keras.Model, *,
                 latent_dim: int = 64, loss: str = "dcgan", pitch_conditioned: bool = False,
                 clip_norm: float | None = None, seed: int | None = 0, **kwargs):
        kwargs.setdefault("name", "ddsp_gan")
        super().__init__(**kwargs)
        if loss not in LOSS_KINDS:
            raise ValueError(f"unknown DDSP-GAN loss {loss!r}; valid kinds are "
                             f"{', '.join(LOSS_KINDS)}")
        self.generator, self.discriminator = generator, discriminator
        self.latent_dim, self.loss_kind = int(latent_dim), loss
        self.pitch_conditioned = bool(pitch_conditioned)
        self.clip_norm = float(clip_norm) if clip_norm else None
        self.z_seed = keras.random.SeedGenerator(seed, name="z_seed")
        self._finish_init(["d_loss", "g_loss", "d_real", "d_fake"])

    def optimizer_variables(self) -> dict[str, list]:
        """G's variables (CPPNs and the synth's internal controls) and D's variables."""
        return {"g_optimizer": self.generator.trainable_variables,
                "d_optimizer": self.discriminator.trainable_variables}

    def compile(self, g_optimizer: keras.optimizers.Optimizer,
                d_optimizer: keras.optimizers.Optimizer, **kwargs) -> None:
        """Sets the two optimizers (see configs/ddsp_gan.py for the defaults)."""
        super().compile({"g_optimizer": g_optimizer, "d_optimizer": d_optimizer}, **kwargs)

    def generate(self, z, pitch=None, training: bool = False) -> dict[str, tf.Tensor]:
        """Generator outputs for latents `[B, latent]` (and MIDI pitches `[B]`)."""
        if self.pitch_conditioned:
            if pitch is None:
                raise ValueError("this DDSP-GAN is pitch-conditioned: pass pitch [batch]")
            return self.generator([z, tf.cast(pitch, tf.float32)], training=training)
        return self.generator(z, training=training)

    def train_step(self, data):
        """One step on a real batch `audio [B, samples]` (a dict with `audio`, `pitch`, or
        `(audio, pitch)`)."""
        real, pitch = _unpack(data, self.pitch_conditioned)
        batch = tf.shape(real)[0]
        d_vars = self.discriminator.trainable_variables
        g_vars = self.generator.trainable_variables
        # Algorithm (seed 003 + standard non-saturating GAN training):
        #   z ~ N(0, I); G(z) = DDSP synths driven by CPPN curves (F0, loudness, timbre)
        #   D step: L_D = BCE(D(MFCC(x)), 1) + BCE(D(MFCC(G(z))), 0)   (halved, losses.py)
        #           (hinge: relu(1 - D(x)) + relu(1 + D(G(z))); lsgan: least squares)
        fake = self.generate(replica_normal([batch, self.latent_dim], self.z_seed), pitch,
                             training=True)["audio"]
        fake = tf.stop_gradient(fake)
        with tf.GradientTape() as tape:
            real_logits = self.discriminator(real, training=True)
            fake_logits = self.discriminator(fake, training=True)
            d_loss = discriminator_loss(self.loss_kind, real_logits, fake_logits)
        self.minimize(self.d_optimizer, tape, d_loss, d_vars, self.clip_norm)
        #   G step, fresh z: L_G = BCE(D(MFCC(G(z))), 1) (non-saturating; hinge: -D(G(z));
        #   lsgan: (D(G(z)) - 1)^2); gradients flow through the synths into the CPPNs and the
        #   synths' internal controls.
        with tf.GradientTape() as tape:
            out = self.generate(replica_normal([batch, self.latent_dim], self.z_seed), pitch,
                                training=True)
            g_loss = generator_loss(self.loss_kind, self.discriminator(out["audio"],
                                                                       training=True))
        self.minimize(self.g_optimizer, tape, g_loss, g_vars, self.clip_norm)
        scale = 1.0 / tf.cast(num_replicas(), tf.float32)
        return self.report({"d_loss": d_loss, "g_loss": g_loss,
                            "d_real": tf.reduce_mean(tf.cast(real_logits, tf.float32)) * scale,
                            "d_fake": tf.reduce_mean(tf.cast(fake_logits, tf.float32)) * scale})


def _unpack(data, need_pitch: bool):
    pitch = None
    if isinstance(data, dict):
        real, pitch = data["audio"], data.get("pitch")
    elif isinstance(data, (tuple, list)):
        real = data[0]
        pitch = data[1] if len(data) > 1 else None
    else:
        real = data
    real = tf.cast(real, tf.float32)
    if real.shape.rank == 3:
        real = real[:, :, 0]
    if need_pitch and pitch is None:
        raise ValueError("a pitch-conditioned DDSP-GAN needs batches with 'pitch' (MIDI [batch])")
    return real, pitch
