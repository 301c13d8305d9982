"""GANSynth's samples and pictures: notes of the EMA generator rendered to audio, per-stage
sample files (wav, magnitude picture, rainbowgram), the pitch table of a sweep and the pitch
accuracy of each stage.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tensorflow as tf

from tfaudiogan.audio.gansynth import (
    GANSynthSpectrogram,
    denormalise,
)
from tfaudiogan.audio.io import save_audio
from tfaudiogan.configs.gansynth import GANSynthConfig
from tfaudiogan.gans.progressive import GANSynth
from tfaudiogan.layers.fade_in import upscale
from tfaudiogan.metrics.gansynth import pitch_accuracy
from tfaudiogan.recipes import pitch_metrics
from tfaudiogan.recipes.gansynth_data import synthetic_pitches
from tfaudiogan.training import listening_page, plots, rainbowgram


def render_notes(gan: GANSynth, rep: GANSynthSpectrogram, z, labels
                 ) -> tuple[tf.Tensor, np.ndarray]:
    """EMA-generator notes: ``z [b, latent]``, ``labels [b]`` (pitch - min_pitch) ->
    ``(images [b, time, bins, 2] at the stage resolution, audio [b, audio_length])``."""
    images = gan.generate(z, labels)
    factor = rep.output_shape[0] // int(images.shape[1])
    return images, rep.decode(denormalise(upscale(images, factor))).numpy()


def asked_labels(counts, n: int, seed: int) -> np.ndarray:
    """``[n]`` int32 labels (pitch - min_pitch) drawn from the training histogram ``counts``."""
    counts = np.asarray(counts, np.float64)
    return np.random.default_rng(seed).choice(len(counts), n, p=counts / counts.sum()
                                               ).astype(np.int32)


def generated_notes(gan: GANSynth, rep: GANSynthSpectrogram, config: GANSynthConfig, counts,
                    n: int, logger=None) -> tuple[np.ndarray, np.ndarray]:
    """``n`` EMA-generator notes for scoring: latents from ``eval.seed``, pitches drawn from the
    training histogram ``counts`` (:func:`asked_labels`), rendered by :func:`render_notes`.

    Returns:
        ``(audio [n, audio_length] float32, MIDI pitches asked [n] int32)``.
    """
    e, m = config.eval, config.model
    labels = asked_labels(counts, n, e.seed)
    audio = pitch_metrics.generate_notes(
        lambda z, label: render_notes(gan, rep, z, label)[1], m.latent_size, n, e.batch_size,
        labels, e.seed, logger)
    return audio, labels + m.min_pitch


def stage_pitch_accuracy(gan: GANSynth, rep: GANSynthSpectrogram, config: GANSynthConfig,
                         classifier, counts) -> float:
    """Pitch accuracy of ``eval.stage_notes`` EMA-generator notes of the stage model ``gan``.

    The notes are :func:`generated_notes` (upscaled to the full size, decoded): the same
    latents and pitches at every stage, so the values of the stages compare. ``classifier``
    is the trained pitch classifier (input ``[batch, length]``, class 0 = MIDI 24).
    """
    audio, pitches = generated_notes(gan, rep, config, counts, config.eval.stage_notes)
    length = int(classifier.inputs[0].shape[-1])
    scores = classifier.predict(pitch_metrics.fit_length(audio, length), verbose=0,
                                batch_size=config.eval.batch_size)
    return pitch_accuracy(scores, pitches)


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
    fake, fake_pitch = generated_notes(gan, rep, config, counts, e.notes, logger)
    table = pitch_metrics.score(classifier, fake, fake_pitch, real, real_pitch, e)
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
