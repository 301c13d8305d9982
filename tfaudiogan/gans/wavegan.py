"""WaveGAN / SpecGAN training wrapper (Donahue et al. 2019; reference/wavegan.md sections 3.4, 4).

One class trains both families: the generator maps z `[batch, latent_dim]` to waveforms
`[batch, 16384, 1]` (WaveGAN) or to normalised log-magnitude images `[batch, 128, 128, 1]`
(SpecGAN), and the discriminator maps those to logits `[batch, 1]`.

Data layout (an integration decision): one call of `train_step` is one iteration of the
reference's loop, `d_updates` discriminator updates each with a *fresh* real batch, then one
generator update. Every element given to `fit()` therefore holds `d_updates` real batches, laid
out **`[batch, d_updates, ...]`** (:func:`training_batches` builds it): the batch axis comes first
because `tf.distribute` splits the first axis of each element across replicas, so each replica
gets its share of every one of the `d_updates` real batches. `train_step` uses `x[:, i]` for the
i-th discriminator update. One `fit()` step consumes `batch * d_updates` real examples.

Step counting follows the reference's `global_step` (G steps only): `g_optimizer.iterations`
counts generator updates (= `fit()` steps); `d_optimizer.iterations` counts `d_updates` times as
many discriminator updates.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from tfaudiogan.gans.base import GANModel
from tfaudiogan.losses import (
    check_gan_loss_kind,
    discriminator_loss,
    generator_loss,
    gradient_penalty,
    num_replicas,
    replica_mean,
    replica_uniform,
)


def training_batches(examples: tf.data.Dataset, batch_size: int, d_updates: int
                     ) -> tf.data.Dataset:
    """Groups a stream of single examples into `train_step` elements.

    Args:
        examples: Dataset of single examples, e.g. `[16384, 1]` waveforms or `[128, 128, 1]`
            images, already shuffled and repeated as wanted.
        batch_size: Global batch size of one discriminator/generator update (paper 64).
        d_updates: Discriminator updates per generator update (paper 5).

    Returns:
        Dataset of `[batch_size, d_updates, ...]` elements: `d_updates` distinct real batches per
        element (consecutive examples), remainders dropped.
    """
    return (examples.batch(d_updates, drop_remainder=True)
            .batch(batch_size, drop_remainder=True))


class WaveGAN(GANModel):
    """The reference training loop of WaveGAN and SpecGAN (train_wavegan.py / train_specgan.py).

    Reported metrics (unscaled global-batch means over the epoch): `d_loss` (mean over the
    `d_updates` discriminator updates, penalty included as the reference's `D_loss`), `g_loss`,
    and for "wgan-gp" the weighted penalty `gp`; for the Wasserstein losses also
    `w_distance` = mean D(x) - mean D(G(z)), the critic's distance estimate.

    Args:
        generator: Built model z `[batch, latent_dim]` -> `[batch, ...]` (waveform or image).
        discriminator: Built model `[batch, ...]` -> logits `[batch, 1]` or `[batch]`.
        latent_dim: Size of z ~ U(-1, 1) (reference `_D_Z = 100`).
        loss: "wgan-gp" (paper), "wgan" (weight clipping), "dcgan", "lsgan" or "hinge"
            (tfaudiogan.losses.discriminator_loss gives the exact forms).
        gp_weight: Gradient-penalty lambda for "wgan-gp" (reference `LAMBDA = 10`).
        d_updates: Discriminator updates per generator update (reference
            `--wavegan_disc_nupdates 5`).
        clip: Weight clipping bound for "wgan" (reference +-0.01); ignored by other losses.
        seed: Seed of the z and gradient-penalty random streams (None: random).
        **kwargs: Passed to `keras.Model`.
    """

    def __init__(self, generator: keras.Model, discriminator: keras.Model, *,
                 latent_dim: int = 100, loss: str = "wgan-gp", gp_weight: float = 10.0,
                 d_updates: int = 5, clip: float = 0.01, seed: int | None = 0, **kwargs):
        kwargs.setdefault("name", "wavegan")
        super().__init__(**kwargs)
        if int(d_updates) < 1:
            raise ValueError(f"d_updates must be >= 1, got {d_updates}")
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = int(latent_dim)
        self.loss_kind = check_gan_loss_kind(loss)
        self.gp_weight = float(gp_weight)
        self.d_updates = int(d_updates)
        self.clip = float(clip)
        self.z_seed = keras.random.SeedGenerator(seed, name="z_seed")
        self.gp_seed = keras.random.SeedGenerator(None if seed is None else seed + 1,
                                                  name="gp_seed")
        self._d_terms = ["d_loss"]
        if self.loss_kind == "wgan-gp":
            self._d_terms.append("gp")
        if self.loss_kind in ("wgan-gp", "wgan"):
            self._d_terms.append("w_distance")
        self._finish_init(["d_loss", "g_loss", *self._d_terms[1:]])

    def optimizer_variables(self) -> dict[str, list]:
        """One optimizer for the generator, one for the discriminator (as the reference)."""
        return {"g_optimizer": self.generator.trainable_variables,
                "d_optimizer": self.discriminator.trainable_variables}

    def compile(self, g_optimizer: keras.optimizers.Optimizer,
                d_optimizer: keras.optimizers.Optimizer, **kwargs) -> None:
        """Set the optimizers (paper: Adam(1e-4, beta_1=0.5, beta_2=0.9, epsilon=1e-8) each).

        Args:
            g_optimizer: Updates the generator.
            d_optimizer: Updates the discriminator.
            **kwargs: Passed to `GANModel.compile`.
        """
        super().compile({"g_optimizer": g_optimizer, "d_optimizer": d_optimizer}, **kwargs)

    def sample_z(self, batch) -> tf.Tensor:
        """Fresh latents z ~ U(-1, 1), `[batch, latent_dim]`; this replica's rows of one
        global-batch draw (tfaudiogan.losses.replica_uniform)."""
        return replica_uniform([batch, self.latent_dim], self.z_seed, -1.0, 1.0)

    def _critic(self, x):
        return self.discriminator(x, training=True)

    def discriminator_losses(self, real: tf.Tensor, fake: tf.Tensor) -> dict[str, tf.Tensor]:
        """The discriminator objective on one real and one generated batch.

        Args:
            real: `[batch, ...]` real examples.
            fake: `[batch, ...]` generated examples (treated as constants).

        Returns:
            Replica-scaled scalars: `d_loss` (with the penalty for wgan-gp), and `gp`,
            `w_distance` where they apply.
        """
        real_logits = self._critic(real)
        fake_logits = self._critic(fake)
        terms = {"d_loss": discriminator_loss(self.loss_kind, real_logits, fake_logits)}
        if self.loss_kind in ("wgan-gp", "wgan"):
            terms["w_distance"] = replica_mean(real_logits) - replica_mean(fake_logits)
        if self.loss_kind == "wgan-gp":
            terms["gp"] = gradient_penalty(self._critic, real, fake, self.gp_seed,
                                           self.gp_weight)
            terms["d_loss"] = terms["d_loss"] + terms["gp"]
        return terms

    def train_step(self, data):
        """One reference iteration: `d_updates` D updates, then one G update.

        Args:
            data: `[batch, d_updates, ...]` real examples (see :func:`training_batches`); with
                d_updates == 1 a plain `[batch, ...]` batch is accepted too.

        Returns:
            Dict of running-mean losses (see the class docstring).
        """
        reals = self._real_batches(data)  # [batch, d_updates, ...]
        batch = tf.shape(reals)[0]
        d_vars = self.discriminator.trainable_variables
        g_vars = self.generator.trainable_variables
        totals = {name: tf.constant(0.0) for name in self._d_terms}
        # Reference algorithm (train_wavegan.py, train loop and loss block):
        #   repeat d_updates times (each with a fresh real batch x and fresh z ~ U(-1,1)^100):
        #     L_D = mean D(G(z)) - mean D(x)
        #           + lambda * mean((||grad_xhat D(xhat)||_2 - 1)^2),
        #           xhat = x + alpha (G(z) - x), alpha ~ U[0,1] per example     (wgan-gp)
        #     (dcgan / lsgan / hinge: their D losses; wgan: clip D weights to +-c after)
        #     Adam step on D's variables only.
        # One replica: a graph while-loop, so the D update is traced once. Several replicas:
        # the optimizer's cross-replica sum (a merge_call) cannot sit inside graph control
        # flow, so the loop is unrolled (same updates, d_updates copies of the graph).

        def d_update(i, totals):
            real = tf.gather(reals, i, axis=1)
            fake = self.generator(self.sample_z(batch), training=True)
            with tf.GradientTape() as tape:
                terms = self.discriminator_losses(real, fake)
            self.minimize(self.d_optimizer, tape, terms["d_loss"], d_vars)
            if self.loss_kind == "wgan":
                for var in d_vars:
                    var.assign(tf.clip_by_value(var, -self.clip, self.clip))
            return i + 1, {name: totals[name] + terms[name] / self.d_updates
                           for name in totals}

        if num_replicas() > 1:
            for i in range(self.d_updates):
                _, totals = d_update(tf.constant(i), totals)
        else:
            _, totals = tf.while_loop(lambda i, _: i < self.d_updates, d_update,
                                      (tf.constant(0), totals))
        #   then once, with fresh z:
        #     L_G = -mean D(G(z))        (dcgan: BCE(D(G(z)), 1); lsgan: mean (D(G(z)) - 1)^2)
        #     Adam step on G's variables only; global_step += 1.
        with tf.GradientTape() as tape:
            fake = self.generator(self.sample_z(batch), training=True)
            g_loss = generator_loss(self.loss_kind, self._critic(fake))
        self.minimize(self.g_optimizer, tape, g_loss, g_vars)
        return self.report({**totals, "g_loss": g_loss})

    def _real_batches(self, data) -> tf.Tensor:
        """Checks a `[batch, d_updates, ...]` element (adds the axis to a plain batch when
        d_updates == 1)."""
        if isinstance(data, (tuple, list)):
            data = data[0]
        data = tf.convert_to_tensor(data)
        example_rank = len(self.discriminator.inputs[0].shape) - 1
        if data.shape.rank == example_rank + 2:
            if data.shape[1] != self.d_updates:
                raise ValueError(
                    f"WaveGAN expects [batch, d_updates={self.d_updates}, ...] elements; got "
                    f"shape {data.shape} (build them with gans.wavegan.training_batches)")
            return data
        if data.shape.rank == example_rank + 1 and self.d_updates == 1:
            return tf.expand_dims(data, 1)
        raise ValueError(
            f"WaveGAN expects [batch, d_updates={self.d_updates}, ...] elements of "
            f"{example_rank}-d examples; got shape {data.shape} "
            "(build them with gans.wavegan.training_batches)")

    def generate(self, z) -> tf.Tensor:
        """Generator output for `z` `[batch, latent_dim]` (inference mode)."""
        return self.generator(z, training=False)
