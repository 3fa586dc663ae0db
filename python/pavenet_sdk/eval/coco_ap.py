"""COCO keypoint AP / AR (OKS) with pycocotools, for any joint layout, on sequences.

Ground truth and predictions are :class:`~pavenet_sdk.data.types.Sequence` lists from any
reader (PoseTrack, COCO, the synthetic generator, the runtime), paired by name and frames by
position; only labelled ground-truth frames are evaluated (each is one COCO image). The two
sides may use different joint layouts: the evaluated joints are named (``joints``; default:
all joints of the ground truth's layout when both layouts are equal, else the joints both
share, e.g. ``layouts.LIMB_JOINTS`` for a like-for-like comparison across layouts) and read
from each side by name, with the ground truth layout's OKS sigmas of exactly those joints. A
joint the prediction's layout lacks counts as not predicted (zero similarity).

pycocotools does the matching and the averaging, unchanged (``COCOeval(..., "keypoints")``,
``maxDets`` 20, OKS thresholds .50:.05:.95); this module only builds its inputs:

- ground-truth person: keypoints with v = 2 where annotated; ``area`` = ``Person.area``, else
  ``AREA_FACTOR`` (0.53) x the area of ``Person.box``, else of the annotated joints' extent
  (the segment-free convention of xtcocotools' ``use_area=False``; PoseTrack and synthetic
  ground truth has no segmentation area, so its OKS AP is comparable only within one
  convention); persons without annotated joints are ignored, as COCO ignores them;
- ``Frame.ignore_regions`` become crowd annotations (their bounding box), so a detection that
  matches no person but lies in one is neither a true nor a false positive, as COCO treats
  crowds (a COCO file's crowds come back as ignore regions from its reader);
- prediction: ``Person.score`` ranks it (else the mean of its per-joint ``scores``); its box
  and area are the extent of its predicted joints, as ``COCO.loadRes`` derives them.
"""

from __future__ import annotations

import contextlib
import io
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from pavenet_sdk.data.types import Frame, Person, Sequence
from pavenet_sdk.eval.report import one_row_table
from pavenet_sdk.eval.sequences import as_sequences, pair_by_name
from pavenet_sdk.layouts import DEFAULT_LAYOUT, JointLayout, get_layout

__all__ = ["COCO_COLUMNS", "evaluate_coco", "format_coco_table", "select_joints"]

# COCOeval.stats for keypoints, in its order (fractions in [0, 1]; m/l: medium/large people)
COCO_COLUMNS = ("AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75", "ARm", "ARl")
_FAR = 1e9  # px: where a joint the prediction lacks is put (its OKS term is exactly 0)


def select_joints(
    gt_layout: JointLayout, pred_layout: JointLayout, joints: Iterable[str] | None = None
) -> tuple[str, ...]:
    """The joints to score: ``joints`` (checked against the ground truth's layout), else all
    of ``gt_layout`` when the layouts are equal, else those both layouts have."""
    if joints is None:
        if gt_layout == pred_layout:
            return gt_layout.joints
        names = tuple(n for n in gt_layout.joints if n in pred_layout.joints)
        if not names:
            raise ValueError(
                f"layouts {gt_layout.name!r} and {pred_layout.name!r} share no joint to score"
            )
        return names
    names = tuple(joints)
    if not names or len(set(names)) != len(names):
        raise ValueError(f"joints must be distinct joint names, got {list(names)}")
    missing = [n for n in names if n not in gt_layout.joints]
    if missing:
        raise ValueError(
            f"the ground truth's layout {gt_layout.name!r} has no joint {missing[0]!r}; "
            f"it has {list(gt_layout.joints)}"
        )
    return names


class _Builder:
    """COCO ground-truth and detection dicts of the evaluated frames."""

    def __init__(self, gt_layout: JointLayout, pred_layout: JointLayout, names: tuple[str, ...]):
        self.gt_index = gt_layout.index(names)
        where = {n: i for i, n in enumerate(pred_layout.joints)}
        self.pred_known = np.array([n in where for n in names])
        self.pred_index = np.array([where.get(n, 0) for n in names], dtype=np.int64)
        self.gt_k, self.pred_k = gt_layout.num_joints, pred_layout.num_joints
        self.images: list[dict] = []
        self.gts: list[dict] = []
        self.dts: list[dict] = []

    def add(self, gt: Frame, pred: Frame, where: str) -> None:
        image_id = len(self.images) + 1
        self.images.append({"id": image_id})
        for person in gt.persons:
            kps = np.asarray(person.keypoints, dtype=np.float64)
            if kps.shape != (self.gt_k, 3):
                raise ValueError(f"{where}: ground-truth keypoints must be ({self.gt_k}, 3), "
                                 f"got {kps.shape}")  # fmt: skip
            sel = kps[self.gt_index]
            on = sel[:, 2] > 0
            x0, y0, x1, y1 = person.extent()
            bbox, area = [x0, y0, x1 - x0, y1 - y0], person.object_area()
            flat = np.c_[np.where(on[:, None], sel[:, :2], 0.0), 2.0 * on].ravel()
            self.gts.append({
                "id": len(self.gts) + 1, "image_id": image_id, "category_id": 1, "iscrowd": 0,
                "keypoints": flat.tolist(), "num_keypoints": int(on.sum()), "bbox": bbox,
                "area": area,
            })  # fmt: skip
        for region in gt.ignore_regions:
            pts = np.asarray(region, dtype=np.float64).reshape(-1, 2)
            (x0, y0), (x1, y1) = pts.min(0), pts.max(0)
            self.gts.append({
                "id": len(self.gts) + 1, "image_id": image_id, "category_id": 1, "iscrowd": 1,
                "keypoints": [0.0] * (3 * len(self.gt_index)), "num_keypoints": 0,
                "bbox": [x0, y0, x1 - x0, y1 - y0], "area": float((x1 - x0) * (y1 - y0)),
            })  # fmt: skip
        for person in pred.persons:
            self.dts.append(self._detection(person, image_id, where))

    def _detection(self, person: Person, image_id: int, where: str) -> dict:
        kps = np.asarray(person.keypoints, dtype=np.float64)
        if kps.shape != (self.pred_k, 3):
            raise ValueError(f"{where}: predicted keypoints must be ({self.pred_k}, 3), "
                             f"got {kps.shape}")  # fmt: skip
        sel = kps[self.pred_index]
        on = (sel[:, 2] > 0) & self.pred_known
        if person.score is not None:
            score = float(person.score)
        elif person.scores is not None:
            scores = np.asarray(person.scores, dtype=np.float64)[self.pred_index][on]
            score = float(scores.mean()) if len(scores) else 0.0
        else:
            raise ValueError(f"{where}: a prediction needs Person.score or Person.scores")
        xy = np.where(on[:, None], sel[:, :2], _FAR)
        if on.any():
            (x0, y0), (x1, y1) = xy[on].min(0), xy[on].max(0)
        else:
            x0 = y0 = x1 = y1 = 0.0
        return {
            "id": len(self.dts) + 1, "image_id": image_id, "category_id": 1, "score": score,
            "keypoints": np.c_[xy, on.astype(np.float64)].ravel().tolist(),
            "bbox": [float(x0), float(y0), float(x1 - x0), float(y1 - y0)],
            "area": float((x1 - x0) * (y1 - y0)),
        }  # fmt: skip


