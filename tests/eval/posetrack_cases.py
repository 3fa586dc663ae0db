"""Builders for PoseTrack 2018 / 2017 JSON test cases (posetrack-eval.md section 8 geometry)."""

from __future__ import annotations

import json
from pathlib import Path

from pavenet_sdk.data.posetrack import POSEVAL_JOINT_NAMES
from pavenet_sdk.layouts import POSETRACK18_JOINTS
from shared_data import POSETRACK_MINI

# canonical GT person "A": head box diagonal 50 -> head size 30 px, PCKh radius 15 px
POSE_A = {
    "nose": (115, 130), "head_bottom": (115, 150), "head_top": (115, 100),
    "left_shoulder": (140, 160), "right_shoulder": (90, 160),
    "left_elbow": (150, 200), "right_elbow": (80, 200),
    "left_wrist": (155, 240), "right_wrist": (75, 240),
    "left_hip": (130, 250), "right_hip": (100, 250),
    "left_knee": (132, 300), "right_knee": (98, 300),
    "left_ankle": (134, 350), "right_ankle": (96, 350),
}  # fmt: skip
HEAD_A = [100, 100, 30, 40]
SEQ = "000001_bonn_test"


def shift(pose: dict, dx: float, dy: float, only=None) -> dict:
    """Translate all joints (or the names in ``only``) of a pose."""
    moved = {k for k in pose if only is None or k in only}
    return {k: (x + dx, y + dy) if k in moved else (x, y) for k, (x, y) in pose.items()}


def person(pose: dict | None = None, *, score: float | None = 0.9, head=HEAD_A, track_id=0,
           raw: dict | None = None) -> dict:  # fmt: skip
    """One PT18 annotation (image ids filled in by :func:`video`).

    pose: {name: (x, y)} of present joints; raw: {name: (x, y, v)} triplets written verbatim;
    score: per-joint score for all present joints (None: no ``scores`` key); head: xywh or None;
    track_id: int or None (key omitted).
    """
    pose = POSE_A if pose is None else pose
    kps, scores = [], []
    for name in POSETRACK18_JOINTS:
        if raw and name in raw:
            kps += list(raw[name])
        elif name in pose:
            kps += [float(pose[name][0]), float(pose[name][1]), 1]
        else:
            kps += [0, 0, 0]
        scores.append(0.0 if score is None else float(score))
    ann = {"category_id": 1, "keypoints": kps}
    if score is not None:
        ann["scores"] = scores
    if head is not None:
        ann["bbox_head"] = list(head)
    if track_id is not None:
        ann["track_id"] = track_id
    return ann


def video(frames: list[list[dict]], *, seq: str = SEQ, ignore=None, categories=True) -> dict:
    """A per-video PT18 file: frames = persons per frame; ignore = per-frame polygon lists."""
    images, anns = [], []
    for k, persons in enumerate(frames):
        image_id = 10000 + k
        img = {"id": image_id, "file_name": f"images/val/{seq}/{k:06d}.jpg",
               "is_labeled": bool(persons)}  # fmt: skip
        polys = (ignore or {}).get(k, [])
        img["ignore_regions_x"] = [[p[0] for p in poly] for poly in polys]
        img["ignore_regions_y"] = [[p[1] for p in poly] for poly in polys]
        images.append(img)
        for i, ann in enumerate(persons):
            anns.append({**ann, "id": image_id * 100 + i, "image_id": image_id})
    data = {"images": images, "annotations": anns}
    if categories:
        data["categories"] = [{"id": 1, "name": "person", "keypoints": list(POSETRACK18_JOINTS)}]
    return data


def video17(frames: list[list[dict]], *, seq: str = "bonn_5sec/000342_mpii") -> dict:
    """The same persons written as a PoseTrack 2017 annolist (poseval point ids)."""
    annolist = []
    for k, persons in enumerate(frames):
        rects = []
        for ann in persons:
            pts = []
            for pid, name in enumerate(POSEVAL_JOINT_NAMES):
                slot = POSETRACK18_JOINTS.index(name)
                x, y, v = ann["keypoints"][3 * slot : 3 * slot + 3]
                if (x, y, v) != (0, 0, 0):
                    pt = {"id": [pid], "x": [x], "y": [y], "is_visible": [1]}
                    if "scores" in ann:
                        pt["score"] = [ann["scores"][slot]]
                    pts.append(pt)
            rect = {"track_id": [ann.get("track_id", 0)], "annopoints": [{"point": pts}]}
            if "bbox_head" in ann:
                x, y, w, h = ann["bbox_head"]
                rect.update(x1=[x], y1=[y], x2=[x + w], y2=[y + h])
            rects.append(rect)
        annolist.append({"image": [{"name": f"images/{seq}/{k + 1:08d}.jpg"}], "imgnum": [k + 1],
                         "is_labeled": [int(bool(persons))], "annorect": rects})  # fmt: skip
    return {"annolist": annolist}


def write_case(tmp_path: Path, gt: dict, pred: dict, name: str = SEQ) -> tuple[Path, Path]:
    """Write one GT and one prediction file; returns (gt_dir, pred_dir)."""
    gt_dir, pred_dir = tmp_path / "gt", tmp_path / "pred"
    gt_dir.mkdir(exist_ok=True)
    pred_dir.mkdir(exist_ok=True)
    (gt_dir / f"{name}.json").write_text(json.dumps(gt))
    (pred_dir / f"{name}.json").write_text(json.dumps(pred))
    return gt_dir, pred_dir


def shared_data() -> Path:
    """The real PoseTrack 2018 sample: ``$PAVENET_SHARED`` or ``shared/`` beside the repo."""
    return POSETRACK_MINI
