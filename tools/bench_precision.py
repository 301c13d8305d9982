"""fp32 vs bf16 (and XLA on / off) rows for the tools/bench_<family>.py scripts.

The Keras precision policy is global and TensorFlow's thread pools are fixed at start, so every
measurement runs in a fresh Python process (``bench_<family>.py --row KEY --precision P
--threads N [--jit on|off]``), one process per row, one after the other; the parent reports
the ratio of that run. Every row records the 1-minute load average of the machine when its
process started and ended (``load_start`` / ``load_end``): on a machine shared with other jobs
a ratio is only as good as the load was steady. ``concurrent=True`` runs the two processes of
a pair at the same time instead (same outside load for both), but then they compete for the
memory bandwidth and caches with each other, which costs bfloat16 much more than float32: the
paper CycleGAN step measured 1.95x alone (24.1 s / 12.3 s, quiet machine) and 1.23x as a
concurrent pair.

Generation rows also write their output (``--out DIR``) for the SNR of the bf16 output against
the fp32 output. Both processes build their networks from the same seed (the initialisers draw
the same numbers under every policy), and each row carries a checksum of its weights that the
parent compares before it reports the SNR:

    SNR = 10 log10(sum(ref^2) / sum((x - ref)^2))   [dB], over the whole batch,

for the output (``snr_db_bf16_vs_fp32``) and for intermediate arrays a row saves beside it
(``snr_db_<name>``, e.g. GANSynth's spectrogram images before the inversion).

Child side: :func:`add_arguments` and :func:`start` (set threads and policy before any op),
then :func:`emit` prints the row. Parent side: :func:`pair` / :func:`jit_pair` run the two
children of a row and return both rows plus the comparison.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

PRECISIONS = {"fp32": "float32", "bf16": "mixed_bfloat16", "fp16": "mixed_float16"}


def add_arguments(parser) -> None:
    """The child-process options every bench_<family>.py accepts."""
    parser.add_argument("--row", help="measure this one row in this process (child mode)")
    parser.add_argument("--precision", default="fp32", choices=sorted(PRECISIONS),
                        help="fp32 (float32), bf16 (mixed_bfloat16), fp16 (mixed_float16)")
    parser.add_argument("--threads", type=int, default=1,
                        help="TensorFlow intra- and inter-op threads of each row's process")
    parser.add_argument("--jit", default="off", choices=["on", "off"],
                        help="XLA for the train-step rows (tf.function jit_compile)")
    parser.add_argument("--out", help="directory for the outputs of a row pair (SNR)")
    parser.add_argument("--compare-precision", action="store_true",
                        help="add the fp32 vs bf16 and XLA rows (one subprocess each)")


_LOAD_AT_START = os.getloadavg()[0]


def start(args) -> str:
    """Child set-up, before TensorFlow runs any op: threads, then the Keras policy."""
    import keras
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    keras.mixed_precision.set_global_policy(PRECISIONS[args.precision])
    keras.utils.set_random_seed(0)
    return PRECISIONS[args.precision]


def emit(row: dict) -> None:
    """Child output: the row as the last line of stdout."""
    row = {**row, "load_start": round(_LOAD_AT_START, 2),
           "load_end": round(os.getloadavg()[0], 2)}
    print("ROW " + json.dumps(row), flush=True)


def _command(script, row, precision, threads, jit, out, extra):
    argv = [sys.executable, script, "--row", row, "--precision", precision,
            "--threads", str(threads), "--jit", jit, *extra]
    return argv + (["--out", out] if out else [])


def _start(argv, threads, env=None):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "OMP_NUM_THREADS": str(threads),
           **(env or {})}
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env)


def _collect(process, row, precision, jit, timeout, keep_stderr=False) -> dict:
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        return {"row": row, "precision": precision, "error": f"timeout after {timeout:.0f} s"}
    for line in reversed(stdout.splitlines()):
        if line.startswith("ROW "):
            result = json.loads(line[4:])
            if keep_stderr:
                result["_stderr"] = stderr
            return result
    lines = stderr.strip().splitlines() or ["no output"]
    errors = [line for line in lines if "Error:" in line]  # the exception line, else the last
    return {"row": row, "precision": precision, "xla": jit,
            "error": (errors[-1] if errors else lines[-1])[-300:]}


def measure_together(script: str, runs, threads: int = 1, out: str | None = None, extra=(),
                     timeout: float = 7200, env=None, keep_stderr: bool = False) -> list[dict]:
    """Runs one child per ``(row, precision, jit)`` of ``runs`` at the same time; their rows
    (with the child's stderr under ``_stderr`` when ``keep_stderr``)."""
    started = [(_start(_command(script, row, precision, threads, jit, out, extra), threads, env),
                row, precision, jit) for row, precision, jit in runs]
    return [_collect(process, row, precision, jit, timeout, keep_stderr)
            for process, row, precision, jit in started]


def measure(script: str, row: str, precision: str = "fp32", threads: int = 1,
            jit: str = "off", out: str | None = None, extra=(), timeout: float = 7200,
            env=None, keep_stderr: bool = False) -> dict:
    """Runs ``script --row row ...`` in a fresh process; returns its row (or an error row)."""
    return measure_together(script, [(row, precision, jit)], threads, out, extra, timeout,
                            env, keep_stderr)[0]


def grappler_seconds(stderr: str, function: str = "train_step") -> float | None:
    """Seconds Grappler spent on ``function``'s graph, from a child's log run with
    ``TF_CPP_MIN_LOG_LEVEL=0 TF_CPP_VMODULE=meta_optimizer=1`` (time stamps of "Starting
    optimization for grappler item: __inference_<function>" to the next "Optimized N
    functions")."""
    began = None
    for line in stderr.splitlines():
        if "meta_optimizer.cc" not in line:
            continue
        try:
            stamp = float(line.split()[1].split(":")[-1])
        except (IndexError, ValueError):
            continue
        if began is None and f"grappler item: __inference_{function}" in line:
            began = stamp
        elif began is not None and "Optimized" in line and "functions" in line:
            return round(stamp - began, 1)
    return None


def snr_db(reference, x) -> float:
    """SNR of ``x`` against ``reference`` in dB (inf when equal)."""
    reference = np.asarray(reference, np.float64)
    noise = np.asarray(x, np.float64) - reference
    power = float(np.sum(noise ** 2))
    return float("inf") if power == 0 else 10 * np.log10(float(np.sum(reference ** 2)) / power)


def _runs(script, runs, threads, out=None, extra=(), concurrent=False) -> list[dict]:
    if concurrent:
        return measure_together(script, runs, threads, out, extra)
    return [measure(script, row, precision, threads, jit, out, extra)
            for row, precision, jit in runs]


def pair(script: str, row: str, time_key: str, threads: int = 1, extra=(),
         outputs: bool = False, concurrent: bool = False) -> list[dict]:
    """The fp32 and bf16 rows of ``row`` (fresh processes, one after the other unless
    ``concurrent``), then a comparison row.

    Args:
        script: the bench_<family>.py path.
        row: its row key.
        time_key: the rows' seconds field; the ratio is fp32 / bf16 (> 1: bf16 faster). Rows
            with a ``cpu_<time_key>`` field (process CPU seconds) also give
            ``speedup_bf16_cpu``.
        threads: threads of each process.
        extra: more child arguments.
        outputs: the rows write outputs to compare (generation): the SNR is added.
        concurrent: run both processes at the same time (see the module docstring).
    """
    with tempfile.TemporaryDirectory(prefix="bench_precision_") as tmp:
        fp32, bf16 = _runs(script, [(row, "fp32", "off"), (row, "bf16", "off")], threads, tmp,
                           extra, concurrent)
        result = {"row": f"{fp32.get('row', row)}: bf16 vs fp32", "threads": threads}
        if time_key in fp32 and time_key in bf16:
            result["speedup_bf16"] = round(fp32[time_key] / bf16[time_key], 2)
        cpu_key = f"cpu_{time_key}"  # rows that also time their process's CPU seconds
        if cpu_key in fp32 and cpu_key in bf16:
            result["speedup_bf16_cpu"] = round(fp32[cpu_key] / bf16[cpu_key], 2)
        if outputs:
            files = [Path(tmp) / f"{row}_{p}.npz" for p in ("fp32", "bf16")]
            same = fp32.get("weights_checksum") == bf16.get("weights_checksum")
            if all(f.exists() for f in files) and same:
                ref, got = (np.load(f) for f in files)
                for name in ref.files:  # the output first, then e.g. the generator's images
                    key = "snr_db_bf16_vs_fp32" if name == "output" else f"snr_db_{name}"
                    result[key] = round(snr_db(ref[name], got[name]), 1)
            elif not same:
                result["error"] = "the two processes built different weights"
    return [fp32, bf16, result]


def jit_pair(script: str, row: str, time_key: str, precision: str = "fp32", threads: int = 1,
             extra=(), concurrent: bool = False) -> list[dict]:
    """XLA off and on for ``row`` (fresh processes), then the ratio off / on."""
    off, on = _runs(script, [(row, precision, "off"), (row, precision, "on")], threads,
                    extra=extra, concurrent=concurrent)
    result = {"row": f"{off.get('row', row)}: XLA on vs off", "precision": precision,
              "threads": threads}
    if time_key in off and time_key in on:
        result["speedup_xla"] = round(off[time_key] / on[time_key], 2)
    return [off, on, result]


def checksum(*models) -> float:
    """Sum of |w| over every weight of ``models`` (float64): equal in both processes of a pair
    when they built the same weights."""
    return round(sum(float(np.abs(np.asarray(w, np.float64)).sum())
                     for model in models for w in model.get_weights()), 6)


def save_output(args, key: str, array, **intermediate) -> None:
    """Writes a generation row's output (and named intermediate arrays, e.g. the generator's
    images before an inversion) for the parent's SNRs."""
    if args.out:
        arrays = {"output": array, **intermediate}
        np.savez(Path(args.out) / f"{key}_{args.precision}.npz",
                 **{name: np.asarray(a, np.float32) for name, a in arrays.items()})
