"""GANSynth: config -> notes -> 13 progressive stages -> samples -> metrics -> export.

After the last stage, ``metrics.json["pitch_metrics"]`` holds the paper's Table 1 columns
(IS, PA, PE, FD, NDB, JSD) for the EMA generator beside a real-data row, when
``eval.classifier`` names a trained pitch classifier (see recipes/pitch_metrics.py); with
it, each stage's row ``stages.<s>`` also holds the pitch accuracy of ``eval.stage_notes``
notes of that stage's EMA generator.

The notes and their encoding are in recipes/gansynth_data.py, the samples and pictures in
recipes/gansynth_samples.py; this module holds the stages and the recipe.

``python -m tfaudiogan.experiments.gansynth_nsynth`` runs :data:`RECIPE` through the training
driver (training/driver.py); the stages are its phases. Stages (reference/gansynth.md 2.2, ecosystem.md P13): stage ``s`` trains a freshly built
stage model (``(s + 1) // 2 + 1`` blocks) on the images ``[start_s, end_s)`` of the schedule,
starting from the previous stage's weights (generator, discriminator and EMA generator copied
layer by layer; the new block keeps its initialisation) and fresh Adam optimizers (the reference
resets Adam at every stage).

Run directory, on top of the common layout (training/run_dir.py)::

    state.json                    {"stage": current stage, "finished": [...], "num_stages": n}
    stages/stage_SS/backup/       backups of the stage in progress every
                                  ``train.backup_every_steps`` steps and at its epoch ends
                                  (weights, EMA weights, alpha, image counter, Adam slots,
                                  random-stream states, position: training/backup.py); removed
                                  once the stage's weights below are written
    stages/stage_SS/{generator,discriminator,generator_ema}.weights.h5   written when done
    samples/stage_SS/*.wav (+ .png)  EMA-generator notes at the end of each stage
    samples/index.html            the listening page (training/listening_page.py)
    generator_ema.keras           the final EMA generator (sampling / export)

Re-running the same command resumes: finished stages (their weight files exist) are skipped,
the stage in progress restores from its backup at the step it reached (its data continues
after the batches already trained), a new stage starts from the previous stage's weights.
"""

from __future__ import annotations

import functools
import json
import math
import os
from pathlib import Path

import keras

from tfaudiogan.audio.gansynth import (
    GANSynthSpectrogram,
    spectrogram_from_config,
)
from tfaudiogan.configs.gansynth import GANSynthConfig
from tfaudiogan.export.gansynth import export_gansynth
from tfaudiogan.gans.progressive import GANSynth, new_alpha, stage_networks
from tfaudiogan.layers import progressive_schedule
from tfaudiogan.models.gansynth import stage_shape, transfer_weights
from tfaudiogan.recipes import pitch_metrics
from tfaudiogan.recipes.gansynth_data import (  # noqa: F401  (re-exported: tests, tools)
    SPLITS_CSV,
    SPLITS_URL,
    data_summary,
    encoded_notes,
    load_notes,
    nsynth_notes,
    splits_csv,
    synthetic_pitches,
    training_dataset,
)
from tfaudiogan.recipes.gansynth_samples import (  # noqa: F401  (re-exported: tests, tools)
    band_frequencies,
    note_picture,
    pitch_table,
    render_notes,
    stage_pitch_accuracy,
    write_samples,
)
from tfaudiogan.training import backup, cluster, driver
from tfaudiogan.training.callbacks import loss_curve
from tfaudiogan.training.random_state import preserved_random_state
from tfaudiogan.training.recipe import Phase, Recipe, Run, standard_callbacks

NETWORKS = ("generator", "discriminator", "generator_ema")


def representation(config: GANSynthConfig) -> GANSynthSpectrogram:
    """The spectrogram front-end described by ``config.spectrogram``."""
    return spectrogram_from_config(config.spectrogram)


def model_kwargs(config: GANSynthConfig) -> dict:
    """Keyword arguments of :func:`tfaudiogan.gans.progressive.stage_networks`."""
    m = config.model
    return dict(latent_size=m.latent_size, num_pitches=m.num_pitches,
                start_shape=tuple(m.start_shape), num_resolutions=m.num_resolutions,
                fmap_base=m.fmap_base, fmap_decay=m.fmap_decay, fmap_max=m.fmap_max,
                kernel_size=m.kernel_size)


