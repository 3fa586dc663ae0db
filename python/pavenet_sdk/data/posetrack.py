"""The PoseTrack format: 2017 / 2018 / 21 JSON readers and the one PoseTrack 2018 writer.

Readers return :class:`~pavenet_sdk.data.types.Sequence` objects (one per video, frames in file
order). Keypoints are mapped **by name** into a requested joint layout (``pavenet_sdk.layouts``,
default ``posetrack-15``): joints the file has and the layout lacks are dropped (the ears for
``posetrack-15``), joints the layout has and the file lacks are absent (the eyes for
``coco-17``). A joint is *present* (``keypoints[:, 2] == 1``) under the poseval rule
``not (x == 0 and y == 0 and v == 0)``, or the PoseTrack21-kit rule ``x > 0 and y > 0`` with
``presence="pt21"``; absent joints are stored as ``(0, 0, 0)``. Coordinates are pixels of the
original frame.

:class:`PoseTrack18Writer` writes any layout into PoseTrack's 17 slots (``layout.posetrack_slots``)
frame by frame and always leaves a complete JSON file behind, also when the producer fails.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from pavenet_sdk.data.types import Frame, Person, Sequence
from pavenet_sdk.layouts import DEFAULT_LAYOUT, POSETRACK18_JOINTS, JointLayout, get_layout

__all__ = [
    "MIN_SCORE", "POSEVAL_JOINT_NAMES", "PoseTrack18Writer", "load_posetrack", "parse_posetrack",
    "write_posetrack18", "write_posetrack18_videos",
]  # fmt: skip

LayoutLike = str | JointLayout

# 1-based limb list of the official PoseTrack 2018 category (format data, written verbatim)
_POSETRACK18_SKELETON = [
    [16, 14], [14, 12], [17, 15], [15, 13], [12, 13], [6, 12], [7, 13], [6, 7], [6, 8], [7, 9],
    [8, 10], [9, 11], [2, 3], [1, 2], [1, 3], [2, 4], [3, 5], [4, 6], [5, 7],
]  # fmt: skip
_CATEGORY = {
    "supercategory": "person", "id": 1, "name": "person",
    "keypoints": list(POSETRACK18_JOINTS), "skeleton": _POSETRACK18_SKELETON,
}  # fmt: skip
# PoseTrack 2017 point ids (= poseval joint ids) -> joint names; "neck" of poseval = head_bottom
POSEVAL_JOINT_NAMES: tuple[str, ...] = (
    "right_ankle", "right_knee", "right_hip", "left_hip", "left_knee", "left_ankle",
    "right_wrist", "right_elbow", "right_shoulder", "left_shoulder", "left_elbow", "left_wrist",
    "head_bottom", "nose", "head_top",
)  # fmt: skip
MIN_SCORE = -9999.0  # poseval's score for a predicted joint without a score (ranked last)
MAX_TRACK_ID = 10000  # poseval rejects track ids >= this
SCORE_DECIMALS = 5  # scores of a writer that rounds (``decimals``): ties stay rare


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


def _index_in(layout: JointLayout, names: Iterable[str]) -> np.ndarray:
    """For each name, its joint index in ``layout`` (-1 where the layout lacks it)."""
    where = {name: i for i, name in enumerate(layout.joints)}
    return np.array([where.get(name, -1) for name in names], dtype=np.int64)


def _category_index(data: dict, where: str, layout: JointLayout) -> np.ndarray:
    """Map the file's keypoint slots to ``layout`` joint indices (-1 = dropped, e.g. ears)."""
    cats = data.get("categories")
    if not isinstance(cats, list) or len(cats) != 1 or cats[0].get("name") != "person":
        raise ValueError(f"{where}: expected exactly one category named 'person', got {cats!r}")
    names = cats[0].get("keypoints")
    if not isinstance(names, list) or not set(POSEVAL_JOINT_NAMES) <= set(names):
        raise ValueError(f"{where}: category keypoints must name all 15 PoseTrack joints "
                         f"(poseval evaluates them by name), got {names!r}")  # fmt: skip
    return _index_in(layout, names)


def _xywh_to_corners(box: Any, what: str, where: str) -> tuple[float, float, float, float]:
    if not isinstance(box, (list, tuple)) or len(box) != 4:
        raise ValueError(f"{where}: '{what}' must be [x, y, w, h], got {box!r}")
    x, y, w, h = (float(v) for v in box)
    return (x, y, x + w, y + h)


