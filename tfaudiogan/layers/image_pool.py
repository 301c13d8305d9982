"""History buffer of generated images for the CycleGAN discriminator update.

Implements the per-sample rule of the reference ImagePool (reference/cyclegan.md section 1.4;
Shrivastava et al. 2017): the discriminator sees, for each fake in the batch, either that fake
or (with probability 1/2 once the buffer is full) a fake from an earlier step, which is then
replaced by the current one.

Graph safety: the rule runs in a `tf.while_loop` over the (possibly dynamic) batch, the buffer is
carried as loop tensors and written back to the variables once per query, and random numbers
come from `keras.random` with a `keras.random.SeedGenerator`, so the layer works inside
`tf.function` / `fit()`.

Distribution: the buffer and its fill count are `synchronization="on_read"` variables, so under
`tf.distribute.MirroredStrategy` every replica keeps and updates its own buffer in replica
context, like each DDP process of the reference keeps its own pool. Their aggregation is
"only_first_replica": a cross-replica read (`get_weights`, `save_weights`, BackupAndRestore)
returns replica 0's buffer and a cross-replica assignment (weight loading) writes it to every
replica. (Aggregation "none" also keeps per-replica state, but every cross-replica read or assign
of such a variable raises "Could not convert from `tf.VariableAggregation` NONE", which would
break checkpointing.) The seed generator's state is mirrored, so every replica draws the same
random block; each replica uses its own row of it (indexed by `replica_id_in_sync_group`), which
gives independent decisions per replica.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="tfaudiogan")
class ImagePool(keras.layers.Layer):
    """Buffer of up to `pool_size` earlier images, queried per sample.

    For each image of a query batch, in order:
      * `pool_size == 0`: the image itself is returned (the whole query is the identity);
      * buffer not yet full: the image is stored in the next free slot and returned;
      * buffer full: with probability 1/2 a uniformly chosen slot's image is returned and the
        current image takes its place; otherwise the current image is returned and the buffer is
        left unchanged.

    Args:
        pool_size: Number of stored images (reference default 50); 0 disables the buffer.
        image_shape: Static shape of one image, e.g. `(freq, frames, channels)`; every query must
            have exactly this per-image shape (train on fixed-size crops).
        seed: Integer seed of the layer's `keras.random.SeedGenerator` (None: random).
        **kwargs: Passed to `keras.layers.Layer`.
    """

    def __init__(self, pool_size: int, image_shape: Sequence[int], seed: int | None = None,
                 **kwargs):
        kwargs.setdefault("trainable", False)
        super().__init__(**kwargs)
        if int(pool_size) != pool_size or pool_size < 0:
            raise ValueError(f"pool_size must be a non-negative integer, got {pool_size!r}")
        image_shape = tuple(image_shape)
        if not image_shape or any(d is None or int(d) <= 0 for d in image_shape):
            raise ValueError(
                f"image_shape must be a fully defined shape of positive sizes, got {image_shape}"
            )
        self.pool_size = int(pool_size)
        self.image_shape = tuple(int(d) for d in image_shape)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed, name=f"{self.name}_seed")
        if self.pool_size > 0:
            # Per-replica state (see module docstring for why "only_first_replica").
            with keras.name_scope(self.name, caller=self):
                self.images = keras.Variable(
                    initializer="zeros", shape=(self.pool_size, *self.image_shape),
                    dtype="float32", trainable=False, synchronization="on_read",
                    aggregation="only_first_replica", name="images")
                self.count = keras.Variable(
                    initializer="zeros", shape=(), dtype="int32", trainable=False,
                    synchronization="on_read", aggregation="only_first_replica", name="count")
        self.built = True

    def call(self, images: tf.Tensor) -> tf.Tensor:
        """Same as :meth:`query`."""
        return self.query(images)

    def compute_output_shape(self, input_shape):
        return input_shape

    def query(self, images: tf.Tensor) -> tf.Tensor:
        """Return a batch mixing current and earlier images, and update the buffer.

        Args:
            images: `[batch, *image_shape]` current images (e.g. generator outputs).

        Returns:
            `[batch, *image_shape]`, same dtype as `images`, with no gradient path to `images`.

        Raises:
            ValueError: the per-image shape differs from `image_shape`.
        """
        images = tf.convert_to_tensor(images)
        if tuple(images.shape[1:]) != self.image_shape:
            raise ValueError(
                f"ImagePool '{self.name}' stores images of shape {self.image_shape}, got a batch "
                f"of shape {tuple(images.shape)}; train on fixed-size crops"
            )
        images = tf.stop_gradient(images)
        if self.pool_size == 0:
            return images
        out = self._query(tf.cast(images, self.images.dtype))
        return tf.cast(out, images.dtype)

    def _query(self, images: tf.Tensor) -> tf.Tensor:
        batch = tf.shape(images)[0]
        # One row of decisions per replica; this replica takes its own row.
        n_rep = tf.distribute.get_strategy().num_replicas_in_sync
        context = tf.distribute.get_replica_context()
        replica = 0 if context is None else context.replica_id_in_sync_group
        draw_shape = tf.stack([n_rep, batch])
        p = tf.gather(keras.random.uniform(draw_shape, seed=self.seed_generator), replica)
        slots = tf.gather(
            keras.random.randint(draw_shape, 0, self.pool_size, seed=self.seed_generator),
            replica)

        def body(i, pool, count, outputs):
            image = images[i]
            filling = count < self.pool_size
            swap = tf.logical_and(tf.logical_not(filling), p[i] > 0.5)  # reference: p > 0.5
            slot = tf.where(filling, count, slots[i])
            returned = tf.where(swap, pool[slot], image)
            pool = tf.cond(
                tf.logical_or(filling, swap),
                lambda: tf.tensor_scatter_nd_update(pool, [[slot]], image[None]),
                lambda: pool)
            count = tf.where(filling, count + 1, count)
            return i + 1, pool, count, outputs.write(i, returned)

        outputs = tf.TensorArray(images.dtype, size=batch, element_shape=self.image_shape)
        _, pool, count, outputs = tf.while_loop(
            lambda i, *_: i < batch, body,
            (tf.constant(0), tf.convert_to_tensor(self.images), tf.convert_to_tensor(self.count),
             outputs))
        self.images.assign(pool)
        self.count.assign(count)
        return tf.ensure_shape(outputs.stack(), images.shape)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(pool_size=self.pool_size, image_shape=list(self.image_shape),
                      seed=self.seed)
        return config
