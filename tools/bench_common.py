"""Timing and entry-point helpers shared by the tools/bench_<family>.py scripts.

* :func:`seconds`, :func:`timed_calls`, :func:`median_seconds`: wall-clock timing of calls
  (``time.perf_counter``), with the warm-up (tracing) call kept apart;
* :func:`train_step_fields`: the common columns of a one-process train-step row (Python
  tracing, first call, steady step), in the order the rows print them;
* :func:`child_or_standalone`: the ``main`` of a bench script that also serves as the child
  process of tools/bench_precision.py (``--row KEY``).

The scripts put tools/ on ``sys.path`` before importing this module; it imports only the
standard library at import time (bench_input.py starts worker processes before numpy).
"""

from __future__ import annotations

import statistics
import time


def seconds(fn) -> float:
    """Wall-clock seconds of one call of ``fn``."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def seconds_and_cpu(fn) -> tuple[float, float]:
    """Wall-clock and process CPU seconds of one call of ``fn`` (CPU seconds are not inflated
    by time-slicing with other jobs on a shared machine)."""
    began_cpu = time.process_time()
    wall = seconds(fn)
    return wall, time.process_time() - began_cpu


def timed_calls(fn, repeats: int) -> tuple[float, list[float]]:
    """``(seconds of the first call, [seconds of each of the next repeats calls])``."""
    first = seconds(fn)
    return first, [seconds(fn) for _ in range(repeats)]


def median_seconds(fn, repeats: int) -> float:
    """Median seconds of ``max(1, repeats)`` calls after one warm-up call (excluded)."""
    fn()  # warm-up (tracing, allocations)
    return statistics.median(seconds(fn) for _ in range(max(1, repeats)))


def train_step_fields(args, step, data, repeats: int, digits: int = 3) -> dict:
    """Times the tf.function ``step`` on ``data``: its Python tracing
    (``get_concrete_function``), first call and ``repeats`` further calls (each fetching
    ``d_loss``).

    Returns:
        ``precision, xla, threads, python_trace_s, first_call_s, seconds_per_step, min_s``
        (the steady-step values rounded to ``digits``).
    """
    import keras

    trace = seconds(lambda: step.get_concrete_function(data))
    first, times = timed_calls(lambda: step(data)["d_loss"].numpy(), repeats)
    return {"precision": keras.mixed_precision.global_policy().name, "xla": args.jit,
            "threads": args.threads, "python_trace_s": round(trace, 1),
            "first_call_s": round(first, 1),
            "seconds_per_step": round(statistics.median(times), digits),
            "min_s": round(min(times), digits)}


def child_or_standalone(parser, rows, one_row, argv=None) -> int:
    """``main`` of a bench script: with ``--row KEY`` one measurement in this process
    (bench_precision's child mode, ``one_row(args)``), else ``rows(args)`` printed as JSON
    lines (tools/benchmark.py ``standalone``, which adds ``--json``)."""
    import bench_precision

    bench_precision.add_arguments(parser)
    args, _ = parser.parse_known_args(argv)
    if args.row:
        bench_precision.emit(one_row(args))
        return 0
    from benchmark import standalone  # tools/ is on sys.path when a script runs

    return standalone(rows, parser, argv)
