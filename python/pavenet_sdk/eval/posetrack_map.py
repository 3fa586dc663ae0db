"""PoseTrack per-joint AP and mAP exactly as the official poseval computes them.

Pipeline (posetrack-eval.md sections 3.1-3.8): pair frames by position; drop frames without
ground-truth people together with their predictions; delete joints strictly inside ignore
regions; assign persons per frame by PCKh (:mod:`.matching`); pool every predicted joint of all
frames into one ranked list per joint; VOC AP per joint (:mod:`.ap`); seven groups plus the
mean of the 15 joint APs. Values are percentages.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from pavenet_sdk.data.posetrack import (
    MAX_TRACK_ID,
    MIN_SCORE,
    POSEVAL_JOINT_NAMES,
    parse_posetrack,
)
from pavenet_sdk.data.types import Frame, Person, Sequence
from pavenet_sdk.eval.ap import GROUPS, joint_ap, joint_dict, summarize
from pavenet_sdk.eval.matching import assign_frame, head_sizes
from pavenet_sdk.eval.polygons import points_in_regions
from pavenet_sdk.eval.report import one_row_table
from pavenet_sdk.eval.sequences import as_sequences, check_frame_count, pair_by_name
from pavenet_sdk.layouts import DEFAULT_LAYOUT, POSETRACK_15, JointLayout, get_layout

__all__ = ["TABLE_COLUMNS", "evaluate_posetrack", "evaluate_sequences", "format_table"]

TABLE_COLUMNS = (*GROUPS, "mean")  # head, shoulder, ..., ankle, mean (the paper's layout)
_SEQUENCE_TYPES = ("mpii", "bonn", "mpiinew")
J = len(POSEVAL_JOINT_NAMES)  # poseval scores 15 joints, whatever the models' layouts


class _Side:
    """One side's persons in poseval's 15-joint order, read by name from its layout."""

    def __init__(self, layout: JointLayout, role: str) -> None:
        where = {name: i for i, name in enumerate(layout.joints)}
        self.layout, self.role = layout, role
        self.known = np.array([n in where for n in POSEVAL_JOINT_NAMES])  # (15,) layout has it
        self.index = np.array([where.get(n, 0) for n in POSEVAL_JOINT_NAMES], dtype=np.int64)

    def arrays(self, persons: list[Person], dtype=np.float64):
        """Persons -> xy (n, 15, 2), present (n, 15), scores (n, 15), heads (n, 4).

        A joint the layout lacks is neither annotated nor predicted.
        """
        n, k = len(persons), self.layout.num_joints
        xy, has = np.zeros((n, J, 2), dtype), np.zeros((n, J), bool)
        scores, heads = np.full((n, J), MIN_SCORE, dtype), np.full((n, 4), np.nan, dtype)
        for i, p in enumerate(persons):
            kps = np.asarray(p.keypoints, dtype=dtype)
            if kps.shape != (k, 3):
                raise ValueError(f"{self.role} Person.keypoints must be ({k}, 3) for layout "
                                 f"{self.layout.name!r}, got {kps.shape}")  # fmt: skip
            xy[i], has[i] = kps[self.index, :2], (kps[self.index, 2] > 0) & self.known
            if p.scores is not None:
                scores[i] = np.asarray(p.scores, dtype=dtype)[self.index]
            if p.head_box is not None:
                heads[i] = p.head_box
        return xy, has, scores, heads


class _Pool:
    """Predicted joints of every evaluated frame, in poseval's order (frame, then person)."""

    def __init__(self, gt_layout: JointLayout = POSETRACK_15,
                 pred_layout: JointLayout = POSETRACK_15) -> None:  # fmt: skip
        self.gt, self.pred = _Side(gt_layout, "ground-truth"), _Side(pred_layout, "prediction")
        self.has, self.scores, self.labels = [], [], []
        self.num_gt = np.zeros(J, dtype=np.int64)
        self.frames = 0

    def add(self, gt: Frame, pred: Frame, where: str) -> None:
        if not gt.persons:  # poseval drops the frame and its predictions
            return
        gxy, ghas, _, gheads = self.gt.arrays(gt.persons)
        pxy, phas, pscores, _ = self.pred.arrays(pred.persons)
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
        has = np.concatenate(self.has) if self.has else np.zeros((0, J), bool)
        scores = np.concatenate(self.scores) if self.scores else np.zeros((0, J))
        labels = np.concatenate(self.labels) if self.labels else np.zeros((0, J), bool)
        per_joint = [(scores[has[:, j], j], labels[has[:, j], j]) for j in range(J)]
        ap, pre, rec = joint_ap([s for s, _ in per_joint], [lb for _, lb in per_joint], self.num_gt)
        out: dict = summarize(ap)

        def ours(values: np.ndarray) -> dict[str, float]:
            by_name = joint_dict(values)
            return {name: by_name[name] for name in POSETRACK_15.joints}

        out.update(joints=ours(ap), precision=ours(pre), recall=ours(rec))
        out.update(num_gt={n: int(v) for n, v in ours(self.num_gt.astype(float)).items()})
        out.update(num_frames=self.frames, num_sequences=num_sequences)
        return out


def _evaluate_pairs(pairs: list[tuple[Sequence, Sequence, str]], strict: bool,
                    pool: _Pool | None = None) -> dict:  # fmt: skip
    pool = pool or _Pool()
    for gt, pred, where in pairs:
        check_frame_count(gt, pred, where)
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


def evaluate_sequences(
    gt: Sequence | list[Sequence] | str | Path, pred: Sequence | list[Sequence] | str | Path,
    *, gt_layout: str | JointLayout = DEFAULT_LAYOUT,
    pred_layout: str | JointLayout = DEFAULT_LAYOUT,
) -> dict:  # fmt: skip
    """In-memory evaluation: sequences are paired by ``name``, frames by position.

    Args:
        gt: ground truth (``keypoints[:, 2] > 0`` = annotated; head boxes required for
            persons with joints), or a PoseTrack file/folder read into ``gt_layout``.
        pred: predictions (``keypoints[:, 2] > 0`` = predicted; ``Person.scores`` (K,)
            per-joint scores, None = -9999), or a PoseTrack file/folder. Track ids are not
            checked.
        gt_layout, pred_layout: joint layouts of the two sides' ``Person.keypoints``. Joints
            are matched by name onto poseval's 15; a joint a layout lacks counts as not
            annotated (ground truth) or not predicted (predictions, AP 0 for that joint).

    Returns:
        see :func:`evaluate_posetrack`.
    """
    gt_layout, pred_layout = get_layout(gt_layout), get_layout(pred_layout)
    gt = as_sequences(gt, "gt", gt_layout)
    pred = as_sequences(pred, "pred", pred_layout)
    pairs = [(g, p, g.name) for g, p in pair_by_name(gt, pred)]
    return _evaluate_pairs(pairs, strict=False, pool=_Pool(gt_layout, pred_layout))


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
    return one_row_table([c.capitalize() for c in TABLE_COLUMNS],
                         [f"{result[c]:.{digits}f}" for c in TABLE_COLUMNS])  # fmt: skip
