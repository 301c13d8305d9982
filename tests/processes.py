"""Running an experiment entry point in a child process, for kill-and-resume tests."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path


def kill_after_first_epoch(module: str, flags: list[str], model_dir: Path, env=None,
                           timeout: float = 240.0) -> int:
    """Starts ``python -m tfaudiogan.experiments.<module> flags`` and SIGKILLs it as soon as
    ``model_dir/run.log`` reports a finished epoch. Returns the child's return code
    (``-SIGKILL`` when the kill landed before the run ended by itself)."""
    proc = subprocess.Popen([sys.executable, "-m", f"tfaudiogan.experiments.{module}", *flags],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=env if env is not None else os.environ.copy())
    log = Path(model_dir) / "run.log"
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        if log.exists() and "epoch 1 done" in log.read_text():
            os.kill(proc.pid, signal.SIGKILL)
            break
        time.sleep(0.05)
    return proc.wait(timeout=60)


def newest_backup_step(model_dir: Path) -> tuple[str, int] | None:
    """``(phase folder, phase step)`` of the newest backup in a run directory (the run's
    ``backup/`` or a GANSynth ``stages/stage_SS/backup/``), or None."""
    try:
        paths = list(Path(model_dir).rglob("backup/position.json"))
    except FileNotFoundError:  # a backup folder discarded while scanned (a run ending): again
        return newest_backup_step(model_dir)
    found = []
    for path in paths:
        try:
            found.append((str(path.parent.parent.relative_to(model_dir)),
                          json.loads(path.read_text())["phase_step"]))
        except (ValueError, KeyError, OSError):  # being replaced right now: read it again
            continue
    return max(found) if found else None


def kill_at_backup(module: str, flags: list[str], model_dir: Path, phase: str, step: int,
                   env=None, timeout: float = 240.0) -> tuple[int, tuple[str, int] | None]:
    """Starts ``python -m tfaudiogan.experiments.<module> flags`` and SIGKILLs it as soon as
    the backup of ``phase`` (``"."`` for single-phase runs, ``"stages/stage_SS"``) reaches
    ``step`` or a later phase began, i.e. somewhere in the steps after that backup.

    Returns:
        ``(return code, newest backup when killed)``; the code is ``-SIGKILL`` when the kill
        landed before the run ended by itself.
    """
    proc = subprocess.Popen([sys.executable, "-m", f"tfaudiogan.experiments.{module}", *flags],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env=env if env is not None else os.environ.copy())
    deadline, seen = time.time() + timeout, None
    while time.time() < deadline and proc.poll() is None:
        seen = newest_backup_step(model_dir)
        if seen is not None and seen >= (phase, step):
            os.kill(proc.pid, signal.SIGKILL)
            break
        time.sleep(0.01)
    _, stderr = proc.communicate(timeout=60)
    if proc.returncode not in (0, -signal.SIGKILL):
        raise RuntimeError(f"{module} failed ({proc.returncode}): {stderr[-2000:]}")
    return proc.returncode, seen
