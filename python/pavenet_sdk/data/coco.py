"""COCO keypoints JSON: the reader and the writer (the one home of the format).

Files hold ``images``, ``annotations`` and ``categories`` as COCO's ``person_keypoints_*.json``
do; keypoints are mapped **by name** between the file's person category and a joint layout
(:mod:`pavenet_sdk.layouts`), so a COCO-17 file reads into any layout (joints the file lacks
are absent) and any layout writes its own joint names.

Grouping into :class:`~pavenet_sdk.data.types.Sequence` objects:

- Images with a video id (``video_id`` as COCO-VID writes it, or PoseTrack21's ``vid_id``)
  form one sequence per video, ordered by ``frame_id``, named by the file's ``videos`` entry
  when there is one (else the id). ``Frame.index`` is the frame's position in the sequence.
- Every other image is its own **one-frame sequence** (named after its file's stem). Training
  samples windows t-T..t+T around labelled frames and evaluation iterates labelled frames, so
  a still photo must never get unrelated photos as temporal neighbours: a one-frame sequence
  gives it itself, replicated, as the windows' boundary rule does at a video's ends.

Per annotation: ``keypoints`` K x (x, y, v) become ``Person.keypoints`` (K, 3) float32 in the
layout's order, v kept as written (1 or 2) and joints with v = 0 stored as ``0, 0, 0``;
``keypoint_scores`` (or PoseTrack's ``scores``) become ``Person.scores``; ``score``,
``bbox`` (as x1, y1, x2, y2), ``area``, ``track_id`` and PoseTrack's ``bbox_head`` are read
when present. Crowd annotations (``iscrowd: 1``) are not persons: their polygons (or their box
when the mask is RLE) become ``Frame.ignore_regions``. Image ``width``/``height`` become
``Frame.image_size``. Every listed image is labelled unless it says ``is_labeled: false``
(PoseTrack21).

On writing, ``bbox`` is ``Person.box``, else the extent of the labelled joints (v > 0);
``area`` is ``Person.area``, else ``AREA_FACTOR`` (0.53) x the box, the segment-free
convention the training targets use.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from pavenet_sdk.data.types import Frame, Person, Sequence
from pavenet_sdk.layouts import JointLayout, get_layout

__all__ = ["read_coco_keypoints", "write_coco_keypoints"]

_VIDEO_KEYS = ("video_id", "vid_id")  # COCO-VID, PoseTrack21


class _Malformed(ValueError):
    """A problem found while parsing; re-raised once with the file named."""


def read_coco_keypoints(
    path: str | Path,
    layout: str | JointLayout = "coco-17",
    image_root: str | Path | None = None,
) -> list[Sequence]:
    """Read a COCO keypoints JSON file (or a folder of them) into sequences of a joint layout.

    Args:
        path: the JSON file, or a folder whose ``*.json`` files are read in name order (what
            ``pavenet label`` writes: one file per video).
        layout: the joint layout of the returned ``Person.keypoints`` (a name or a layout).
        image_root: folder ``file_name`` is relative to (default: each JSON's folder).

    Returns:
        videos (one sequence each, frames by ``frame_id``) and one-frame sequences for
        images without a video id, in the order their first image appears in the file.
        ``Frame.image_path`` is absolute and ``Frame.image_id`` is the file's image id.

    Raises:
        FileNotFoundError: ``path`` does not exist, or a folder holds no ``*.json`` file.
        ValueError: the file is not valid JSON or not COCO keypoints (the message names the
            file and the problem).
    """
    path = Path(path)
    layout = get_layout(layout)
    if path.is_dir():
        files = sorted(path.glob("*.json"))
        if not files:
            raise FileNotFoundError(f"no *.json files in {path}")
        return [s for f in files for s in read_coco_keypoints(f, layout, image_root)]
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        raise FileNotFoundError(f"COCO keypoints file not found: {path}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not valid JSON ({exc})") from None
    root = Path(image_root) if image_root is not None else path.parent
    try:
        return _parse(data, layout, root.resolve())
    except _Malformed as exc:
        raise ValueError(f"{path}: {exc}") from None


def _parse(data: Any, layout: JointLayout, root: Path) -> list[Sequence]:
    if not isinstance(data, dict):
        raise _Malformed(f"expected a JSON object, got {type(data).__name__}")
    for key in ("images", "annotations", "categories"):
        if not isinstance(data.get(key), list):
            raise _Malformed(f"no {key!r} list: not a COCO keypoints file")
    category_id, slots = _person_category(data["categories"], layout)
    images = [_check_image(img, i) for i, img in enumerate(data["images"])]
    by_id = {img["id"]: img for img in images}
    if len(by_id) != len(images):
        raise _Malformed("duplicate image ids")
    persons: dict[Any, list[Person]] = {img_id: [] for img_id in by_id}
    crowds: dict[Any, list[np.ndarray]] = {img_id: [] for img_id in by_id}
    for i, ann in enumerate(data["annotations"]):
        if not isinstance(ann, dict):
            raise _Malformed(f"annotation {i} is not an object")
        if ann.get("category_id", category_id) != category_id:
            continue
        image_id = ann.get("image_id")
        if not isinstance(image_id, (int, str)) or image_id not in by_id:
            raise _Malformed(f"annotation {ann.get('id', i)} refers to unknown image id "
                             f"{ann.get('image_id')!r}")  # fmt: skip
        if ann.get("iscrowd"):
            crowds[ann["image_id"]] += _crowd_regions(ann, i)
        else:
            persons[ann["image_id"]].append(_person(ann, i, slots, layout.num_joints))
    names = _video_names(data.get("videos"))
    groups: dict[Any, list[dict]] = {}
    for img in images:
        vid = next((img[k] for k in _VIDEO_KEYS if img.get(k) is not None), None)
        key = ("video", vid) if vid is not None else ("image", img["id"])
        groups.setdefault(key, []).append(img)
    sequences, taken = [], set()
    for (kind, key), members in groups.items():
        if kind == "video":
            members = sorted(members, key=_frame_id)
            name = names.get(key, str(key))
        else:
            name = Path(members[0]["file_name"]).stem
            name = name if name not in taken else f"{name}-{key}"
        taken.add(name)
        frames = [
            Frame(index=k, image_path=str(root / img["file_name"]),
                  is_labeled=bool(img.get("is_labeled", True)), persons=persons[img["id"]],
                  ignore_regions=crowds[img["id"]], image_id=img["id"],
                  image_size=_size(img))
            for k, img in enumerate(members)
        ]  # fmt: skip
        sequences.append(Sequence(name, frames))
    return sequences


def _person_category(categories: list, layout: JointLayout) -> tuple[Any, np.ndarray]:
    """The person category's id and, per file slot, the layout joint it fills (-1: none)."""
    with_kps = [c for c in categories if isinstance(c, dict) and "keypoints" in c]
    named = [c for c in with_kps if c.get("name") == "person"]
    found = named or with_kps
    if len(found) != 1:
        raise _Malformed(
            f"expected one category with 'keypoints' (named 'person'), found {len(found)}"
        )
    names = found[0]["keypoints"]
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise _Malformed("the person category's 'keypoints' must be a list of joint names")
    where = {name: i for i, name in enumerate(layout.joints)}
    slots = np.asarray([where.get(n, -1) for n in names], dtype=np.int64)
    if not (slots >= 0).any():
        raise _Malformed(
            f"no keypoint name of the file {names[:5]}... is a joint of layout {layout.name!r}"
        )
    return found[0].get("id"), slots


def _check_image(img: Any, i: int) -> dict:
    if (
        not isinstance(img, dict)
        or not isinstance(img.get("id"), (int, str))
        or not isinstance(img.get("file_name"), str)
    ):
        raise _Malformed(f"image entry {i} needs an 'id' and a 'file_name'")
    for key in _VIDEO_KEYS:
        if img.get(key) is not None:
            if not isinstance(img[key], (int, str)):
                raise _Malformed(f"image {img['id']!r}: {key!r} must be an integer or a string")
            _frame_id(img)
    return img


def _size(img: dict) -> tuple[int, int] | None:
    w, h = img.get("width"), img.get("height")
    if w is None and h is None:
        return None
    if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in (w, h)):
        raise _Malformed(f"image {img['id']!r}: 'width' and 'height' must be positive integers")
    return int(w), int(h)


