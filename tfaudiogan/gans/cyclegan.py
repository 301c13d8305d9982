"""CycleGAN training wrapper (Zhu et al. 2017; reference/cyclegan.md sections 1.3, 1.4 and 2.4).

Domain A and domain B are two sets of spectrogram images `[batch, freq, frames, channels]`
(e.g. piano and electric guitar, seed 002). `gen_ab` translates A -> B, `gen_ba` B -> A;
`disc_a` tells real A from translated B -> A images, `disc_b` real B from translated A -> B.

Two update orders (`update_order`):

* "reference" (junyanz `optimize_parameters`, reference/cyclegan.md 1.3): one G step on the
  joint loss of both generators (D frozen), then one D step on the pooled fakes made before
  the G step; one optimizer over both generators, one over both discriminators.
* "seed" (seed 002 section 2.2): "First we train both discriminators two times - each time
  learning the proper classification of their domains (real and fake images) and then trained
  the two generators ensuring that one generator is trained, the other generator as well as the
  discriminator of its domain is kept non-trainable". Both discriminators are updated first, on
  fakes of the current generators through the pools; then G_ab (G_ba and D_b frozen), then
  G_ba (G_ab, already updated, and D_a frozen). Every network has its own optimizer, as four
  separately compiled Keras models would.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import tensorflow as tf

from tfaudiogan.gans.base import GANModel
from tfaudiogan.layers.image_pool import ImagePool
from tfaudiogan.losses import adversarial_loss, check_adversarial_kind, l1_loss

_GENERATOR_TERMS = ("g_adv_ab", "g_adv_ba", "cycle_a", "cycle_b")
_IDENTITY_TERMS = ("identity_a", "identity_b")
_DISCRIMINATOR_TERMS = ("d_a", "d_b")
UPDATE_ORDERS = ("reference", "seed")
# Seed order: each generator's own terms, under the reference names (see generator_loss).
_SEED_NAMES = {"ab": {"adversarial": "g_adv_ab", "forward_cycle": "cycle_a",
                      "identity": "identity_b"},
               "ba": {"adversarial": "g_adv_ba", "forward_cycle": "cycle_b",
                      "identity": "identity_a"}}


class CycleGAN(GANModel):
    """Two generators and two discriminators trained with the reference CycleGAN objective.

    Reported metrics (unscaled global-batch means; the weighted terms as the reference logs them):
    `g_loss`, `d_loss`, `d_a`, `d_b`, `g_adv_ab`, `g_adv_ba`, `cycle_a` (= lambda_a * L1),
    `cycle_b`, and `identity_a`, `identity_b` (= identity_weight * L1) unless identity_weight is 0.
    In the seed order each generator reports its own terms as computed in its own step
    (G_ab: `g_adv_ab`, `cycle_a`, `identity_b`; G_ba: `g_adv_ba`, `cycle_b`, `identity_a`),
    `g_loss` is their sum and `d_a` is D_a's real term plus its fake term.

    Args:
        gen_ab: Built generator A -> B, `[batch, freq, frames, ch] -> same shape`.
        gen_ba: Built generator B -> A.
        disc_a: Built discriminator of domain A, `[batch, freq, frames, ch] -> [batch, h, w, 1]`
            logits (no sigmoid).
        disc_b: Built discriminator of domain B.
        lambda_a: Weight of the forward cycle L1(G_ba(G_ab(a)), a) (reference lambda_A = 10).
        lambda_b: Weight of the backward cycle L1(G_ab(G_ba(b)), b) (reference lambda_B = 10).
        identity_weight: Absolute weight of each identity term L1(G_ab(b), b), L1(G_ba(a), a)
            (reference 0.5 * lambda = 5; seed 002 used 4); 0 skips the identity forwards.
        adversarial: "lsgan" (reference default, MSE against 1/0) or "bce" (vanilla).
        d_loss_factor: Factor on each discriminator's (real + fake) loss (reference 0.5).
        pool_size: Size of each domain's ImagePool of earlier fakes (reference 50; 0 disables).
        image_shape: `(freq, frames, channels)` of the training crops, needed by the pools
            (their buffers are fixed-size variables). None: taken from `gen_ab`'s input shape,
            which must then be fully defined. Ignored when pool_size is 0.
        seed: Seed of the pools' random streams (pool B uses seed + 1); None for random.
        update_order: "reference" or "seed" (see the module docstring).
        seed_d_steps: Seed order only: discriminator updates per iteration. 2 (default): one
            on the real batch, then one on the pooled fakes, each with its d_loss_factor
            share of the loss (the seed's "two times ... (real and fake images)", as two Keras
            `train_on_batch` calls); 1: one update on d_loss_factor * (real + fake).
        **kwargs: Passed to `keras.Model`.
    """

    def __init__(self, gen_ab: keras.Model, gen_ba: keras.Model, disc_a: keras.Model,
                 disc_b: keras.Model, *, lambda_a: float = 10.0, lambda_b: float = 10.0,
                 identity_weight: float = 5.0, adversarial: str = "lsgan",
                 d_loss_factor: float = 0.5, pool_size: int = 50,
                 image_shape: Sequence[int] | None = None, seed: int | None = 0,
                 update_order: str = "reference", seed_d_steps: int = 2, **kwargs):
        if update_order not in UPDATE_ORDERS:
            raise ValueError(f"update_order must be one of {', '.join(UPDATE_ORDERS)}, "
                             f"got {update_order!r}")
        if seed_d_steps not in (1, 2):
            raise ValueError(f"seed_d_steps must be 1 or 2, got {seed_d_steps!r}")
        kwargs.setdefault("name", "cyclegan")
        super().__init__(**kwargs)
        self.update_order = update_order
        self.seed_d_steps = int(seed_d_steps)
        self.gen_ab, self.gen_ba = gen_ab, gen_ba
        self.disc_a, self.disc_b = disc_a, disc_b
        self.lambda_a = float(lambda_a)
        self.lambda_b = float(lambda_b)
        self.identity_weight = float(identity_weight)
        self.adversarial = check_adversarial_kind(adversarial)
        self.d_loss_factor = float(d_loss_factor)
        self.pool_size = int(pool_size)
        if self.pool_size > 0:
            shape = _resolve_image_shape(image_shape, gen_ab)
            self.pool_a = ImagePool(self.pool_size, shape, seed=seed, name="pool_a")
            self.pool_b = ImagePool(self.pool_size, shape, name="pool_b",
                                    seed=None if seed is None else seed + 1)
        else:
            self.pool_a = self.pool_b = None
        names = ["g_loss", "d_loss", *_DISCRIMINATOR_TERMS, *_GENERATOR_TERMS]
        if self.identity_weight:
            names += list(_IDENTITY_TERMS)
        self._finish_init(names)

    @property
    def generators(self) -> tuple[keras.Model, keras.Model]:
        """`(gen_ab, gen_ba)`: the A -> B and B -> A translators (the inference artefacts)."""
        return self.gen_ab, self.gen_ba

    @property
    def discriminators(self) -> tuple[keras.Model, keras.Model]:
        """`(disc_a, disc_b)`."""
        return self.disc_a, self.disc_b

    def optimizer_variables(self) -> dict[str, list]:
        """Reference order: one optimizer over both generators (`g_optimizer`), one over both
        discriminators (`d_optimizer`). Seed order: one per network (`g_ab_optimizer`,
        `g_ba_optimizer`, `d_a_optimizer`, `d_b_optimizer`)."""
        if self.update_order == "seed":
            return {"g_ab_optimizer": self.gen_ab.trainable_variables,
                    "g_ba_optimizer": self.gen_ba.trainable_variables,
                    "d_a_optimizer": self.disc_a.trainable_variables,
                    "d_b_optimizer": self.disc_b.trainable_variables}
        return {
            "g_optimizer": self.gen_ab.trainable_variables + self.gen_ba.trainable_variables,
            "d_optimizer": self.disc_a.trainable_variables + self.disc_b.trainable_variables,
        }

    def compile(self, g_optimizer: keras.optimizers.Optimizer,
                d_optimizer: keras.optimizers.Optimizer, **kwargs) -> None:
        """Set the generator and discriminator optimizers (reference: Adam(2e-4, 0.5, 0.999),
        epsilon 1e-8 - pass it explicitly, Keras defaults to 1e-7).

        In the seed order `g_optimizer` updates gen_ab and a fresh copy of it (same config,
        learning-rate schedule included) gen_ba; `d_optimizer` and a copy update disc_a and
        disc_b. A schedule is evaluated on its own optimizer's step counter, so with
        `seed_d_steps=2` a discriminator schedule meant per iteration needs twice the steps
        per epoch (the recipe does this).

        Args:
            g_optimizer: Updates gen_ab and gen_ba (reference) / gen_ab (seed).
            d_optimizer: Updates disc_a and disc_b (reference) / disc_a (seed).
            **kwargs: Passed to `GANModel.compile`.
        """
        if self.update_order == "seed":
            optimizers = {"g_ab_optimizer": g_optimizer,
                          "g_ba_optimizer": _copy_optimizer(g_optimizer, "g_ba_optimizer"),
                          "d_a_optimizer": d_optimizer,
                          "d_b_optimizer": _copy_optimizer(d_optimizer, "d_b_optimizer")}
        else:
            optimizers = {"g_optimizer": g_optimizer, "d_optimizer": d_optimizer}
        super().compile(optimizers, **kwargs)

    def generator_losses(self, real_a: tf.Tensor, real_b: tf.Tensor, training: bool = True
                         ) -> tuple[dict[str, tf.Tensor], tuple[tf.Tensor, tf.Tensor]]:
        """Forward both cycles and return the weighted generator loss terms.

        Args:
            real_a: `[batch, freq, frames, ch]` images of domain A.
            real_b: `[batch, freq, frames, ch]` images of domain B.
            training: Passed to the networks.

        Returns:
            `(terms, (fake_a, fake_b))`: terms maps `g_adv_ab`, `g_adv_ba`, `cycle_a`, `cycle_b`
            (and `identity_a`, `identity_b` when identity_weight != 0) to replica-scaled scalar
            losses, already weighted, plus their sum `g_loss`; fake_a = gen_ba(real_b) and
            fake_b = gen_ab(real_a) with the input shapes.
        """
        adv = self.adversarial
        fake_b = self.gen_ab(real_a, training=training)
        rec_a = self.gen_ba(fake_b, training=training)
        fake_a = self.gen_ba(real_b, training=training)
        rec_b = self.gen_ab(fake_a, training=training)
        terms = {
            "g_adv_ab": adversarial_loss(adv, self.disc_b(fake_b, training=training), 1.0),
            "g_adv_ba": adversarial_loss(adv, self.disc_a(fake_a, training=training), 1.0),
            "cycle_a": self.lambda_a * l1_loss(rec_a, real_a),
            "cycle_b": self.lambda_b * l1_loss(rec_b, real_b),
        }
        if self.identity_weight:
            idt_b = self.gen_ab(real_b, training=training)
            idt_a = self.gen_ba(real_a, training=training)
            terms["identity_a"] = self.identity_weight * l1_loss(idt_a, real_a)
            terms["identity_b"] = self.identity_weight * l1_loss(idt_b, real_b)
        terms["g_loss"] = tf.add_n(list(terms.values()))
        return terms, (fake_a, fake_b)

    def discriminator_losses(self, real_a: tf.Tensor, real_b: tf.Tensor, fake_a: tf.Tensor,
                             fake_b: tf.Tensor, training: bool = True) -> dict[str, tf.Tensor]:
        """Both discriminators' losses on real images and (pooled, detached) fakes.

        Args:
            real_a, real_b: `[batch, freq, frames, ch]` real images.
            fake_a, fake_b: `[batch, freq, frames, ch]` fakes of each domain (no gradient).

        Returns:
            `d_a`, `d_b` (each d_loss_factor * (real + fake) loss) and `d_loss` = d_a + d_b,
            replica-scaled scalars.
        """
        adv, k = self.adversarial, self.d_loss_factor
        d_a = k * (adversarial_loss(adv, self.disc_a(real_a, training=training), 1.0)
                   + adversarial_loss(adv, self.disc_a(fake_a, training=training), 0.0))
        d_b = k * (adversarial_loss(adv, self.disc_b(real_b, training=training), 1.0)
                   + adversarial_loss(adv, self.disc_b(fake_b, training=training), 0.0))
        return {"d_a": d_a, "d_b": d_b, "d_loss": d_a + d_b}

    def generator_loss(self, direction: str, real_a: tf.Tensor, real_b: tf.Tensor,
                       training: bool = True) -> dict[str, tf.Tensor]:
        """One generator's loss in the seed order (seed 002 section 2.1, weights as configured).

        For G = gen_ab, F = gen_ba, x = a, y = b ("ab"; "ba" swaps the roles, the cycle
        weights and uses D_a):
        `adv(D_b(G(x)), 1) + lambda_x * L1(F(G(x)), x) + lambda_y * L1(G(F(y)), y)
        + identity_weight * L1(G(y), y)` ("adversarial, forward cycle, backward cycle,
        identity").

        Args:
            direction: "ab" (the loss of gen_ab) or "ba" (of gen_ba).
            real_a, real_b: `[batch, freq, frames, ch]` real images.
            training: Passed to the networks.

        Returns:
            Replica-scaled scalars `adversarial`, `forward_cycle`, `backward_cycle`,
            `identity` (when identity_weight != 0), already weighted, and their sum `loss`.
        """
        if direction == "ab":
            gen, other, disc = self.gen_ab, self.gen_ba, self.disc_b
            x, y, lambda_x, lambda_y = real_a, real_b, self.lambda_a, self.lambda_b
        elif direction == "ba":
            gen, other, disc = self.gen_ba, self.gen_ab, self.disc_a
            x, y, lambda_x, lambda_y = real_b, real_a, self.lambda_b, self.lambda_a
        else:
            raise ValueError(f"direction must be 'ab' or 'ba', got {direction!r}")
        fake = gen(x, training=training)
        terms = {
            "adversarial": adversarial_loss(self.adversarial, disc(fake, training=training), 1.0),
            "forward_cycle": lambda_x * l1_loss(other(fake, training=training), x),
            "backward_cycle": lambda_y * l1_loss(
                gen(other(y, training=training), training=training), y),
        }
        if self.identity_weight:
            terms["identity"] = self.identity_weight * l1_loss(gen(y, training=training), y)
        terms["loss"] = tf.add_n(list(terms.values()))
        return terms

    def train_step(self, data):
        """One reference `optimize_parameters` step on a batch `(real_a, real_b)`.

        Args:
            data: `(real_a, real_b)`, each `[batch, freq, frames, channels]` (e.g. the elements
                of `tf.data.Dataset.zip((ds_a, ds_b))`, or `fit(x=a, y=b)`).

        Returns:
            Dict of running-mean losses (see the class docstring).
        """
        real_a, real_b = _unpack(data)
        if self.update_order == "seed":
            return self._seed_train_step(real_a, real_b)
        # Reference algorithm (cycle_gan_model.py optimize_parameters):
        #   fake_b = G_ab(a); rec_a = G_ba(fake_b); fake_a = G_ba(b); rec_b = G_ab(fake_a)
        #   idt_b = G_ab(b); idt_a = G_ba(a)                      (skipped if identity_weight 0)
        #   L_G = adv(D_b(fake_b), 1) + adv(D_a(fake_a), 1)
        #         + lambda_a * L1(rec_a, a) + lambda_b * L1(rec_b, b)
        #         + identity_weight * (L1(idt_b, b) + L1(idt_a, a))
        #   G step: one optimizer over both generators; D variables are not updated.
        g_vars = self.optimizer_variables()["g_optimizer"]
        with tf.GradientTape() as tape:
            g_terms, (fake_a, fake_b) = self.generator_losses(real_a, real_b, training=True)
        self.minimize(self.g_optimizer, tape, g_terms["g_loss"], g_vars)

        #   D step on the fakes from before the G step, through one pool per domain, detached:
        #   L_D = k * (adv(D_a(a), 1) + adv(D_a(pool_a(fake_a)), 0))
        #       + k * (adv(D_b(b), 1) + adv(D_b(pool_b(fake_b)), 0)),  k = d_loss_factor
        #   one optimizer over both discriminators.
        pooled_a = self._pooled(self.pool_a, fake_a)
        pooled_b = self._pooled(self.pool_b, fake_b)
        d_vars = self.optimizer_variables()["d_optimizer"]
        with tf.GradientTape() as tape:
            d_terms = self.discriminator_losses(real_a, real_b, pooled_a, pooled_b)
        self.minimize(self.d_optimizer, tape, d_terms["d_loss"], d_vars)
        return self.report({**g_terms, **d_terms})

    def _seed_train_step(self, real_a: tf.Tensor, real_b: tf.Tensor) -> dict[str, tf.Tensor]:
        """One iteration in the seed order (seed 002 section 2.2)."""
        # 1. Both discriminators first, on fakes of the current (not yet updated) generators,
        #    through one pool per domain, detached; k = d_loss_factor ("halved"):
        #      fake_a = pool_a(G_ba(b)), fake_b = pool_b(G_ab(a))
        #      seed_d_steps 2: D step on k * adv(D(real), 1), then D step on k * adv(D(fake), 0)
        #      seed_d_steps 1: one D step on k * (adv(D(real), 1) + adv(D(fake), 0))
        #    each D with its own optimizer.
        pooled_a = self._pooled(self.pool_a, self.gen_ba(real_b, training=True))
        pooled_b = self._pooled(self.pool_b, self.gen_ab(real_a, training=True))
        values = {}
        for name, disc, optimizer, real, fake in (
                ("d_a", self.disc_a, self.d_a_optimizer, real_a, pooled_a),
                ("d_b", self.disc_b, self.d_b_optimizer, real_b, pooled_b)):
            if self.seed_d_steps == 2:
                values[name] = (self._d_step(disc, optimizer, [(real, 1.0)])
                                + self._d_step(disc, optimizer, [(fake, 0.0)]))
            else:
                values[name] = self._d_step(disc, optimizer, [(real, 1.0), (fake, 0.0)])
        values["d_loss"] = values["d_a"] + values["d_b"]
        # 2. G_ab with G_ba and D_b frozen (only gen_ab's variables are differentiated):
        #      adv(D_b(G_ab(a)), 1) + lambda_a * L1(G_ba(G_ab(a)), a)
        #      + lambda_b * L1(G_ab(G_ba(b)), b) + identity_weight * L1(G_ab(b), b)
        # 3. then G_ba with G_ab (already updated) and D_a frozen, the same loss mirrored.
        for direction, gen, optimizer in (("ab", self.gen_ab, self.g_ab_optimizer),
                                          ("ba", self.gen_ba, self.g_ba_optimizer)):
            variables = gen.trainable_variables
            with tf.GradientTape() as tape:
                terms = self.generator_loss(direction, real_a, real_b, training=True)
            self.minimize(optimizer, tape, terms["loss"], variables)
            values.update({_SEED_NAMES[direction][key]: terms[key]
                           for key in _SEED_NAMES[direction] if key in terms})
        values["g_loss"] = tf.add_n([values[k] for k in (*_GENERATOR_TERMS, *_IDENTITY_TERMS)
                                     if k in values])
        return self.report(values)

    def _d_step(self, disc: keras.Model, optimizer: keras.optimizers.Optimizer,
                batches: Sequence[tuple[tf.Tensor, float]]) -> tf.Tensor:
        """One optimizer step of ``disc`` on d_loss_factor * sum of adv(disc(images), target)
        over ``batches`` of ``(images, target)``; returns that loss (before the step)."""
        variables = disc.trainable_variables
        with tf.GradientTape() as tape:
            loss = self.d_loss_factor * tf.add_n([
                adversarial_loss(self.adversarial, disc(images, training=True), target)
                for images, target in batches])
        self.minimize(optimizer, tape, loss, variables)
        return loss

    @staticmethod
    def _pooled(pool: ImagePool | None, fake: tf.Tensor) -> tf.Tensor:
        if pool is None:
            return tf.stop_gradient(fake)
        return pool.query(fake)


def _copy_optimizer(optimizer: keras.optimizers.Optimizer, name: str
                    ) -> keras.optimizers.Optimizer:
    """A fresh optimizer with ``optimizer``'s config (schedule included), named ``name``."""
    config = {**optimizer.get_config(), "name": name}
    return type(optimizer).from_config(config)


def _unpack(data) -> tuple[tf.Tensor, tf.Tensor]:
    if isinstance(data, (tuple, list)) and len(data) == 2:
        return data[0], data[1]
    raise ValueError(
        "CycleGAN.train_step expects (real_a, real_b) batches, e.g. "
        f"tf.data.Dataset.zip((ds_a, ds_b)) or fit(x=a, y=b); got {type(data).__name__}")


def _resolve_image_shape(image_shape: Sequence[int] | None, gen_ab: keras.Model
                         ) -> tuple[int, ...]:
    if image_shape is not None:
        return tuple(int(d) for d in image_shape)
    inputs = getattr(gen_ab, "inputs", None) or []
    shape = tuple(inputs[0].shape[1:]) if len(inputs) == 1 else ()
    if not shape or any(d is None for d in shape):
        raise ValueError(
            "CycleGAN's image pools need the training crop shape: pass "
            "image_shape=(freq, frames, channels) (gen_ab's input shape "
            f"{shape or 'unknown'} is not fully defined), or pool_size=0")
    return shape
