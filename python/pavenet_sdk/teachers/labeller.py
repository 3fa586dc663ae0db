"""Pseudo-labelling: run a teacher over videos and images, keep the persons it is sure of, and
write a self-contained COCO keypoints dataset.

For a source with stem ``S`` the output folder gets ``S/`` (the images) and ``S.json`` (COCO
keypoints, ``file_name`` relative to the output folder). A video's labelled frames (and any
context frames) are written as ``S/<frame number:06d>.jpg`` with ``video_id``/``frame_id``;
image files are copied unchanged to ``S/<name>`` and written as plain COCO images, each its
own one-frame sequence for the reader. The JSON is written atomically and last: a source
whose JSON exists is complete.
"""

from __future__ import annotations

import shutil
from collections import deque
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np

from pavenet_sdk import __version__
from pavenet_sdk.data.coco import write_coco_keypoints
from pavenet_sdk.data.types import Frame, Person, Sequence
from pavenet_sdk.errors import InputError
from pavenet_sdk.teachers.base import Teacher

__all__ = [
    "LabelError", "LabelFilters", "LabelResult", "Source", "find_sources", "label_source",
]  # fmt: skip

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
JPEG_QUALITY = 95


class LabelError(InputError):
    """A source cannot be labelled (unreadable, empty) or the sources clash."""


@dataclass(frozen=True)
class LabelFilters:
    """Which teacher persons become labels.

    Attributes:
        min_score: lowest person score kept.
        min_joints: fewest joints with confidence >= ``joint_threshold``.
        joint_threshold: joints below this confidence are written as not labelled (0, 0, 0).
        min_box: shortest kept person box, px along its longer side.
    """

    min_score: float = 0.2
    min_joints: int = 5
    joint_threshold: float = 0.3
    min_box: float = 24.0

    def __post_init__(self) -> None:
        for name in ("min_score", "joint_threshold"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)}")
        if self.min_joints < 0 or self.min_box < 0:
            raise ValueError("min_joints and min_box must not be negative")

    def apply(self, person: Person) -> Person | None:
        """The label made of a teacher's ``person``, or None when a filter rejects it."""
        if person.score is None or person.score < self.min_score:
            return None
        if person.box is not None:
            x1, y1, x2, y2 = person.box
            if max(x2 - x1, y2 - y1) < self.min_box:
                return None
        conf = np.asarray(person.scores, dtype=np.float32)
        keep = conf >= self.joint_threshold
        if int(keep.sum()) < self.min_joints:
            return None
        keypoints = np.zeros((len(conf), 3), dtype=np.float32)
        keypoints[keep, :2] = np.asarray(person.keypoints)[keep, :2]
        keypoints[keep, 2] = 2.0  # COCO: labelled and visible
        return Person(-1, keypoints, scores=conf, score=person.score, box=person.box)


@dataclass(frozen=True)
class Source:
    """One thing to label: a video, one image, or a folder of images.

    ``as_video``: a folder whose images are frames of one video (else independent stills).
    """

    path: Path
    stem: str
    as_video: bool

    @property
    def is_image(self) -> bool:
        return self.path.is_file() and self.path.suffix.lower() in IMAGE_SUFFIXES


@dataclass
class LabelResult:
    """What labelling one source produced."""

    path: Path  # the JSON written
    frames: int = 0  # labelled frames or images
    persons: int = 0  # labels kept
    skipped: list[tuple[Path, str]] = field(default_factory=list)  # unreadable images


def find_sources(paths: list[str | Path], *, folders_as_video: bool = False) -> list[Source]:
    """Sources for the given paths, each with the output stem (a file's stem, a folder's name).

    Raises:
        FileNotFoundError: a path does not exist.
        LabelError: two sources would write the same output.
    """
    sources, seen = [], {}
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise FileNotFoundError(f"source not found: {path}")
        stem = path.resolve().name if path.is_dir() else path.stem
        if stem in seen:
            raise LabelError(f"{seen[stem]} and {path} would both write {stem}.json: rename one")
        seen[stem] = path
        sources.append(Source(path, stem, folders_as_video and path.is_dir()))
    return sources


