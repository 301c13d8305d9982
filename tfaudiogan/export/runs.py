"""Export a finished training run of any family (``tfaudiogan export --run DIR``).

The family is recognised from ``DIR/config.json``: the config class it parses as without
unknown fields (every config.json is a complete dump of its class, and the classes differ in
their ``model`` sections). Each family then needs the files its recipe leaves:

    CycleGAN (IRMAS, music style)  generators/gen_ab.keras, generators/gen_ba.keras
    WaveGAN                        generators/generator.keras
    SpecGAN                        generators/generator.keras + the moments file
                                   (spectrogram.moments_file, default moments.npz)
    GANSynth                       generator_ema.keras
    DDSP-GAN                       generator.keras

and is exported with its :class:`~tfaudiogan.export.spec.ExportSpec`.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tfaudiogan.configs import from_dict
from tfaudiogan.configs.cyclegan import CycleGANConfig
from tfaudiogan.configs.ddsp_gan import DDSPGANConfig
from tfaudiogan.configs.gansynth import GANSynthConfig
from tfaudiogan.configs.wavegan import WaveGANConfig
from tfaudiogan.export import cyclegan, ddsp, gansynth, generator
from tfaudiogan.export.spec import ExportSpec, export_model

CONFIG_FILE = "config.json"


@dataclasses.dataclass(frozen=True)
class RunFamily:
    """How to export the runs of one config class.

    Attributes:
        label: the family's name in messages.
        config_cls: the config dataclass of its ``config.json``.
        models: ``config -> paths of the .keras files`` (relative to the run directory).
        spec: ``(config, run_dir, loaded models) -> ExportSpec``.
        extra_files: ``(config, run_dir) -> other files the export reads``.
    """

    label: str
    config_cls: type
    models: Callable[[Any], tuple[str, ...]]
    spec: Callable[[Any, Path, list], ExportSpec]
    extra_files: Callable[[Any, Path], list[Path]] = lambda config, run: []


def _generator_spec(config, run: Path, models: list) -> ExportSpec:
    post = generator.specgan_postprocess(config, run) if config.model.kind == "specgan" else None
    return generator.generator_spec(models[0], config, postprocess=post)


def _moments(config, run: Path) -> list[Path]:
    return [generator.moments_path(config, run)] if config.model.kind == "specgan" else []


FAMILIES = (
    RunFamily("CycleGAN", CycleGANConfig,
              lambda c: ("generators/gen_ab.keras", "generators/gen_ba.keras"),
              lambda c, run, m: cyclegan.translator_spec(
                  m[0], m[1], c, (c.data.domain_a, c.data.domain_b))),
    RunFamily("WaveGAN/SpecGAN", WaveGANConfig, lambda c: ("generators/generator.keras",),
              _generator_spec, _moments),
    RunFamily("GANSynth", GANSynthConfig, lambda c: ("generator_ema.keras",),
              lambda c, run, m: gansynth.gansynth_spec(m[0], c)),
    RunFamily("DDSP-GAN", DDSPGANConfig, lambda c: ("generator.keras",),
              lambda c, run, m: ddsp.ddsp_spec(m[0], c)),
)


def recognise(run_dir: str | os.PathLike) -> tuple[RunFamily, Any]:
    """The family and config of a run directory.

    Raises:
        FileNotFoundError: no ``config.json``.
        ValueError: the config matches no exportable family (or several).
    """
    path = Path(run_dir) / CONFIG_FILE
    if not path.is_file():
        raise FileNotFoundError(f"'{run_dir}' is not a run directory (no {CONFIG_FILE})")
    data = json.loads(path.read_text())
    found = []
    for family in FAMILIES:
        try:
            found.append((family, from_dict(family.config_cls, data)))
        except (ValueError, TypeError, AttributeError, KeyError):
            continue
    if len(found) != 1:
        which = ("no exportable family" if not found else
                 "several families: " + ", ".join(f.label for f, _ in found))
        raise ValueError(f"'{path}' matches {which} (known: "
                         f"{', '.join(f.label for f in FAMILIES)})")
    return found[0]


def run_spec(run_dir: str | os.PathLike) -> tuple[RunFamily, ExportSpec]:
    """The family and export spec of a finished run (its generators loaded).

    Raises:
        FileNotFoundError: ``config.json`` or a file the family needs is missing (named).
        ValueError: the config matches no exportable family.
    """
    import keras

    import tfaudiogan.models  # noqa: F401  (registers the networks' layers for load_model)

    run = Path(run_dir)
    family, config = recognise(run)
    models = [run / name for name in family.models(config)]
    for path in models + family.extra_files(config, run):
        if not path.is_file():
            raise FileNotFoundError(f"'{path}' is missing: the {family.label} run has not "
                                    "finished training")
    loaded = [keras.saving.load_model(path, compile=False) for path in models]
    return family, family.spec(config, run, loaded)


def export_run(run_dir: str | os.PathLike, export_root: str | os.PathLike,
               name: str | None = None, version: int | None = None,
               tflite: bool = True) -> dict[str, Path]:
    """Exports a finished run of any family (see the module docstring).

    Args:
        run_dir: the run directory (holds ``config.json``).
        export_root: destination (TF Serving layout ``<root>/<name>/<version>/``).
        name: model name (default the config's ``name``).
        version: integer version (default the next free one).
        tflite: also write the builtins-only TFLite file.

    Returns:
        ``{"saved_model": version dir[, "tflite": path]}``.
    """
    _, spec = run_spec(run_dir)
    return export_model(spec, export_root, name=name, version=version, tflite=tflite)
