"""PoseTrack 2017 / 2018 / 21 JSON readers and a PoseTrack 2018 writer.

Readers return :class:`~pavenet_sdk.data.types.Sequence` objects (one per video, frames in file
order). Keypoints are mapped **by name** to the 15 model joints (ears dropped), as poseval does.
A joint is *present* (``keypoints[:, 2] == 1``) under the poseval rule ``not (x == 0 and y == 0
and v == 0)``, or the PoseTrack21-kit rule ``x > 0 and y > 0`` with ``presence="pt21"``; absent
joints are stored as ``(0, 0, 0)``. Coordinates are pixels of the original frame.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from pavenet_sdk.data.types import (
    JOINT_NAMES,
    NUM_JOINTS,
    POSETRACK18_SLOTS,
    Frame,
    Person,
    Sequence,
)

__all__ = [
    "MIN_SCORE", "POSETRACK18_KEYPOINTS", "POSEVAL_JOINT_NAMES", "load_posetrack",
    "parse_posetrack", "write_posetrack18", "write_posetrack18_videos",
]  # fmt: skip

# the 17 PoseTrack 2018/21 keypoint slots (COCO order; the ears are never annotated)
POSETRACK18_KEYPOINTS: tuple[str, ...] = (
    "nose", "head_bottom", "head_top", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
)  # fmt: skip
# 1-based limb list of the official PoseTrack 2018 category (format data, written verbatim)
_POSETRACK18_SKELETON = [
    [16, 14], [14, 12], [17, 15], [15, 13], [12, 13], [6, 12], [7, 13], [6, 7], [6, 8], [7, 9],
    [8, 10], [9, 11], [2, 3], [1, 2], [1, 3], [2, 4], [3, 5], [4, 6], [5, 7],
]  # fmt: skip
# PoseTrack 2017 point ids (= poseval joint ids) -> joint names; "neck" of poseval = head_bottom
POSEVAL_JOINT_NAMES: tuple[str, ...] = (
    "right_ankle", "right_knee", "right_hip", "left_hip", "left_knee", "left_ankle",
    "right_wrist", "right_elbow", "right_shoulder", "left_shoulder", "left_elbow", "left_wrist",
    "head_bottom", "nose", "head_top",
)  # fmt: skip
_POSEVAL_TO_OURS = np.array([JOINT_NAMES.index(n) for n in POSEVAL_JOINT_NAMES])
MIN_SCORE = -9999.0  # poseval's score for a predicted joint without a score (ranked last)


def _one(value):
    """PoseTrack 2017 JSON wraps every scalar in a one-element list; unwrap it."""
    while isinstance(value, list):
        if len(value) != 1:
            raise ValueError(f"expected a scalar or a one-element list, got {value!r}")
        value = value[0]
    return value


def _present(kps: np.ndarray, presence: str) -> np.ndarray:
    """(..., K, 3) raw triplets -> (..., K) bool presence."""
    x, y, v = kps[..., 0], kps[..., 1], kps[..., 2]
    if presence == "poseval":
        return ~((x == 0) & (y == 0) & (v == 0))
    return (x > 0) & (y > 0)


def _category_index(data: dict, where: str) -> np.ndarray:
    """Map the file's keypoint slots to joint indices (-1 = dropped, e.g. ears)."""
    cats = data.get("categories")
    if not isinstance(cats, list) or len(cats) != 1 or cats[0].get("name") != "person":
        raise ValueError(f"{where}: expected exactly one category named 'person', got {cats!r}")
    names = cats[0].get("keypoints")
    if not isinstance(names, list) or not set(JOINT_NAMES) <= set(names):
        raise ValueError(f"{where}: category keypoints must name all 15 joints, got {names!r}")
    return np.array([JOINT_NAMES.index(n) if n in JOINT_NAMES else -1 for n in names])