def _persons18(anns: list[dict], slots: np.ndarray, k: int, presence: str, dtype,
               require_track: bool, where: str) -> list[Person]:  # fmt: skip
    """All annotations of a file at once (one array conversion, not one per person)."""
    n_slots = len(slots)
    for ann in anns:
        if len(ann.get("keypoints", [])) != 3 * n_slots:
            n = len(ann.get("keypoints", []))
            raise ValueError(f"{where}: annotation {ann.get('id')} has {n} keypoint values, "
                             f"expected 3 x {n_slots}")  # fmt: skip
        if ann.get("scores") and len(ann["scores"]) != n_slots:
            raise ValueError(f"{where}: annotation {ann.get('id')} has {len(ann['scores'])} "
                             f"scores, expected {n_slots}")  # fmt: skip
        if require_track and "track_id" not in ann:
            raise ValueError(f"{where}: annotation {ann.get('id')} has no 'track_id'")
    raw = np.asarray([a["keypoints"] for a in anns], np.float64).reshape(len(anns), n_slots, 3)
    keep = slots >= 0
    present = _present(raw, presence)[:, keep]  # (A, kept) in the file's slot order
    kps = np.zeros((len(anns), k, 3), dtype=dtype)
    kps[:, slots[keep], :2] = np.where(present[..., None], raw[:, keep, :2], 0.0)
    kps[:, slots[keep], 2] = present
    persons = []
    for i, ann in enumerate(anns):
        scores = None
        if ann.get("scores"):  # poseval: absent or [] -> no per-joint scores
            scores = np.full(k, MIN_SCORE, dtype=dtype)
            scores[slots[keep]] = np.asarray(ann["scores"], np.float64)[keep]
        head = ann.get("bbox_head")
        if head is not None:
            head = _xywh_to_corners(head, "bbox_head", where)
        box = ann.get("bbox")
        box = _xywh_to_corners(box, "bbox", where) if box is not None else None
        score, area = ann.get("score"), ann.get("area")
        persons.append(Person(
            int(ann.get("track_id", -1)), kps[i], head, scores,
            None if score is None else float(score), box,
            float(area) if area is not None and float(area) > 0 else None,
        ))  # fmt: skip
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


def _read18(data: dict, path: Path, root: Path, presence: str, dtype, require_track: bool,
            layout: JointLayout) -> list[Sequence]:  # fmt: skip
    slots = _category_index(data, str(path), layout)
    anns = data.get("annotations", [])
    persons = _persons18(anns, slots, layout.num_joints, presence, dtype, require_track, str(path))
    by_image: dict[int, list[Person]] = {}
    for ann, person in zip(anns, persons, strict=True):
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
        size = (
            (int(img["width"]), int(img["height"])) if "width" in img and "height" in img else None
        )
        stamp = float(img["timestamp"]) if img.get("timestamp") is not None else None
        frames.append(Frame(len(frames), str(root / name), labeled, persons, regions, img["id"],
                            size, stamp))  # fmt: skip
    return [Sequence(name, frames) for name, frames in videos.items()]


def _person17(rect: dict, index: np.ndarray, k: int, dtype, require_track: bool,
              where: str) -> Person:  # fmt: skip
    kps = np.zeros((k, 3), dtype=dtype)
    scores = np.full(k, MIN_SCORE, dtype=dtype)
    has_score = False
    seen: set[int] = set()
    points = rect.get("annopoints") or [{}]  # no annopoints -> a person without joints
    for pt in (points[0] or {}).get("point", []):
        pid = _one(pt.get("id"))
        if pid is None or int(pid) in seen:
            continue  # poseval takes the first point of each id
        pid = int(pid)
        if not 0 <= pid < len(index):
            raise ValueError(f"{where}: point id {pid} is not a PoseTrack joint id (0..14)")
        seen.add(pid)
        j = index[pid]
        if j < 0:
            continue  # the layout lacks this joint
        kps[j] = (float(_one(pt["x"])), float(_one(pt["y"])), 1.0)
        if "score" in pt:
            scores[j], has_score = float(_one(pt["score"])), True
    if "track_id" not in rect and require_track:
        raise ValueError(f"{where}: person without 'track_id'")
    head = None
    if all(c in rect for c in ("x1", "y1", "x2", "y2")):
        head = tuple(float(_one(rect[c])) for c in ("x1", "y1", "x2", "y2"))
    score = _one(rect["score"]) if "score" in rect else None
    return Person(int(_one(rect.get("track_id", -1))), kps, head, scores if has_score else None,
                  None if score is None else float(score))  # fmt: skip


