"""``pavenet bench``: the performance suite of ``benchmarks/run.py`` (source checkout)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

HELP = "run the performance suite (encoder cache, crowd scaling, kernel, backends, memory)"
SECTIONS = "encoder_cache,crowd_scaling,fused_kernel,backends,memory,roofline"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    speed = parser.add_mutually_exclusive_group()
    speed.add_argument("--quick", action="store_true", help="fewer repeats and sizes (< 10 min)")
    speed.add_argument("--smoke", action="store_true", help="micro shapes, seconds")
    parser.add_argument("--only", default=None, help=f"comma-separated sections of: {SECTIONS}")
    parser.add_argument(
        "--out", type=Path, default=None, help="results folder (default benchmarks/results)"
    )


def find_benchmarks() -> Path | None:
    """The source tree's ``benchmarks/`` folder: ``$PAVENET_BENCHMARKS``, next to python/ (a
    source checkout) or in the working directory (an installed package run from a checkout)."""
    env = os.environ.get("PAVENET_BENCHMARKS")
    candidates = [Path(env)] if env else []
    candidates += [Path(__file__).resolve().parents[3] / "benchmarks", Path.cwd() / "benchmarks"]
    return next((p for p in candidates if (p / "run.py").is_file()), None)


def main(args: argparse.Namespace) -> int:
    folder = find_benchmarks()
    if folder is None:
        print(
            "error: the benchmark suite lives in the source repository (benchmarks/run.py); run "
            "this from a checkout or set PAVENET_BENCHMARKS to its benchmarks/ folder",
            file=sys.stderr,
        )
        return 2
    root = str(folder.resolve().parent)
    if root not in sys.path:
        sys.path.insert(0, root)
    from benchmarks.run import run_from_args

    return run_from_args(args)