def _frame_id(img: dict) -> float:
    value = img.get("frame_id")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Malformed(f"image {img['id']!r} has a video id but no numeric 'frame_id'")
    return float(value)


def _video_names(videos: Any) -> dict[Any, str]:
    if videos is None:
        return {}
    if not isinstance(videos, list) or not all(isinstance(v, dict) and "id" in v for v in videos):
        raise _Malformed("'videos' must be a list of objects with an 'id'")
    return {v["id"]: str(v.get("name", v["id"])) for v in videos}


def _floats(ann: dict, key: str, n: int, i: int) -> np.ndarray:
    value = ann.get(key)
    try:
        out = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        out = None
    if out is None or out.shape != (n,) or not np.isfinite(out).all():
        size = len(value) if isinstance(value, list) else type(value).__name__
        raise _Malformed(f"annotation {ann.get('id', i)}: {key!r} must be {n} finite numbers, "
                         f"got {size}")  # fmt: skip
    return out


def _person(ann: dict, i: int, slots: np.ndarray, k: int) -> Person:
    n = len(slots)
    raw = _floats(ann, "keypoints", 3 * n, i).reshape(n, 3)
    keep = slots >= 0
    raw[raw[:, 2] <= 0] = 0.0  # not labelled: 0, 0, 0
    kps = np.zeros((k, 3), dtype=np.float32)
    kps[slots[keep]] = raw[keep]
    scores = None
    for key in ("keypoint_scores", "scores"):  # ours / PoseTrack predictions
        if ann.get(key):
            scores = np.zeros(k, dtype=np.float32)
            scores[slots[keep]] = _floats(ann, key, n, i)[keep]
            break
    score = ann.get("score")
    if score is not None and (isinstance(score, bool) or not isinstance(score, (int, float))):
        raise _Malformed(f"annotation {ann.get('id', i)}: 'score' must be a number")
    head = _xyxy(ann, "bbox_head", i)
    box = _xyxy(ann, "bbox", i)
    area = ann.get("area")
    if area is not None and (isinstance(area, bool) or not isinstance(area, (int, float))):
        raise _Malformed(f"annotation {ann.get('id', i)}: 'area' must be a number")
    track = ann.get("track_id", -1)
    if isinstance(track, bool) or not isinstance(track, int):
        raise _Malformed(f"annotation {ann.get('id', i)}: 'track_id' must be an integer")
    return Person(track, kps, head, scores, None if score is None else float(score), box,
                  None if area is None else float(area))  # fmt: skip


