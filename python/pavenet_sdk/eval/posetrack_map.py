"""PoseTrack per-joint AP and mAP exactly as the official poseval computes them.

Pipeline (posetrack-eval.md sections 3.1-3.8): pair frames by position; drop frames without
ground-truth people together with their predictions; delete joints strictly inside ignore
regions; assign persons per frame by PCKh (:mod:`.matching`); pool every predicted joint of all
frames into one ranked list per joint; VOC AP per joint (:mod:`.ap`); seven groups plus the
mean of the 15 joint APs. Values are percentages.
"""

from __future__ import annotations

import json
from collections.abc import Sequence as SequenceABC
from pathlib import Path

import numpy as np

from pavenet_sdk.data.posetrack import (
    MIN_SCORE,
    POSEVAL_JOINT_NAMES,
    load_posetrack,
    parse_posetrack,
)
from pavenet_sdk.data.types import JOINT_NAMES, Frame, Person, Sequence
from pavenet_sdk.eval.ap import GROUPS, joint_ap, joint_dict, summarize
from pavenet_sdk.eval.matching import assign_frame, head_sizes
from pavenet_sdk.eval.polygons import points_in_regions

__all__ = ["TABLE_COLUMNS", "evaluate_posetrack", "evaluate_sequences", "format_table"]

TABLE_COLUMNS = (*GROUPS, "mean")  # head, shoulder, ..., ankle, mean (the paper's layout)
MAX_TRACK_ID = 10000  # poseval rejects track ids >= this
_ORDER = np.array([JOINT_NAMES.index(n) for n in POSEVAL_JOINT_NAMES])  # poseval id -> ours
_SEQUENCE_TYPES = ("mpii", "bonn", "mpiinew")


def _arrays(persons: list[Person], dtype=np.float64):
    """Persons -> xy (n, 15, 2), present (n, 15), scores (n, 15), heads (n, 4); poseval order."""
    n = len(persons)
    xy, has = np.zeros((n, 15, 2), dtype), np.zeros((n, 15), bool)
    scores, heads = np.full((n, 15), MIN_SCORE, dtype), np.full((n, 4), np.nan, dtype)
    for i, p in enumerate(persons):
        kps = np.asarray(p.keypoints, dtype=dtype)
        if kps.shape != (15, 3):
            raise ValueError(f"Person.keypoints must be (15, 3), got {kps.shape}")
        xy[i], has[i] = kps[_ORDER, :2], kps[_ORDER, 2] > 0
        if p.scores is not None:
            scores[i] = np.asarray(p.scores, dtype=dtype)[_ORDER]
        if p.head_box is not None:
            heads[i] = p.head_box
    return xy, has, scores, heads


class _Pool:
    """Predicted joints of every evaluated frame, in poseval's order (frame, then person)."""

    def __init__(self) -> None:
        self.has, self.scores, self.labels = [], [], []
        self.num_gt = np.zeros(15, dtype=np.int64)
        self.frames = 0

    def add(self, gt: Frame, pred: Frame, where: str) -> None:
        if not gt.persons:  # poseval drops the frame and its predictions
            return
        gxy, ghas, _, gheads = _arrays(gt.persons)
        pxy, phas, pscores, _ = _arrays(pred.persons)
        if gt.ignore_regions:  # joints strictly inside a region are deleted (GT and predicted)
            ghas &= ~points_in_regions(gxy.reshape(-1, 2), gt.ignore_regions).reshape(ghas.shape)
            phas &= ~points_in_regions(pxy.reshape(-1, 2), gt.ignore_regions).reshape(phas.shape)
        missing = ghas.any(axis=1) & np.isnan(gheads).any(axis=1)
        if missing.any():
            tid = gt.persons[int(np.argmax(missing))].track_id
            raise ValueError(f"{where}: ground-truth person (track {tid}) has no head box")
        self.num_gt += ghas.sum(axis=0)
        self.labels.append(assign_frame(pxy, phas, gxy, ghas, head_sizes(gheads)))
        self.has.append(phas)
        self.scores.append(pscores)
        self.frames += 1

    def result(self, num_sequences: int) -> dict:
        has = np.concatenate(self.has) if self.has else np.zeros((0, 15), bool)
        scores = np.concatenate(self.scores) if self.scores else np.zeros((0, 15))
        labels = np.concatenate(self.labels) if self.labels else np.zeros((0, 15), bool)
        per_joint = [(scores[has[:, j], j], labels[has[:, j], j]) for j in range(15)]
        ap, pre, rec = joint_ap([s for s, _ in per_joint], [lb for _, lb in per_joint], self.num_gt)
        out: dict = summarize(ap)

        def ours(values: np.ndarray) -> dict[str, float]:
            by_name = joint_dict(values)
            return {name: by_name[name] for name in JOINT_NAMES}

        out.update(joints=ours(ap), precision=ours(pre), recall=ours(rec))
        out.update(num_gt={n: int(v) for n, v in ours(self.num_gt.astype(float)).items()})
        out.update(num_frames=self.frames, num_sequences=num_sequences)
        return out


