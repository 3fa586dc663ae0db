"""Does the temporal decoder earn its cost on real video? Degraded-centre-frame test.

Held-out real clips, labelled by a teacher on their clean frames (``pavenet label``). For
every scored frame t the model sees the window t-T .. t+T where **only frame t is degraded**
(its neighbours stay clean):

- ``occluder``: a textured patch (a crop of another frame of the clip) pasted over 30-60 % of
  one labelled person's box;
- ``blur``: strong linear motion blur (a kernel 2-5 % of the long side, at a random angle);
- ``contrast``: contrast dropped to 15 % around the mean, plus noise (sigma 8).

The model's poses for frame t are scored against the teacher's labels of the clean frame t
(COCO OKS AP over the 12 limb joints, pycocotools), so a model that reads the neighbours can
recover what the degraded frame hides. Models (``--model``, repeatable, ``label=PATH``): a
package or a training checkpoint (``.pt``, run with ``Estimator.from_model``), typically the
T = 1 model and the image-only control trained on the same budget from the same start. The
frames, degradations and seeds are the same for every model; the spread is over
``--seeds`` degradation draws.

    python benchmarks/temporal_degraded.py --labels ../data/labels \\
        --clip mmaction2-two-people-room --clip sports2d-walk \\
        --model T1=runs/distill-small-temporal/best.pt \\
        --model image=runs/distill-small-image-ft/best.pt

writes ``benchmarks/results/temporal_degraded.json`` and prints a table.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import cv2
import numpy as np

from pavenet_sdk.data.types import Frame, Sequence

RESULTS = Path(__file__).resolve().parent / "results" / "temporal_degraded.json"
DEGRADATIONS = ("clean", "occluder", "blur", "contrast")


def degrade(image: np.ndarray, kind: str, frame: Frame, texture: np.ndarray,
            rng: np.random.Generator) -> np.ndarray:  # fmt: skip
    """``image`` with one degradation (``clean``: unchanged copy)."""
    out = image.copy()
    if kind == "occluder":
        boxes = [p.box for p in frame.persons if p.box is not None]
        if boxes:
            x1, y1, x2, y2 = boxes[int(rng.integers(len(boxes)))]
            w, h = max(x2 - x1, 4.0), max(y2 - y1, 4.0)
            ow, oh = w * rng.uniform(0.5, 0.9), h * rng.uniform(0.4, 0.7)
            ox, oy = x1 + rng.uniform(0, w - ow), y1 + rng.uniform(0, h - oh)
            a, b = int(max(ox, 0)), int(max(oy, 0))
            c, d = int(min(ox + ow, out.shape[1])), int(min(oy + oh, out.shape[0]))
            if c > a and d > b:
                out[b:d, a:c] = cv2.resize(texture, (c - a, d - b))
    elif kind == "blur":
        size = int(max(out.shape[:2]) * rng.uniform(0.02, 0.05)) // 2 * 2 + 1
        kernel = np.zeros((size, size), np.float32)
        kernel[size // 2] = 1.0 / size
        rot = cv2.getRotationMatrix2D((size / 2 - 0.5, size / 2 - 0.5), rng.uniform(0, 180), 1)
        kernel = cv2.warpAffine(kernel, rot, (size, size))
        out = cv2.filter2D(out, -1, kernel / max(kernel.sum(), 1e-6))
    elif kind == "contrast":
        f = out.astype(np.float32)
        f = (f - f.mean()) * 0.15 + f.mean() + rng.normal(0, 8, f.shape)
        out = np.clip(f, 0, 255).astype(np.uint8)
    elif kind != "clean":
        raise ValueError(f"unknown degradation {kind!r}")
    return out


def _estimator(path: str):
    from pavenet_sdk import Estimator

    if path.endswith(".pt") and Path(path).is_file():
        from pavenet_sdk.checkpoint import load_model

        return Estimator.from_model(load_model(path), score_threshold=0.05, track=False)
    return Estimator(path, threads=1, score_threshold=0.05, track=False)


def predict(est, frames: list[np.ndarray], T: int) -> Frame:
    """Poses of the centre of ``frames`` (2T + 1 frames, a stream of its own)."""
    from pavenet_sdk.runtime.writers import result_to_frame

    stream = est.stream()
    results = []
    for i, image in enumerate(frames):
        results += stream.push_frame(image, i / 30)
    results += stream.flush()
    return result_to_frame(results[T])


def run(args: argparse.Namespace) -> dict:
    from pavenet_sdk.data.coco import read_coco_keypoints
    from pavenet_sdk.eval.coco_ap import evaluate_coco
    from pavenet_sdk.layouts import LIMB_JOINTS

    sequences = {s.name: s for s in read_coco_keypoints(args.labels, layout="coco-17")}
    missing = [c for c in args.clip if c not in sequences]
    if missing:
        raise SystemExit(f"error: clips not in {args.labels}: {missing}")
    models = dict(m.split("=", 1) for m in args.model)
    estimators = {label: _estimator(path) for label, path in models.items()}
    T = max(est.package.T for est in estimators.values())
    items = []  # (clip, centre index) of labelled frames with persons, every --every frames
    for name in args.clip:
        frames = sequences[name].frames
        items += [(name, t) for t in range(T, len(frames) - T, args.every)
                  if frames[t].persons][: args.per_clip]  # fmt: skip
    images = {}
    rows: dict[str, dict[str, list[float]]] = {m: {d: [] for d in DEGRADATIONS} for m in models}
    for seed in range(args.seeds):
        for kind in DEGRADATIONS:
            rng = np.random.default_rng([seed, DEGRADATIONS.index(kind)])
            gts, windows = [], []
            for name, t in items:
                frames = sequences[name].frames
                for k in range(t - T, t + T + 1):
                    if (name, k) not in images:
                        images[(name, k)] = cv2.imread(frames[k].image_path, cv2.IMREAD_COLOR)
                j = int(rng.integers(len(frames)))
                texture = images.get((name, j))
                if texture is None:
                    texture = cv2.imread(frames[j].image_path, cv2.IMREAD_COLOR)
                x, y = int(rng.integers(0, texture.shape[1] // 2)), int(
                    rng.integers(0, texture.shape[0] // 2))  # fmt: skip
                patch = texture[y : y + texture.shape[0] // 2, x : x + texture.shape[1] // 2]
                window = [images[(name, k)] for k in range(t - T, t + T + 1)]
                window[T] = degrade(window[T], kind, frames[t], patch, rng)
                windows.append(window)
                gts.append(Sequence(f"{name}-{t}", [frames[t]]))
            for label, est in estimators.items():
                own_t = est.package.T
                preds = [Sequence(g.name, [predict(est, w[T - own_t : T + own_t + 1], own_t)])
                         for g, w in zip(gts, windows, strict=True)]  # fmt: skip
                ap = evaluate_coco(gts, preds, gt_layout="coco-17", pred_layout=est.layout,
                                   joints=LIMB_JOINTS)["AP"]  # fmt: skip
                rows[label][kind].append(100 * ap)
    table = {
        label: {kind: {"mean": round(statistics.fmean(v), 1),
                       "std": round(statistics.pstdev(v), 1)} for kind, v in kinds.items()}
        for label, kinds in rows.items()
    }  # fmt: skip
    return {"clips": args.clip, "frames": len(items), "seeds": args.seeds, "T": T,
            "models": models, "joints": "12 limb joints (COCO sigmas)", "AP": table}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=Path, required=True, help="pavenet label output folder")
    parser.add_argument("--clip", action="append", required=True, help="held-out clip name")
    parser.add_argument("--model", action="append", required=True, help="LABEL=PATH")
    parser.add_argument("--every", type=int, default=5, help="score every Nth frame")
    parser.add_argument("--per-clip", type=int, default=30, help="scored frames per clip")
    parser.add_argument("--seeds", type=int, default=3, help="degradation draws")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    report = run(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"{report['frames']} frames of {', '.join(report['clips'])}; limb AP (%), mean +- std "
          f"over {report['seeds']} degradation draws")  # fmt: skip
    print("| model | " + " | ".join(DEGRADATIONS) + " |")
    print("|---" * (len(DEGRADATIONS) + 1) + "|")
    for label, kinds in report["AP"].items():
        cells = [f"{kinds[k]['mean']} +- {kinds[k]['std']}" for k in DEGRADATIONS]
        print(f"| {label} | " + " | ".join(cells) + " |")
    print(f"written: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
