"""``pavenet bench``: the performance suite of ``benchmarks/run.py`` (source checkout)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

HELP = "run the performance suite (encoder cache, crowd scaling, kernel, backends, memory)"
#: the suite's sections, in run order (``benchmarks/run.py`` reads them from here)
SECTIONS = ("encoder_cache", "crowd_scaling", "fused_kernel", "backends", "memory", "roofline")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    speed = parser.add_mutually_exclusive_group()
    speed.add_argument("--quick", action="store_true", help="fewer repeats and sizes (< 10 min)")
    speed.add_argument("--smoke", action="store_true", help="micro shapes, seconds")
    parser.add_argument(
        "--only", default=None, help=f"comma-separated sections of: {','.join(SECTIONS)}"
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="results folder (default benchmarks/results)"
    )


def parse_sections(text: str | None) -> list[str]:
    """``--only`` -> section names (all when None); ValueError naming unknown ones."""
    if not text:
        return list(SECTIONS)
    names = [s.strip() for s in text.split(",") if s.strip()]
    unknown = [s for s in names if s not in SECTIONS]
    if unknown or not names:
        raise ValueError(f"unknown section(s) {unknown}; choose from {', '.join(SECTIONS)}")
    return names


def find_benchmarks() -> Path | None:
    """The source tree's ``benchmarks/`` folder: ``$PAVENET_BENCHMARKS``, next to python/ (a
    source checkout) or in the working directory (an installed package run from a checkout)."""
    env = os.environ.get("PAVENET_BENCHMARKS")
    candidates = [Path(env)] if env else []
    candidates += [Path(__file__).resolve().parents[3] / "benchmarks", Path.cwd() / "benchmarks"]
    return next((p for p in candidates if (p / "run.py").is_file()), None)


def main(args: argparse.Namespace) -> int:
    from pavenet_sdk.cli import UsageError, user_input

    with user_input():
        sections = parse_sections(args.only)
    folder = find_benchmarks()
    if folder is None:
        raise UsageError(
            "the benchmark suite lives in the source repository (benchmarks/run.py); run this "
            "from a checkout or set PAVENET_BENCHMARKS to its benchmarks/ folder"
        )
    argv = [sys.executable, "-m", "benchmarks.run", "--only", ",".join(sections)]
    argv += ["--smoke"] if args.smoke else ["--quick"] if args.quick else []
    argv += ["--out", str(args.out.resolve())] if args.out else []
    return subprocess.call(argv, cwd=folder.resolve().parent)