def _read17(data: dict, path: Path, root: Path, dtype, require_track: bool,
            layout: JointLayout) -> list[Sequence]:  # fmt: skip
    index = _index_in(layout, POSEVAL_JOINT_NAMES)
    frames = []
    for k, entry in enumerate(data["annolist"]):
        image = entry.get("image", {})
        name = str(_one(image[0]["name"] if isinstance(image, list) else image.get("name", "")))
        where = f"{path} frame {k}"
        persons = [_person17(r, index, layout.num_joints, dtype, require_track, where)
                   for r in entry.get("annorect", [])]  # fmt: skip
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
    layout: LayoutLike = DEFAULT_LAYOUT,
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
        layout: joint layout of the returned ``Person.keypoints`` (name or ``JointLayout``);
            joints are matched by name.

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
    kw = {"presence": presence, "dtype": dtype, "require_track_ids": require_track_ids,
          "layout": layout}  # fmt: skip
    if path.is_dir():
        files = sorted(path.glob("*.json"))
        if not files:
            raise FileNotFoundError(f"no *.json files in {path}")
        return [s for f in files for s in load_posetrack(f, image_root, **kw)]
    if not path.is_file():
        raise FileNotFoundError(f"no such PoseTrack file or folder: {path}")
    with open(path, encoding="utf-8") as fh:
        try:
            data = json.load(fh)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: not valid JSON ({exc})") from None
    return parse_posetrack(data, path, image_root, **kw)


def parse_posetrack(
    data: dict, source: str | Path, image_root: str | Path | None = None, *,
    presence: str = "poseval", dtype=np.float32, require_track_ids: bool = False,
    layout: LayoutLike = DEFAULT_LAYOUT,
) -> list[Sequence]:  # fmt: skip
    """:func:`load_posetrack` on already-parsed JSON; ``source`` names the file (errors, root)."""
    if presence not in ("poseval", "pt21"):
        raise ValueError(f"presence must be 'poseval' or 'pt21', got {presence!r}")
    layout = get_layout(layout)
    path = Path(source)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object, got {type(data).__name__}")
    if "annolist" in data:
        first = data["annolist"][0].get("image") if data["annolist"] else None
        if first:
            first = _one(first[0]["name"] if isinstance(first, list) else first["name"])
        root = Path(image_root) if image_root is not None else _infer_root(path, first)
        return _read17(data, path, root.resolve(), dtype, require_track_ids, layout)
    if "images" not in data:
        raise ValueError(f"{path}: neither a PoseTrack 2017 'annolist' nor a 2018 'images' file")
    first = data["images"][0]["file_name"] if data["images"] else None
    root = Path(image_root) if image_root is not None else _infer_root(path, first)
    return _read18(data, path, root.resolve(), presence, dtype, require_track_ids, layout)


def _unique_ids(ids: Iterable[int]) -> list[int]:
    """Keep valid (0..9999) ids unique within a frame; replace the others by unused ids."""
    ids, seen, out = list(ids), set(), []
    taken = set(ids)
    free = (i for i in range(MAX_TRACK_ID) if i not in taken)
    for t in ids:
        out.append(t if 0 <= t < MAX_TRACK_ID and t not in seen else next(free))
        seen.add(out[-1])
    return out


def _has_scores(person: Person) -> bool:
    return person.scores is not None or person.score is not None


