"""Replica-aware GAN losses.

Every loss here returns the *per-replica share* of the global mean: the mean over the local
batch divided by ``num_replicas_in_sync``. Under ``tf.distribute`` the optimizer sums gradients
over replicas, so these shares add up to exactly the single-device gradient of the global-batch
mean (reference/ecosystem.md pitfall P5). Outside any strategy there is one replica and the
losses are plain means.

Call them inside the ``GradientTape`` (the division must be part of the differentiated graph).
To report a loss value, multiply it back by :func:`num_replicas`.
"""

from __future__ import annotations

import keras
import tensorflow as tf

#: Adversarial loss kinds accepted by :func:`adversarial_loss`.
ADVERSARIAL_KINDS = ("lsgan", "bce")


def num_replicas() -> int:
    """Number of replicas of the current ``tf.distribute`` strategy (1 without a strategy)."""
    return tf.distribute.get_strategy().num_replicas_in_sync


def replica_mean(x: tf.Tensor) -> tf.Tensor:
    """Mean over all elements, divided by the number of replicas in sync.

    Args:
        x: Any-shaped tensor of per-element losses, e.g. `[batch, h, w, c]`.

    Returns:
        Scalar float32: `mean(x) / num_replicas_in_sync`.
    """
    x = tf.cast(x, tf.float32)
    return tf.reduce_mean(x) / tf.cast(num_replicas(), tf.float32)


def lsgan_loss(logits: tf.Tensor, target: float) -> tf.Tensor:
    """Least-squares GAN loss, `mean((logits - target)^2)` (PyTorch `MSELoss` vs a filled target).

    Args:
        logits: Discriminator outputs, any shape, e.g. patch maps `[batch, h, w, 1]`.
        target: Label every element is compared to (1.0 real, 0.0 fake).

    Returns:
        Scalar per-replica share of the mean squared error.
    """
    logits = tf.cast(logits, tf.float32)
    return replica_mean(tf.square(logits - float(target)))


def bce_loss(logits: tf.Tensor, target: float) -> tf.Tensor:
    """Binary cross entropy on logits against a constant label (PyTorch `BCEWithLogitsLoss`).

    Args:
        logits: Discriminator outputs before any sigmoid, any shape.
        target: Label in [0, 1] every element is compared to.

    Returns:
        Scalar per-replica share of the mean cross entropy.
    """
    logits = tf.cast(logits, tf.float32)
    labels = tf.fill(tf.shape(logits), float(target))
    return replica_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits))


def l1_loss(a: tf.Tensor, b: tf.Tensor) -> tf.Tensor:
    """Mean absolute error (cycle-consistency and identity losses).

    Args:
        a: Tensor, e.g. `[batch, freq, frames, channels]`.
        b: Tensor broadcastable to `a`'s shape.

    Returns:
        Scalar per-replica share of `mean(|a - b|)`.
    """
    return replica_mean(tf.abs(tf.cast(a, tf.float32) - tf.cast(b, tf.float32)))


def adversarial_loss(kind: str, logits: tf.Tensor, target: float) -> tf.Tensor:
    """Dispatch to the adversarial loss named `kind`.

    Args:
        kind: One of :data:`ADVERSARIAL_KINDS`: "lsgan" (least squares) or "bce" (vanilla GAN,
            sigmoid cross entropy on logits).
        logits: Discriminator outputs, any shape.
        target: 1.0 for "real", 0.0 for "fake".

    Returns:
        Scalar per-replica loss share.

    Raises:
        ValueError: `kind` is not a known adversarial loss.
    """
    if check_adversarial_kind(kind) == "lsgan":
        return lsgan_loss(logits, target)
    return bce_loss(logits, target)


def check_adversarial_kind(kind: str) -> str:
    """Validate an adversarial loss name.

    Args:
        kind: Candidate name.

    Returns:
        `kind` unchanged.

    Raises:
        ValueError: naming the valid kinds, if `kind` is not one of them.
    """
    if kind not in ADVERSARIAL_KINDS:
        raise ValueError(
            f"unknown adversarial loss {kind!r}; valid kinds are {', '.join(ADVERSARIAL_KINDS)}"
        )
    return kind


# ---------------------------------------------------------------------------------------------
# WaveGAN / SpecGAN losses (reference/wavegan.md sections 3.4 and 4.1; train_wavegan.py)
# ---------------------------------------------------------------------------------------------