def stage_images(config: GANSynthConfig) -> list[tuple[int, int]]:
    """``[(start, end)]`` images of every stage of ``config`` (progressive_schedule.py)."""
    t = config.train
    if t.stage_images:
        if not t.progressive:
            raise ValueError("train.stage_images sets a progressive schedule; with "
                             "train.progressive=False leave it empty and set total_images")
        return progressive_schedule.stage_bounds(progressive_schedule.check_stage_lengths(
            t.stage_images, config.model.num_resolutions))
    return progressive_schedule.stage_images(config.model.num_resolutions, t.stable_images,
                                             t.transition_images, t.total_images)


def stages(config: GANSynthConfig) -> list[tuple[int, int, int]]:
    """``[(stage, start, end)]`` to train: every stage of the schedule, or with
    ``train.progressive=False`` only the last one (all blocks) over ``[0, total_images)``, as
    the reference's gansynth_train.py does."""
    bounds = stage_images(config)
    if config.train.progressive:
        return [(s, start, end) for s, (start, end) in enumerate(bounds)]
    return [(len(bounds) - 1, 0, config.train.total_images)]


def check_config(config: GANSynthConfig, rep: GANSynthSpectrogram) -> None:
    """Raises ValueError when the final stage shape differs from the spectrogram shape."""
    final = stage_shape(progressive_schedule.num_stages(config.model.num_resolutions) - 1,
                        tuple(config.model.start_shape), config.model.num_resolutions)
    if tuple(final) != tuple(rep.output_shape[:2]):
        raise ValueError(f"the final stage works at {final} but the spectrogram is "
                         f"{rep.output_shape[:2]}; change model.start_shape / num_resolutions "
                         "or spectrogram.spec_shape")


def build_stage(config: GANSynthConfig, stage: int, counts, images_seen: int) -> GANSynth:
    """A compiled stage model with fresh Adam optimizers; call inside the strategy scope."""
    loss, opt, t = config.loss, config.optimizer, config.train
    alpha = new_alpha()
    gan = GANSynth(**stage_networks(stage, alpha, **model_kwargs(config)), alpha=alpha,
                   stage=stage, pitch_counts=counts, num_resolutions=config.model.num_resolutions,
                   stable_images=t.stable_images, transition_images=t.transition_images,
                   stage_lengths=t.stage_images,
                   images_seen=images_seen, latent_size=config.model.latent_size,
                   gp_weight=loss.gp_weight, drift_weight=loss.drift_weight,
                   g_ac_weight=loss.g_ac_weight, d_ac_weight=loss.d_ac_weight,
                   gp_data_space=loss.gp_data_space, gp_full_size_norm=loss.gp_full_size_norm,
                   ema_decay=t.ema_decay, update_order=t.update_order,
                   progressive=t.progressive, seed=t.seed + stage)

    def adam(rate, name):
        return keras.optimizers.Adam(rate, beta_1=opt.beta_1, beta_2=opt.beta_2,
                                     epsilon=opt.epsilon, name=name)

    gan.compile(g_optimizer=adam(opt.g_learning_rate, "g_optimizer"),
                d_optimizer=adam(opt.d_learning_rate, "d_optimizer"))
    return gan


def stage_dir(model_dir, stage: int) -> Path:
    return Path(model_dir) / "stages" / f"stage_{stage:02d}"


def stage_finished(model_dir, stage: int) -> bool:
    return all((stage_dir(model_dir, stage) / f"{n}.weights.h5").exists() for n in NETWORKS)


def save_stage(gan: GANSynth, folder: Path) -> None:
    """Writes the three networks' weights (atomically: temp file, then rename)."""
    for name in NETWORKS:
        final = folder / f"{name}.weights.h5"
        tmp = folder / f"{name}.tmp.weights.h5"
        getattr(gan, name).save_weights(tmp)
        os.replace(tmp, final)


