"""What optional OKS-NMS does to a model's output: AP, precision and recall with and without it.

Small end-to-end models emit near-duplicates of the same person; OKS-NMS (``nms_oks``, the
authors' older head: threshold 0.45 on the top-k) removes them. This script runs a model
package through ``Estimator`` on held-out synthetic clips (seeds never used in training) once
without and once with each ``--nms-oks`` value, and scores the predictions with the PoseTrack
evaluator twice: every person (score threshold 0, for AP) and the people a user sees at the
runtime's default score threshold 0.3 (poseval's precision and recall of those joints).

    python benchmarks/oks_nms.py --model pavenet-tiny --nms-oks 0.45

writes ``benchmarks/results/oks_nms.json`` and prints a table. For COCO-17 models on real
images, ``benchmarks/real_images.py --nms-oks`` gives the same comparison in COCO AP.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "oks_nms.json"


def _score(model: str, clips, nms: float | None, threshold: float) -> dict:
    from pavenet_sdk import Estimator
    from pavenet_sdk.eval import evaluate_sequences
    from pavenet_sdk.train.evaluate import predict_clip

    est = Estimator(model, threads=1, score_threshold=threshold, nms_oks=nms, track=False)
    preds = [predict_clip(est, c) for c in clips]
    result = evaluate_sequences([c.sequence for c in clips], preds, pred_layout=est.layout)
    persons = sum(len(f.persons) for s in preds for f in s.frames)
    mean = lambda d: round(sum(d.values()) / len(d), 1)  # noqa: E731
    return {"AP": round(result["mean"], 1), "precision": mean(result["precision"]),
            "recall": mean(result["recall"]), "persons_per_frame":
            round(persons / sum(len(s.frames) for s in preds), 2)}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    from pavenet_sdk.train.config import HELD_OUT_SEED_START
    from pavenet_sdk.train.evaluate import held_out_clips

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="pavenet-tiny", help="package path or bundled name")
    parser.add_argument("--nms-oks", type=float, action="append", default=[])
    parser.add_argument("--preset", default="mixed", help="synthetic preset of the clips")
    parser.add_argument("--videos", type=int, default=12)
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    clips = held_out_clips(args.preset, args.videos, args.frames, HELD_OUT_SEED_START, (320, 240))
    rows = []
    for nms in (False, *(args.nms_oks or [0.45])):  # False: off, whatever the package says
        row = {"nms_oks": nms, "all": _score(args.model, clips, nms, 0.0),
               "at_0.3": _score(args.model, clips, nms, 0.3)}  # fmt: skip
        rows.append(row)
    report = {"model": args.model, "clips": f"{args.videos} x {args.frames} frames "
              f"'{args.preset}', seeds from {HELD_OUT_SEED_START}", "rows": rows}  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"{args.model} on {report['clips']} (PoseTrack evaluator, %)")
    print("| nms_oks | AP (all) | precision @0.3 | recall @0.3 | persons/frame @0.3 |")
    print("|---|---|---|---|---|")
    for r in rows:
        a, b = r["all"], r["at_0.3"]
        print(f"| {r['nms_oks'] or 'off'} | {a['AP']} | {b['precision']} | {b['recall']} | "
              f"{b['persons_per_frame']} |")  # fmt: skip
    print(f"written: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
