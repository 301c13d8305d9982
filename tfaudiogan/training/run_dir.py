"""The run directory: resolved config, run log, and the rule that re-running resumes.

Layout (DESIGN.md): config.json, run.log, backup/ (BackupAndRestore), checkpoints/,
tensorboard/, samples/, metrics.json, generators/ (.keras files), export/.
"""

from __future__ import annotations

import dataclasses
import logging
import sys
from pathlib import Path

from tfaudiogan.configs import base


class ConfigMismatchError(ValueError):
    """The run directory holds a run started with a different config."""


def prepare(model_dir: str | Path, config, config_cls):
    """Creates ``model_dir`` or checks that it holds a run of the same config.

    A fresh directory gets ``config.json``. An existing one is a resume: its stored config must
    equal ``config`` except for ``train.epochs`` (which may grow to train longer).

    Returns:
      The config to use (the stored one on resume, with the requested epoch count).

    Raises:
      ConfigMismatchError: the stored config differs; the message names the fields.
    """
    model_dir = Path(model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    path = model_dir / "config.json"
    if not path.exists():
        base.save_json(config, path)
        return config
    stored = base.load_json(config_cls, path)
    requested = dataclasses.replace(config, train=dataclasses.replace(
        config.train, epochs=stored.train.epochs))
    if requested != stored:
        diff = _differences(base.to_dict(stored), base.to_dict(requested))
        raise ConfigMismatchError(
            f"'{model_dir}' holds a run with a different config ({', '.join(diff)}); "
            "use a new --model_dir, or the same flags to resume")
    if config.train.epochs != stored.train.epochs:
        base.save_json(config, path)
    return config


def _differences(a: dict, b: dict, prefix: str = "") -> list[str]:
    out = []
    for key in sorted(set(a) | set(b)):
        va, vb = a.get(key), b.get(key)
        if isinstance(va, dict) and isinstance(vb, dict):
            out += _differences(va, vb, f"{prefix}{key}.")
        elif va != vb:
            out.append(f"{prefix}{key}: stored {va!r}, requested {vb!r}")
    return out


def run_logger(model_dir: str | Path, name: str = "tfaudiogan.run") -> logging.Logger:
    """A logger that writes to stdout and appends to ``model_dir/run.log``."""
    logger = logging.getLogger(f"{name}.{Path(model_dir).resolve()}")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    if not logger.handlers:
        fmt = logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S")
        for handler in (logging.StreamHandler(sys.stdout),
                        logging.FileHandler(Path(model_dir) / "run.log")):
            handler.setFormatter(fmt)
            logger.addHandler(handler)
    return logger
