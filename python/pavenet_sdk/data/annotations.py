"""Read any supported keypoint annotation file: PoseTrack (2017/2018/21) or COCO keypoints.

``read_annotations`` tells the two apart by content, so evaluation, benchmarks and training
take either: a folder or a file with ``annolist`` or PoseTrack's ``head_bottom`` joint is
PoseTrack; any other JSON is COCO keypoints (images, or video frames with video ids).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from pavenet_sdk.data.types import Sequence
from pavenet_sdk.layouts import JointLayout, get_layout

__all__ = ["annotation_format", "read_annotations"]


def annotation_format(path: str | Path) -> str:
    """``"posetrack"`` or ``"coco"`` for a file or folder; ValueError for a non-JSON file."""
    path = Path(path)
    if path.is_dir():
        return "posetrack" if any(path.rglob("*.json")) and not _coco_folder(path) else "coco"
    with open(path, encoding="utf-8") as fh:
        try:
            data = json.load(fh)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: not valid JSON ({exc})") from None
    return _format_of(data)


def _format_of(data: object) -> str:
    if isinstance(data, dict) and "annolist" in data:
        return "posetrack"
    categories = data.get("categories") if isinstance(data, dict) else None
    names = [n for c in categories or [] if isinstance(c, dict) for n in c.get("keypoints", [])]
    return "posetrack" if "head_bottom" in names else "coco"


def _coco_folder(path: Path) -> bool:
    """A folder of COCO label files (what ``pavenet label`` writes): its JSONs are at the top
    level and the first one is COCO."""
    first = next(iter(sorted(path.glob("*.json"))), None)
    if first is None:
        return False
    with open(first, encoding="utf-8") as fh:
        try:
            return _format_of(json.load(fh)) == "coco"
        except json.JSONDecodeError:
            return False


def read_annotations(
    path: str | Path, layout: str | JointLayout | None = None
) -> tuple[list[Sequence], JointLayout]:
    """Sequences of a PoseTrack or COCO path and the layout they were read into.

    layout: joints to map into by name; default the file's own (posetrack-15 / coco-17).
    """
    fmt = annotation_format(path)
    layout = get_layout(layout or ("posetrack-15" if fmt == "posetrack" else "coco-17"))
    if fmt == "posetrack":
        from pavenet_sdk.data.posetrack import load_posetrack

        return load_posetrack(path, dtype=np.float64, layout=layout), layout
    from pavenet_sdk.data.coco import read_coco_keypoints

    return read_coco_keypoints(path, layout=layout), layout
