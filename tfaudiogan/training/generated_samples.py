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
from tfaudiogan.training.media import spectrogram_image, write_png

# reference/wavegan.md 4.5 / 11.11: the preview concatenates clips with sr / 2 of silence.
PREVIEW_GAP_SECONDS = 0.5


def waveform_picture(waves, frame_length: int = 256, frame_step: int = 128,
                     db_range: float = 80.0) -> np.ndarray:
    """dB magnitude pictures of waveforms for PNG / TensorBoard images.

    Args:
        waves: float `[n, samples]`.
        frame_length: STFT window (periodic Hann) and FFT length.
        frame_step: hop.
        db_range: dB below each clip's loudest bin mapped to -1 (the loudest maps to 1).

    Returns:
        float32 `[n, frame_length // 2 + 1, frames]` in [-1, 1], row 0 the lowest frequency.
    """
    x = tf.convert_to_tensor(np.asarray(waves, np.float32))
    mag = tf.abs(tf.signal.stft(x, frame_length, frame_step, pad_end=True))
    db = 20.0 * np.log10(mag.numpy() + 1e-6)
    top = db.max(axis=(1, 2), keepdims=True)
    scaled = np.clip((db - top) / db_range, -1.0, 0.0) * 2.0 + 1.0
    return np.transpose(scaled, (0, 2, 1)).astype(np.float32)


class GeneratedSamples(keras.callbacks.Callback):
    """Writes generated clips for fixed latents every `every` epochs (and after the last one).

    Files in `samples/epoch_<NNNN>/`: `sample_<i>.wav` (16-bit), `sample_<i>.png` (spectrogram)
    and `preview.wav` (all clips with 0.5 s of silence between them, as the reference's
    preview). The same audio and pictures go to TensorBoard (`tensorboard/samples`).

    Args:
        out_dir: the run's `samples/` directory.
        render: `render(z [n, latent]) -> (waves [n, samples], pictures [n, freq, frames])`,
            pictures in [-1, 1] (row 0 the lowest frequency), using the current generator.
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
        """Writes the samples of `epoch` and returns their directory."""
        folder = self.out_dir / f"epoch_{epoch:04d}"
        folder.mkdir(parents=True, exist_ok=True)
        waves, pictures = self.render(self.z)
        waves = np.clip(np.nan_to_num(np.asarray(waves, np.float32)), -1.0, 1.0)
        images = np.stack([spectrogram_image(p) for p in np.asarray(pictures)])
        for i, (wave, image) in enumerate(zip(waves, images)):
            save_audio(folder / f"sample_{i}.wav", wave, self.sample_rate)
            write_png(folder / f"sample_{i}.png", image)
        gap = np.zeros((int(PREVIEW_GAP_SECONDS * self.sample_rate), *waves.shape[2:]),
                       np.float32)
        preview = np.concatenate([part for wave in waves for part in (wave, gap)])
        save_audio(folder / "preview.wav", preview, self.sample_rate)
        if self.writer is not None:
            audio = waves if waves.ndim == 3 else waves[..., None]
            with self.writer.as_default(step=epoch):
                tf.summary.audio("generated", audio, self.sample_rate, max_outputs=len(waves))
                tf.summary.image("generated_spectrogram", images, max_outputs=len(images))
            self.writer.flush()
        return folder
