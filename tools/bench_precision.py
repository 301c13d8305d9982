"""fp32 vs bf16 (and XLA on / off) rows for the tools/bench_<family>.py scripts.

The Keras precision policy is global and TensorFlow's thread pools are fixed at start, so every
measurement runs in a fresh Python process (``bench_<family>.py --row KEY --precision P
--threads N [--jit on|off]``), one process per row, one after the other; the parent collects
the JSON rows, then reports the ratios of one run. Generation rows also write their output
(``--out DIR``): the float32 process saves its randomly initialised weights, the bf16 process
loads them, and the parent reports the SNR of the bf16 output against the float32 output of
the same weights:

    SNR = 10 log10(sum(ref^2) / sum((x - ref)^2))   [dB], over the whole batch.

Child side: :func:`add_arguments` and :func:`start` (set threads and policy before any op),
then :func:`emit` prints the row. Parent side: :func:`measure` runs one child, :func:`pair`
runs the float32 and bf16 children of a row and returns both rows plus the comparison.
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
    parser.add_argument("--out", help="directory for weights / outputs shared by a row pair")
    parser.add_argument("--compare-precision", action="store_true",
                        help="add the fp32 vs bf16 and XLA rows (one subprocess each)")


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
    print("ROW " + json.dumps(row), flush=True)


def measure(script: str, row: str, precision: str = "fp32", threads: int = 1,
            jit: str = "off", out: str | None = None, extra=(), timeout: float = 3600) -> dict:
    """Runs ``script --row row ...`` in a fresh process; returns its row (or an error row)."""
    argv = [sys.executable, script, "--row", row, "--precision", precision,
            "--threads", str(threads), "--jit", jit, *extra]
    if out:
        argv += ["--out", out]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "OMP_NUM_THREADS": str(threads)}
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"row": row, "precision": precision, "error": f"timeout after {timeout:.0f} s"}
    for line in reversed(done.stdout.splitlines()):
        if line.startswith("ROW "):
            return json.loads(line[4:])
    lines = done.stderr.strip().splitlines() or ["no output"]
    errors = [line for line in lines if "Error:" in line]  # the exception line, else the last
    return {"row": row, "precision": precision, "xla": jit,
            "error": (errors[-1] if errors else lines[-1])[-300:]}


def snr_db(reference, x) -> float:
    """SNR of ``x`` against ``reference`` in dB (inf when equal)."""
    reference = np.asarray(reference, np.float64)
    noise = np.asarray(x, np.float64) - reference
    power = float(np.sum(noise ** 2))
    return float("inf") if power == 0 else 10 * np.log10(float(np.sum(reference ** 2)) / power)


def pair(script: str, row: str, time_key: str, threads: int = 1, extra=(),
         outputs: bool = False) -> list[dict]:
    """The fp32 and bf16 rows of ``row`` (fresh process each), then a comparison row.

    Args:
        script: the bench_<family>.py path.
        row: its row key.
        time_key: the rows' seconds field; the ratio is fp32 / bf16 (> 1: bf16 faster).
        threads: threads of each process.
        extra: more child arguments.
        outputs: the rows write outputs to compare (generation): the SNR is added.
    """
    with tempfile.TemporaryDirectory(prefix="bench_precision_") as tmp:
        fp32 = measure(script, row, "fp32", threads, out=tmp, extra=extra)
        bf16 = measure(script, row, "bf16", threads, out=tmp, extra=extra)
        result = {"row": f"{fp32.get('row', row)}: bf16 vs fp32", "threads": threads}
        if time_key in fp32 and time_key in bf16:
            result["speedup_bf16"] = round(fp32[time_key] / bf16[time_key], 2)
        if outputs:
            files = [Path(tmp) / f"{row}_{p}.npy" for p in ("fp32", "bf16")]
            if all(f.exists() for f in files):
                result["snr_db_bf16_vs_fp32"] = round(snr_db(*(np.load(f) for f in files)), 1)
    return [fp32, bf16, result]


def jit_pair(script: str, row: str, time_key: str, precision: str = "fp32", threads: int = 1,
             extra=()) -> list[dict]:
    """XLA off and on for ``row`` (fresh process each), then the ratio off / on."""
    off = measure(script, row, precision, threads, "off", extra=extra)
    on = measure(script, row, precision, threads, "on", extra=extra)
    result = {"row": f"{off.get('row', row)}: XLA on vs off", "precision": precision,
              "threads": threads}
    if time_key in off and time_key in on:
        result["speedup_xla"] = round(off[time_key] / on[time_key], 2)
    return [off, on, result]


def weights_file(args, key: str) -> Path | None:
    """``--out/<key>.weights.h5`` (shared by a row pair), or None without ``--out``."""
    return Path(args.out) / f"{key}.weights.h5" if args.out else None


def share_weights(args, key: str, model) -> None:
    """The first process of a pair saves ``model``'s weights, the next one loads them."""
    path = weights_file(args, key)
    if path is None:
        return
    if path.exists():
        model.load_weights(path)
    else:
        model.save_weights(path)


def save_output(args, key: str, array) -> None:
    """Writes a generation row's output for the parent's SNR."""
    if args.out:
        np.save(Path(args.out) / f"{key}_{args.precision}.npy",
                np.asarray(array, np.float32))
