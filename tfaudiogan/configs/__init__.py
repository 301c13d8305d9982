"""Frozen dataclass configs, one module per family, with presets registered by name."""

from tfaudiogan.configs import cyclegan, ddsp_gan, gansynth, pitch_classifier, wavegan
from tfaudiogan.configs.base import (
    apply_overrides,
    from_dict,
    get_preset,
    load_json,
    preset_names,
    register_preset,
    save_json,
    to_dict,
)

__all__ = [
    "apply_overrides",
    "cyclegan",
    "ddsp_gan",
    "gansynth",
    "pitch_classifier",
    "from_dict",
    "get_preset",
    "load_json",
    "preset_names",
    "register_preset",
    "save_json",
    "to_dict",
    "wavegan",
]
