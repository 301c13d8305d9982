"""Running an experiment entry point in a child process, for kill-and-resume tests."""

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