def _xyxy(ann: dict, key: str, i: int) -> tuple[float, float, float, float] | None:
    """A COCO [x, y, w, h] field as (x1, y1, x2, y2), or None when absent."""
    if ann.get(key) is None:
        return None
    x, y, w, h = (float(v) for v in _floats(ann, key, 4, i))
    return (x, y, x + w, y + h)


def _crowd_regions(ann: dict, i: int) -> list[np.ndarray]:
    """A crowd annotation's polygons, or its box as one polygon when the mask is RLE."""
    seg = ann.get("segmentation")
    if isinstance(seg, list) and seg:
        polys = []
        for poly in seg:
            pts = np.asarray(poly, dtype=np.float32)
            if pts.ndim != 1 or len(pts) < 6 or len(pts) % 2:
                raise _Malformed(f"annotation {ann.get('id', i)}: bad crowd polygon")
            polys.append(pts.reshape(-1, 2))
        return polys
    x, y, w, h = _floats(ann, "bbox", 4, i)
    return [np.asarray([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], dtype=np.float32)]


def write_coco_keypoints(
    path: str | Path,
    sequences: Iterable[Sequence],
    layout: str | JointLayout,
    *,
    image_root: str | Path | None = None,
    videos: bool = True,
    info: Mapping[str, Any] | None = None,
) -> Path:
    """Write sequences as one COCO keypoints JSON file, atomically.

    The file is written to a temporary file in the same folder and moved into place with
    ``os.replace``: readers see the old file or the complete new one, never a partial one.

    Args:
        path: output file (parent folders are created).
        sequences: persons with ``keypoints`` (K, 3) in ``layout``; their ``scores`` are
            written as ``keypoint_scores`` and ``score`` as ``score`` (predictions and
            pseudo-labels), ``track_id`` when >= 0. ``Frame.image_size`` is written as
            ``width``/``height``.
        layout: joint layout of the keypoints (names and skeleton go into the category).
        image_root: ``file_name`` is written relative to it (default: the JSON's folder);
            images outside it keep their absolute path.
        videos: write ``videos`` entries and per-image ``video_id`` / ``frame_id``
            (``frame_id`` = ``Frame.index``); False writes plain images.
        info: the file's ``info`` object (e.g. which teacher made the labels).

    Returns:
        the path written.
    """
    path = Path(path)
    layout = get_layout(layout)
    root = Path(image_root) if image_root is not None else path.parent
    data = _build(list(sequences), layout, root.resolve(), videos)
    if info is not None:
        data = {"info": dict(info), **data}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, separators=(",", ":"))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _build(
    sequences: list[Sequence], layout: JointLayout, root: Path, videos: bool
) -> dict[str, Any]:
    frames = [f for s in sequences for f in s.frames]
    ids = [f.image_id for f in frames]
    if None in ids or len(set(ids)) != len(ids):  # keep the ids only when they identify
        ids = list(range(1, len(frames) + 1))
    images, annotations, video_list = [], [], []
    it = iter(ids)
    for v, seq in enumerate(sequences, start=1):
        if videos:
            video_list.append({"id": v, "name": seq.name})
        for frame in seq.frames:
            image_id = next(it)
            image = {"id": image_id, "file_name": _relative(frame.image_path, root)}
            if frame.image_size is not None:
                image["width"], image["height"] = (int(v) for v in frame.image_size)
            if videos:
                image.update(video_id=v, frame_id=int(frame.index))
            if not frame.is_labeled:
                image["is_labeled"] = False
            images.append(image)
            for person in frame.persons:
                annotations.append(_annotation(person, layout, image_id, len(annotations) + 1))
            for region in frame.ignore_regions:
                annotations.append(_crowd(region, image_id, layout, len(annotations) + 1))
    data: dict[str, Any] = {"images": images, "annotations": annotations}
    if videos:
        data["videos"] = video_list
    data["categories"] = [{
        "id": 1, "name": "person", "supercategory": "person", "keypoints": list(layout.joints),
        "skeleton": [[a + 1, b + 1] for a, b in layout.skeleton],  # COCO's is 1-based
    }]  # fmt: skip
    return data


