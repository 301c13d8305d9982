"""GANSynth: config -> notes -> 13 progressive stages -> samples -> metrics -> export.

After the last stage, ``metrics.json["pitch_metrics"]`` holds the paper's Table 1 columns
(IS, PA, PE, FD, NDB, JSD) for the EMA generator beside a real-data row, when
``eval.classifier`` names a trained pitch classifier (see recipes/pitch_metrics.py).

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
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from tfaudiogan import data
from tfaudiogan.audio.batching import encode_in_batches
from tfaudiogan.audio.gansynth import (
    GANSynthSpectrogram,
    denormalise,
    normalise,
    spectrogram_from_config,
)
from tfaudiogan.audio.io import save_audio
from tfaudiogan.configs.gansynth import GANSynthConfig
from tfaudiogan.data.nsynth import gansynth_split_ids
from tfaudiogan.data.order import shuffled_examples
from tfaudiogan.export.gansynth import export_gansynth
from tfaudiogan.gans.progressive import GANSynth, new_alpha, stage_networks
from tfaudiogan.layers import progressive_schedule
from tfaudiogan.layers.fade_in import upscale
from tfaudiogan.models.gansynth import stage_shape, transfer_weights
from tfaudiogan.recipes import pitch_metrics
from tfaudiogan.training import backup, cluster, driver, listening_page, plots, rainbowgram
from tfaudiogan.training.callbacks import loss_curve
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


SPLITS_CSV = "nsynth-gansynth_splits.csv"
SPLITS_URL = f"http://download.magenta.tensorflow.org/datasets/nsynth/{SPLITS_CSV}"


def splits_csv(config: GANSynthConfig, data_dir) -> Path | None:
    """The GANSynth subset CSV that ``data.gansynth_splits`` names, or None for "none"/"".

    Raises:
        FileNotFoundError: the CSV is missing (one line saying where to get it).
    """
    value = config.data.gansynth_splits
    if value in ("", "none"):
        return None
    path = Path(data_dir) / SPLITS_CSV if value == "auto" else Path(value)
    if not path.is_file():
        raise FileNotFoundError(
            f"GANSynth subset splits '{path}' not found: download {SPLITS_URL} into the data "
            f"directory (or --set data.gansynth_splits=PATH; 'none' trains on nsynth-train "
            "filtered to acoustic 24-84 instead, not the paper's data)")
    return path


def nsynth_notes(config: GANSynthConfig, data_dir, logger,
                 shuffle_seed: int | None = None) -> tf.data.Dataset:
    """NSynth training notes ``(audio [audio_length], label int32)``: file order, or with
    ``shuffle_seed`` a seeded permutation of all of them, new at each iteration."""
    d, m, s = config.data, config.model, config.spectrogram
    return data.pitch_labelled(
        data.load("nsynth", data_dir, "train", layout=d.layout, gansynth_subset=True,
                  gansynth_splits=splits_csv(config, data_dir), audio_length=s.audio_length,
                  strict=d.strict, log=logger, shuffle_seed=shuffle_seed),
        m.min_pitch, m.max_pitch)


def synthetic_pitches(config: GANSynthConfig) -> list[int]:
    """MIDI pitches of the built-in notes: ``data.synthetic_pitches``, or every pitch of
    ``model.min_pitch..max_pitch`` when it is empty.

    Raises:
        ValueError: a pitch outside the one-hot's range.
    """
    m = config.model
    pitches = sorted(set(int(p) for p in config.data.synthetic_pitches))
    if not pitches:
        return list(range(m.min_pitch, m.max_pitch + 1))
    if pitches[0] < m.min_pitch or pitches[-1] > m.max_pitch:
        raise ValueError(f"data.synthetic_pitches {pitches} must lie in "
                         f"{m.min_pitch}..{m.max_pitch}")
    return pitches


def load_notes(config: GANSynthConfig, data_dir, logger) -> tuple[tf.data.Dataset, np.ndarray]:
    """Training notes (file order) and the pitch histogram.

    Returns:
        ``(dataset of (audio [audio_length], label int32), counts [num_pitches] int64)`` with
        ``label = pitch - min_pitch``.
    """
    d, m, s = config.data, config.model, config.spectrogram
    pitches = synthetic_pitches(config)
    if d.dataset == "synthetic":
        notes = data.load("synthetic_notes", n=d.synthetic_notes, sample_rate=s.sample_rate,
                          seconds=s.audio_length / s.sample_rate, pitches=pitches,
                          seed=config.train.seed)
        labels = notes["pitch"].astype(np.int32) - m.min_pitch
        counts = np.bincount(labels, minlength=m.num_pitches).astype(np.int64)
        logger.info("%d synthetic notes, %d distinct pitches of %s (one-hot %d-%d)",
                    len(labels), np.count_nonzero(counts),
                    pitches if config.data.synthetic_pitches else "all",
                    m.min_pitch, m.max_pitch)
        return tf.data.Dataset.from_tensor_slices((notes["audio"], labels)), counts
    if d.dataset != "nsynth":
        raise ValueError(f"unknown dataset '{d.dataset}'; use 'nsynth' or 'synthetic'")
    if data_dir is None:
        raise ValueError("dataset 'nsynth' needs --data_dir (or --preset demo)")
    if d.shuffle not in ("full", "buffer"):
        raise ValueError(f"data.shuffle must be 'full' or 'buffer', got '{d.shuffle}'")
    csv_path = splits_csv(config, data_dir)
    ds = nsynth_notes(config, data_dir, logger)
    histogram = data.pitch_histogram(ds.map(lambda audio, label: label), m.num_pitches)
    if histogram.sum() == 0:
        raise ValueError(f"no NSynth training notes in '{data_dir}' pass the GANSynth filter")
    summary = data_summary(config, data_dir, histogram)
    if csv_path is None:
        logger.info("NSynth nsynth-train filtered to acoustic %d-%d: %d training notes (no "
                    "splits CSV: not the paper's subset)", m.min_pitch, m.max_pitch,
                    summary["training_notes"])
    else:
        logger.info("NSynth GANSynth subset (%s): %d training notes read of %d train ids "
                    "listed (reference: 60,788)", csv_path, summary["training_notes"],
                    summary["csv_train_ids"])
    return ds, histogram


def data_summary(config: GANSynthConfig, data_dir, counts) -> dict:
    """What was read, for the run log and ``metrics.json["data"]``: the dataset, the number of
    training notes (the pitch histogram's sum) and, with a splits CSV, its path and the number
    of train ids it lists (a difference means notes of the CSV were not found)."""
    summary = {"dataset": config.data.dataset, "training_notes": int(np.sum(counts))}
    if config.data.dataset == "nsynth":
        csv_path = splits_csv(config, data_dir)
        summary["splits_csv"] = None if csv_path is None else str(csv_path)
        if csv_path is not None:
            summary["csv_train_ids"] = len(gansynth_split_ids(csv_path, "train"))
    return summary


def encoded_notes(notes: tf.data.Dataset, rep: GANSynthSpectrogram,
                  config: GANSynthConfig) -> tuple[np.ndarray, np.ndarray] | None:
    """The built-in synthetic notes encoded once up front (a few dozen notes):
    ``(specs [n, time, bins, 2] in [-1, 1], labels [n])``; None for NSynth, whose notes are
    encoded per batch inside the pipeline."""
    if config.data.dataset != "synthetic":
        return None
    encode = tf.function(lambda audio: normalise(rep.encode(audio)))
    audio, labels = (np.stack(a) for a in zip(*notes.as_numpy_iterator()))
    return encode_in_batches(encode, audio, 8), labels


def training_dataset(notes: tf.data.Dataset | Callable[[int], tf.data.Dataset],
                     rep: GANSynthSpectrogram,
                     config: GANSynthConfig, stage: int = 0, skip_batches: int = 0,
                     encoded: tuple[np.ndarray, np.ndarray] | None = None,
                     strategy: tf.distribute.Strategy | None = None) -> tf.data.Dataset:
    """Shuffled, repeated batches ``(specs [batch, time, bins, 2] in [-1, 1], labels [batch])``
    for one stage.

    Each stage gets a new pipeline shuffled with seed ``train.seed + stage``, so a stage's
    batches do not depend on how many sessions trained the earlier ones. ``notes``: a dataset
    in file order (shuffled through ``data.shuffle_buffer``), or a function ``seed -> dataset``
    giving the notes in a seeded order over the whole set (:func:`nsynth_notes` with
    ``shuffle_seed``; ``data.shuffle="full"``). ``encoded``: the synthetic notes from
    :func:`encoded_notes` (else NSynth notes are encoded per batch).
    ``skip_batches`` drops the first batches before they are encoded (the data position of a
    resumed stage costs no encoding). With several workers (``strategy``) each worker reads,
    decodes and encodes only its own share of the NSynth notes (training/cluster.py).
    """
    t = config.train
    seed = t.seed + stage
    if encoded is not None:
        specs, labels = encoded
        ds = shuffled_examples((specs, labels), seed)  # data/order.py: same from any iterator
        return ds.batch(t.batch_size, drop_remainder=True).skip(skip_batches).prefetch(
            tf.data.AUTOTUNE)
    encode = tf.function(lambda audio: normalise(rep.encode(audio)))
    shard = (lambda ds: ds) if strategy is None else (
        lambda ds: cluster.worker_shard(ds, strategy))
    if callable(notes):  # whole-set order (the same on every worker), a new one per epoch
        ds = shard(notes(seed)).repeat()
    else:
        ds = shard(notes).shuffle(config.data.shuffle_buffer, seed=seed).repeat()
    ds = ds.batch(t.batch_size, drop_remainder=True).skip(skip_batches)
    ds = ds.map(lambda audio, label: (encode(audio), label),  # parallel, order kept
                num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.prefetch(tf.data.AUTOTUNE)


def build_stage(config: GANSynthConfig, stage: int, counts, images_seen: int) -> GANSynth:
    """A compiled stage model with fresh Adam optimizers; call inside the strategy scope."""
    loss, opt, t = config.loss, config.optimizer, config.train
    alpha = new_alpha()
    gan = GANSynth(**stage_networks(stage, alpha, **model_kwargs(config)), alpha=alpha,
                   stage=stage, pitch_counts=counts, num_resolutions=config.model.num_resolutions,
                   stable_images=t.stable_images, transition_images=t.transition_images,
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


def render_notes(gan: GANSynth, rep: GANSynthSpectrogram, z, labels
                 ) -> tuple[tf.Tensor, np.ndarray]:
    """EMA-generator notes: ``z [b, latent]``, ``labels [b]`` (pitch - min_pitch) ->
    ``(images [b, time, bins, 2] at the stage resolution, audio [b, audio_length])``."""
    images = gan.generate(z, labels)
    factor = rep.output_shape[0] // int(images.shape[1])
    return images, rep.decode(denormalise(upscale(images, factor))).numpy()


def pitch_table(gan: GANSynth, rep: GANSynthSpectrogram, config: GANSynthConfig, notes,
                counts, logger) -> dict | None:
    """The Table 1 rows (IS, PA, PE, FD, NDB/JSD) of the EMA generator beside real data.

    Fake pitches are drawn from the training histogram ``counts``; the real reference is
    ``2 * eval.notes`` notes (fresh synthetic notes, or shuffled training notes). None when
    ``eval.classifier`` is off or missing (recipes/pitch_metrics.py).
    """
    e, m, s = config.eval, config.model, config.spectrogram
    classifier = pitch_metrics.find_classifier(e.classifier, logger)
    if classifier is None:
        return None
    if config.data.dataset == "synthetic":
        real, real_pitch = pitch_metrics.synthetic_reference(
            2 * e.notes, s.sample_rate, s.audio_length, synthetic_pitches(config),
            config.train.seed + 1)
    else:
        real, real_pitch = pitch_metrics.dataset_reference(
            notes.map(lambda audio, label: (audio, label + m.min_pitch)), 2 * e.notes, e.seed,
            config.data.shuffle_buffer)
    rng = np.random.default_rng(e.seed)
    labels = rng.choice(m.num_pitches, e.notes, p=counts / counts.sum()).astype(np.int32)
    fake = pitch_metrics.generate_notes(
        lambda z, label: render_notes(gan, rep, z, label)[1], m.latent_size, e.notes,
        e.batch_size, labels, e.seed, logger)
    table = pitch_metrics.score(classifier, fake, labels + m.min_pitch, real, real_pitch, e)
    for row in ("real_data", "generated"):
        logger.info("pitch metrics, %s: %s", row, pitch_metrics.row_summary(table[row]))
    return {**table, "classifier": e.classifier}


def band_frequencies(rep: GANSynthSpectrogram) -> np.ndarray:
    """Centre frequency (Hz) of every bin of the magnitude channel, lowest first: the linear
    bins ``1 .. nfft / 2`` (DC dropped), or the centroid of each mel band's triangle. The
    reference's mel matrix widens its low bands, so they are not evenly spaced in mel, and
    leaves a few empty (audio/gansynth.py); an empty band gets its neighbours' centre."""
    linear_bins = rep.spec_shape[1]
    hz = np.arange(1, linear_bins + 1) * (rep.sample_rate / 2.0) / linear_bins
    if not rep.mel:
        return hz
    weight = rep.l2m.sum(axis=0)
    full = np.flatnonzero(weight > 0)
    centroid = (hz @ rep.l2m[:, full]) / weight[full]
    return np.maximum.accumulate(np.interp(np.arange(len(weight)), full, centroid))


def note_picture(image, rep: GANSynthSpectrogram, seconds: float) -> plots.Spectrogram:
    """The magnitude channel of one generated ``image [time, bins, 2]`` (network space, any
    stage resolution) in dB: log mel power on a mel axis, or log magnitude on a linear one."""
    log_level = denormalise(image).numpy()[:, :, 0].T  # [bins, time], natural log
    bins = log_level.shape[0]  # an early stage's bin covers several final bins
    row_hz = band_frequencies(rep).reshape(bins, -1).mean(axis=1)
    if rep.mel:
        return plots.Spectrogram(10.0 * np.log10(np.e) * log_level, seconds, row_hz,
                                 scale="mel", unit="log mel power (dB)")
    return plots.Spectrogram(20.0 * np.log10(np.e) * log_level, seconds, row_hz,
                             unit="log magnitude (dB)")


def write_samples(gan: GANSynth, rep: GANSynthSpectrogram, config: GANSynthConfig,
                  folder: Path, tensorboard_dir: Path | None = None, step: int = 0) -> list[Path]:
    """EMA-generator notes (fixed z, pitches spread over the range) at the end of stage
    ``step``: a wav, a png of the generated (mel) magnitude channel and a rainbowgram png each
    (training/plots.py), listed in the stage's section of ``samples/index.html`` (the page
    beside ``folder``); the same audio and rainbowgrams go to TensorBoard
    (``tensorboard_dir/samples``, step = stage) when a directory is given."""
    m, t = config.model, config.train
    n = t.sample_notes
    if n <= 0:
        return []
    z = np.random.default_rng(t.seed).standard_normal([n, m.latent_size]).astype(np.float32)
    labels = np.linspace(0, m.num_pitches - 1, n).round().astype(np.int32)
    images, audio = render_notes(gan, rep, z, labels)
    folder.mkdir(parents=True, exist_ok=True)
    rate = config.spectrogram.sample_rate
    paths, rows = [], []
    for i, (wave, label) in enumerate(zip(audio, labels)):
        path = folder / f"note_{i:02d}_pitch_{label + m.min_pitch}.wav"
        peak = float(np.max(np.abs(wave))) or 1.0
        save_audio(path, (wave / max(peak, 1.0)).astype(np.float32), rate)
        title = f"{path.stem}, stage {step}"
        pictures = [plots.write_spectrograms(
            path.with_suffix(".png"), [("", note_picture(images[i], rep, len(wave) / rate))],
            title)]
        if wave.shape[-1] >= rainbowgram.FFT_LENGTH:
            pictures.append(rainbowgram.write_rainbowgram(
                path.with_suffix(".rainbowgram.png"), wave, f"{title}: rainbowgram",
                sample_rate=rate))
        rows.append(listening_page.Row(path.stem, [("", path.name)], [p.name for p in pictures]))
        paths.append(path)
    listening_page.add_section(folder.parent, folder, f"stage {step}", step, rows)
    if tensorboard_dir is not None:
        with tf.summary.create_file_writer(str(Path(tensorboard_dir) / "samples")).as_default():
            clipped = np.clip(audio, -1.0, 1.0)[..., None]
            tf.summary.audio("notes", clipped, rate, step=step, max_outputs=n)
            if audio.shape[-1] >= rainbowgram.FFT_LENGTH:
                rainbowgram.rainbowgram_summary("rainbowgrams", audio, step, max_outputs=n,
                                                sample_rate=rate)
    return paths


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
            metrics["stages"][str(stage)] = {
                "blocks": gan.num_blocks, "images": [start, end],
                "images_seen": int(gan.images_seen.numpy()),
                "d_steps": int(gan.d_optimizer.iterations.numpy()),
                "g_steps": int(gan.g_optimizer.iterations.numpy()),
                "seconds_this_session": round(phase.seconds, 2),
                "final_losses": last_losses(folder / "history.csv"),
            }
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