#: Loss kinds accepted by :func:`discriminator_loss` and :func:`generator_loss`.
GAN_LOSS_KINDS = ("wgan-gp", "wgan", "dcgan", "lsgan", "hinge")


def replica_id() -> tf.Tensor:
    """Index of the current replica in its sync group (0 outside any strategy), int32 scalar."""
    context = tf.distribute.get_replica_context()
    if context is None:  # cross-replica context: acts as one replica
        return tf.constant(0, tf.int32)
    return tf.cast(context.replica_id_in_sync_group, tf.int32)


def replica_uniform(shape, seed_generator, minval: float = 0.0, maxval: float = 1.0
                    ) -> tf.Tensor:
    """This replica's rows of one uniform draw over the *global* batch.

    Every replica draws the same `[shape[0] * num_replicas, *shape[1:]]` tensor from
    `seed_generator` (its state is mirrored, so all replicas see the same seed) and keeps the
    rows of its own slice of the global batch. The samples a replica uses are therefore exactly
    those a single device would use for the same rows of the same global batch, and different
    replicas never share samples (drawing `shape` directly would give every replica the same
    values). The extra draw is cheap: it is the size of z, or of one mixing weight per example.

    Args:
        shape: Local (per-replica) shape, batch first, e.g. `[batch, 100]` or `[batch, 1, 1]`;
            the batch may be a tensor.
        seed_generator: `keras.random.SeedGenerator` (advanced once per call).
        minval: Lower bound (inclusive).
        maxval: Upper bound (exclusive).

    Returns:
        float32 tensor of `shape` with values in [minval, maxval).
    """
    shape = list(shape)
    local = shape[0]
    n = num_replicas()
    full = keras.random.uniform([local * n, *shape[1:]], minval=minval, maxval=maxval,
                                seed=seed_generator)
    start = replica_id() * tf.cast(local, tf.int32)
    return full[start:start + local]


def wasserstein_d_loss(real_logits: tf.Tensor, fake_logits: tf.Tensor) -> tf.Tensor:
    """WGAN critic loss `mean D(G(z)) - mean D(x)` (train_wavegan.py, reference 4.1).

    Args:
        real_logits: Critic outputs on real data, `[batch]` or `[batch, 1]`.
        fake_logits: Critic outputs on generated data, same shape.

    Returns:
        Scalar per-replica share.
    """
    return replica_mean(fake_logits) - replica_mean(real_logits)


def wasserstein_g_loss(fake_logits: tf.Tensor) -> tf.Tensor:
    """WGAN generator loss `-mean D(G(z))`.

    Args:
        fake_logits: Critic outputs on generated data, `[batch]` or `[batch, 1]`.

    Returns:
        Scalar per-replica share.
    """
    return -replica_mean(fake_logits)


def gradient_penalty(critic, real: tf.Tensor, fake: tf.Tensor, seed_generator=None,
                     weight: float = 10.0, alpha: tf.Tensor | None = None) -> tf.Tensor:
    """WGAN-GP penalty `weight * mean((||grad_xhat D(xhat)||_2 - 1)^2)` (reference 4.1).

    `xhat = real + alpha * (fake - real)` with one `alpha ~ U[0, 1]` per example, broadcast
    over the non-batch axes (shape `[batch, 1, 1]` for waveforms, `[batch, 1, 1, 1]` for
    spectrograms, as the reference), and the norm is taken over all non-batch axes. The
    gradient is that of the critic's summed output, which is each example's own gradient when
    the critic treats examples independently (as `tf.gradients(D_interp, interpolates)` in the
    reference). A `1e-12` inside the square root keeps the gradient finite where a critic is
    locally flat (the reference has none; the value changes by < 1e-6).

    Call it inside the discriminator's `GradientTape`: the penalty is differentiated w.r.t. the
    critic weights (second-order gradients through the nested tape).

    Args:
        critic: Callable `[batch, ...] -> [batch]` or `[batch, 1]` logits, e.g.
            `lambda x: discriminator(x, training=True)`.
        real: Real batch, `[batch, samples, channels]` or `[batch, time, freq, channels]`.
        fake: Generated batch, same shape (gradients to the generator are stopped).
        seed_generator: `keras.random.SeedGenerator` for alpha (drawn over the global batch,
            see :func:`replica_uniform`); needed unless `alpha` is given.
        weight: Lambda (reference `LAMBDA = 10`).
        alpha: Optional fixed mixing weights, `[batch]` (tests); overrides the draw.

    Returns:
        Scalar per-replica share of the weighted penalty.

    Raises:
        ValueError: neither `seed_generator` nor `alpha` is given.
    """
    real = tf.cast(real, tf.float32)
    fake = tf.stop_gradient(tf.cast(fake, tf.float32))
    rank = real.shape.rank
    batch = tf.shape(real)[0]
    if alpha is None:
        if seed_generator is None:
            raise ValueError("gradient_penalty needs a seed_generator (or explicit alpha)")
        alpha = replica_uniform([batch] + [1] * (rank - 1), seed_generator)
    else:
        alpha = tf.reshape(tf.cast(alpha, tf.float32), [batch] + [1] * (rank - 1))
    interpolates = real + alpha * (fake - real)
    with tf.GradientTape() as tape:
        tape.watch(interpolates)
        scores = critic(interpolates)
    grads = tape.gradient(scores, interpolates)
    slopes = tf.sqrt(tf.reduce_sum(tf.square(grads), axis=list(range(1, rank))) + 1e-12)
    return float(weight) * replica_mean(tf.square(slopes - 1.0))


