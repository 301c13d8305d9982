"""Samples of an unconditional generator during training: WAVs, spectrogram PNGs, TensorBoard.

Used by the WaveGAN / SpecGAN runs (and reusable by any family whose generator maps a latent
batch to audio). The latents are fixed for the whole run, so successive epochs show how the
same z vectors evolve (the reference's ``preview`` mode keeps its z in ``preview/z.pkl``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from tfaudiogan.audio.io import save_audio
from tfaudiogan.training import listening_page, plots
from tfaudiogan.training.media import spectrogram_image

# reference/wavegan.md 4.5 / 11.11: the preview concatenates clips with sr / 2 of silence.
PREVIEW_GAP_SECONDS = 0.5


class GeneratedSamples(keras.callbacks.Callback):
    """Writes generated clips for fixed latents every `every` epochs (and after the last one).

    Files in `samples/epoch_<NNNN>/`: `sample_<i>.wav` (16-bit), `sample_<i>.png` (its
    spectrogram, training/plots.py) and `preview.wav` (all clips with 0.5 s of silence between
    them, as the reference's preview), listed in the epoch's section of `samples/index.html`.
    The same audio and spectrograms go to TensorBoard (`tensorboard/samples`).

    Args:
        out_dir: the run's `samples/` directory.
        render: `render(z [n, latent]) -> waves [n, samples]` with the current generator.
        z: float32 `[n, latent]` fixed latents.
        sample_rate: Hz of the waveforms.
        every: write every this many epochs.
        tensorboard_dir: where to write summaries (None: none).
    """

    def __init__(self, out_dir, render: Callable, z: np.ndarray, sample_rate: int,
                 every: int = 1, tensorboard_dir=None):
        super().__init__()
        self.out_dir = Path(out_dir)
        self.render = render
        self.z = np.asarray(z, np.float32)
        self.sample_rate = int(sample_rate)
        self.every = max(1, int(every))
        self.writer = (tf.summary.create_file_writer(str(Path(tensorboard_dir) / "samples"))
                       if tensorboard_dir else None)

    def on_epoch_end(self, epoch, logs=None):
        last = (self.params or {}).get("epochs")
        if (epoch + 1) % self.every == 0 or epoch + 1 == last:
            self.write(epoch + 1)

    def write(self, epoch: int) -> Path:
        """Writes the samples of `epoch`, updates the listening page, returns the folder."""
        folder = self.out_dir / f"epoch_{epoch:04d}"
        folder.mkdir(parents=True, exist_ok=True)
        waves = np.clip(np.nan_to_num(np.asarray(self.render(self.z), np.float32)), -1.0, 1.0)
        specs = plots.stft(waves if waves.ndim == 2 else waves.mean(axis=-1), self.sample_rate)
        rows = []
        for i, (wave, spec) in enumerate(zip(waves, specs)):
            save_audio(folder / f"sample_{i}.wav", wave, self.sample_rate)
            plots.write_spectrograms(folder / f"sample_{i}.png", [("", spec)],
                                     f"sample_{i}, epoch {epoch}")
            rows.append(listening_page.Row(f"sample_{i}", [("", f"sample_{i}.wav")],
                                           [f"sample_{i}.png"]))
        gap = np.zeros((int(PREVIEW_GAP_SECONDS * self.sample_rate), *waves.shape[2:]),
                       np.float32)
        preview = np.concatenate([part for wave in waves for part in (wave, gap)])
        save_audio(folder / "preview.wav", preview, self.sample_rate)
        rows.insert(0, listening_page.Row("all samples", [
            (f"preview.wav: the {len(waves)} clips, {PREVIEW_GAP_SECONDS} s apart",
             "preview.wav")]))
        listening_page.add_section(self.out_dir, folder, f"epoch {epoch}", epoch, rows)
        if self.writer is not None:
            audio = waves if waves.ndim == 3 else waves[..., None]
            images = np.stack([spectrogram_image(s.normalised()) for s in specs])
            with self.writer.as_default(step=epoch):
                tf.summary.audio("generated", audio, self.sample_rate, max_outputs=len(waves))
                tf.summary.image("generated_spectrogram", images, max_outputs=len(images))
            self.writer.flush()
        return folder
