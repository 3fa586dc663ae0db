"""``pavenet eval``: PoseTrack per-joint AP / mAP of prediction files, computed like poseval."""

from __future__ import annotations

import argparse

HELP = "PoseTrack mAP (poseval-exact) of per-video prediction JSON files against ground truth"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--gt", required=True, metavar="DIR",
                        help="folder of per-video ground-truth JSON (PoseTrack 2018/21 or 2017)")
    parser.add_argument("--pred", required=True, metavar="DIR",
                        help="folder with one prediction file per GT file, same basename")
    parser.add_argument("--json", metavar="FILE", help="also write the numbers to this JSON file")
    parser.add_argument("--joints", action="store_true", help="also print the 15 per-joint APs")
    parser.add_argument("--no-check-names", dest="check_names", action="store_false",
                        help="accept file and sequence names poseval would refuse")  # fmt: skip


def _finite(value):
    """NaN (a joint without ground truth) -> None, so the JSON stays standard."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    return None if isinstance(value, float) and value != value else value


def main(args: argparse.Namespace) -> int:
    import json
    import sys
    from pathlib import Path

    from pavenet_sdk.eval import TABLE_COLUMNS, evaluate_posetrack, format_table

    try:
        result = evaluate_posetrack(args.gt, args.pred, check_names=args.check_names)
    except (FileNotFoundError, ValueError) as exc:
        print(f"pavenet eval: error: {exc}", file=sys.stderr)
        return 2
    print(f"{result['num_sequences']} sequences, {result['num_frames']} evaluated frames")
    print(format_table(result))
    if args.joints:
        for name, ap in result["joints"].items():
            print(f"  {name:<15} AP {ap:6.2f}  (GT {result['num_gt'][name]})")
    if args.json:
        keys = (*TABLE_COLUMNS, "joints", "precision", "recall", "num_gt", "num_frames",
                "num_sequences")  # fmt: skip
        payload = {k: _finite(result[k]) for k in keys}
        path = Path(args.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(payload, indent=2), encoding="utf-8")
        print(f"wrote {path}")
    return 0
