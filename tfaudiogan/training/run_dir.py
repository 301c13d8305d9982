"""The run directory: resolved config, run log, and the rule that re-running resumes.

Layout (DESIGN.md): config.json, run.log, backup/ (step-level backups, training/backup.py),
checkpoints/, tensorboard/, samples/, metrics.json, generators/ (.keras files), export/.
"""

from __future__ import annotations

import dataclasses
import logging
import sys
from pathlib import Path

from tfaudiogan.configs import base
from tfaudiogan.training import backup

# train fields a resumed run may change: train longer, back up more or less often
RESUMABLE_CHANGES = ("epochs", "backup_every_steps")


class ConfigMismatchError(ValueError):
    """The run directory holds a run started with a different config."""


def prepare(model_dir: str | Path, config, config_cls):
    """Creates ``model_dir`` or checks that it holds a run of the same config.

    A fresh directory gets ``config.json``. An existing one is a resume: its stored config must
    equal ``config`` except for :data:`RESUMABLE_CHANGES` (``train.epochs`` may grow to train
    longer; ``train.backup_every_steps``) and the ``eval`` section (scoring settings, which do
    not change training).

    Returns:
      The config to use (the stored one on resume, with the requested epoch count and eval).

    Raises:
      ConfigMismatchError: the stored config differs; the message names the fields.
    """
    model_dir = Path(model_dir)
    check_writable(model_dir)
    path = model_dir / "config.json"
    if not path.exists():
        base.save_json(config, path)
        return config
    try:
        stored = base.load_json(config_cls, path)
    except (ValueError, TypeError, KeyError) as err:
        raise ConfigMismatchError(
            f"'{model_dir}' holds a run of another experiment (its config.json is not a "
            f"{config_cls.__name__}: {err}); use a new --model_dir") from None
    requested = dataclasses.replace(config, train=dataclasses.replace(
        config.train, **{k: getattr(stored.train, k) for k in RESUMABLE_CHANGES
                         if hasattr(config.train, k)}))
    if hasattr(config, "eval"):
        requested = dataclasses.replace(requested, eval=stored.eval)
    if requested != stored:
        diff = _differences(base.to_dict(stored), base.to_dict(requested))
        raise ConfigMismatchError(
            f"'{model_dir}' holds a run with a different config ({', '.join(diff)}); "
            "use a new --model_dir, or the same flags to resume")
    if config != stored:
        base.save_json(config, path)
    return config


def check_writable(model_dir: Path) -> None:
    """Creates ``model_dir`` and proves it takes a file, before any training.

    Raises:
        NotADirectoryError: ``model_dir`` (or a parent) is a file.
        PermissionError: the folder cannot be created or written (read-only file system,
            no permission, disk full); the message names it and the reason.
    """
    if model_dir.exists() and not model_dir.is_dir():
        raise NotADirectoryError(f"--model_dir '{model_dir}' is a file, not a directory")
    probe = model_dir / ".write_test"
    try:
        model_dir.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"\0" * 4096)
        probe.unlink()
    except (FileExistsError, NotADirectoryError):
        raise NotADirectoryError(f"--model_dir '{model_dir}': a parent is a file") from None
    except OSError as err:
        raise PermissionError(f"cannot write to the run directory '{model_dir}': "
                              f"{err.strerror or err}") from None


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


def checkpoint_epoch(path: str | Path) -> int:
    """The epoch number of a ``<prefix>-NNN.weights.h5`` checkpoint file name."""
    return int(Path(path).name.rsplit("-", 1)[1].split(".")[0])


def finished_checkpoints(model_dir: str | Path, prefix: str) -> list[Path]:
    """``checkpoints/<prefix>-NNN.weights.h5`` files of a run, oldest epoch first."""
    found = Path(model_dir).glob(f"checkpoints/{prefix}-*.weights.h5")
    return sorted(found, key=checkpoint_epoch)


def restore_finished_epochs(model, model_dir: str | Path, logger: logging.Logger,
                            prefix: str) -> int:
    """Loads the newest end-of-epoch checkpoint (call it when ``backup/`` holds no backup).

    An interrupted run leaves ``backup/`` (training/backup.py), which is restored instead. A
    finished run has deleted it; then the newest ``checkpoints/<prefix>-NNN.weights.h5``
    (weights and optimizer state) is loaded and training continues after epoch NNN (nothing
    to do if NNN is the last).

    Args:
      model: the compiled model the checkpoints were written from (optimizers built).
      model_dir: the run directory.
      logger: run logger.
      prefix: checkpoint file prefix (e.g. ``"cyclegan"``, ``"wavegan"``).

    Returns:
      The number of epochs already done (0 for a new run).
    """
    model_dir = Path(model_dir)
    done = finished_checkpoints(model_dir, prefix)
    if not done:
        return 0
    backup.build_optimizer(model)  # else a plain model's optimizer slots are not loaded
    model.load_weights(done[-1])
    epoch = checkpoint_epoch(done[-1])
    logger.info("loaded %s: %d epoch(s) already trained", done[-1].name, epoch)
    return epoch
