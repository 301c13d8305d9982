"""GANSynth training wrapper: progressive WGAN-GP with an auxiliary pitch classifier.

One :class:`GANSynth` is built per training stage (reference/ecosystem.md P13) around that
stage's generator, discriminator and EMA generator (:func:`stage_networks`). All three share one
non-trainable ``alpha`` variable (the weight of the newest block), which ``train_step`` sets
from the image counter ``images_seen`` with the reference's ``compute_progress``; both are
variables of the model, so a backup (training/backup.py) restores them with the weights and
Adam slots.

Data: ``(specs, labels)`` with ``specs`` the normalised full-resolution spectrograms
``[batch, H, W, 2]`` in [-1, 1] and ``labels`` the pitch class ``[batch]`` int32
(MIDI pitch - min_pitch). Real images are blended to the stage resolution like the generator
output (:func:`tfaudiogan.models.gansynth.blend_real`).
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from tfaudiogan.audio.gansynth import denormalise, normalise
from tfaudiogan.gans.base import GANModel
from tfaudiogan.layers.fade_in import alpha_from_progress
from tfaudiogan.layers.progressive_schedule import (
    check_stage_lengths,
    compute_progress,
    progress_from_stage_lengths,
    stage_num_blocks,
)
from tfaudiogan.losses import (
    gradient_penalty,
    num_replicas,
    replica_id,
    replica_mean,
    wasserstein_d_loss,
    wasserstein_g_loss,
)
from tfaudiogan.models import gansynth as networks

__all__ = ["UPDATE_ORDERS", "GANSynth", "new_alpha", "stage_networks"]

# "g_first": the reference (GANTrainSteps(1, 1), generator hook first); "d_first": D then G.
UPDATE_ORDERS = ("g_first", "d_first")


def new_alpha(value: float = 1.0) -> keras.Variable:
    """The shared fade weight: a scalar non-trainable variable any replica may assign.

    Create it inside the strategy scope. ``only_first_replica`` aggregation lets
    ``train_step`` assign it in replica context (every replica computes the same value).
    """
    return keras.Variable(float(value), trainable=False, dtype="float32", name="alpha",
                          aggregation="only_first_replica")


def stage_networks(stage: int, alpha, **model_kwargs) -> dict[str, keras.Model]:
    """Generator, discriminator and the EMA generator of one stage.

    Args:
        stage: training stage (0 .. 2 * num_resolutions - 2).
        alpha: the shared :func:`new_alpha` variable.
        **model_kwargs: widths and shapes for :func:`tfaudiogan.models.gansynth.generator`
            (``latent_size``, ``num_pitches``, ``start_shape``, ``num_resolutions``,
            ``fmap_base``, ``fmap_decay``, ``fmap_max``, ``kernel_size``); the discriminator
            receives the same minus ``latent_size``.

    Returns:
        ``{"generator", "discriminator", "generator_ema"}``; the EMA generator starts as a copy
        of the generator and is not trainable.
    """
    d_kwargs = {k: v for k, v in model_kwargs.items() if k != "latent_size"}
    gen = networks.generator(stage, alpha=alpha, name="generator", **model_kwargs)
    disc = networks.discriminator(stage, alpha=alpha, name="discriminator", **d_kwargs)
    ema = networks.generator(stage, alpha=alpha, name="generator_ema", **model_kwargs)
    ema.set_weights(gen.get_weights())
    ema.trainable = False
    return {"generator": gen, "discriminator": disc, "generator_ema": ema}


def _replica_rows(full: tf.Tensor, local) -> tf.Tensor:
    """This replica's rows of a draw made over the global batch (same rule as losses)."""
    start = replica_id() * tf.cast(local, tf.int32)
    return full[start:start + local]


