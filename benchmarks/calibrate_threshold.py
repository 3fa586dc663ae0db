"""Choose a model's default person-score threshold on held-out labelled clips.

End-to-end models score people on their own scale (a young distilled model may never pass the
runtime's generic 0.3). This script streams held-out clips (whole clips the model never
trained on, labelled by a teacher) through ``Estimator`` with no threshold, matches each
frame's predictions to the labelled people greedily by OKS over the 12 limb joints
(best score first, OKS >= 0.5, COCO sigmas), and reports precision, recall and F1 of
people for every candidate threshold; the F1-best one is the package's ``score_threshold``.

    python benchmarks/calibrate_threshold.py --model models/pavenet-small --labels labels/ \\
        --clip mmaction2-two-people-room --clip sports2d-walk [--write]

``--write`` stores it (and ``--nms-oks``, the post-processing it was chosen with) in the
package's manifest, as the model's defaults. Writes ``benchmarks/results/threshold.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results" / "threshold.json"
CANDIDATES = np.round(np.arange(0.05, 0.61, 0.01), 2)


def _oks(pred, gt, sigmas: np.ndarray, area: float) -> float:
    on = gt[:, 2] > 0
    if not on.any():
        return 0.0
    d2 = ((pred[on, :2] - gt[on, :2]) ** 2).sum(1)
    return float(np.mean(np.exp(-d2 / (2 * max(area, 1.0) * (2 * sigmas[on]) ** 2))))


def match_counts(frames, layout, thresholds) -> np.ndarray:
    """(len(thresholds), 3) true positives, predictions and labelled people."""
    from pavenet_sdk.layouts import LIMB_JOINTS

    limbs = layout.index(LIMB_JOINTS)
    sigmas = layout.sigmas_array[limbs]
    counts = np.zeros((len(thresholds), 3), np.int64)
    for gt, pred in frames:
        truths = [(p.keypoints[limbs], p.object_area()) for p in gt.persons]
        people = sorted(pred.persons, key=lambda p: -p.score)
        for t, threshold in enumerate(thresholds):
            taken, tp = set(), 0
            kept = [p for p in people if p.score >= threshold]
            for p in kept:
                scores = [(_oks(p.keypoints[limbs], g, sigmas, a), i)
                          for i, (g, a) in enumerate(truths) if i not in taken]  # fmt: skip
                best = max(scores, default=(0.0, -1))
                if best[0] >= 0.5:
                    taken.add(best[1])
                    tp += 1
            counts[t] += (tp, len(kept), len(truths))
    return counts


def main(argv: list[str] | None = None) -> int:
    from pavenet_sdk import Estimator
    from pavenet_sdk.train.evaluate import predict_clip, real_clips

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="model package")
    parser.add_argument("--labels", type=Path, required=True, help="held-out clips' labels")
    parser.add_argument("--clip", action="append", required=True, help="held-out clip name")
    parser.add_argument("--frames-per-clip", type=int, default=0, help="0: whole clips")
    parser.add_argument("--nms-oks", type=float, default=None, help="post-processing OKS-NMS")
    parser.add_argument("--write", action="store_true", help="store it in the manifest")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    nms = False if args.nms_oks is None else args.nms_oks
    est = Estimator(args.model, threads=1, score_threshold=0.0, nms_oks=nms, track=False)
    clips = real_clips(args.labels, args.clip, args.frames_per_clip, est.layout)
    frames = []
    for clip in clips:
        predicted = predict_clip(est, clip)
        frames += [(g, p) for g, p in zip(clip.sequence.frames, predicted.frames, strict=True)
                   if g.is_labeled]  # fmt: skip
    counts = match_counts(frames, est.layout, CANDIDATES)
    tp, n_pred, n_gt = counts.T.astype(float)
    precision = np.divide(tp, n_pred, out=np.zeros_like(tp), where=n_pred > 0)
    recall = tp / max(n_gt[0], 1.0)
    f1 = np.divide(2 * precision * recall, precision + recall,
                   out=np.zeros_like(tp), where=precision + recall > 0)  # fmt: skip
    best = int(np.argmax(f1))
    report = {
        "model": str(args.model), "nms_oks": args.nms_oks, "clips": args.clip,
        "frames": len(frames),
        "people": int(n_gt[0]), "best_threshold": float(CANDIDATES[best]),
        "rows": [{"threshold": float(c), "precision": round(float(p), 3),
                  "recall": round(float(r), 3), "f1": round(float(f), 3)}
                 for c, p, r, f in zip(CANDIDATES, precision, recall, f1, strict=True)],
    }  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    for r in report["rows"][::5]:
        print(f"threshold {r['threshold']:.2f}: precision {r['precision']:.3f} "
              f"recall {r['recall']:.3f} F1 {r['f1']:.3f}")  # fmt: skip
    b = report["rows"][best]
    print(
        f"best: {b['threshold']:.2f} (precision {b['precision']:.3f}, recall {b['recall']:.3f},"
        f" F1 {b['f1']:.3f}) on {len(frames)} frames, {report['people']} labelled people"
    )
    if args.write:
        path = Path(args.model) / "manifest.json"
        manifest = json.loads(path.read_text(encoding="utf-8"))
        manifest["score_threshold"] = report["best_threshold"]
        manifest["nms_oks"] = args.nms_oks  # the post-processing the threshold was chosen with
        path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        print(f"written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