def _persons18(anns: list[dict], slots: np.ndarray, presence: str, dtype, require_track: bool,
               where: str) -> list[Person]:  # fmt: skip
    """All annotations of a file at once (one array conversion, not one per person)."""
    k = len(slots)
    for ann in anns:
        if len(ann.get("keypoints", [])) != 3 * k:
            n = len(ann.get("keypoints", []))
            raise ValueError(f"{where}: annotation {ann.get('id')} has {n} keypoint values, "
                             f"expected 3 x {k}")  # fmt: skip
        if ann.get("scores") and len(ann["scores"]) != k:
            raise ValueError(f"{where}: annotation {ann.get('id')} has {len(ann['scores'])} "
                             f"scores, expected {k}")  # fmt: skip
        if require_track and "track_id" not in ann:
            raise ValueError(f"{where}: annotation {ann.get('id')} has no 'track_id'")
    raw = np.asarray([a["keypoints"] for a in anns], np.float64).reshape(len(anns), k, 3)
    keep = slots >= 0
    present = _present(raw, presence)[:, keep]  # (A, 15) in the file's slot order
    kps = np.zeros((len(anns), NUM_JOINTS, 3), dtype=dtype)
    kps[:, slots[keep], :2] = np.where(present[..., None], raw[:, keep, :2], 0.0)
    kps[:, slots[keep], 2] = present
    persons = []
    for i, ann in enumerate(anns):
        scores = None
        if ann.get("scores"):  # poseval: absent or [] -> no per-joint scores
            scores = np.full(NUM_JOINTS, MIN_SCORE, dtype=dtype)
            scores[slots[keep]] = np.asarray(ann["scores"], np.float64)[keep]
        head = ann.get("bbox_head")
        if head is not None:
            x, y, w, h = (float(v) for v in head)
            head = (x, y, x + w, y + h)
        score = ann.get("score")
        persons.append(Person(int(ann.get("track_id", -1)), kps[i], head, scores,
                              None if score is None else float(score)))  # fmt: skip
    return persons


def _polygons(xs: list, ys: list, dtype, where: str) -> list[np.ndarray]:
    if len(xs) != len(ys):
        raise ValueError(f"{where}: {len(xs)} ignore_regions_x polygons but {len(ys)} y")
    out = []
    for px, py in zip(xs, ys, strict=True):
        if len(px) != len(py):
            raise ValueError(f"{where}: ignore region with {len(px)} x but {len(py)} y values")
        out.append(np.stack([np.asarray(px, dtype), np.asarray(py, dtype)], axis=1).reshape(-1, 2))
    return out


def _read18(data: dict, path: Path, root: Path, presence: str, dtype, require_track: bool):
    slots = _category_index(data, str(path))
    anns = data.get("annotations", [])
    by_image: dict[int, list[Person]] = {}
    for ann, person in zip(anns, _persons18(anns, slots, presence, dtype, require_track, str(path)),
                           strict=True):  # fmt: skip
        by_image.setdefault(ann["image_id"], []).append(person)
    ids = {img["id"] for img in data["images"]}
    if unknown := sorted(set(by_image) - ids):
        raise ValueError(f"{path}: annotations refer to unknown image ids {unknown[:5]}")
    videos: dict[str, list[Frame]] = {}
    for img in data["images"]:
        name = str(img["file_name"])
        where = f"{path} image {name}"
        persons = by_image.get(img["id"], [])
        regions = []
        if "ignore_regions_x" in img and "ignore_regions_y" in img:  # poseval needs both
            regions = _polygons(img["ignore_regions_x"], img["ignore_regions_y"], dtype, where)
        frames = videos.setdefault(Path(name).parent.name, [])
        labeled = bool(img.get("is_labeled", len(persons) > 0))
        frames.append(Frame(len(frames), str(root / name), labeled, persons, regions, img["id"]))
    return [Sequence(name, frames) for name, frames in videos.items()]