def _coco(dataset: dict) -> Any:
    from pycocotools.coco import COCO

    coco = COCO()
    coco.dataset = dataset
    coco.createIndex()
    return coco


def evaluate_coco(
    gt: Sequence | list[Sequence] | str | Path,
    pred: Sequence | list[Sequence] | str | Path,
    *,
    gt_layout: str | JointLayout = DEFAULT_LAYOUT,
    pred_layout: str | JointLayout = DEFAULT_LAYOUT,
    joints: Iterable[str] | None = None,
) -> dict[str, Any]:
    """COCO keypoint AP and AR of predictions against ground truth, computed by pycocotools.

    Args:
        gt: ground-truth sequences (or a PoseTrack file/folder, read into ``gt_layout``).
        pred: prediction sequences paired with ``gt`` by name, frames by position (or a
            PoseTrack file/folder, read into ``pred_layout``).
        gt_layout, pred_layout: the joint layouts of the two sides' ``Person.keypoints``.
        joints: names of the joints to score, e.g. ``layouts.LIMB_JOINTS`` (default: see
            :func:`select_joints`); OKS uses the ground truth layout's sigmas of exactly these.

    Returns:
        ``AP, AP50, AP75, APm, APl, AR, AR50, AR75, ARm, ARl`` (fractions in [0, 1], NaN when
        undefined, e.g. no ground-truth person of that size), ``joints`` (the names scored),
        ``sigmas``, ``num_images`` (labelled frames evaluated), ``num_gt`` (persons with an
        annotated scored joint) and ``num_pred``.

    Raises:
        ImportError: pycocotools is not installed.
        ValueError: unpaired or malformed sequences, unknown joints.
    """
    try:
        from pycocotools.cocoeval import COCOeval
    except ImportError:
        raise ImportError(
            "COCO keypoint AP needs pycocotools: pip install pycocotools "
            "(or the pavenet-sdk 'test' or 'train' extra)"
        ) from None
    gt_layout, pred_layout = get_layout(gt_layout), get_layout(pred_layout)
    names = select_joints(gt_layout, pred_layout, joints)
    pairs = pair_by_name(as_sequences(gt, "gt", gt_layout), as_sequences(pred, "pred", pred_layout))
    build = _Builder(gt_layout, pred_layout, names)
    for g, p in pairs:
        for k, (gf, pf) in enumerate(zip(g.frames, p.frames, strict=True)):
            if gf.is_labeled:
                build.add(gf, pf, f"{g.name} frame {k}")
    sigmas = np.asarray(gt_layout.sigmas, dtype=np.float64)[build.gt_index]
    out: dict[str, Any] = {c: math.nan for c in COCO_COLUMNS}
    if build.images:
        category = {"id": 1, "name": "person", "keypoints": list(names)}
        base = {"images": build.images, "categories": [category]}
        with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints progress
            ev = COCOeval(
                _coco({**base, "annotations": build.gts}),
                _coco({**base, "annotations": build.dts}),
                "keypoints",
            )
            ev.params.kpt_oks_sigmas = sigmas
            ev.evaluate()
            ev.accumulate()
            ev.summarize()
        stats = zip(COCO_COLUMNS, ev.stats, strict=True)
        out.update({c: float(v) if v >= 0 else math.nan for c, v in stats})  # -1: undefined
    out.update(
        joints=list(names),
        sigmas=[float(s) for s in sigmas],
        num_images=len(build.images),
        num_gt=sum(1 for a in build.gts if not a["iscrowd"] and a["num_keypoints"] > 0),
        num_pred=len(build.dts),
    )
    return out


def format_coco_table(result: dict[str, Any], digits: int = 3) -> str:
    """``| AP | AP50 | AP75 | APm | APl | AR | ... |`` as one markdown table (fractions)."""
    return one_row_table(COCO_COLUMNS, [f"{result[c]:.{digits}f}" for c in COCO_COLUMNS])