class PoseTrack18Writer:
    """Write one video as a PoseTrack 2018 per-video JSON, frame by frame.

    A context manager: leaving the ``with`` block, normally or by an exception (Ctrl-C
    included), writes a complete, valid file holding the frames written so far. Annotations
    are streamed to an anonymous temporary file beside ``path`` as frames arrive, and the JSON
    is assembled in a temporary file in the same folder and moved over ``path`` with
    ``os.replace``, so ``path`` never holds a half-written file.

    Joints go into PoseTrack's 17 slots by name (``layout.posetrack_slots``): present joints
    are written ``x,y,1``, absent ones and slots the layout lacks (e.g. head_bottom/head_top of
    ``coco-17``) ``0,0,0`` with score 0, so poseval evaluates exactly the joints predicted.
    Track ids are made unique per frame within 0..9999. Every frame given is written, in
    order (poseval pairs frames by position).

    Args:
        path: output JSON file (parent folders are created).
        sequence_name: the video's name (``vid_id`` and default image paths).
        layout: joint layout of ``Person.keypoints`` (name or ``JointLayout``).
        scores: True = prediction file (per-joint ``scores`` from ``Person.scores``, else the
            person ``score`` repeated; persons sorted by descending score, so PCKh ties go to
            the higher-scored duplicate); False = ground-truth style (``scores: []``);
            None = per frame, prediction style iff a person in it carries scores.
        image_root: absolute image paths under it are written relative to it; otherwise
            relative paths are kept and others become ``images/<split>/<sequence>/<index>.jpg``.
        split: the split folder of default image paths.
        decimals: round coordinates and boxes to this many decimals, and scores to
            ``SCORE_DECIMALS`` (None: full precision).

    Example:
        >>> with PoseTrack18Writer("pred/000001_mpii_test.json", "000001_mpii_test") as out:
        ...     for frame in frames:
        ...         out.write(frame)
    """

    def __init__(
        self, path: str | Path, sequence_name: str, *, layout: LayoutLike = DEFAULT_LAYOUT,
        scores: bool | None = None, image_root: str | Path | None = None, split: str = "val",
        decimals: int | None = None,
    ) -> None:  # fmt: skip
        self.path = Path(path)
        self.sequence_name = str(sequence_name)
        self.layout = get_layout(layout)
        self.scores = scores
        self.image_root = Path(image_root).resolve() if image_root is not None else None
        self.split = split
        self.decimals = decimals
        slots = [(j, s) for j, s in enumerate(self.layout.posetrack_slots) if s is not None]
        if not slots:
            raise ValueError(f"layout {self.layout.name!r} shares no joint with PoseTrack")
        self._joints = np.array([j for j, _ in slots], dtype=np.int64)
        self._slots = np.array([s for _, s in slots], dtype=np.int64)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._images: list[dict] = []
        self._annotations = tempfile.TemporaryFile(
            "w+", encoding="utf-8", dir=self.path.parent, prefix=f".{self.path.name}.",
            suffix=".part",
        )  # fmt: skip
        self._num_annotations = 0
        self._closed = False

    @property
    def frames_written(self) -> int:
        return len(self._images)

    def __enter__(self) -> PoseTrack18Writer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:  # fmt: skip
        self.close()

    def _round(self, values: np.ndarray, decimals: int | None = None) -> list[float]:
        values = np.asarray(values, dtype=np.float64)
        if self.decimals is not None:
            values = np.round(values, self.decimals if decimals is None else decimals)
        return [float(v) for v in values.ravel()]

    def _file_name(self, frame: Frame) -> str:
        p = Path(frame.image_path) if frame.image_path else None
        if p is not None and not p.is_absolute():
            return p.as_posix()
        if p is not None and self.image_root is not None and p.is_relative_to(self.image_root):
            return p.relative_to(self.image_root).as_posix()
        return f"images/{self.split}/{self.sequence_name}/{frame.index:06d}.jpg"

    def _annotation(self, person: Person, image_id: int, k: int, track_id: int,
                    with_scores: bool) -> dict:  # fmt: skip
        kps = np.asarray(person.keypoints, dtype=np.float64)
        if kps.shape != (self.layout.num_joints, 3):
            raise ValueError(f"Person.keypoints must be ({self.layout.num_joints}, 3) for layout "
                             f"{self.layout.name!r}, got {kps.shape}")  # fmt: skip
        present = kps[:, 2] > 0
        on = present[self._joints]
        triplets = np.zeros((len(POSETRACK18_JOINTS), 3))
        triplets[self._slots[on], :2] = kps[self._joints[on], :2]
        triplets[self._slots[on], 2] = 1.0
        ann: dict[str, Any] = {
            "id": image_id * 100 + k, "image_id": image_id, "track_id": track_id,
            "category_id": 1, "keypoints": self._round(triplets), "num_keypoints": int(on.sum()),
        }  # fmt: skip
        x0, y0, x1, y1 = person.extent()
        ann["bbox"] = self._round(np.array([x0, y0, x1 - x0, y1 - y0]))
        if person.head_box is not None:
            hx1, hy1, hx2, hy2 = (float(v) for v in person.head_box)
            ann["bbox_head"] = self._round(np.array([hx1, hy1, hx2 - hx1, hy2 - hy1]))
        ann["scores"] = []
        if with_scores:
            if not _has_scores(person):
                raise ValueError(f"{self.path}: prediction output needs Person.scores (per joint) "
                                 "or Person.score")  # fmt: skip
            joint = (np.asarray(person.scores, dtype=np.float64) if person.scores is not None
                     else np.full(self.layout.num_joints, float(person.score)))  # fmt: skip
            if joint.shape != (self.layout.num_joints,):
                raise ValueError(f"Person.scores must be ({self.layout.num_joints},), "
                                 f"got {joint.shape}")  # fmt: skip
            slots = np.zeros(len(POSETRACK18_JOINTS))
            slots[self._slots[on]] = joint[self._joints[on]]
            ann["scores"] = self._round(slots, SCORE_DECIMALS)
        if person.score is not None:
            ann["score"] = self._round(np.array([person.score]), SCORE_DECIMALS)[0]
        return ann

    def write(self, frame: Frame) -> None:
        """Append one frame (and its persons) to the file."""
        if self._closed:
            raise ValueError(f"{self.path}: the writer is closed")
        image_id = int(frame.image_id) if frame.image_id is not None else int(frame.index)
        persons = list(frame.persons)
        with_scores = self.scores if self.scores is not None else any(map(_has_scores, persons))
        if with_scores:  # duplicates with equal PCKh then go to the higher-scored one
            for p in persons:
                if not _has_scores(p):
                    raise ValueError(f"{self.path}: prediction output needs Person.scores or "
                                     "Person.score")  # fmt: skip
            persons.sort(key=lambda p: p.score if p.score is not None else float(np.mean(p.scores)),
                         reverse=True)  # fmt: skip
        ids = _unique_ids(int(p.track_id) for p in persons)
        parts = [json.dumps(self._annotation(p, image_id, k, t, with_scores))
                 for k, (p, t) in enumerate(zip(persons, ids, strict=True))]  # fmt: skip
        regions = [np.asarray(r, dtype=np.float64).reshape(-1, 2) for r in frame.ignore_regions]
        image: dict[str, Any] = {
            "id": image_id, "frame_id": image_id, "file_name": self._file_name(frame),
            "vid_id": self.sequence_name.split("_")[0], "is_labeled": bool(frame.is_labeled),
            "ignore_regions_x": [self._round(r[:, 0]) for r in regions],
            "ignore_regions_y": [self._round(r[:, 1]) for r in regions],
        }  # fmt: skip
        if frame.image_size is not None:
            image["width"], image["height"] = (int(v) for v in frame.image_size)
        if frame.timestamp is not None:
            image["timestamp"] = float(frame.timestamp)
        for part in parts:  # everything serialised: a bad person leaves the file untouched
            self._annotations.write(("," if self._num_annotations else "") + part)
            self._num_annotations += 1
        self._images.append(image)

    def close(self) -> Path:
        """Write the complete file (the frames written so far) and release the temporary one.

        Safe to call more than once; returns ``path``.
        """
        if self._closed:
            return self.path
        self._closed = True
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            with open(tmp, "w", encoding="utf-8") as out:
                out.write('{"images": [')
                for i, image in enumerate(self._images):
                    image["nframes"] = len(self._images)
                    out.write(("," if i else "") + json.dumps(image))
                out.write('], "annotations": [')
                self._annotations.seek(0)
                shutil.copyfileobj(self._annotations, out)
                out.write('], "categories": [' + json.dumps(_CATEGORY) + "]}\n")
            os.replace(tmp, self.path)
        finally:
            self._annotations.close()
            tmp.unlink(missing_ok=True)
        return self.path