def _person17(rect: dict, dtype, require_track: bool, where: str) -> Person:
    kps = np.zeros((NUM_JOINTS, 3), dtype=dtype)
    scores = np.full(NUM_JOINTS, MIN_SCORE, dtype=dtype)
    has_score = False
    points = rect.get("annopoints") or [{}]  # no annopoints -> a person without joints
    for pt in (points[0] or {}).get("point", []):
        pid = _one(pt.get("id"))
        if pid is None or kps[_POSEVAL_TO_OURS[int(pid)], 2] > 0:
            continue  # poseval takes the first point of each id
        j = _POSEVAL_TO_OURS[int(pid)]
        kps[j] = (float(_one(pt["x"])), float(_one(pt["y"])), 1.0)
        if "score" in pt:
            scores[j], has_score = float(_one(pt["score"])), True
    if "track_id" not in rect and require_track:
        raise ValueError(f"{where}: person without 'track_id'")
    head = None
    if all(k in rect for k in ("x1", "y1", "x2", "y2")):
        head = tuple(float(_one(rect[k])) for k in ("x1", "y1", "x2", "y2"))
    score = _one(rect["score"]) if "score" in rect else None
    return Person(int(_one(rect.get("track_id", -1))), kps, head, scores if has_score else None,
                  None if score is None else float(score))  # fmt: skip


def _read17(data: dict, path: Path, root: Path, dtype, require_track: bool) -> list[Sequence]:
    frames = []
    for k, entry in enumerate(data["annolist"]):
        image = entry.get("image", {})
        name = str(_one(image[0]["name"] if isinstance(image, list) else image.get("name", "")))
        where = f"{path} frame {k}"
        persons = [_person17(r, dtype, require_track, where) for r in entry.get("annorect", [])]
        regions = []
        for region in entry.get("ignore_regions", []):
            pts = region.get("point", [])
            xs, ys = [_one(p["x"]) for p in pts], [_one(p["y"]) for p in pts]
            regions += _polygons([xs], [ys], dtype, where)
        labeled = bool(_one(entry["is_labeled"])) if "is_labeled" in entry else len(persons) > 0
        frames.append(Frame(k, str(root / name) if name else "", labeled, persons, regions))
    seq = Path(frames[0].image_path).parent.name if frames and frames[0].image_path else path.stem
    return [Sequence(seq, frames)]


def _infer_root(path: Path, first_name: str | None) -> Path:
    """The dataset root: the ancestor under which ``file_name`` exists, else the parent of
    an ``annotations`` folder, else the JSON's own folder."""
    parents = list(path.resolve().parents)
    if first_name:
        for p in parents:
            if (p / first_name).exists():
                return p
    for p in parents:
        if p.name == "annotations":
            return p.parent
    return path.resolve().parent


def load_posetrack(
    path: str | Path, image_root: str | Path | None = None, *, split: str | None = None,
    presence: str = "poseval", dtype=np.float32, require_track_ids: bool = False,
) -> list[Sequence]:  # fmt: skip
    """Read PoseTrack annotations or predictions into sequences.

    Args:
        path: a PoseTrack 2017 ``annolist`` JSON, a PoseTrack 2018/21 JSON (per-video or merged:
            merged files are split by image folder), or a directory of such files (sorted by name).
        image_root: folder that ``file_name`` / ``image.name`` are relative to; inferred when None.
        split: if given, ``path`` is a dataset root and the per-video files are read from
            ``<path>/annotations/<split>/`` (PoseTrack 2018 layout, also the synthetic writer's)
            or ``<path>/posetrack_data/<split>/`` (PoseTrack21), images relative to ``path``.
        presence: ``"poseval"`` or ``"pt21"`` joint-presence rule (module docstring).
        dtype: float dtype of keypoints and polygons (the evaluator uses float64).
        require_track_ids: raise ValueError for persons without ``track_id`` (else -1).

    Returns:
        sequences in file order; ``Frame.image_path`` is absolute.
    """
    path = Path(path)
    if split is not None:
        candidates = [path / "annotations" / split, path / "posetrack_data" / split]
        found = next((c for c in candidates if c.is_dir()), None)
        if found is None:
            raise FileNotFoundError(f"no annotation folder for split {split!r}: tried {candidates}")
        path, image_root = found, path if image_root is None else image_root
    if path.is_dir():
        files = sorted(path.glob("*.json"))
        if not files:
            raise FileNotFoundError(f"no *.json files in {path}")
        kw = {"presence": presence, "dtype": dtype, "require_track_ids": require_track_ids}
        return [s for f in files for s in load_posetrack(f, image_root, **kw)]
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    return parse_posetrack(data, path, image_root, presence=presence, dtype=dtype,
                           require_track_ids=require_track_ids)  # fmt: skip


