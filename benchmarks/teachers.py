"""Teachers on real labelled images: COCO OKS AP over the 12 limb joints, and ms per image.

For each teacher (MoveNet MultiPose at 256 px, MoveNet Thunder top-down on MultiPose's boxes,
each with and without flip averaging) every image of a COCO keypoints file is labelled on one
thread; AP, AP50 and AP75 (in %) come from ``pavenet_sdk.eval.coco_ap`` (pycocotools, COCO
sigmas) over the 12 limb joints (shoulders, elbows, wrists, hips, knees, ankles), so faces
do not count. Times are the median over images of the best of ``--repeats`` runs
(teachers interleaved image by image), pre- and post-processing included.

    python benchmarks/teachers.py --gt DATA/person_keypoints.json --teacher-dir TEACHERS

writes ``benchmarks/results/teachers.json`` and prints a table. The OKS scale is the
ground truth's ``area``: say how it was made when quoting the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import cv2

from pavenet_sdk.data.coco import read_coco_keypoints
from pavenet_sdk.data.types import Frame, Sequence
from pavenet_sdk.eval.coco_ap import evaluate_coco
from pavenet_sdk.layouts import COCO_17, LIMB_JOINTS
from pavenet_sdk.teachers.registry import load_teacher

RESULTS = Path(__file__).resolve().parent / "results" / "teachers.json"
TEACHERS = (  # (row name, load_teacher name, flip)
    ("MoveNet MultiPose @256", "movenet-multipose", False),
    ("MoveNet Thunder top-down", "movenet-thunder", False),
    ("MoveNet MultiPose @256 + flip", "movenet-multipose", True),
    ("MoveNet Thunder top-down + flip", "movenet-thunder", True),
)


def run(args: argparse.Namespace) -> dict:
    gt = read_coco_keypoints(args.gt, COCO_17)
    frames = [f for s in gt for f in s.frames if f.is_labeled]
    images = []
    for f in frames:
        image = cv2.imread(f.image_path, cv2.IMREAD_COLOR)
        if image is None:
            raise SystemExit(f"error: cannot read {f.image_path}")
        images.append(image)
    teachers = [(row, load_teacher(name, teacher_dir=args.teacher_dir, threads=1, flip=flip))
                for row, name, flip in TEACHERS]  # fmt: skip
    times = {row: [[] for _ in images] for row, _ in teachers}
    outputs: dict[str, list] = {}
    for _ in range(args.repeats):  # interleaved: every teacher on image i, then image i + 1
        for i, image in enumerate(images):
            for row, teacher in teachers:
                start = time.perf_counter()
                persons = teacher(image)
                times[row][i].append((time.perf_counter() - start) * 1e3)
                outputs.setdefault(row, [None] * len(images))[i] = persons
    labelled = [Sequence(f"image{i}", [f]) for i, f in enumerate(frames)]
    rows = []
    for row, teacher in teachers:
        predictions = [Sequence(f"image{i}", [Frame(0, f.image_path, True, outputs[row][i])])
                       for i, f in enumerate(frames)]  # fmt: skip
        scores = evaluate_coco(labelled, predictions, gt_layout=COCO_17, pred_layout=COCO_17,
                               joints=LIMB_JOINTS)  # fmt: skip
        ms = statistics.median(min(t) for t in times[row])
        rows.append({"teacher": row, "name": teacher.name,
                     **{k: round(100 * scores[k], 1) for k in ("AP", "AP50", "AP75")},
                     "ms_per_image": round(ms, 1)})  # fmt: skip
    import onnxruntime

    return {
        "gt": f"{args.gt.parent.name}/{args.gt.name}", "images": len(frames),
        "persons": sum(len(f.persons) for f in frames),
        "joints": "12 limb joints (COCO sigmas)", "threads": 1, "repeats": args.repeats,
        "onnxruntime": onnxruntime.__version__, "load1": round(os.getloadavg()[0], 2),
        "rows": rows,
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gt", type=Path, required=True, help="COCO keypoints JSON (COCO-17)")
    parser.add_argument("--teacher-dir", type=Path, required=True, help="MoveNet .onnx folder")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per image")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results JSON")
    args = parser.parse_args(argv)
    report = run(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"{report['images']} images, {report['persons']} persons, {report['joints']}, "
          f"1 thread, load {report['load1']}")  # fmt: skip
    print("| teacher | AP | AP50 | AP75 | ms/image |\n|---|---|---|---|---|")
    for r in report["rows"]:
        print(f"| {r['teacher']} | {r['AP']} | {r['AP50']} | {r['AP75']} | {r['ms_per_image']} |")
    print(f"written: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
