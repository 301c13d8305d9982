"""Base class for GAN training wrappers: the Keras-3 fixes, once (reference/ecosystem.md 1.3-1.4).

A GAN wrapper owns several networks and several optimizers and writes its own `train_step`.
Keras 3's `fit()` needs four things from such a model, all handled here:

* P1 `self.built = True` once the networks exist (:meth:`GANModel._finish_init`). Otherwise,
  under a `tf.distribute` strategy, `fit()` tries to build the wrapper symbolically by calling
  `call()` on a data batch. :meth:`GANModel.call` raises, so that path must never run.
* P4 `compile(optimizer=None)`, so Keras creates no hidden RMSprop over all weights.
* P2/P3 each optimizer is stored as an attribute (so checkpoints and backups track it)
  and built on the variables it owns inside the strategy scope, not lazily in the replica step.
* gradient clipping: :func:`clip_by_global_norm` clips the global-batch gradient, as one
  device would (Keras' optimizer ``clipnorm`` clips each replica's share on its own).
* P5/P6 losses come from :mod:`tfaudiogan.losses` (divided by the replica count inside the
  tape); :meth:`GANModel.report` multiplies them back for logging and always returns a non-empty
  dict of `keras.metrics.Mean` results, exposed through :attr:`GANModel.metrics` so Keras resets
  them every epoch.

Mixed precision (tfaudiogan/training/precision.py): under the ``mixed_float16`` policy
:meth:`GANModel.compile` wraps every optimizer in a `keras.optimizers.LossScaleOptimizer`, and
:meth:`GANModel.minimize` (the one gradient step every `train_step` takes) scales the loss's
gradient by the optimizer's dynamic loss scale; the optimizer unscales it and skips the update
(halving the scale) when a gradient is not finite. Under ``mixed_bfloat16`` and ``float32``
nothing is scaled.

Learning-rate schedules must live inside the optimizers (`keras.optimizers.schedules`):
`model.optimizer` is None, so `LearningRateScheduler`-style callbacks cannot work.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import keras
import tensorflow as tf

from tfaudiogan.losses import num_replicas


def clip_by_global_norm(grads: Sequence[tf.Tensor], clip_norm: float) -> list[tf.Tensor]:
    """This replica's share of the global-batch gradient, clipped by its global norm.

    A replica's gradients are shares: the optimizer's cross-replica sum is the gradient of the
    global batch, and that sum's norm is what one device clips (e.g. DDSP's trainers.py,
    ``tf.clip_by_global_norm(grads, 3.0)``). Keras' own ``clipnorm`` / ``global_clipnorm``
    clip every replica's share on its own before the sum, which differs from one device as
    soon as there are two replicas. So the shares are summed here first (one all-reduce),
    clipped, and divided by the replica count again.

    Args:
        grads: this replica's gradients (no None entries).
        clip_norm: the largest global norm of the global-batch gradient.

    Returns:
        The clipped shares, in the order of ``grads``.
    """
    n = num_replicas()
    if n > 1:
        grads = tf.distribute.get_replica_context().all_reduce(tf.distribute.ReduceOp.SUM,
                                                               list(grads))
    clipped, _ = tf.clip_by_global_norm(list(grads), clip_norm)
    return [g / n for g in clipped] if n > 1 else clipped


class GANModel(keras.Model):
    """A `keras.Model` whose `train_step` updates several networks with several optimizers.

    Subclasses:
      1. call `super().__init__(**kwargs)`, set their networks as attributes, then call
         :meth:`_finish_init` with the names of the values `train_step` reports;
      2. implement :meth:`optimizer_variables` (optimizer attribute name -> variables it updates);
      3. implement `train_step`, computing losses with :mod:`tfaudiogan.losses` and returning
         `self.report({...})`.

    The networks must be built (e.g. functional models with a `keras.Input`) before `compile`.
    """

    def _finish_init(self, metric_names: Sequence[str]) -> None:
        """Create one `keras.metrics.Mean` per reported value and mark the wrapper built.

        Args:
            metric_names: Names of the values `train_step` reports (at least one).

        Raises:
            ValueError: `metric_names` is empty or has duplicates.
        """
        names = list(metric_names)
        if not names or len(set(names)) != len(names):
            raise ValueError(f"metric_names must be non-empty and unique, got {names}")
        self._gan_trackers = {name: keras.metrics.Mean(name=name) for name in names}
        # P1: the networks are already built; stops fit() from calling call() symbolically.
        self.built = True

    def optimizer_variables(self) -> dict[str, list]:
        """Map each optimizer attribute name to the variables that optimizer updates.

        Returns:
            e.g. `{"g_optimizer": [...], "d_optimizer": [...]}`; keys are the names accepted by
            :meth:`compile` and the attributes the optimizers are stored under.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement optimizer_variables()")

    def compile(self, optimizers: Mapping[str, keras.optimizers.Optimizer], **kwargs) -> None:
        """Store and build one optimizer per group of networks.

        Call it inside the strategy scope the model was created in (it also enters the model's
        own strategy scope, so the optimizer slots are created as distributed variables).
        Use fresh optimizer instances for every compile.

        Args:
            optimizers: Optimizer attribute name -> optimizer; the keys must equal those of
                :meth:`optimizer_variables`.
            **kwargs: Passed to `keras.Model.compile` (e.g. `run_eagerly`, `jit_compile`,
                `steps_per_execution`); `optimizer`, `loss` and `metrics` are not accepted.

        Raises:
            ValueError: unknown/missing optimizer names, forbidden keyword arguments, or
                networks that are not built yet.
        """
        forbidden = sorted({"optimizer", "loss", "metrics", "loss_weights",
                            "weighted_metrics"} & set(kwargs))
        if forbidden:
            raise ValueError(
                f"{type(self).__name__}.compile() does not take {forbidden}: pass one optimizer "
                "per network group in `optimizers`; losses and metrics are computed in "
                "train_step")
        unbuilt = [layer.name for layer in self._flatten_layers(include_self=False)
                   if not layer.built]
        if unbuilt:
            raise ValueError(
                f"{type(self).__name__}: build these layers/networks before compile() (e.g. "
                f"create them with a keras.Input or call them on a batch): {unbuilt}")
        owned = self.optimizer_variables()
        if set(optimizers) != set(owned):
            raise ValueError(
                f"{type(self).__name__}.compile() needs exactly the optimizers "
                f"{sorted(owned)}, got {sorted(optimizers)}")
        super().compile(optimizer=None, **kwargs)  # P4: no hidden default optimizer
        with self.distribute_strategy.scope():
            for name in sorted(owned):
                optimizer = optimizers[name]
                if (self.dtype_policy.name == "mixed_float16"
                        and not isinstance(optimizer, keras.optimizers.LossScaleOptimizer)):
                    optimizer = keras.optimizers.LossScaleOptimizer(
                        optimizer, name=f"{name}_loss_scale")
                setattr(self, name, optimizer)  # tracked: saved by checkpoints and backups
                optimizer.build(owned[name])  # P2/P3: build now, inside the strategy scope

    @staticmethod
    def minimize(optimizer: keras.optimizers.Optimizer, tape: tf.GradientTape, loss: tf.Tensor,
                 variables: Sequence, clip_norm: float | None = None) -> None:
        """One update of ``variables`` by ``optimizer`` along the gradient of ``loss``.

        With a `keras.optimizers.LossScaleOptimizer` (``mixed_float16``) the backward pass is
        seeded with ``optimizer.scale_loss(1)`` instead of 1: the gradients are those of
        ``scale_loss(loss)`` (exactly what scaling the loss inside the tape gives, without an
        extra op in every tape), and ``apply_gradients`` unscales them or skips the step.

        Args:
            optimizer: the optimizer of ``variables`` (as stored by :meth:`compile`).
            tape: the (exited) tape that recorded ``loss``.
            loss: scalar float32 replica-scaled loss (:mod:`tfaudiogan.losses`).
            variables: the variables to update.
            clip_norm: clip the global-batch gradient to this global norm
                (:func:`clip_by_global_norm`); with loss scaling the bound is scaled too, so
                the unscaled update is the one an unscaled step clips. None: no clipping.
        """
        seed = None
        if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
            seed = optimizer.scale_loss(tf.ones_like(loss))
        grads = tape.gradient(loss, variables, output_gradients=seed)
        if clip_norm is not None:
            bound = clip_norm if seed is None else clip_norm * tf.cast(seed, tf.float32)
            grads = clip_by_global_norm(grads, bound)
        optimizer.apply_gradients(zip(grads, variables))

    @property
    def metrics(self) -> list:
        """The loss trackers, so Keras resets them at the start of every epoch."""
        return list(getattr(self, "_gan_trackers", {}).values())

    def report(self, values: Mapping[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        """Update the trackers with replica-scaled loss values and return all results.

        Args:
            values: Tracker name -> scalar loss share as returned by :mod:`tfaudiogan.losses`
                (divided by the replica count); names without a tracker are ignored.

        Returns:
            Non-empty dict tracker name -> running mean of the *unscaled* value (P6).
        """
        scale = tf.cast(num_replicas(), tf.float32)
        for name, tracker in self._gan_trackers.items():
            if name in values:
                tracker.update_state(tf.cast(values[name], tf.float32) * scale)
        return {name: tracker.result() for name, tracker in self._gan_trackers.items()}

    def call(self, inputs, training=None):
        """Not supported: a GAN wrapper has no single forward pass; call its networks instead."""
        raise NotImplementedError(
            f"{type(self).__name__} is a training wrapper without a forward pass; call its "
            "networks (e.g. the generators) directly")