def parse_posetrack(
    data: dict, source: str | Path, image_root: str | Path | None = None, *,
    presence: str = "poseval", dtype=np.float32, require_track_ids: bool = False,
) -> list[Sequence]:  # fmt: skip
    """:func:`load_posetrack` on already-parsed JSON; ``source`` names the file (errors, root)."""
    if presence not in ("poseval", "pt21"):
        raise ValueError(f"presence must be 'poseval' or 'pt21', got {presence!r}")
    path = Path(source)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object, got {type(data).__name__}")
    if "annolist" in data:
        first = data["annolist"][0].get("image") if data["annolist"] else None
        if first:
            first = _one(first[0]["name"] if isinstance(first, list) else first["name"])
        root = Path(image_root) if image_root is not None else _infer_root(path, first)
        return _read17(data, path, root.resolve(), dtype, require_track_ids)
    if "images" not in data:
        raise ValueError(f"{path}: neither a PoseTrack 2017 'annolist' nor a 2018 'images' file")
    first = data["images"][0]["file_name"] if data["images"] else None
    root = Path(image_root) if image_root is not None else _infer_root(path, first)
    return _read18(data, path, root.resolve(), presence, dtype, require_track_ids)


def _file_name(frame: Frame, seq: Sequence, image_root: Path | None, split: str) -> str:
    p = Path(frame.image_path) if frame.image_path else None
    if p is not None and not p.is_absolute():
        return p.as_posix()
    if p is not None and image_root is not None and p.is_relative_to(image_root):
        return p.relative_to(image_root).as_posix()
    return f"images/{split}/{seq.name}/{frame.index:06d}.jpg"  # the PoseTrack layout


def _unique_ids(ids: Iterable[int]) -> list[int]:
    """Keep valid (0..9999) ids unique within a frame; replace the others by unused ids."""
    ids, seen, out = list(ids), set(), []
    taken = set(ids)
    free = (i for i in range(10000) if i not in taken)
    for t in ids:
        out.append(t if 0 <= t < 10000 and t not in seen else next(free))
        seen.add(out[-1])
    return out


def _annotation(person: Person, image_id: int, k: int, track_id: int, with_scores: bool) -> dict:
    kps = np.asarray(person.keypoints, dtype=np.float64)
    if kps.shape != (NUM_JOINTS, 3):
        raise ValueError(f"Person.keypoints must be ({NUM_JOINTS}, 3), got {kps.shape}")
    present = kps[:, 2] > 0
    triplets = np.zeros((len(POSETRACK18_KEYPOINTS), 3))
    xy1 = np.c_[kps[:, :2], np.ones(NUM_JOINTS)]
    triplets[list(POSETRACK18_SLOTS)] = np.where(present[:, None], xy1, 0.0)
    ann = {
        "id": image_id * 100 + k, "image_id": image_id, "track_id": track_id, "category_id": 1,
        "keypoints": [float(v) for v in triplets.ravel()], "num_keypoints": int(present.sum()),
    }  # fmt: skip
    pts = kps[present, :2]
    x0, y0 = pts.min(0) if len(pts) else (0.0, 0.0)
    x1, y1 = pts.max(0) if len(pts) else (0.0, 0.0)
    ann["bbox"] = [float(x0), float(y0), float(x1 - x0), float(y1 - y0)]
    if person.head_box is not None:
        hx1, hy1, hx2, hy2 = (float(v) for v in person.head_box)
        ann["bbox_head"] = [hx1, hy1, hx2 - hx1, hy2 - hy1]
    ann["scores"] = []
    if with_scores:
        if person.scores is None and person.score is None:
            raise ValueError("prediction output needs Person.scores (per joint) or Person.score")
        joint = person.scores if person.scores is not None else np.full(NUM_JOINTS, person.score)
        slots = np.zeros(len(POSETRACK18_KEYPOINTS))
        slots[list(POSETRACK18_SLOTS)] = joint
        ann["scores"] = [float(v) for v in slots]
    if person.score is not None:
        ann["score"] = float(person.score)
    return ann