def load_previous(config: GANSynthConfig, gan: GANSynth, model_dir, stage: int) -> None:
    """Copies the finished ``stage - 1`` networks into ``gan`` (new blocks keep their init)."""
    previous = stage_networks(stage - 1, new_alpha(), **model_kwargs(config))
    folder = stage_dir(model_dir, stage - 1)
    for name in NETWORKS:
        previous[name].load_weights(folder / f"{name}.weights.h5")
    gan.generator_ema.set_weights(gan.generator.get_weights())  # new block: EMA = init
    for net in (previous["generator_ema"], gan.generator_ema):
        net.trainable = True  # transfer_weights copies trainable weights only
    for name in NETWORKS:
        transfer_weights(previous[name], getattr(gan, name))
    for net in (previous["generator_ema"], gan.generator_ema):
        net.trainable = False


def _write_state(model_dir: Path, stage: int, n: int) -> None:
    finished = [s for s in range(n) if stage_finished(model_dir, s)]
    state = {"stage": stage, "finished": finished, "num_stages": n}
    tmp = model_dir / "state.json.tmp"
    tmp.write_text(json.dumps(state) + "\n")
    os.replace(tmp, model_dir / "state.json")


class GANSynthRecipe(Recipe):
    """Progressive GANSynth for the training driver: one phase per stage (module docstring)."""

    config_cls = GANSynthConfig

    def load_data(self, run: Run) -> dict:
        """``{"rep", "notes", "counts", "source", "encoded", "summary"}``: front-end, unbatched
        notes (file order), pitch histogram ``[num_pitches]``, the training order's source
        (:func:`training_dataset`), the synthetic notes' spectrograms (or None) and what was
        read (:func:`data_summary`)."""
        config = run.config
        rep = representation(config)
        check_config(config, rep)
        notes, counts = load_notes(config, run.data_dir, run.logger)
        if config.train.batch_size % run.strategy.num_replicas_in_sync:
            raise ValueError(f"batch_size {config.train.batch_size} is not divisible by "
                             f"{run.strategy.num_replicas_in_sync} replicas")
        source = notes  # the training order's source (training_dataset)
        if config.data.dataset == "nsynth" and config.data.shuffle == "full":
            source = functools.partial(nsynth_notes, config, run.data_dir, run.logger)
        return {"rep": rep, "notes": notes, "counts": counts, "source": source,
                "encoded": encoded_notes(notes, rep, config),
                "summary": data_summary(config, run.data_dir, counts)}

    def phases(self, run: Run, data):
        """One phase per unfinished stage; after each, its weights, samples and metrics."""
        config, model_dir, logger = run.config, run.model_dir, run.logger
        todo = stages(config)
        n = len(stage_images(config))
        metrics = read_metrics(model_dir)
        metrics["data"] = data["summary"]
        classifier = None  # scores each stage's pitch accuracy (eval.stage_notes)
        if config.eval.stage_notes > 0 and any(not stage_finished(model_dir, s)
                                               for s, _, _ in todo):
            with preserved_random_state():
                classifier = pitch_metrics.find_classifier(config.eval.classifier, logger)
        for stage, start, end in todo:
            folder = stage_dir(model_dir, stage)
            if stage_finished(model_dir, stage):
                continue
            folder.mkdir(parents=True, exist_ok=True)
            _write_state(model_dir, stage, n)
            steps = math.ceil((end - start) / config.train.batch_size)
            per_epoch = max(1, min(config.train.steps_per_epoch, steps))
            epochs = math.ceil(steps / per_epoch)
            position = backup.read_position(folder / "backup")
            with run.strategy.scope():
                gan = build_stage(config, stage, data["counts"], start)
                if position is not None:
                    logger.info("stage %d: resuming from its backup at step %d of %d", stage,
                                position.phase_step, epochs * per_epoch)
                elif stage > todo[0][0]:
                    load_previous(config, gan, model_dir, stage)
            logger.info("stage %d/%d: %s, %d blocks at %s, images %d-%d, %d steps of %s",
                        stage, n - 1, "transition" if stage % 2 else "stable", gan.num_blocks,
                        stage_shape(stage, tuple(config.model.start_shape),
                                    config.model.num_resolutions), start, end,
                        epochs * per_epoch,
                        cluster.batch_text(config.train.batch_size, run.strategy))
            callbacks = standard_callbacks(
                run, folder / "backup", None, per_epoch, backup_every=self.backup_every(run),
                tensorboard_dir=run.tensorboard_dir / f"stage_{stage:02d}",
                history_file=folder / "history.csv")
            def stage_data(skip: int = 0, stage: int = stage):
                return training_dataset(data["source"], data["rep"], config, stage, skip,
                                        data["encoded"], run.strategy)

            phase = Phase(gan, stage_data(), per_epoch, epochs, callbacks,
                          initial_epoch=position.epoch if position else 0,
                          initial_step=position.step if position else 0, seek=stage_data)
            yield phase  # the driver fits it
            # the row first: a kill before the weights are saved redoes both (from the
            # stage's end-of-stage backup), never leaves a finished stage without its row
            row = {
                "blocks": gan.num_blocks, "images": [start, end],
                "images_seen": int(gan.images_seen.numpy()),
                "d_steps": int(gan.d_optimizer.iterations.numpy()),
                "g_steps": int(gan.g_optimizer.iterations.numpy()),
                "seconds_this_session": round(phase.seconds, 2),
                "final_losses": last_losses(folder / "history.csv"),
            }
            if classifier is not None:
                with preserved_random_state():
                    row["pitch_accuracy"] = stage_pitch_accuracy(gan, data["rep"], config,
                                                                 classifier, data["counts"])
                logger.info("stage %d: pitch accuracy %.3f (%d EMA-generator notes, "
                            "eval.stage_notes)", stage, row["pitch_accuracy"],
                            config.eval.stage_notes)
            metrics["stages"][str(stage)] = row
            driver.write_metrics(run, metrics)
            save_stage(gan, folder)
            backup.discard(folder / "backup")
            write_samples(gan, data["rep"], config, run.samples_dir / f"stage_{stage:02d}",
                          tensorboard_dir=run.tensorboard_dir, step=stage)
        _write_state(model_dir, n, n)

    def trained_model(self, run: Run, data, last: Phase | None) -> GANSynth:
        if last is not None:
            return last.model
        last, _, end = stages(run.config)[-1]  # every stage was finished before: the last
        with run.strategy.scope():
            gan = build_stage(run.config, last, data["counts"], end)
        for name in NETWORKS:
            getattr(gan, name).load_weights(stage_dir(run.model_dir, last) / f"{name}.weights.h5")
        return gan

    def save(self, run: Run, model: GANSynth) -> None:
        model.generator_ema.save(run.model_dir / "generator_ema.keras")

    def evaluate(self, run: Run, model: GANSynth, data) -> dict:
        metrics = read_metrics(run.model_dir)
        last = stage_dir(run.model_dir, stages(run.config)[-1][0])
        metrics["final_losses"] = last_losses(last / "history.csv")
        metrics["pitch_counts"] = [int(c) for c in data["counts"]]
        metrics["data"] = data["summary"]
        table = pitch_table(model, data["rep"], run.config, data["notes"], data["counts"],
                            run.logger)
        if table is not None:
            metrics["pitch_metrics"] = table
        return metrics

    def export(self, run: Run, model: GANSynth, data) -> dict:
        return export_gansynth(model.generator_ema, run.config, run.model_dir / "export")


def last_losses(history_file: Path) -> dict[str, float]:
    """The last epoch's logged losses of a stage (its ``history.csv``; every session's)."""
    curve = loss_curve(history_file)
    return {k: v[-1] for k, v in curve.items() if k != "epoch"}


def read_metrics(model_dir: Path) -> dict:
    """The run's ``metrics.json`` so far (stage rows of earlier sessions), or a new one."""
    path = Path(model_dir) / "metrics.json"
    return json.loads(path.read_text()) if path.exists() else {"stages": {}}


RECIPE = GANSynthRecipe()
run = functools.partial(driver.run, RECIPE)  # run(config, model_dir, data_dir, strategy, export)
