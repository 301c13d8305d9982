"""A quiet console for the entry points: TensorFlow's native log noise is kept off stderr.

TensorFlow 2.21 prints, whatever ``TF_CPP_MIN_LOG_LEVEL`` says, absl's "All log messages
before absl::InitializeLog()" notice and the oneDNN / CPU-feature lines at import, and
grappler's harmless "remapper failed" error while tracing some train steps, and (the full
wheel on a machine without a GPU driver) CUDA's "failed call to cuInit". Those lines come
from C++ straight to file descriptor 2, so :func:`filter_native_stderr` puts a pipe there and
copies every other line to the real stderr. Python warnings, our error lines and any other
native error still get through; ``--verbose`` on an entry point turns the filter off.
"""

from __future__ import annotations

import atexit
import os
import re
import sys
import threading

NOISE = re.compile(
    r"WARNING: All log messages before absl::InitializeLog\(\) is called"
    r"|[IW]\d{4} [\d:.]+\s+\d+ \w+\.(cc|h):\d+\]"  # native INFO / WARNING lines
    r"|E\d{4} [\d:.]+\s+\d+ \w+\.cc:\d+\] (remapper failed|oneDNN supports DT_STRING)"
    # the full (CUDA) wheel on a machine without a usable GPU driver; the run log's devices
    # line says "GPU: none ... training on the CPU" instead
    r"|E\d{4} [\d:.]+\s+\d+ cuda_\w+\.cc:\d+\] failed call to cuInit"
    r"|To enable the following instructions: .*rebuild TensorFlow")


def is_noise(line: str) -> bool:
    """True for a known-harmless TensorFlow native log line."""
    return NOISE.match(line) is not None


def filter_native_stderr() -> None:
    """Drops :data:`NOISE` lines from everything written to fd 2 by this process and its
    children, until exit. Call before TensorFlow is imported."""
    sys.stderr.flush()
    read_fd, write_fd = os.pipe()
    real = os.dup(2)  # the pump writes here
    restore = os.dup(2)  # put back at exit, which closes the pipe and ends the pump
    os.dup2(write_fd, 2)
    os.close(write_fd)

    def pump():
        with os.fdopen(read_fd, "rb") as pipe, os.fdopen(real, "wb", buffering=0) as out:
            for line in pipe:
                if not is_noise(line.decode("utf-8", "replace")):
                    out.write(line)

    thread = threading.Thread(target=pump, name="stderr-filter", daemon=True)
    thread.start()

    def stop():
        sys.stderr.flush()
        os.dup2(restore, 2)
        thread.join(timeout=5)

    atexit.register(stop)