def write_posetrack18(
    sequence: Sequence, path: str | Path, *, scores: bool | None = None,
    image_root: str | Path | None = None, split: str = "val",
) -> Path:  # fmt: skip
    """Write one sequence as a PoseTrack 2018 per-video JSON (ground truth or predictions).

    Absent joints are written ``0,0,0`` and present ones ``x,y,1`` (poseval then evaluates
    exactly the present ones). Track ids are made unique per frame within 0..9999.

    Args:
        sequence: frames in order; every frame is written (poseval pairs frames by position).
        path: output JSON file (parent folders are created).
        scores: True = prediction file (per-joint ``scores`` from ``Person.scores``, else the
            person ``score`` repeated; persons sorted by descending score); False = ground-truth
            style (``scores: []``); None = True iff any person carries scores.
        image_root: absolute image paths under it are written relative to it; otherwise
            relative paths are kept and others become ``images/<split>/<sequence>/<index>.jpg``.
    """
    persons_all = [p for f in sequence.frames for p in f.persons]
    if scores is None:
        scores = any(p.scores is not None or p.score is not None for p in persons_all)
    root = Path(image_root).resolve() if image_root is not None else None
    images, annotations = [], []
    for frame in sequence.frames:
        image_id = int(frame.image_id) if frame.image_id is not None else frame.index
        persons = list(frame.persons)
        if scores:  # duplicates with equal PCKh then go to the higher-scored one
            def rank(p: Person) -> float:
                if p.score is None and p.scores is None:
                    raise ValueError("prediction output needs Person.scores or Person.score")
                return p.score if p.score is not None else float(np.mean(p.scores))
            persons.sort(key=rank, reverse=True)
        regions = [np.asarray(r, dtype=np.float64).reshape(-1, 2) for r in frame.ignore_regions]
        images.append({
            "id": image_id, "frame_id": image_id,
            "file_name": _file_name(frame, sequence, root, split),
            "vid_id": sequence.name.split("_")[0], "nframes": len(sequence.frames),
            "is_labeled": bool(frame.is_labeled),
            "ignore_regions_x": [[float(v) for v in r[:, 0]] for r in regions],
            "ignore_regions_y": [[float(v) for v in r[:, 1]] for r in regions],
        })  # fmt: skip
        ids = _unique_ids(int(p.track_id) for p in persons)
        for k, (person, track_id) in enumerate(zip(persons, ids, strict=True)):
            annotations.append(_annotation(person, image_id, k, track_id, scores))
    data = {"images": images, "annotations": annotations, "categories": [{
        "supercategory": "person", "id": 1, "name": "person",
        "keypoints": list(POSETRACK18_KEYPOINTS), "skeleton": _POSETRACK18_SKELETON}]}  # fmt: skip
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def write_posetrack18_videos(
    sequences: Iterable[Sequence], out_dir: str | Path, **kwargs
) -> list[Path]:
    """Write ``<out_dir>/<sequence.name>.json`` per sequence (the layout poseval reads)."""
    return [write_posetrack18(s, Path(out_dir) / f"{s.name}.json", **kwargs) for s in sequences]