def _relative(image_path: str, root: Path) -> str:
    p = Path(image_path)
    if p.is_absolute() and p.is_relative_to(root):
        return p.relative_to(root).as_posix()
    return p.as_posix()


def _annotation(person: Person, layout: JointLayout, image_id: int, ann_id: int) -> dict:
    k = layout.num_joints
    kps = np.asarray(person.keypoints, dtype=np.float64)
    if kps.shape != (k, 3) or not np.isfinite(kps).all():
        raise ValueError(
            f"Person.keypoints must be finite ({k}, 3) for layout {layout.name!r}, got {kps.shape}"
        )
    flat = []
    for x, y, v in kps:
        flat += [round(float(x), 2), round(float(y), 2), int(round(v))] if v > 0 else [0, 0, 0]
    x0, y0, x1, y1 = person.extent()
    bbox = [round(v, 2) for v in (x0, y0, x1 - x0, y1 - y0)]
    area = round(person.object_area(), 2)
    ann: dict[str, Any] = {
        "id": ann_id, "image_id": image_id, "category_id": 1, "iscrowd": 0,
        "keypoints": flat, "num_keypoints": int((kps[:, 2] > 0).sum()), "bbox": bbox,
        "area": area,
    }  # fmt: skip
    if person.track_id >= 0:
        ann["track_id"] = int(person.track_id)
    if person.scores is not None:
        scores = np.asarray(person.scores, dtype=np.float64)
        if scores.shape != (k,):
            raise ValueError(f"Person.scores must be ({k},), got {scores.shape}")
        ann["keypoint_scores"] = [round(float(s), 4) for s in scores]
    if person.score is not None:
        ann["score"] = round(float(person.score), 4)
    if person.head_box is not None:
        x1, y1, x2, y2 = (float(v) for v in person.head_box)
        ann["bbox_head"] = [x1, y1, x2 - x1, y2 - y1]
    return ann


def _crowd(region: np.ndarray, image_id: int, layout: JointLayout, ann_id: int) -> dict:
    pts = np.asarray(region, dtype=np.float64).reshape(-1, 2)
    (x0, y0), (x1, y1) = pts.min(0), pts.max(0)
    return {
        "id": ann_id, "image_id": image_id, "category_id": 1, "iscrowd": 1,
        "segmentation": [[round(float(v), 2) for v in pts.ravel()]],
        "keypoints": [0] * (3 * layout.num_joints), "num_keypoints": 0,
        "bbox": [float(x0), float(y0), float(x1 - x0), float(y1 - y0)],
        "area": float((x1 - x0) * (y1 - y0)),
    }  # fmt: skip