class GANSynth(GANModel):
    """The reference's GANSynth step (train_util.define_loss / GANTrainSteps(1, 1)).

    Reported metrics (unscaled means over the epoch): ``d_loss`` (all terms), ``g_loss``,
    ``gp``, ``drift``, ``d_ac``, ``g_ac`` (weighted terms), ``w_distance`` (mean D(x) -
    mean D(G(z))) and ``alpha``.

    Args:
        generator, discriminator, generator_ema: the stage's networks (:func:`stage_networks`).
        alpha: the shared fade variable (:func:`new_alpha`).
        stage: training stage of the networks.
        pitch_counts: ``[num_pitches]`` training histogram; fake labels are drawn from it.
        num_resolutions: blocks of the final stage (7).
        stable_images, transition_images: images per phase (800k / 800k).
        stage_lengths: an explicit schedule instead: the images of every stage (one per stage,
            stage 0 first); alpha then follows :func:`progress_from_stage_lengths`. Empty = the
            reference's uniform schedule from ``stable_images`` / ``transition_images``.
        images_seen: images trained on before this model (the stage's start for a new stage).
        latent_size: length of z ~ N(0, I) (256).
        gp_weight, drift_weight, g_ac_weight, d_ac_weight: loss weights (10, 0.001, 10, 10).
        gp_data_space: take the penalty w.r.t. denormalised interpolates, the normaliser inside
            the critic (reference).
        gp_full_size_norm: measure the gradient norm as the full-size reference discriminator
            would (the stage-size norm divided by the box factor 2**(num_resolutions - n)).
        ema_decay: generator weight averaging (0.999).
        update_order: "g_first" (reference: one G step, then one D step per batch; tf-gan's
            ``get_sequential_train_hooks`` runs the generator hook first, gansynth.md 2.5) or
            "d_first" (one D step, then one G step with the updated D).
        progressive: False = the reference's train_progressive=False: progress is fixed at
            num_blocks - 1 (alpha 1, real images not blended) whatever ``images_seen``.
        seed: seed of the z / label / penalty random streams.
    """

    def __init__(self, generator, discriminator, generator_ema, alpha, *, stage: int,
                 pitch_counts, num_resolutions: int = 7, stable_images: int = 800_000,
                 transition_images: int = 800_000, stage_lengths=(), images_seen: int = 0,
                 latent_size: int = 256, gp_weight: float = 10.0, drift_weight: float = 0.001,
                 g_ac_weight: float = 10.0, d_ac_weight: float = 10.0,
                 gp_data_space: bool = True, gp_full_size_norm: bool = True,
                 ema_decay: float = 0.999, update_order: str = "g_first",
                 progressive: bool = True, seed: int | None = 0, **kwargs):
        if update_order not in UPDATE_ORDERS:
            raise ValueError(f"update_order must be one of {UPDATE_ORDERS}, got "
                             f"'{update_order}'")
        kwargs.setdefault("name", "gansynth")
        super().__init__(**kwargs)
        counts = np.asarray(pitch_counts, np.float64).reshape(-1)
        classes = int(discriminator.outputs[1].shape[-1])
        if counts.size != classes or counts.min() < 0 or counts.sum() <= 0:
            raise ValueError(f"pitch_counts must be {classes} non-negative "
                             f"counts with a positive sum; got {counts.tolist()}")
        self.generator, self.discriminator, self.generator_ema = (
            generator, discriminator, generator_ema)
        self.alpha = alpha
        self.stage = int(stage)
        self.num_resolutions = int(num_resolutions)
        self.num_blocks = stage_num_blocks(self.stage, self.num_resolutions)
        self.stable_images, self.transition_images = int(stable_images), int(transition_images)
        self.stage_lengths = (check_stage_lengths(stage_lengths, self.num_resolutions)
                              if len(stage_lengths) else ())
        self.images_seen = keras.Variable(int(images_seen), dtype="int64", trainable=False,
                                          name="images_seen", aggregation="only_first_replica")
        self.latent_size = int(latent_size)
        self.num_pitches = int(counts.size)
        with tf.init_scope():
            self._pitch_logits = tf.constant(
                np.where(counts > 0, np.log(np.maximum(counts, 1e-30)), -1e9)[None],
                tf.float32)
        self.gp_weight, self.drift_weight = float(gp_weight), float(drift_weight)
        self.g_ac_weight, self.d_ac_weight = float(g_ac_weight), float(d_ac_weight)
        self.gp_data_space = bool(gp_data_space)
        self.gp_factor = float(2 ** (self.num_resolutions - self.num_blocks)
                               if gp_full_size_norm else 1)
        self.ema_decay = float(ema_decay)
        self.update_order = update_order
        self.progressive = bool(progressive)
        self.noise_seed = keras.random.SeedGenerator(seed, name="noise_seed")
        self.gp_seed = keras.random.SeedGenerator(None if seed is None else seed + 1,
                                                  name="gp_seed")
        self._ema_pairs = []
        for layer in generator.layers:
            if layer.trainable_weights:
                self._ema_pairs += list(zip(generator_ema.get_layer(layer.name).weights,
                                            layer.trainable_weights))
        self._finish_init(["d_loss", "g_loss", "gp", "drift", "d_ac", "g_ac", "w_distance",
                           "alpha"])

    def optimizer_variables(self) -> dict[str, list]:
        """Adam for the generator, Adam for the discriminator (the EMA copy is not trained)."""
        return {"g_optimizer": self.generator.trainable_variables,
                "d_optimizer": self.discriminator.trainable_variables}

    def compile(self, g_optimizer, d_optimizer, **kwargs) -> None:
        """Paper: fresh ``Adam(8e-4, beta_1=0, beta_2=0.99, epsilon=1e-8)`` each, every stage."""
        super().compile({"g_optimizer": g_optimizer, "d_optimizer": d_optimizer}, **kwargs)

    # -- sampling -------------------------------------------------------------------------
    def sample_noise(self, batch) -> tuple[tf.Tensor, tf.Tensor]:
        """z ~ N(0, I) ``[batch, latent]`` and labels ``[batch]`` int32 ~ the pitch histogram.

        This replica's rows of one global-batch draw, so a distributed step draws what a single
        device would for the same global batch.
        """
        total = batch * num_replicas()
        z = keras.random.normal([total, self.latent_size], seed=self.noise_seed)
        labels = tf.random.stateless_categorical(
            self._pitch_logits, total, seed=self._stateless_seed(), dtype=tf.int32)[0]
        return _replica_rows(z, batch), _replica_rows(labels, batch)

    def _stateless_seed(self) -> tf.Tensor:
        return tf.cast(keras.random.randint([2], 0, 2**30, seed=self.noise_seed), tf.int32)

    def _generate(self, z, labels, training=True):
        onehot = tf.one_hot(labels, self.num_pitches, dtype=tf.float32)
        return self.generator({"z": z, "pitch": onehot}, training=training)

    # -- losses ---------------------------------------------------------------------------
    def _critic(self, x):
        return self.discriminator(x, training=True)[0]

    def penalty(self, real, fake, mix=None) -> tf.Tensor:
        """Weighted WGAN-GP term (replica-scaled) for stage-resolution real / fake images.

        With ``gp_data_space`` the interpolates are taken between the denormalised images and
        the critic applies the normaliser (with its clip) before D; with ``gp_full_size_norm``
        the critic's output is divided by the box factor, which divides the input-gradient
        norm exactly as the reference's full-size discriminator does.

        Args:
            real, fake: ``[batch, h, w, 2]`` normalised images.
            mix: optional ``[batch]`` interpolation weights (default ``U[0, 1]`` draws).
        """
        factor = self.gp_factor
        if self.gp_data_space:
            def critic(x):  # data space -> the discriminator's normaliser (with clip) -> D
                return self._critic(normalise(x)) / factor
            return gradient_penalty(critic, denormalise(real), denormalise(fake), self.gp_seed,
                                    self.gp_weight, alpha=mix)
        return gradient_penalty(lambda x: self._critic(x) / factor, real, fake, self.gp_seed,
                                self.gp_weight, alpha=mix)

    @staticmethod
    def _cross_entropy(labels, logits) -> tf.Tensor:
        return replica_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels, tf.cast(logits, tf.float32)))

    def discriminator_losses(self, real, labels, fake) -> dict[str, tf.Tensor]:
        """All discriminator terms (replica-scaled scalars) for one batch.

        Args:
            real: stage-resolution real images ``[batch, h, w, 2]`` (already blended).
            labels: their pitch classes ``[batch]``.
            fake: generated images ``[batch, h, w, 2]`` (constants).
        """
        real_logits, real_classes = self.discriminator(real, training=True)
        fake_logits, _ = self.discriminator(fake, training=True)
        terms = {
            "w_distance": replica_mean(real_logits) - replica_mean(fake_logits),
            "gp": self.penalty(real, fake),
            "drift": self.drift_weight * replica_mean(tf.square(tf.cast(real_logits, tf.float32))),
            "d_ac": self.d_ac_weight * self._cross_entropy(labels, real_classes),
        }
        terms["d_loss"] = (wasserstein_d_loss(real_logits, fake_logits) + terms["gp"]
                           + terms["drift"] + terms["d_ac"])
        return terms

    # -- the step -------------------------------------------------------------------------
    def train_step(self, data):
        """One G update and one D update on a batch (reference GANTrainSteps(1, 1)), in
        ``update_order``: the reference runs the generator first.

        Args:
            data: ``(specs [batch, H, W, 2], labels [batch] int32)``, full resolution.

        Returns:
            Dict of running-mean metrics (see the class docstring).
        """
        specs, labels = data
        specs = tf.convert_to_tensor(specs, tf.float32)
        labels = tf.cast(labels, tf.int32)
        batch = tf.shape(specs)[0]
        # Reference algorithm (train_util.py, model.py, tf-gan losses):
        #   p = compute_progress(images_seen)      ; alpha = weight of the newest block
        #   x = blend_images(x_real, p)            ; real data faded like G's output
        #   (not progressive: p = num_blocks - 1, alpha = 1)
        if self.progressive:
            if self.stage_lengths:
                progress = progress_from_stage_lengths(self.images_seen, self.stage_lengths)
            else:
                progress = compute_progress(self.images_seen, self.stable_images,
                                            self.transition_images, self.num_resolutions)
            self.alpha.assign(alpha_from_progress(self.num_blocks, progress))
        else:
            self.alpha.assign(1.0)
        real = networks.blend_real(specs, self.stage, self.alpha,
                                   num_resolutions=self.num_resolutions)
        #   update_order "g_first" (reference: GANTrainSteps(1, 1) with tf-gan's
        #   get_sequential_train_hooks -> [generator_hook, discriminator_hook]):
        #     G step with the pre-update D, then the D step on a fake from the updated G;
        #   "d_first": the D step, then the G step with the updated D.
        if self.update_order == "g_first":
            g_loss, g_ac = self._generator_step(batch)
            terms = self._discriminator_step(real, labels, batch)
        else:
            terms = self._discriminator_step(real, labels, batch)
            g_loss, g_ac = self._generator_step(batch)
        #   G_ema <- 0.999 G_ema + 0.001 G ;  images_seen += global batch
        self._update_ema()
        self.images_seen.assign_add(tf.cast(batch * num_replicas(), tf.int64))
        share = 1.0 / num_replicas()  # report() multiplies by the replica count
        return self.report({**terms, "g_loss": g_loss, "g_ac": g_ac,
                            "alpha": tf.convert_to_tensor(self.alpha) * share})

    def _discriminator_step(self, real, labels, batch) -> dict[str, tf.Tensor]:
        """One D update; returns its loss terms.

        z ~ N(0, I), y_fake ~ train pitch histogram (fresh draws)
          L_D = mean D(G(z, y_fake)) - mean D(x)
                + 10 mean (||grad_xhat D(xhat)|| - 1)^2, xhat = x + u (G(z) - x), u ~ U[0,1]
                + 0.001 mean D(x)^2 + 10 CE(cls(x), y_real)     (classifier: real only)
        """
        z, fake_labels = self.sample_noise(batch)
        fake = self._generate(z, fake_labels)
        d_vars = self.discriminator.trainable_variables
        with tf.GradientTape() as tape:
            terms = self.discriminator_losses(real, labels, fake)
        self.minimize(self.d_optimizer, tape, terms["d_loss"], d_vars)
        return terms

    def _generator_step(self, batch) -> tuple[tf.Tensor, tf.Tensor]:
        """One G update (fresh z, y_fake): L_G = -mean D(G(z, y)) + 10 CE(cls(G(z, y)), y).

        Returns ``(g_loss, g_ac)``.
        """
        z, fake_labels = self.sample_noise(batch)
        g_vars = self.generator.trainable_variables
        with tf.GradientTape() as tape:
            fake_logits, fake_classes = self.discriminator(self._generate(z, fake_labels),
                                                           training=True)
            g_ac = self.g_ac_weight * self._cross_entropy(fake_labels, fake_classes)
            g_loss = wasserstein_g_loss(fake_logits) + g_ac
        self.minimize(self.g_optimizer, tape, g_loss, g_vars)
        return g_loss, g_ac

    def _update_ema(self) -> None:
        decay = self.ema_decay

        def update(_=None):
            for ema, var in self._ema_pairs:
                ema.assign(decay * ema + (1.0 - decay) * tf.convert_to_tensor(var))

        context = tf.distribute.get_replica_context()
        if tf.distribute.has_strategy() and context is not None:
            context.merge_call(update)  # replicas agree; assign once, mirrored to all
        else:
            update()

    def generate(self, z, labels, ema: bool = True) -> tf.Tensor:
        """Normalised images ``[batch, h, w, 2]`` for z ``[batch, latent]`` and labels ``[batch]``.

        Uses the EMA weights unless ``ema`` is False.
        """
        net = self.generator_ema if ema else self.generator
        onehot = tf.one_hot(tf.cast(labels, tf.int32), self.num_pitches, dtype=tf.float32)
        return net({"z": tf.convert_to_tensor(z, tf.float32), "pitch": onehot}, training=False)
