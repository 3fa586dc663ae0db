"""Run the pavenet-sdk performance suite.

    PYTHONPATH=python python benchmarks/run.py [--quick | --smoke] [--only NAME,...] [--out DIR]

Sections: encoder_cache, crowd_scaling, fused_kernel, backends, memory, roofline. Each writes
``<out>/<name>.json``; then ``summary.md`` and the plots are rebuilt from every JSON in
``<out>``. One thread everywhere (OMP/MKL/torch/native), since the cores may be shared.
``pavenet bench`` runs this module (``python -m benchmarks.run``).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    if importlib.util.find_spec("pavenet_sdk") is None:  # a source checkout, not installed
        sys.path.insert(1, str(Path(__file__).resolve().parents[1] / "python"))

from pavenet_sdk.commands.bench import add_arguments, parse_sections  # noqa: E402


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)  # the options of ``pavenet bench``
    return parser


def run_suite(mode_name: str, sections: list[str], out: Path) -> list[Path]:
    """Run ``sections`` in ``mode_name`` ("smoke", "quick", "full"); returns written files."""
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"  # before torch / numpy's BLAS start their pools
    import torch

    from benchmarks.common import MODES, log, set_threads, write_json
    from benchmarks.report import write_report

    torch.set_num_threads(1)
    set_threads(1)
    mode = MODES[mode_name]
    written = []
    for name in sections:
        t0 = time.perf_counter()
        log(f"section {name} ({mode.name})")
        result = importlib.import_module(f"benchmarks.{name}").run(mode)
        result["wall_s"] = round(time.perf_counter() - t0, 1)
        written.append(write_json(out, name, result))
        log(f"wrote {written[-1]} in {result['wall_s']} s")
    written += write_report(out)
    return written


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_from_args(args)


def run_from_args(args: argparse.Namespace) -> int:
    try:
        sections = parse_sections(args.only)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from benchmarks.common import RESULTS

    mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    for path in run_suite(mode, sections, args.out or RESULTS):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