def check_gan_loss_kind(kind: str) -> str:
    """Validate a WaveGAN loss name.

    Args:
        kind: Candidate name.

    Returns:
        `kind` unchanged.

    Raises:
        ValueError: naming the valid kinds, if `kind` is not one of :data:`GAN_LOSS_KINDS`.
    """
    if kind not in GAN_LOSS_KINDS:
        raise ValueError(f"unknown GAN loss {kind!r}; valid kinds are {', '.join(GAN_LOSS_KINDS)}")
    return kind


def discriminator_loss(kind: str, real_logits: tf.Tensor, fake_logits: tf.Tensor) -> tf.Tensor:
    """Discriminator loss of the reference's `--wavegan_loss` options (without the penalty).

    * "wgan-gp", "wgan": `mean D(G(z)) - mean D(x)` (add :func:`gradient_penalty` for
      wgan-gp; clip the critic weights after each update for wgan).
    * "dcgan": `(BCE(D(G(z)), 0) + BCE(D(x), 1)) / 2` on logits (train_wavegan.py halves it).
    * "lsgan": `(mean((D(x) - 1)^2) + mean(D(G(z))^2)) / 2`.
    * "hinge": `mean relu(1 - D(x)) + mean relu(1 + D(G(z)))` (not in the reference; used by
      the DDSP-GAN family).

    Args:
        kind: One of :data:`GAN_LOSS_KINDS`.
        real_logits: `[batch]` or `[batch, 1]` outputs on real data.
        fake_logits: Same shape, on generated data.

    Returns:
        Scalar per-replica share.
    """
    kind = check_gan_loss_kind(kind)
    real = tf.cast(real_logits, tf.float32)
    fake = tf.cast(fake_logits, tf.float32)
    if kind in ("wgan-gp", "wgan"):
        return wasserstein_d_loss(real, fake)
    if kind == "dcgan":
        return 0.5 * (bce_loss(fake, 0.0) + bce_loss(real, 1.0))
    if kind == "lsgan":
        return 0.5 * (lsgan_loss(real, 1.0) + lsgan_loss(fake, 0.0))
    return replica_mean(tf.nn.relu(1.0 - real)) + replica_mean(tf.nn.relu(1.0 + fake))


def generator_loss(kind: str, fake_logits: tf.Tensor) -> tf.Tensor:
    """Generator loss matching :func:`discriminator_loss`.

    * "wgan-gp", "wgan", "hinge": `-mean D(G(z))`.
    * "dcgan": non-saturating `BCE(D(G(z)), 1)`.
    * "lsgan": `mean((D(G(z)) - 1)^2)` (the reference does not halve the generator term).

    Args:
        kind: One of :data:`GAN_LOSS_KINDS`.
        fake_logits: `[batch]` or `[batch, 1]` outputs on generated data.

    Returns:
        Scalar per-replica share.
    """
    kind = check_gan_loss_kind(kind)
    fake = tf.cast(fake_logits, tf.float32)
    if kind == "dcgan":
        return bce_loss(fake, 1.0)
    if kind == "lsgan":
        return lsgan_loss(fake, 1.0)
    return wasserstein_g_loss(fake)
