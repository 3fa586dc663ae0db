"""``pavenet eval``: PoseTrack mAP (poseval-exact) or COCO keypoint AP of predictions.

Ground truth and predictions are PoseTrack JSON (a folder of per-video files, or one file) or
COCO keypoints JSON (one file), told apart by their contents: a folder, a PoseTrack 2017
``annolist`` or a person category naming ``head_bottom`` is PoseTrack, any other file COCO.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

HELP = "PoseTrack mAP (poseval-exact) or COCO keypoint AP of predictions against ground truth"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--gt",
        required=True,
        metavar="PATH",
        help="ground truth: a folder of per-video PoseTrack JSON (2018/21 or "
        "2017), one PoseTrack file or one COCO keypoints file",
    )
    parser.add_argument(
        "--pred",
        required=True,
        metavar="PATH",
        help="predictions: for a PoseTrack folder, a folder with one file per GT "
        "file (same basename); else a file in either format",
    )
    parser.add_argument(
        "--metric",
        choices=("posetrack", "coco"),
        default="posetrack",
        help="posetrack: per-joint AP / mAP exactly as poseval (default); "
        "coco: OKS AP, AP50, AP75 and AR computed by pycocotools",
    )
    parser.add_argument(
        "--layout",
        default=None,
        metavar="NAME",
        help="joint layout the ground truth is read into (default: posetrack-15 "
        "for PoseTrack files, coco-17 for COCO files)",
    )
    parser.add_argument(
        "--pred-layout",
        default=None,
        metavar="NAME",
        help="joint layout the predictions are read into (default: --layout if given, else "
        "as for the ground truth, by the predictions' format)",
    )
    parser.add_argument(
        "--subset",
        default=None,
        metavar="JOINTS",
        help="coco metric: the joints scored: 'all', 'limbs' (the 12 limb joints "
        "every layout shares) or comma-separated names (default: all joints "
        "when the layouts agree, else the shared ones)",
    )
    parser.add_argument("--json", metavar="FILE", help="also write the numbers to this JSON file")
    parser.add_argument("--joints", action="store_true", help="also print the 15 per-joint APs")
    parser.add_argument("--no-check-names", dest="check_names", action="store_false",
                        help="accept file and sequence names poseval would refuse")  # fmt: skip


def _finite(value: Any) -> Any:
    """NaN (undefined, e.g. a joint without ground truth) -> None, so the JSON stays standard."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    return None if isinstance(value, float) and math.isnan(value) else value


def subset_joints(text: str | None, layout: Any) -> tuple[str, ...] | None:
    """``--subset`` -> joint names (None: the evaluator's default).

    Raises:
        UsageError: no joint named.
    """
    from pavenet_sdk.errors import UsageError
    from pavenet_sdk.layouts import LIMB_JOINTS

    if text is None:
        return None
    if text == "all":
        return tuple(layout.joints)
    if text == "limbs":
        return LIMB_JOINTS
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    if not names:
        raise UsageError(f"--subset: give 'all', 'limbs' or joint names, got {text!r}")
    return names


def main(args: argparse.Namespace) -> int:
    from pavenet_sdk.cli import UsageError

    gt_path, pred_path = Path(args.gt), Path(args.pred)
    for flag, path in (("--gt", gt_path), ("--pred", pred_path)):
        if not path.exists():
            raise FileNotFoundError(2, f"no such file or folder (for {flag})", str(path))
    if args.metric != "coco" and args.subset is not None:
        raise UsageError("--subset applies to --metric coco only")
    if args.metric != "posetrack" and args.joints:
        raise UsageError("--joints (per-joint APs) applies to --metric posetrack only")
    if args.metric == "posetrack":
        result = _posetrack(args, gt_path, pred_path)
    else:
        result = _coco(args, gt_path, pred_path)
    if args.json:
        path = Path(args.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(_finite(result), indent=2), encoding="utf-8")
        print(f"wrote {path}")
    return 0


def _read(path: Path, layout: str | None) -> tuple[list, Any]:
    """The sequences of an annotation file or folder and their layout (``--layout`` names)."""
    from pavenet_sdk.cli import user_input
    from pavenet_sdk.data.annotations import read_annotations

    with user_input(ValueError, KeyError):  # a malformed file, an unknown layout
        return read_annotations(path, layout)


def _posetrack(args: argparse.Namespace, gt_path: Path, pred_path: Path) -> dict:
    from pavenet_sdk.cli import user_input
    from pavenet_sdk.eval import TABLE_COLUMNS, evaluate_posetrack, evaluate_sequences, format_table

    if gt_path.is_dir() and pred_path.is_dir():  # per-video files, exactly as poseval pairs them
        # reads the files; ValueError: a malformed file, or one poseval would refuse
        with user_input(ValueError, KeyError):
            result = evaluate_posetrack(gt_path, pred_path, check_names=args.check_names)
    else:
        gt, gt_layout = _read(gt_path, args.layout)
        pred, pred_layout = _read(pred_path, args.pred_layout or args.layout)
        with user_input():  # predictions that do not pair with the ground truth
            result = evaluate_sequences(gt, pred, gt_layout=gt_layout, pred_layout=pred_layout)
        result["num_sequences"] = len(gt)
    print(f"{result['num_sequences']} sequences, {result['num_frames']} evaluated frames")
    print(format_table(result))
    if args.joints:
        for name, ap in result["joints"].items():
            print(f"  {name:<15} AP {ap:6.2f}  (GT {result['num_gt'][name]})")
    keys = (*TABLE_COLUMNS, "joints", "precision", "recall", "num_gt", "num_frames",
            "num_sequences")  # fmt: skip
    return {"metric": "posetrack", **{k: result[k] for k in keys}}


def _coco(args: argparse.Namespace, gt_path: Path, pred_path: Path) -> dict:
    from pavenet_sdk.cli import UsageError, user_input
    from pavenet_sdk.eval import evaluate_coco, format_coco_table

    gt, gt_layout = _read(gt_path, args.layout)
    pred, pred_layout = _read(pred_path, args.pred_layout or args.layout)
    joints = subset_joints(args.subset, gt_layout)
    try:
        # ValueError: predictions that do not pair with the ground truth, unknown --subset joints
        with user_input():
            result = evaluate_coco(
                gt, pred, gt_layout=gt_layout, pred_layout=pred_layout, joints=joints
            )
    except ImportError as exc:  # pycocotools is missing
        raise UsageError(str(exc)) from exc
    print(f"{len(gt)} sequences, {result['num_images']} evaluated frames, "
          f"{result['num_gt']} people; {len(result['joints'])} joints of {gt_layout.name} "
          f"(OKS sigmas of those joints)")  # fmt: skip
    print(format_coco_table(result))
    return {"metric": "coco", "gt_layout": gt_layout.name, "pred_layout": pred_layout.name,
            **result}  # fmt: skip
