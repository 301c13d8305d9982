"""Speed and memory of tfaudiogan's models on this machine (a table; JSON with --json).

Each family's rows live in tools/bench_<family>.py (``rows(args) -> list[dict]``); this script
runs the chosen families in one process so ratios between them come from one run.

    python tools/benchmark.py                       # every family
    python tools/benchmark.py --rows cyclegan ddsp  # some of them
    python tools/benchmark.py --json out.json --steps 3
    python tools/benchmark.py --compare-precision --threads 1   # fp32 vs bf16 and XLA rows

``--compare-precision`` replaces each family's rows by its fp32 vs bf16 (mixed_bfloat16) and
XLA off vs on rows: every row in a fresh process with ``--threads`` TensorFlow threads (the
precision policy is global; tools/bench_precision.py), ratios and SNRs beside them.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import resource
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, too
sys.path.insert(0, str(Path(__file__).resolve().parent))  # the bench_<family> modules

FAMILIES = ("cyclegan", "wavegan", "gansynth", "ddsp", "input")


def available_families() -> list[str]:
    """Families whose bench module exists in this checkout."""
    here = Path(__file__).resolve().parent
    return [f for f in FAMILIES if (here / f"bench_{f}.py").exists()]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def standalone(rows_fn, parser: argparse.ArgumentParser, argv=None) -> int:
    """Entry point of one ``bench_<family>.py`` run on its own: ``--json`` is added to its
    ``parser``; rows are printed as JSON lines and optionally written to the file."""
    parser.add_argument("--json", help="also write the rows to this JSON file")
    args = parser.parse_args(argv)
    table = rows_fn(args)
    for row in table:
        print(json.dumps(row))
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": table}, indent=2) + "\n")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", nargs="*", default=None, choices=FAMILIES,
                        help="families to measure (default: all available)")
    parser.add_argument("--steps", type=int, default=3, help="measured repeats per row")
    parser.add_argument("--json", help="also write the rows to this JSON file")
    parser.add_argument("--compare-precision", action="store_true",
                        help="fp32 vs bf16 and XLA off vs on rows, one subprocess per row")
    parser.add_argument("--threads", type=int, default=1,
                        help="TensorFlow threads of each --compare-precision subprocess")
    args = parser.parse_args(argv)
    import keras
    import tensorflow as tf

    rows = []
    for family in args.rows or available_families():
        family_rows = importlib.import_module(f"bench_{family}").rows(args)
        rows += [{"family": family, **row} for row in family_rows]
        print(f"measured {family}: {len(family_rows)} rows", flush=True)
    machine = {"cpu_count": os.cpu_count(), "platform": platform.platform(),
               "tensorflow": tf.__version__, "keras": keras.__version__,
               "peak_rss_mb": round(peak_rss_mb(), 1)}
    keys = list(dict.fromkeys(k for row in rows for k in row))  # union, first-seen order
    print(" | ".join(keys))
    for row in rows:
        print(" | ".join(str(row.get(k, "")) for k in keys))
    print(f"machine: {machine}")
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": machine, "rows": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
