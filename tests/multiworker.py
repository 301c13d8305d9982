"""Launching a cluster of worker processes on 127.0.0.1 for MultiWorkerMirroredStrategy tests.

Each worker gets ``TF_CONFIG`` naming every worker's ``127.0.0.1:<free port>`` and its own
index (worker 0 is the chief); stdout and stderr go to ``<log_dir>/worker<i>.log``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from pathlib import Path


def free_ports(n: int) -> list[int]:
    """``n`` distinct TCP ports that were free on 127.0.0.1 a moment ago."""
    sockets = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def tf_config(ports: list[int], index: int) -> str:
    """The ``TF_CONFIG`` of worker ``index`` in a cluster of workers on ``ports``."""
    return json.dumps({"cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]},
                       "task": {"type": "worker", "index": index}})


REPO = Path(__file__).resolve().parents[1]


def start(argv: list[str], log: Path, env: dict | None = None) -> subprocess.Popen:
    """Starts ``argv`` in the repository root (``tests`` importable) with stdout and stderr in
    ``log``; ``env`` is added to this process's environment."""
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)
    with open(log, "wb") as out:
        return subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, cwd=REPO,
                                env={**os.environ, "PYTHONPATH": path, **(env or {})})


def start_cluster(argv: list[str], workers: int, log_dir: Path,
                  env: dict | None = None) -> list[subprocess.Popen]:
    """Starts ``workers`` processes running ``argv``, each with its ``TF_CONFIG``; worker
    ``i`` logs to ``log_dir/worker<i>.log``."""
    ports = free_ports(workers)
    return [start(argv, Path(log_dir) / f"worker{i}.log",
                  {**(env or {}), "TF_CONFIG": tf_config(ports, i)}) for i in range(workers)]


def wait(processes: list[subprocess.Popen], timeout: float) -> list[int]:
    """Return codes of ``processes``. As soon as one fails the others are killed (a worker
    whose peer died would wait in its next collective); so is every process still running
    after ``timeout`` seconds. A killed process reports ``-9``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        codes = [proc.poll() for proc in processes]
        if all(code is not None for code in codes) or any(code for code in codes):
            break
        time.sleep(0.2)
    for proc in processes:
        if proc.poll() is None:
            proc.kill()
    return [proc.wait() for proc in processes]
