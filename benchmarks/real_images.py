"""Pose models on real images: COCO OKS AP over the 12 limb joints, ms per image, and how
often a model reports a person where there is none.

Rows, all run in one process on one thread, interleaved image by image:
- the MoveNet teachers (``--teacher-dir``): MultiPose Lightning at 256 px (one pass) and
  Thunder top-down on MultiPose's boxes (two stages), each optionally with flip averaging;
- pavenet model packages (``--model``, repeatable; a path or a bundled name), each also with
  OKS-NMS for every ``--nms-oks`` value.

Accuracy (``--gt``, repeatable: COCO keypoints or PoseTrack files): AP, AP50 and AP75 in %
from ``pavenet_sdk.eval.coco_ap`` (pycocotools, COCO sigmas) over shoulders, elbows, wrists,
hips, knees and ankles, so the layouts' different head joints do not count. Every prediction
is kept (score threshold 0.05). Times: median over images of the best of ``--repeats`` runs,
pre- and post-processing included.

Empty scenes (``--background``, repeatable: a Penn-Fudan-style folder with ``images/`` and
instance ``masks/``, or a COCO keypoints file of labelled frames such as a teacher's labels of
held-out clips; ``NAME=PATH,PATH,...`` pools several sources into one set reported as NAME):
up to ``--crops`` square crops per source that no mask pixel (or no labelled person's box,
grown by half its size per side) touches; each set is scored on its own; a row passes when its
top person score stays below its default threshold on the crop (a package's own calibrated
``score_threshold``, else the runtime's 0.3; ``--threshold`` sets one for every row).

    python benchmarks/real_images.py --gt real-gt-dev/person_keypoints.json \\
        --gt posetrack18-mini/annotations/val --teacher-dir teachers \\
        --model pavenet-small --nms-oks 0.45 --background real-video/pennfudan \\
        --background "held-out=labels/clip1.json,labels/clip2.json"

writes ``benchmarks/results/real_images.json`` and prints the tables. The OKS scale is the
ground truth's ``area`` (real-gt-dev: 0.53 x box): say so when quoting the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import cpu_facts, git_commit  # noqa: E402
from pavenet_sdk.data.annotations import read_annotations
from pavenet_sdk.data.types import Frame, Person, Sequence
from pavenet_sdk.eval.coco_ap import evaluate_coco
from pavenet_sdk.layouts import LIMB_JOINTS
from pavenet_sdk.teachers.package import PackageTeacher
from pavenet_sdk.teachers.registry import load_teacher

RESULTS = Path(__file__).resolve().parent / "results" / "real_images.json"
TEACHERS = (  # (row name, load_teacher name, flip)
    ("MoveNet MultiPose @256", "movenet-multipose", False),
    ("MoveNet Thunder top-down", "movenet-thunder", False),
    ("MoveNet MultiPose @256 + flip", "movenet-multipose", True),
    ("MoveNet Thunder top-down + flip", "movenet-thunder", True),
)
Model = Callable[[np.ndarray], list[Person]]


def _models(args: argparse.Namespace) -> list[tuple[str, Model]]:
    rows: list[tuple[str, Model]] = []
    if args.teacher_dir is not None:
        for row, name, flip in TEACHERS:
            if flip and not args.flip:
                continue
            rows.append((row, load_teacher(name, teacher_dir=args.teacher_dir, flip=flip)))
    for model in args.model:
        for nms in (False, *args.nms_oks):  # False: off, whatever the package recommends
            suffix = "" if nms is False else f" + OKS-NMS {nms}"
            teacher = PackageTeacher(model, threads=1, score_threshold=0.05, nms_oks=nms)
            rows.append((f"pavenet {Path(model).name}{suffix}", teacher))
    if not rows:
        raise SystemExit("error: give --teacher-dir and/or --model")
    return rows


def _read(path: str) -> np.ndarray:
    image = cv2.imread(path, cv2.IMREAD_COLOR)
    if image is None:
        raise SystemExit(f"error: cannot read {path}")
    return image


def _timed(rows, images: list[np.ndarray], repeats: int):
    """Every row on every image, interleaved: (outputs per row, median best ms per row)."""
    outputs = {row: [None] * len(images) for row, _ in rows}
    times = {row: [[] for _ in images] for row, _ in rows}
    for _ in range(repeats):
        for i, image in enumerate(images):
            for row, model in rows:
                start = time.perf_counter()
                outputs[row][i] = model(image)
                times[row][i].append((time.perf_counter() - start) * 1e3)
    ms = {row: statistics.median(min(t) for t in times[row]) for row in times}
    return outputs, ms


def accuracy(gt_path: Path, rows, repeats: int) -> dict:
    """AP over the limb joints and ms/image of every row on one ground-truth file."""
    sequences, layout = read_annotations(gt_path, "coco-17")
    frames = [f for s in sequences for f in s.frames if f.is_labeled]
    images = [_read(f.image_path) for f in frames]
    outputs, ms = _timed(rows, images, repeats)
    labelled = [Sequence(f"image{i}", [f]) for i, f in enumerate(frames)]
    table = []
    for row, model in rows:
        predictions = [Sequence(f"image{i}", [Frame(0, f.image_path, True, outputs[row][i])])
                       for i, f in enumerate(frames)]  # fmt: skip
        scores = evaluate_coco(labelled, predictions, gt_layout=layout,
                               pred_layout=model.layout, joints=LIMB_JOINTS)  # fmt: skip
        ap = {k: round(100 * scores[k], 1) for k in ("AP", "AP50", "AP75")}
        table.append({"model": row, **ap, "ms_per_image": round(ms[row], 1)})
    return {"gt": f"{gt_path.parent.name}/{gt_path.name}", "images": len(frames),
            "persons": sum(len(f.persons) for f in frames), "rows": table}  # fmt: skip


def _clear_crops(image, blocked, size, count, rng, draws: int = 40) -> list[np.ndarray]:
    """Up to ``count`` square ``size`` px crops of ``image`` with no ``blocked`` pixel (resized to
    256 px)."""
    h, w = blocked.shape
    if h <= size or w <= size:
        return []
    integral = cv2.integral(blocked.astype(np.uint8))
    crops = []
    for _ in range(draws):
        if len(crops) == count:
            break
        y, x = int(rng.integers(0, h - size)), int(rng.integers(0, w - size))
        covered = (integral[y + size, x + size] - integral[y, x + size]
                   - integral[y + size, x] + integral[y, x])  # fmt: skip
        if covered == 0:
            crop = image[y : y + size, x : x + size]
            crops.append(cv2.resize(crop, (256, 256), interpolation=cv2.INTER_LINEAR))
    return crops


def _mask_sources(root: Path):
    """(image, blocked) of a Penn-Fudan-style folder: the instance masks dilated by 8 px."""
    for image_path in sorted((root / "images").glob("*.jpg")):
        mask = cv2.imread(str(root / "masks" / f"{image_path.stem}_mask.png"), cv2.IMREAD_UNCHANGED)
        image = cv2.imread(str(image_path), cv2.IMREAD_COLOR)
        if mask is not None and image is not None:
            yield image, cv2.dilate((mask > 0).astype(np.uint8), np.ones((17, 17), np.uint8)), 160


def _label_sources(path: Path, frames_per_clip: int, margin: float = 0.5):
    """(image, blocked) of labelled frames (COCO keypoints JSON, e.g. a teacher's labels of
    held-out clips), ``frames_per_clip`` evenly spaced in each clip: every person's keypoint
    box (and ``bbox``) grown by ``margin`` of its size on each side is blocked; crops are 30 %
    of the short side."""
    for seq in read_annotations(path, "coco-17")[0]:
        frames = [f for f in seq.frames if f.is_labeled]
        for k in np.linspace(0, len(frames) - 1, min(frames_per_clip, len(frames))).astype(int):
            image = cv2.imread(frames[k].image_path, cv2.IMREAD_COLOR)
            if image is None:
                continue
            blocked = np.zeros(image.shape[:2], np.uint8)
            for p in frames[k].persons:
                xy = p.keypoints[p.keypoints[:, 2] > 0, :2]
                boxes = [np.r_[xy.min(0), xy.max(0)]] if len(xy) else []
                boxes += [np.asarray(p.box, np.float64)] if p.box is not None else []
                for box in boxes:
                    grow = (box[2:] - box[:2]) * margin
                    x0, y0 = np.floor(box[:2] - grow).astype(int).clip(0)
                    x1, y1 = np.ceil(box[2:] + grow).astype(int)
                    blocked[y0:y1, x0:x1] = 1
            yield image, blocked, int(0.3 * min(image.shape[:2]))


def background_crops(root: Path, limit: int, seed: int = 0) -> list[np.ndarray]:
    """Up to ``limit`` person-free crops (two per image at most) of a Penn-Fudan-style folder
    (``images/`` + instance ``masks/``) or of labelled frames (a COCO keypoints file)."""
    rng = np.random.default_rng(seed)
    sources = _mask_sources(root) if root.is_dir() else _label_sources(root, limit)
    crops: list[np.ndarray] = []
    for image, blocked, size in sources:
        crops += _clear_crops(image, blocked, size, 2, rng)
        if len(crops) >= limit:
            break
    return crops[:limit]


def background_set(text: str) -> tuple[str, list[Path]]:
    """``PATH`` or ``NAME=PATH,PATH,...`` (the ``--background`` argument) -> (name, paths)."""
    name, _, paths = text.rpartition("=")
    roots = [Path(p) for p in paths.split(",") if p]
    if not roots:
        raise argparse.ArgumentTypeError(f"no path in {text!r}")
    return name or roots[0].name, roots


def empty_scenes(name: str, roots: list[Path], rows, limit: int, threshold: float | None) -> dict:
    crops = [c for root in roots for c in background_crops(root, limit)]
    table = []
    for row, model in rows:
        limit_score = getattr(model, "default_threshold", 0.3) if threshold is None else threshold
        top = [max((p.score for p in model(c)), default=0.0) for c in crops]
        quiet = float(np.mean(np.asarray(top) < limit_score)) if top else float("nan")
        table.append({"model": row, "crops": len(crops), "threshold": limit_score,
                      "quiet_share": round(quiet, 4),
                      "max_top_score": round(float(max(top, default=0.0)), 3)})  # fmt: skip
    return {"set": name, "sources": [str(r) for r in roots], "rows": table}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gt", type=Path, action="append", default=[],
                        help="COCO keypoints or PoseTrack ground truth (repeatable)")  # fmt: skip
    parser.add_argument("--teacher-dir", type=Path, help="MoveNet .onnx folder")
    parser.add_argument("--flip", action="store_true", help="also the teachers + flip")
    parser.add_argument("--model", action="append", default=[], help="pavenet package")
    parser.add_argument("--nms-oks", type=float, action="append", default=[],
                        help="also run each model with this OKS-NMS threshold")  # fmt: skip
    parser.add_argument("--background", type=background_set, action="append", default=[],
                        help="images/ + masks/ folder (Penn-Fudan) or a labels JSON; "
                             "NAME=PATH,PATH,... pools sources (repeatable)")  # fmt: skip
    parser.add_argument("--crops", type=int, default=200, help="background crops per source")
    parser.add_argument(
        "--threshold", type=float, default=None, help="empty-scene threshold (default: per model)"
    )
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per image")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results JSON")
    args = parser.parse_args(argv)
    rows = _models(args)
    report = {
        "commit": git_commit(), "cpu": cpu_facts(),
        "threads": 1, "repeats": args.repeats, "load1": round(os.getloadavg()[0], 2),
        "joints": "12 limb joints (COCO sigmas)",
        "accuracy": [accuracy(gt, rows, args.repeats) for gt in args.gt],
    }  # fmt: skip
    if args.background:
        report["empty_scenes"] = [empty_scenes(name, roots, rows, args.crops, args.threshold)
                                  for name, roots in args.background]  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"1 thread, load {report['load1']}, {report['joints']}")
    for acc in report["accuracy"]:
        print(f"\n{acc['gt']}: {acc['images']} images, {acc['persons']} persons")
        print("| model | AP | AP50 | AP75 | ms/image |\n|---|---|---|---|---|")
        for r in acc["rows"]:
            print(f"| {r['model']} | {r['AP']} | {r['AP50']} | {r['AP75']} | {r['ms_per_image']} |")
    for e in report.get("empty_scenes", []):
        print(f"\nempty scenes ({e['set']}): share of crops whose top score < the threshold")
        print("| model | threshold | crops | quiet | max top score |\n|---|---|---|---|---|")
        for r in e["rows"]:
            print(f"| {r['model']} | {r['threshold']} | {r['crops']} | {r['quiet_share']} | "
                  f"{r['max_top_score']} |")  # fmt: skip
    print(f"written: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
