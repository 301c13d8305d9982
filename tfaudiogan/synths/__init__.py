"""tfaudiogan.synths: DDSP synthesizers (pure TF / Keras, usable without any GAN).

Controls are `[batch, frames, ...]`, audio is `[batch, samples]`. Semantics follow
magenta/ddsp (reference/ddsp.md section 1); see the submodules for details.
"""

from tfaudiogan.audio.pitch import hz_to_midi, midi_to_hz
from tfaudiogan.synths.core import (
    DB_RANGE,
    PHASE_ACCUMULATIONS,
    amplitude_to_db,
    cumulative_cycles,
    db_to_power,
    exp_sigmoid,
    harmonic_sines,
    hz_to_unit,
    oscillator_bank,
    power_to_db,
    remove_above_nyquist,
    resample,
    safe_divide,
    safe_log,
    unit_to_hz,
    upsample_with_windows,
)
from tfaudiogan.synths.harmonic import (
    Harmonic,
    get_harmonic_frequencies,
    harmonic_synthesis,
    normalize_harmonics,
)
from tfaudiogan.synths.noise import (
    FilteredNoise,
    fft_convolve,
    frequency_filter,
    frequency_impulse_response,
    replica_uniform_noise,
)
from tfaudiogan.synths.reverb import Reverb, partitioned_convolve

__all__ = [
    "DB_RANGE",
    "PHASE_ACCUMULATIONS",
    "FilteredNoise",
    "Harmonic",
    "Reverb",
    "amplitude_to_db",
    "cumulative_cycles",
    "db_to_power",
    "exp_sigmoid",
    "fft_convolve",
    "frequency_filter",
    "frequency_impulse_response",
    "get_harmonic_frequencies",
    "harmonic_sines",
    "harmonic_synthesis",
    "hz_to_midi",
    "hz_to_unit",
    "midi_to_hz",
    "normalize_harmonics",
    "oscillator_bank",
    "partitioned_convolve",
    "power_to_db",
    "remove_above_nyquist",
    "replica_uniform_noise",
    "resample",
    "safe_divide",
    "safe_log",
    "unit_to_hz",
    "upsample_with_windows",
]
