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