def write_posetrack18(
    sequence: Sequence, path: str | Path, *, layout: LayoutLike = DEFAULT_LAYOUT,
    scores: bool | None = None, image_root: str | Path | None = None, split: str = "val",
    decimals: int | None = None,
) -> Path:  # fmt: skip
    """Write one sequence as a PoseTrack 2018 per-video JSON (ground truth or predictions).

    The arguments are those of :class:`PoseTrack18Writer`, except ``scores=None``, which here
    means prediction style iff any person of the sequence carries scores. Returns ``path``.
    """
    if scores is None:
        scores = any(_has_scores(p) for f in sequence.frames for p in f.persons)
    with PoseTrack18Writer(
        path,
        sequence.name,
        layout=layout,
        scores=scores,
        image_root=image_root,
        split=split,
        decimals=decimals,
    ) as out:
        for frame in sequence.frames:  # fmt: skip
            out.write(frame)
    return out.path


def write_posetrack18_videos(
    sequences: Iterable[Sequence], out_dir: str | Path, **kwargs: Any
) -> list[Path]:
    """Write ``<out_dir>/<sequence.name>.json`` per sequence (the layout poseval reads)."""
    return [write_posetrack18(s, Path(out_dir) / f"{s.name}.json", **kwargs) for s in sequences]