def label_source(
    source: Source,
    teacher: Teacher,
    out_dir: str | Path,
    filters: LabelFilters,
    *,
    every: int = 1,
    max_frames: int | None = None,
    context: int = 0,
    progress: bool = False,
) -> LabelResult:
    """Label one source into ``out_dir`` (module docstring).

    Args:
        source: from :func:`find_sources`.
        teacher: the teacher (its layout is the file's).
        out_dir: the dataset folder.
        filters: which persons become labels.
        every: label every ``every``-th frame (or image).
        max_frames: stop after this many labelled frames (or images).
        context: for videos, also write the ``context`` frames before and after each
            labelled frame, unlabelled, so temporal models get their window t-T..t+T.
        progress: show a progress bar.

    Raises:
        LabelError: the source cannot be read or holds nothing to label.
    """
    if every < 1 or (max_frames is not None and max_frames < 1) or context < 0:
        raise ValueError("every and max_frames must be >= 1 and context >= 0")
    out_dir = Path(out_dir)
    result = LabelResult(out_dir / f"{source.stem}.json")
    info = {
        "description": f"pseudo-labels by {teacher.name} (pavenet label, pavenet-sdk "
        f"{__version__})",
        "teacher": teacher.name, "layout": teacher.layout.name, "source": str(source.path),
        "every": every, "context": context, "filters": asdict(filters),
    }  # fmt: skip
    if source.is_image or (source.path.is_dir() and not source.as_video):
        sequences = _label_stills(source, teacher, out_dir, filters, every, max_frames,
                                  progress, result)  # fmt: skip
        videos = False
    else:
        sequences = [_label_video(source, teacher, out_dir, filters, every, max_frames, context,
                                  progress, result)]  # fmt: skip
        videos = True
    write_coco_keypoints(result.path, sequences, teacher.layout, videos=videos, info=info)
    return result


def _progress(total: int | None, desc: str, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="frame", disable=not enabled, leave=False)


def _labels(teacher: Teacher, image: np.ndarray, filters: LabelFilters) -> list[Person]:
    return [p for p in map(filters.apply, teacher(image)) if p is not None]


def _label_stills(source, teacher, out_dir, filters, every, max_frames, progress, result):
    if source.is_image:
        files = [source.path]
    else:
        files = sorted(p for p in source.path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise LabelError(f"{source.path} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
    files = files[::every][:max_frames]
    (out_dir / source.stem).mkdir(parents=True, exist_ok=True)
    sequences = []
    with _progress(len(files), source.stem, progress) as bar:
        for file in files:
            image = cv2.imread(str(file), cv2.IMREAD_COLOR)
            bar.update()
            if image is None:
                result.skipped.append((file, "cannot decode image"))
                continue
            persons = _labels(teacher, image, filters)
            target = out_dir / source.stem / file.name
            shutil.copyfile(file, target)
            frame = Frame(0, str(target.resolve()), True, persons,
                          image_size=(image.shape[1], image.shape[0]))  # fmt: skip
            sequences.append(Sequence(file.stem, [frame]))
            result.frames += 1
            result.persons += len(persons)
    if not sequences:
        raise LabelError(f"{source.path}: no image could be decoded")
    return sequences


def _label_video(source, teacher, out_dir, filters, every, max_frames, context, progress,
                 result) -> Sequence:  # fmt: skip
    from pavenet_sdk.runtime.sources import open_source

    try:
        stream, info = open_source(source.path)
    except ValueError as exc:
        raise LabelError(str(exc)) from None
    (out_dir / source.stem).mkdir(parents=True, exist_ok=True)
    total = None
    if info.num_frames:
        total = -(-info.num_frames // every)
        total = min(total, max_frames) if max_frames else total
    frames: dict[int, Frame] = {}

    def save(index: int, image: np.ndarray, timestamp: float, persons=None) -> None:
        target = (out_dir / source.stem / f"{index:06d}.jpg").resolve()
        if not cv2.imwrite(str(target), image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY]):
            raise OSError(f"cannot write {target}")
        frames[index] = Frame(index, str(target), persons is not None, persons or [],
                              image_size=(image.shape[1], image.shape[0]),
                              timestamp=float(timestamp))  # fmt: skip

    before: deque = deque(maxlen=context)  # recent frames not written yet
    after = 0  # frames still to write after the last labelled one
    with _progress(total, source.stem, progress) as bar:
        for index, (image, timestamp) in enumerate(stream):
            if max_frames is not None and result.frames >= max_frames and after == 0:
                break
            if index % every == 0 and (max_frames is None or result.frames < max_frames):
                for item in before:
                    save(*item)
                before.clear()
                persons = _labels(teacher, image, filters)
                save(index, image, timestamp, persons)
                result.frames += 1
                result.persons += len(persons)
                after = context
                bar.update()
            elif after > 0:
                save(index, image, timestamp)
                after -= 1
            elif context:
                before.append((index, image, timestamp))
    stream.close()  # releases the video now, also after an early stop
    if not frames:
        raise LabelError(f"{source.path}: no frame could be read")
    return Sequence(source.stem, [frames[i] for i in sorted(frames)])