def _evaluate_pairs(pairs: list[tuple[Sequence, Sequence, str]], strict: bool) -> dict:
    pool = _Pool()
    for gt, pred, where in pairs:
        if len(pred.frames) != len(gt.frames):
            raise ValueError(
                f"{where}: # prediction frames {len(pred.frames)} <> # GT frames {len(gt.frames)}"
                " (poseval pairs frames by position: write every GT frame, in GT order)"
            )
        for k, (gf, pf) in enumerate(zip(gt.frames, pred.frames, strict=True)):
            at = f"{where} frame {k}"
            if strict:
                _check_frame(gf, pf, at)
            pool.add(gf, pf, at)
    return pool.result(len(pairs))


def _tail(path: str) -> list[str]:
    """Sequence folder and file name of an image path."""
    return path.replace("\\", "/").rsplit("/", 2)[-2:]


def _check_frame(gt: Frame, pred: Frame, where: str) -> None:
    """File-mode checks poseval (or common sense) applies to a frame pair."""
    if gt.image_path and pred.image_path:
        g, p = _tail(gt.image_path), _tail(pred.image_path)
        if g != p:
            raise ValueError(f"{where}: prediction image {'/'.join(p)} <> GT image {'/'.join(g)}")
    for role, frame in (("GT", gt), ("prediction", pred)):
        ids = [p.track_id for p in frame.persons]
        if any(t >= MAX_TRACK_ID for t in ids):
            raise ValueError(f"{where}: {role} track_id must be < {MAX_TRACK_ID}, got {max(ids)}")
    ids = [p.track_id for p in pred.persons]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{where}: prediction track_ids are not unique within the frame: {ids}")


def _check_names(data: dict, path: Path) -> None:
    """poseval derives image ids from PoseTrack 2018 names; refuse what it refuses."""
    for img in data.get("images", []):
        name = Path(str(img.get("file_name", "")))
        tok = name.parent.name.split("_")
        ok = len(tok) > 1 and tok[0].isdigit() and tok[1] in _SEQUENCE_TYPES
        ok = ok and name.stem.isdigit() and int(name.stem) < 10000
        if not ok:
            raise ValueError(
                f"{path}: image {name} does not follow the PoseTrack naming poseval requires "
                "(<digits>_<mpii|bonn|mpiinew>[_...]/<frame < 10000>.jpg); "
                "pass check_names=False to evaluate anyway"
            )


def _load_video(path: Path, check_names: bool) -> Sequence:
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    if check_names and isinstance(data, dict) and "annolist" not in data:
        _check_names(data, path)
    seqs = parse_posetrack(data, path, image_root=path.parent, dtype=np.float64,
                           require_track_ids=True)  # fmt: skip
    if len(seqs) != 1:
        raise ValueError(f"{path}: expected one video per file (poseval reads only the first), "
                         f"found {len(seqs)}")  # fmt: skip
    return seqs[0]


