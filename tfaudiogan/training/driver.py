"""The one training driver: ``run(recipe, config, model_dir)`` for every model family.

What it does, in order (the recipe hooks are in training/recipe.py):

1. run directory: ``config.json`` written, or checked against the stored run (resume rules of
   training/run_dir.py); the run log ``run.log``;
2. the strategy (``default``, ``mirrored``, ``multi_worker`` or ``auto``) and the global seed
   ``config.train.seed``;
3. ``recipe.load_data``, then ``fit`` for every phase the recipe yields (one for most
   families, one per stage for the progressive GAN), each with the standard callbacks;
4. ``recipe.save``, ``recipe.evaluate`` and the common entries of ``metrics.json``
   (``epochs_this_session``, ``train_seconds_this_session``, ``final_losses`` (the last
   epoch's values, from ``history.csv`` when this session trained none), ``loss_curve``);
5. ``recipe.export`` when asked; its paths are added to ``metrics.json`` under ``export``.

Re-running the same command resumes: an interrupted phase restores from its ``backup/`` (the
step its newest backup reached: training/backup.py), a finished one from its newest
end-of-epoch checkpoint; the data continues where it stopped.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import keras
import tensorflow as tf

from tfaudiogan.layers.mixed_precision import compute_in_float32
from tfaudiogan.training import cluster, run_dir
from tfaudiogan.training import precision as precision_policy
from tfaudiogan.training.callbacks import loss_curve
from tfaudiogan.training.recipe import Phase, Recipe, Run
from tfaudiogan.training.strategy import describe_setup, get_strategy

JIT_CHOICES = ("auto", "on", "off")


def start(recipe: Recipe, config, model_dir, data_dir=None, strategy="default",
          deterministic: bool = False, precision: str = "float32") -> Run:
    """Steps 1-2: the strategy, run directory, log, precision policy (training/precision.py;
    set before any network is built), global seed and (optionally) op determinism of a run."""
    serial = deterministic and serial_inter_op()  # before the strategy starts TensorFlow
    strategy = get_strategy(strategy) if isinstance(strategy, str) else strategy
    # Several workers: the chief writes model_dir, every other worker a private scratch copy.
    requested, model_dir = Path(model_dir), cluster.write_dir(model_dir, strategy)
    config = run_dir.prepare(model_dir, config, recipe.config_cls)
    logger = run_dir.run_logger(model_dir)
    logger.info("run directory %s (config.json written)", model_dir)
    precision_policy.set_policy(precision, logger)
    logger.info(describe_setup(strategy))
    for line in cluster.describe(strategy, requested, model_dir, config):
        logger.info(line)
    keras.utils.set_random_seed(config.train.seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()
        logger.info("deterministic ops: on (tf.config.experimental.enable_op_determinism)")
        # TensorFloat-32 rounds float32 matmul / conv inputs to 10 mantissa bits on Ampere and
        # newer GPUs (TensorFlow's default); a deterministic run should compute what float32 on
        # any other device computes. No effect on CPUs.
        tf.config.experimental.enable_tensor_float_32_execution(False)
        logger.info("deterministic ops: TensorFloat-32 off (full float32 matmuls / convolutions "
                    "on Ampere and newer GPUs)")
        if serial:
            logger.info("deterministic ops: one inter-op thread (independent ops run in turn)")
        else:
            logger.warning("deterministic ops: TensorFlow was started before this run, so its "
                           "inter-op threads could not be set to 1; runs may differ in the last "
                           "bits (start a fresh process for bit-exact runs)")
        if os.environ.get("TF_ENABLE_ONEDNN_OPTS") != "0":
            logger.info("deterministic ops: oneDNN kernels on; it may choose among kernels per "
                        "process for large convolutions (GANSynth's 128 x 1024 stage), set "
                        "TF_ENABLE_ONEDNN_OPTS=0 before starting Python to exclude that (about "
                        "half the speed)")
    return Run(config, model_dir, None if data_dir is None else Path(data_dir), strategy,
               logger)


def serial_inter_op() -> bool:
    """Runs independent TensorFlow ops one at a time (``inter_op_parallelism_threads = 1``).

    Op determinism alone does not make a GANSynth run repeat: two fresh processes of the same
    ``--deterministic`` command ended with weights up to 2e-3 apart in about a third of the
    tries on this 2-core machine (experiments/gansynth_nsynth.md, "Reproducibility"), and
    never with one inter-op thread. Each op keeps its intra-op threads, so the cost is the
    overlap of independent ops. Must run before TensorFlow starts its runtime; returns False
    (and changes nothing) when it already has, unless the setting was already 1.
    """
    try:
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:
        return tf.config.threading.get_inter_op_parallelism_threads() == 1
    return True


def fit(phase: Phase, logger=None, jit_compile: str = "auto") -> Phase:
    """Fits one phase; fills in ``phase.history`` and ``phase.seconds``.

    A phase resumed mid-epoch (``phase.initial_step`` > 0) is two ``fit`` calls: the rest of
    the interrupted epoch, then the following epochs, each on the data positioned after the
    batches already trained (``phase.seek``), so the run sees the same batches in the same
    order as an uninterrupted one. ``jit_compile`` "on"/"off" overrides the model's XLA
    switch; "auto" keeps Keras' choice.
    """
    if jit_compile not in JIT_CHOICES:
        raise ValueError(f"jit_compile must be one of {', '.join(JIT_CHOICES)}, "
                         f"got {jit_compile!r}")
    if jit_compile != "auto":  # Keras falls back to off (with a warning) where XLA can't
        phase.model.jit_compile = jit_compile == "on"
    if logger is not None:  # "auto" turns XLA on where a GPU is visible (keras Trainer)
        logger.info("XLA (jit_compile): %s", "on" if phase.model.jit_compile else "off")
    began = time.perf_counter()
    epoch, histories = phase.initial_epoch, []
    if phase.initial_step and epoch < phase.epochs:  # the rest of the interrupted epoch
        histories.append(_fit(phase, epoch, epoch + 1, phase.initial_step, logger))
        epoch += 1
    if epoch < phase.epochs or not histories:
        histories.append(_fit(phase, epoch, phase.epochs, 0, logger))
    phase.history = _joined(histories)
    phase.seconds = time.perf_counter() - began
    return phase


def _fit(phase: Phase, initial_epoch: int, epochs: int, offset: int, logger):
    """One ``fit`` from step ``offset`` of epoch ``initial_epoch`` to the end of ``epochs``;
    callbacks with a ``batch_offset`` attribute learn the offset."""
    done = initial_epoch * phase.steps_per_epoch + offset  # batches trained in the phase
    dataset = phase.dataset
    if done:
        began = time.perf_counter()
        dataset = phase.seek(done) if phase.seek else dataset.skip(done)
        if logger is not None:
            logger.info("data position: after %d batches (%.1f s)", done,
                        time.perf_counter() - began)
    strategy = phase.model.distribute_strategy  # several workers: an explicit input split
    dataset = cluster.shard_input(dataset, strategy)
    if logger is not None and cluster.worker_of(strategy).count > 1:
        logger.info(cluster.sharding_text(dataset))
    for callback in phase.callbacks:
        if hasattr(callback, "batch_offset"):
            callback.batch_offset = offset
    return phase.model.fit(
        dataset, epochs=epochs, initial_epoch=initial_epoch,
        steps_per_epoch=phase.steps_per_epoch - offset, validation_data=phase.validation_data,
        callbacks=phase.callbacks, verbose=phase.verbose,
        shuffle=False)  # every recipe's dataset shuffles itself


def _joined(histories: list) -> keras.callbacks.History:
    """One History of consecutive ``fit`` calls (epochs and values in order)."""
    joined = histories[-1]
    for earlier in reversed(histories[:-1]):
        joined.epoch = list(earlier.epoch) + list(joined.epoch)
        for key, values in earlier.history.items():
            joined.history[key] = list(values) + list(joined.history.get(key, []))
    return joined


def write_metrics(run: Run, metrics: dict) -> None:
    """``metrics.json`` of the run (atomic enough for one writer: written whole)."""
    (run.model_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")


@precision_policy.restores_policy  # the global policy is float32 again afterwards
def run(recipe: Recipe, config, model_dir, data_dir=None, strategy="default",
        export: bool = True, extra_callbacks: list | None = None, deterministic: bool = False,
        jit_compile: str = "auto", precision: str = "float32", preset: str | None = None) -> dict:
    """Trains (or resumes), evaluates, writes ``metrics.json`` and optionally exports.

    Args:
        recipe: the family's recipe.
        config: the family's config (a preset with overrides).
        model_dir: the run directory; re-running with the same one resumes.
        data_dir: dataset root, or None for the built-in data.
        strategy: a strategy name (training/strategy.py) or a ``tf.distribute.Strategy``.
        export: export for serving after training (families that export).
        extra_callbacks: appended to the callbacks of every phase (custom logging, tests).
        deterministic: turn on TensorFlow's op determinism, one inter-op thread, TensorFloat-32
            off (:func:`start`).
        jit_compile: "auto" (Keras: XLA where a GPU is visible), "on" or "off".
        precision: "float32", "mixed" (training/precision.py) or a Keras policy name.
        preset: the name of the preset ``config`` came from (the command lines' ``--preset``),
            logged and recorded in ``metrics.json`` as ``preset``; None for a config built
            otherwise.

    Returns:
        The metrics dict also written to ``model_dir/metrics.json``.
    """
    context = start(recipe, config, model_dir, data_dir, strategy, deterministic, precision)
    dataset = getattr(getattr(context.config, "data", None), "dataset", "see the recipe")
    context.logger.info("data: %s", f"{dataset} from {data_dir}" if data_dir
                        else f"{dataset} (built in)")
    if preset is not None:
        context.logger.info("preset: %s", preset)
    data = recipe.load_data(context)
    last, epochs, seconds, final_losses = None, 0, 0.0, {}
    for phase in recipe.phases(context, data):
        phase.callbacks += list(extra_callbacks or [])
        last = fit(phase, context.logger, jit_compile)
        epochs += len(phase.history.epoch)
        seconds += phase.seconds
        final_losses = {k: float(v[-1]) for k, v in phase.history.history.items() if v}
    model = recipe.trained_model(context, data, last)
    with compute_in_float32(model):  # the .keras files hold float32 networks
        recipe.save(context, model)
    metrics = recipe.evaluate(context, model, data)
    curve = loss_curve(context.model_dir / "history.csv")
    if curve:
        metrics.setdefault("loss_curve", curve)
        if not final_losses:  # this session resumed a run whose training had ended
            final_losses = {k: v[-1] for k, v in curve.items() if k != "epoch"}
    metrics.setdefault("final_losses", final_losses)
    if preset is not None:
        metrics["preset"] = preset
    metrics.update(epochs_this_session=epochs, train_seconds_this_session=round(seconds, 1))
    write_metrics(context, metrics)
    if export:
        paths = recipe.export(context, model, data)
        if paths:
            metrics["export"] = {k: str(v) for k, v in paths.items()}
            write_metrics(context, metrics)
            context.logger.info("exported %s", ", ".join(f"{k}: {v}" for k, v in paths.items()))
    return metrics
