"""DDSP-synth GAN networks (seed 003 "NoisyGAN"; reference/ddsp.md sections 1, 4, 7 item 19).

Generator (seed 003, Algorithm Definition: "upscales an initial latent vector into three
vectors that are used as inputs to a group of DDSP synths. These synths also have other
internal controls which are trainable"):

    z [B, latent] (+ MIDI pitch [B] when pitch-conditioned)
      -> F0 CPPN         [B, F, 1]  -> sigmoid -> unit_to_hz(f0_min, f0_max)   (unconditional)
                                    or midi_to_hz(pitch + max_bend * tanh(.))   (conditioned)
      -> loudness CPPN   [B, F, 1]  amplitude logits
      -> timbre CPPN     [B, F_t, K + bands] at a coarse grid, linearly upsampled to F frames
                         (the "upsampled harmonic distribution" and noise magnitudes)
      -> DDSPSynth: trainable internal controls (a static harmonic-distribution bias [K], a
         static noise-band bias [bands], harmonic and noise gain offsets, optional learned
         reverb IR), exp_sigmoid scaling, Harmonic + FilteredNoise (+ Reverb)
      -> audio [B, n_samples]  (4 s at 16 kHz by default)

Noise excitation (issue 10 item 15), `noise_excitation`:
  "fresh_in_training" (default): in training every call filters fresh U(-1, 1) noise, one row
      per example, as DDSP's `FilteredNoise` does (ddsp.md 1.5), so D never sees one fixed
      noise waveform and G cannot fit its filters to it; each replica keeps its rows of a
      global-batch draw, so distributed steps equal single-device steps. At inference the
      synth uses one fixed U(-1, 1) buffer `[n_samples]` drawn from `noise_seed` when it is
      built (a non-trainable weight, tiled over the batch): G(z) is then a deterministic
      function of z (ddsp.md 7 item 19) and equals the exported graph, which needs no random
      ops (they are not TFLite built-ins).
  "fresh": fresh noise at inference too (the reference exactly); exports use the buffer.
  "fixed": the buffer in training too (deterministic training; the behaviour before).
The buffer is a non-trainable weight in every mode: `count_params()` includes its
`n_samples` values, so parameter counts are reported as trainable + non-trainable.

Discriminator (seed 003: "uses DDSP preprocessors to encode the audio into mel-frequency
cepstral coefficients. It then runs the encoded data through a three-layer convolutional
network before making a binary classification"): in-graph MFCC (tfaudiogan.audio.features)
-> instance norm over time per coefficient (as DDSP's MFCC encoder, ddsp.md 1.1) -> three
Conv2D(3x3, stride 2) + LeakyReLU(0.2) layers over (frames, coefficients) -> Dense(1) logit.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from tfaudiogan.audio import features
from tfaudiogan.audio.pitch import midi_to_hz
from tfaudiogan.layers.mixed_precision import FLOAT32
from tfaudiogan.models.cppn import CPPN
from tfaudiogan.synths import core
from tfaudiogan.synths.harmonic import Harmonic, normalize_harmonics
from tfaudiogan.synths.noise import FilteredNoise

__all__ = ["CONTROL_KEYS", "DDSPSynth", "MFCC", "NOISE_EXCITATIONS", "check_control_frames",
           "discriminator", "generator"]

#: Keys of the generator's output dict besides "audio" (the scaled synth controls).
CONTROL_KEYS = ("f0_hz", "amplitude", "harmonic_distribution", "noise_magnitudes")
#: DDSPSynth noise excitation modes (module docstring).
NOISE_EXCITATIONS = ("fresh_in_training", "fresh", "fixed")
LEAKY_SLOPE = 0.2  # brief / DCGAN convention (the seed gives no slope)


def check_control_frames(**controls) -> None:
    """Raises ValueError naming both shapes when controls `[batch, frames, ...]` disagree.

    Args:
        **controls: name -> array/tensor with frames on axis 1 (None entries are skipped).

    Raises:
        ValueError: e.g. "f0_hz (1, 250, 1) vs amplitude (1, 200, 1)".
    """
    shapes = {k: tuple(tf.TensorShape(np.shape(v) if not hasattr(v, "shape") else v.shape))
              for k, v in controls.items() if v is not None}
    bad = [k for k, s in shapes.items() if len(s) != 3]
    if bad:
        raise ValueError("controls must be [batch, frames, channels]: " + ", ".join(
            f"{k} {shapes[k]}" for k in bad))
    names = list(shapes)
    for other in names[1:]:
        a, b = shapes[names[0]][1], shapes[other][1]
        if a is not None and b is not None and a != b:
            raise ValueError(f"controls disagree on the number of frames (axis 1): "
                             f"{names[0]} {shapes[names[0]]} vs {other} {shapes[other]}")


@keras.saving.register_keras_serializable(package="tfaudiogan")
class DDSPSynth(keras.layers.Layer):
    """Harmonic + filtered-noise (+ reverb) synth with trainable internal controls.

    Args:
        n_samples: Output samples (DDSP 64000 = 4 s, ddsp.md 1.1).
        sample_rate: Hz (DDSP 16000).
        n_harmonics: K (NSynth autoencoder 100, ddsp.md 1.1).
        n_noise_bands: Noise filter bands (NSynth autoencoder 65).
        noise_window_size: FIR window of FilteredNoise (ae.gin 0 = full length).
        noise_initial_bias: Added to noise logits before exp_sigmoid (DDSP -5).
        reverb: Add a trainable Reverb (DDSP solo-instrument; NSynth uses none, ddsp.md 3.1).
        reverb_length: IR taps (DDSP 48000).
        use_fft: FFT convolutions (fast training) or matmul-DFT ones (TFLite builtins only);
            the weights and the output are the same either way.
        noise_seed: Seed of the fixed U(-1, 1) noise buffer and of the fresh-noise generator.
        noise_excitation: "fresh_in_training" (default), "fresh" or "fixed" (module docstring).
        phase_accumulation: Harmonic phase, "accurate" (default, float64-like over any
            length) or "ddsp" (DDSP's float32 cumsum), see synths.harmonic_synthesis.
        **kwargs: `keras.layers.Layer` arguments; ``dtype`` defaults to float32: the synthesis
            computes in float32 under a mixed policy (its inputs are cast on entry).

    Call arguments (logits, `[batch, frames, ...]`): `f0_hz [B, F, 1]` in Hz,
    `amplitude_logits [B, F, 1]`, `harmonic_logits [B, F, K]`, `noise_logits [B, F, bands]`;
    `training` selects the noise excitation.

    Returns:
        Dict `audio [B, n_samples]` and the scaled controls of :data:`CONTROL_KEYS`.
    """

    def __init__(self, n_samples: int = 64000, sample_rate: int = 16000,
                 n_harmonics: int = 100, n_noise_bands: int = 65, noise_window_size: int = 0,
                 noise_initial_bias: float = -5.0, reverb: bool = False,
                 reverb_length: int = 48000, use_fft: bool = False, noise_seed: int = 0,
                 noise_excitation: str = "fresh_in_training",
                 phase_accumulation: str = "accurate", **kwargs):
        kwargs.setdefault("dtype", FLOAT32)
        super().__init__(**kwargs)
        if noise_excitation not in NOISE_EXCITATIONS:
            raise ValueError(f"noise_excitation must be one of {NOISE_EXCITATIONS}, got "
                             f"{noise_excitation!r}")
        self.noise_excitation = noise_excitation
        self.phase_accumulation = core.check_phase_accumulation(phase_accumulation)
        self.n_samples, self.sample_rate = int(n_samples), int(sample_rate)
        self.n_harmonics, self.n_noise_bands = int(n_harmonics), int(n_noise_bands)
        self.noise_window_size = int(noise_window_size)
        self.noise_initial_bias = float(noise_initial_bias)
        self.reverb, self.reverb_length = bool(reverb), int(reverb_length)
        self.use_fft, self.noise_seed = bool(use_fft), int(noise_seed)
        self.harmonic = Harmonic(self.n_samples, self.sample_rate,
                                 phase_accumulation=self.phase_accumulation,
                                 dtype=self.dtype_policy, name="harmonic")
        self.noise = FilteredNoise(self.n_samples, self.noise_window_size, scale_fn=None,
                                   use_fft=self.use_fft, seed=self.noise_seed,
                                   dtype=self.dtype_policy,
                                   name="filtered_noise")
        self.reverb_layer = None
        if self.reverb:
            from tfaudiogan.synths.reverb import Reverb

            self.reverb_layer = Reverb(trainable=True, reverb_length=self.reverb_length,
                                       use_fft=self.use_fft, dtype=self.dtype_policy,
                                       name="reverb")

    def build(self, *shapes):
        # Trainable internal synth controls (seed 003): static timbre and mix offsets.
        self.harmonic_bias = self.add_weight(shape=(self.n_harmonics,), name="harmonic_bias",
                                             initializer="zeros")
        self.noise_bias = self.add_weight(shape=(self.n_noise_bands,), name="noise_bias",
                                          initializer="zeros")
        self.harmonic_gain = self.add_weight(shape=(), name="harmonic_gain", initializer="zeros")
        self.noise_gain = self.add_weight(shape=(), name="noise_gain", initializer="zeros")
        buffer = np.random.RandomState(self.noise_seed).uniform(-1.0, 1.0, self.n_samples)
        self.noise_buffer = self.add_weight(
            shape=(self.n_samples,), name="noise_buffer", trainable=False,
            initializer=keras.initializers.Constant(buffer.astype(np.float32)))
        # The sub-synths are driven through get_controls/get_signal, never __call__.
        self.harmonic.build(None)
        self.noise.build(None)
        if self.reverb_layer is not None:
            self.reverb_layer.build((None, self.n_samples))

    def controls(self, f0_hz, amplitude_logits, harmonic_logits, noise_logits
                 ) -> dict[str, tf.Tensor]:
        """Logits -> scaled controls (internal offsets added, exp_sigmoid, Nyquist-normalised).

        Returns:
            `f0_hz [B, F, 1]`, `amplitude [B, F, 1]` in (0, 2], `harmonic_distribution
            [B, F, K]` summing to 1 below Nyquist, `noise_magnitudes [B, F, bands]`.
        """
        check_control_frames(f0_hz=f0_hz, amplitude_logits=amplitude_logits,
                             harmonic_logits=harmonic_logits, noise_logits=noise_logits)
        h = self.harmonic.get_controls(amplitude_logits + self.harmonic_gain,
                                       harmonic_logits + self.harmonic_bias, f0_hz)
        mags = core.exp_sigmoid(noise_logits + self.noise_bias + self.noise_gain
                                + self.noise_initial_bias)
        return {"f0_hz": tf.cast(f0_hz, tf.float32), "amplitude": h["amplitudes"],
                "harmonic_distribution": h["harmonic_distribution"], "noise_magnitudes": mags}

    def fresh_noise(self, training=False) -> bool:
        """Whether a call with this `training` flag filters fresh noise (else the buffer)."""
        return self.noise_excitation == "fresh" or (
            self.noise_excitation == "fresh_in_training" and bool(training))

    def render(self, f0_hz, amplitude, harmonic_distribution, noise_magnitudes,
               training=False) -> tf.Tensor:
        """Scaled controls `[B, F, ...]` -> audio `[B, n_samples]` (harmonic + noise + reverb).

        The distribution is (re-)normalised below Nyquist, so any non-negative distribution
        works; one summing to 0 gives silence. `training` selects the noise excitation
        (:meth:`fresh_noise`): fresh U(-1, 1) rows, or the fixed buffer tiled over the batch.

        Raises:
            ValueError: the controls disagree on the frame count (names both shapes).
        """
        check_control_frames(f0_hz=f0_hz, amplitude=amplitude,
                             harmonic_distribution=harmonic_distribution,
                             noise_magnitudes=noise_magnitudes)
        f0_hz = tf.cast(f0_hz, tf.float32)
        dist = _renormalise(harmonic_distribution, f0_hz, self.sample_rate)
        audio = self.harmonic.get_signal(tf.cast(amplitude, tf.float32), dist, f0_hz)
        excitation = None  # FilteredNoise draws fresh noise per example
        if not self.fresh_noise(training):
            excitation = tf.tile(tf.expand_dims(tf.convert_to_tensor(self.noise_buffer), 0),
                                 tf.stack([tf.shape(audio)[0], 1]))
        audio = audio + self.noise.get_signal(tf.cast(noise_magnitudes, tf.float32), excitation)
        if self.reverb_layer is not None:
            audio = self.reverb_layer(audio)
        return audio

    def call(self, f0_hz, amplitude_logits, harmonic_logits, noise_logits, training=None):
        c = self.controls(f0_hz, amplitude_logits, harmonic_logits, noise_logits)
        return {"audio": self.render(**c, training=training), **c}

    def compute_output_spec(self, f0_hz, amplitude_logits, harmonic_logits, noise_logits):
        b, f = f0_hz.shape[0], f0_hz.shape[1]
        spec = keras.KerasTensor
        return {"audio": spec((b, self.n_samples)), "f0_hz": spec((b, f, 1)),
                "amplitude": spec((b, f, 1)),
                "harmonic_distribution": spec((b, f, self.n_harmonics)),
                "noise_magnitudes": spec((b, f, self.n_noise_bands))}

    def get_config(self):
        return {**super().get_config(), "n_samples": self.n_samples,
                "sample_rate": self.sample_rate, "n_harmonics": self.n_harmonics,
                "n_noise_bands": self.n_noise_bands, "noise_window_size": self.noise_window_size,
                "noise_initial_bias": self.noise_initial_bias, "reverb": self.reverb,
                "reverb_length": self.reverb_length, "use_fft": self.use_fft,
                "noise_seed": self.noise_seed, "noise_excitation": self.noise_excitation,
                "phase_accumulation": self.phase_accumulation}


def _renormalise(dist, f0_hz, sample_rate):
    """Negative entries clipped to 0, harmonics >= Nyquist removed, then normalised to sum 1."""
    return normalize_harmonics(tf.nn.relu(tf.cast(dist, tf.float32)), f0_hz, sample_rate)


@keras.saving.register_keras_serializable(package="tfaudiogan")
class F0Head(keras.layers.Layer):
    """F0 logits `[B, F, 1]` (+ MIDI pitch `[B]`) -> F0 in Hz `[B, F, 1]`.

    Unconditional: `unit_to_hz(sigmoid(x), f0_min, f0_max)` (interpolation in MIDI).
    Conditioned: `midi_to_hz(pitch + max_bend * tanh(x))` (the pitch sets the F0 centre, the
    CPPN adds at most `max_bend` semitones of glide/vibrato). Computes in float32 unless a
    ``dtype`` is given (pitch accuracy under a mixed policy).
    """

    def __init__(self, f0_min: float = 32.70, f0_max: float = 1046.5, max_bend: float = 1.0,
                 **kwargs):
        kwargs.setdefault("dtype", FLOAT32)
        super().__init__(**kwargs)
        self.f0_min, self.f0_max, self.max_bend = float(f0_min), float(f0_max), float(max_bend)

    def call(self, logits, pitch=None):
        if pitch is None:
            return core.unit_to_hz(tf.sigmoid(logits), self.f0_min, self.f0_max)
        centre = tf.reshape(tf.cast(pitch, tf.float32), [-1, 1, 1])
        return midi_to_hz(centre + self.max_bend * tf.tanh(logits))

    def compute_output_shape(self, logits_shape, *args):
        return tuple(logits_shape)

    def get_config(self):
        return {**super().get_config(), "f0_min": self.f0_min, "f0_max": self.f0_max,
                "max_bend": self.max_bend}


def _upsample(x, n_frames):
    return core.resample(x, n_frames, method="linear")


@keras.saving.register_keras_serializable(package="tfaudiogan")
class Upsample(keras.layers.Layer):
    """Linear frame upsampling `[B, F_t, C] -> [B, n_frames, C]` (DDSP resample, endpoint held)."""

    def __init__(self, n_frames: int, **kwargs):
        super().__init__(**kwargs)
        self.n_frames = int(n_frames)

    def call(self, x):
        return _upsample(x, self.n_frames)

    def compute_output_shape(self, shape):
        return (shape[0], self.n_frames, shape[2])

    def get_config(self):
        return {**super().get_config(), "n_frames": self.n_frames}


def generator(latent_dim: int = 64, n_samples: int = 64000, sample_rate: int = 16000,
              n_frames: int = 1000, timbre_frames: int = 16, n_harmonics: int = 100,
              n_noise_bands: int = 65, cppn_units: int = 64, cppn_depth: int = 3,
              n_periodic: int = 4, f0_min: float = 32.70, f0_max: float = 1046.5,
              pitch_conditioned: bool = False, max_bend: float = 1.0,
              amplitude_bias: float = 0.0, reverb: bool = False, reverb_length: int = 48000,
              use_fft: bool = False, noise_seed: int = 0,
              noise_excitation: str = "fresh_in_training", phase_accumulation: str = "accurate",
              name: str = "ddsp_generator") -> keras.Model:
    """The NoisyGAN-style generator as a functional model.

    Args:
        latent_dim: Size of z.
        n_samples: Output samples (seed 003: NSynth notes are 4 s at 16 kHz = 64000).
        sample_rate: Hz.
        n_frames: Synth control frames (DDSP 250 Hz -> 1000 for 4 s); must divide n_samples.
        timbre_frames: Coarse frames of the timbre CPPN before upsampling.
        n_harmonics: K. n_noise_bands: noise filter bands.
        cppn_units, cppn_depth, n_periodic: CPPN width, tanh layers, Fourier-feature pairs.
        f0_min, f0_max: Unconditional F0 range in Hz (default MIDI 24-84, the GANSynth subset).
        pitch_conditioned: Add a `pitch` input (MIDI, `[B]`) that sets the F0 centre.
        max_bend: Semitones the F0 CPPN may move around the conditioned pitch.
        amplitude_bias: Initial bias of the loudness CPPN head.
        reverb, reverb_length, use_fft, noise_seed, noise_excitation, phase_accumulation: See
            :class:`DDSPSynth`.
        name: Model name.

    Returns:
        Model `z [B, latent]` (and `pitch [B]`) -> dict `audio [B, n_samples]`, `f0_hz
        [B, F, 1]`, `amplitude [B, F, 1]`, `harmonic_distribution [B, F, K]`,
        `noise_magnitudes [B, F, bands]`.
    """
    if n_samples % n_frames:
        raise ValueError(f"n_frames ({n_frames}) must divide n_samples ({n_samples})")
    z = keras.Input((latent_dim,), name="z")
    inputs = [z]
    pitch = None
    if pitch_conditioned:
        pitch = keras.Input((), name="pitch")
        inputs.append(pitch)
    cppn = dict(units=cppn_units, depth=cppn_depth, n_periodic=n_periodic)
    # Under a mixed policy the F0 curve (CPPN and head) and the synth compute in float32: a
    # bfloat16 F0 logit is off by up to ~6 cents; the loudness and timbre CPPNs use the policy.
    f0_logits = CPPN(n_frames, 1, dtype=FLOAT32, name="f0_cppn", **cppn)(z)
    f0_hz = F0Head(f0_min, f0_max, max_bend, name="f0_hz")(f0_logits, pitch)
    amp_logits = CPPN(n_frames, 1, output_bias=amplitude_bias, name="loudness_cppn", **cppn)(z)
    timbre = CPPN(timbre_frames, n_harmonics + n_noise_bands, name="timbre_cppn", **cppn)(z)
    timbre = Upsample(n_frames, name="timbre_upsample")(timbre)
    harm_logits = timbre[:, :, :n_harmonics]
    noise_logits = timbre[:, :, n_harmonics:]
    synth = DDSPSynth(n_samples, sample_rate, n_harmonics, n_noise_bands, reverb=reverb,
                      reverb_length=reverb_length, use_fft=use_fft, noise_seed=noise_seed,
                      noise_excitation=noise_excitation,
                      phase_accumulation=phase_accumulation, name="synth")
    outputs = synth(f0_hz, amp_logits, harm_logits, noise_logits)
    return keras.Model(inputs if pitch_conditioned else z, outputs, name=name)


@keras.saving.register_keras_serializable(package="tfaudiogan")
class MFCC(keras.layers.Layer):
    """In-graph, differentiable MFCCs `[B, samples] -> [B, frames, n_mfcc]` (audio.features).

    Computes in float32 unless a ``dtype`` is given (the STFT, mel and log under any policy).
    """

    def __init__(self, sample_rate: int = 16000, fft_size: int = 1024, overlap: float = 0.5,
                 n_mels: int = 128, n_mfcc: int = 30, **kwargs):
        kwargs.setdefault("dtype", FLOAT32)
        super().__init__(**kwargs)
        self.sample_rate, self.fft_size = int(sample_rate), int(fft_size)
        self.overlap, self.n_mels, self.n_mfcc = float(overlap), int(n_mels), int(n_mfcc)

    def call(self, audio):
        return features.compute_mfcc(audio, fft_size=self.fft_size, mel_bins=self.n_mels,
                                     mfcc_bins=self.n_mfcc, overlap=self.overlap,
                                     sample_rate=self.sample_rate)

    def compute_output_shape(self, shape):
        hop = int(self.fft_size * (1.0 - self.overlap))
        frames = None if shape[1] is None else -(-shape[1] // hop)
        return (shape[0], frames, self.n_mfcc)

    def get_config(self):
        return {**super().get_config(), "sample_rate": self.sample_rate,
                "fft_size": self.fft_size, "overlap": self.overlap, "n_mels": self.n_mels,
                "n_mfcc": self.n_mfcc}


def discriminator(n_samples: int = 64000, sample_rate: int = 16000, fft_size: int = 1024,
                  overlap: float = 0.5, n_mels: int = 128, n_mfcc: int = 30, ndf: int = 64,
                  kernel_size: int = 3, name: str = "ddsp_discriminator") -> keras.Model:
    """MFCC front-end -> three-layer conv net -> binary logit (seed 003).

    Args:
        n_samples: Input samples.
        sample_rate: Hz.
        fft_size, overlap, n_mels, n_mfcc: MFCC settings (DDSP's MFCC encoder: 1024, 50 %
            overlap, 128 mels, 30 coefficients, ddsp.md 1.1).
        ndf: Channels of the first conv layer (doubled per layer).
        kernel_size: Square conv kernel.
        name: Model name.

    Returns:
        Model `audio [B, n_samples] -> logits [B, 1]`.
    """
    audio = keras.Input((n_samples,), name="audio")
    x = MFCC(sample_rate, fft_size, overlap, n_mels, n_mfcc, name="mfcc")(audio)
    # Instance norm per coefficient over time, as DDSP's MFCC encoder (eps 1e-5, brief).
    x = keras.layers.GroupNormalization(groups=-1, epsilon=1e-5, dtype=FLOAT32,
                                        name="mfcc_norm")(x)  # float32 front end
    x = keras.layers.Reshape((-1, n_mfcc, 1), name="to_image")(x)
    for i in range(3):
        x = keras.layers.Conv2D(ndf * 2 ** i, kernel_size, strides=2, padding="same",
                                name=f"conv_{i}")(x)
        x = keras.layers.LeakyReLU(LEAKY_SLOPE, name=f"lrelu_{i}")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    logits = keras.layers.Dense(1, dtype=FLOAT32, name="logit")(x)  # float32 logits
    return keras.Model(audio, logits, name=name)