def _load_dirs(gt_dir: Path, pred_dir: Path, check_names: bool) -> list:
    gt_files = sorted(gt_dir.glob("*.json"))
    if not gt_files:
        raise FileNotFoundError(f"no ground-truth *.json files in {gt_dir}")
    pairs = []
    for gt_file in gt_files:
        pred_file = pred_dir / gt_file.name  # poseval: same basename
        if not pred_file.is_file():
            raise FileNotFoundError(f"no prediction file {pred_file} for {gt_file}")
        gt, pred = _load_video(gt_file, check_names), _load_video(pred_file, check_names)
        pairs.append((gt, pred, str(pred_file)))
    return pairs


def _as_sequences(x, role: str) -> list[Sequence]:
    if isinstance(x, (str, Path)):
        return load_posetrack(x, Path(x) if Path(x).is_dir() else Path(x).parent, dtype=np.float64)
    if isinstance(x, Sequence):
        return [x]
    if isinstance(x, SequenceABC) and all(isinstance(s, Sequence) for s in x):
        return list(x)
    raise TypeError(f"{role} must be a directory/file path or a list of Sequence, got {type(x)}")


def evaluate_sequences(gt: list[Sequence], pred: list[Sequence]) -> dict:
    """In-memory evaluation: sequences are paired by ``name``, frames by position.

    Args:
        gt: ground truth (``keypoints[:, 2] > 0`` = annotated; head boxes required for
            persons with joints). pred: predictions (``keypoints[:, 2] > 0`` = predicted;
            ``Person.scores`` (15,) per-joint scores, None = -9999). Track ids are not checked.

    Returns:
        see :func:`evaluate_posetrack`.
    """
    gt, pred = _as_sequences(gt, "gt"), _as_sequences(pred, "pred")
    by_name = {}
    for s in pred:
        if s.name in by_name:
            raise ValueError(f"two prediction sequences are named {s.name!r}")
        by_name[s.name] = s
    pairs = []
    for s in gt:
        if s.name not in by_name:
            raise ValueError(f"no prediction sequence named {s.name!r}")
        pairs.append((s, by_name[s.name], s.name))
    return _evaluate_pairs(pairs, strict=False)


def evaluate_posetrack(gt, pred, *, check_names: bool = True) -> dict:
    """PoseTrack per-joint AP and mAP as poseval computes them.

    Args:
        gt: directory of per-video ground-truth JSON files (PoseTrack 2018/21 or 2017 format),
            or a list of :class:`Sequence`.
        pred: directory holding one prediction file per GT file with the same basename, or a
            list of :class:`Sequence` (paired by name).
        check_names: with two directories, also refuse what poseval refuses (image naming,
            track ids >= 10000 or repeated within a prediction frame) and check that frame
            file names agree.

    Returns:
        ``head, shoulder, elbow, wrist, hip, knee, ankle, mean`` (percent; NaN for a group
        whose joint has no ground truth; ``mean`` = mean of the non-NaN joint APs) plus
        ``joints``, ``precision``, ``recall`` ({joint name: percent}), ``num_gt``
        ({joint name: count}), ``num_frames`` (frames evaluated) and ``num_sequences``.

    Raises:
        FileNotFoundError: missing GT files or prediction file.
        ValueError: malformed files, frame-count mismatch, missing head boxes, etc.
    """
    if isinstance(gt, (str, Path)) and isinstance(pred, (str, Path)):
        gt_dir, pred_dir = Path(gt), Path(pred)
        for d in (gt_dir, pred_dir):
            if not d.is_dir():
                raise FileNotFoundError(f"not a directory: {d}")
        return _evaluate_pairs(_load_dirs(gt_dir, pred_dir, check_names), strict=check_names)
    return evaluate_sequences(gt, pred)


def format_table(result: dict, digits: int = 1) -> str:
    """The paper's table: Head | Shoulder | Elbow | Wrist | Hip | Knee | Ankle | Mean."""
    heads = [c.capitalize() for c in TABLE_COLUMNS]
    cells = [f"{result[c]:.{digits}f}" for c in TABLE_COLUMNS]
    widths = [max(len(h), len(c)) for h, c in zip(heads, cells, strict=True)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(heads, widths, strict=True)) + " |"
    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    row = "| " + " | ".join(c.rjust(w) for c, w in zip(cells, widths, strict=True)) + " |"
    return "\n".join([line, rule, row])
