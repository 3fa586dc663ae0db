"""The pass/fail checks of ``tools/gpu_check.sh`` that look at a stage's results.

    python tools/gpu_check_verify.py build [--cpu]
    python tools/gpu_check_verify.py kernel JUNIT_XML [--cpu]
    python tools/gpu_check_verify.py train RUN_DIR STEPS DEVICE

Each prints one line for the summary and exits 1 (with the reason) when the check fails.
``--cpu``: the script's own check on a machine without a GPU, where CUDA may be absent.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import xml.etree.ElementTree as ET
from pathlib import Path


class CheckFailed(Exception):
    """A stage ran but its result is wrong."""


def check_build(cpu: bool) -> str:
    """The installed native core was built with CUDA and sees a device."""
    from pavenet_sdk import native

    info = native.build_info()
    line = (
        f"native core: cuda={info['cuda']}, cuda_devices={info['cuda_devices']}, isa={info['isa']}"
    )
    if not cpu and not info["cuda"]:
        raise CheckFailed(f"{line}: built without CUDA")
    if not cpu and info["cuda_devices"] < 1:
        raise CheckFailed(f"{line}: the CUDA build sees no CUDA device")
    return line


def check_kernel(junit: Path, cpu: bool) -> str:
    """Every CUDA test (name or module mentions cuda) ran: none skipped, at least one."""
    cases = [
        case
        for case in ET.parse(junit).iter("testcase")
        if "cuda" in (case.get("classname", "") + case.get("name", "")).lower()
    ]
    skipped = [case.get("name") for case in cases if case.find("skipped") is not None]
    line = f"CUDA tests: {len(cases) - len(skipped)} ran, {len(skipped)} skipped"
    if not cpu and not cases:
        raise CheckFailed(f"{line}: none collected")
    if not cpu and skipped:
        raise CheckFailed(f"{line}: {', '.join(skipped[:3])}, ...")
    return line


def check_train(run: Path, steps: int, device: str) -> str:
    """The run logged every step with a finite loss and wrote its checkpoint."""
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    train = [row for row in rows if row["kind"] == "train"]
    logged = [row["step"] for row in train]
    losses = [row["loss"] for row in train]
    if not logged or logged[-1] != steps:
        raise CheckFailed(f"expected {steps} steps, the log has steps {logged}")
    if not all(math.isfinite(loss) for loss in losses):
        raise CheckFailed(f"non-finite loss: {losses}")
    if not (run / "last.pt").is_file():
        raise CheckFailed(f"no checkpoint in {run}")
    return (
        f"training: {steps} steps on {device}, loss {losses[0]:.3f} -> {losses[-1]:.3f}, "
        f"{train[-1]['s_per_step']:.3f} s/step"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="check", required=True)
    build = sub.add_parser("build")
    build.add_argument("--cpu", action="store_true")
    kernel = sub.add_parser("kernel")
    kernel.add_argument("junit", type=Path)
    kernel.add_argument("--cpu", action="store_true")
    train = sub.add_parser("train")
    train.add_argument("run", type=Path)
    train.add_argument("steps", type=int)
    train.add_argument("device")
    args = parser.parse_args(argv)
    try:
        if args.check == "build":
            line = check_build(args.cpu)
        elif args.check == "kernel":
            line = check_kernel(args.junit, args.cpu)
        else:
            line = check_train(args.run, args.steps, args.device)
    except (CheckFailed, OSError) as exc:
        print(f"check failed: {exc}", file=sys.stderr)
        return 1
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
