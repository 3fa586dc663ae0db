"""Write synthetic clips as a PoseTrack 2018 dataset (JPEG frames + one JSON per video).

Layout (as PoseTrack's): ``<out>/images/<split>/<video>/000000.jpg`` and
``<out>/annotations/<split>/<video>.json``; ``file_name`` in the JSON is relative to ``<out>``.
Video names look like PoseTrack's (``000001_mpii_synth``) because the official evaluator
derives ids from them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from pavenet_sdk.data.synth.clip import MAX_FRAMES, SyntheticClip, generate_clip
from pavenet_sdk.data.types import JOINT_NAMES, POSETRACK18_SLOTS, Sequence

_NAME_RE = re.compile(r"^(\d{1,6})_(mpii|bonn|mpiinew)(_[A-Za-z0-9]+)*$")
_TYPE_CODE = {"mpii": 1, "bonn": 2, "mpiinew": 3}  # first digit of PoseTrack 2018 frame ids


def _keypoint_names() -> list[str]:
    names = ["left_ear"] * 17
    names[4] = "right_ear"
    for joint, slot in enumerate(POSETRACK18_SLOTS):
        names[slot] = JOINT_NAMES[joint]
    return names


POSETRACK18_CATEGORY = {
    "supercategory": "person",
    "id": 1,
    "name": "person",
    "keypoints": _keypoint_names(),
    # the 1-based limb list PoseTrack 2018 files carry (the COCO one)
    "skeleton": [[16, 14], [14, 12], [17, 15], [15, 13], [12, 13], [6, 12], [7, 13], [6, 7],
                 [6, 8], [7, 9], [8, 10], [9, 11], [2, 3], [1, 2], [1, 3], [2, 4], [3, 5],
                 [4, 6], [5, 7]],  # fmt: skip
}


def video_seed(seed: int, index: int) -> int:
    """Seed of video ``index`` of a dataset written with ``seed`` (independent streams)."""
    state = np.random.SeedSequence([int(seed), int(index)]).generate_state(1, dtype=np.uint64)
    return int(state[0] >> np.uint64(1))


def video_name(index: int) -> str:
    """PoseTrack-style name of the ``index``-th (0-based) synthetic video."""
    if not 0 <= index < 999999:
        raise ValueError(f"video index must be in [0, 999998], got {index}")
    return f"{index + 1:06d}_mpii_synth"


def _parse_name(name: str) -> tuple[str, int]:
    match = _NAME_RE.match(name)
    if match is None:
        raise ValueError(
            f"video name {name!r} must look like PoseTrack's '<digits>_<mpii|bonn|mpiinew>[_x]' "
            "(e.g. 000001_mpii_synth) so the official evaluator accepts it"
        )
    return match.group(1), _TYPE_CODE[match.group(2)] * 10**10 + int(match.group(1)) * 10**4


def _r(v: float) -> float:
    return round(float(v), 2)


def sequence_to_posetrack18(
    sequence: Sequence, video: str, size: tuple[int, int], split: str = "train"
) -> dict:
    """The PoseTrack 2018 JSON object (images, annotations, categories) of ``sequence``.

    size: (width, height) px of the frames, used to clip person boxes.
    """
    vid_id, base_id = _parse_name(video)
    width, height = size
    images, annotations = [], []
    for frame in sequence.frames:
        image_id = base_id + frame.index
        images.append({
            "has_no_densepose": True,
            "is_labeled": bool(frame.is_labeled),
            "file_name": f"images/{split}/{video}/{frame.index:06d}.jpg",
            "nframes": len(sequence.frames),
            "frame_id": image_id,
            "vid_id": vid_id,
            "id": image_id,
            "width": width,
            "height": height,
            "ignore_regions_x": [[int(round(v)) for v in p[:, 0]] for p in frame.ignore_regions],
            "ignore_regions_y": [[int(round(v)) for v in p[:, 1]] for p in frame.ignore_regions],
        })  # fmt: skip
        for k, person in enumerate(frame.persons):
            kps = np.zeros((17, 3))
            kps[list(POSETRACK18_SLOTS)] = person.keypoints
            on = person.keypoints[:, 2] > 0
            lo, hi = person.keypoints[on, :2].min(axis=0), person.keypoints[on, :2].max(axis=0)
            # person box: keypoint extent x1.3 (PoseTrack's convention), clipped to the frame
            c, half = (lo + hi) / 2, 0.65 * (hi - lo)
            x1, y1 = np.maximum(c - half, 0)
            x2, y2 = np.minimum(c + half, [width, height])
            hx1, hy1, hx2, hy2 = person.head_box
            annotations.append({
                "bbox_head": [_r(hx1), _r(hy1), _r(hx2 - hx1), _r(hy2 - hy1)],
                "keypoints": np.round(kps.reshape(-1).astype(np.float64), 2).tolist(),
                "track_id": int(person.track_id),
                "image_id": image_id,
                "bbox": [_r(x1), _r(y1), _r(x2 - x1), _r(y2 - y1)],
                "scores": [],
                "category_id": 1,
                "id": image_id * 100 + k,
                "iscrowd": False,
                "num_keypoints": int(on.sum()),
            })  # fmt: skip
    return {"images": images, "annotations": annotations, "categories": [POSETRACK18_CATEGORY]}


def write_clip_posetrack18(
    clip: SyntheticClip,
    out_dir: str | Path,
    video_name: str,
    split: str = "train",
    jpeg_quality: int = 90,
) -> Path:
    """Write ``clip``'s frames as JPEGs and its annotations as PoseTrack 2018 JSON.

    Renames ``clip.sequence`` to ``video_name`` and fills each frame's ``image_path``
    (absolute) and ``image_id``. Returns the JSON path. The same clip and quality give
    byte-identical files.
    """
    if not re.fullmatch(r"[A-Za-z0-9_]+", split):
        raise ValueError(f"split must be a plain folder name, got {split!r}")
    if not 1 <= int(jpeg_quality) <= 100:
        raise ValueError(f"jpeg_quality must be in [1, 100], got {jpeg_quality}")
    _, base_id = _parse_name(video_name)
    root = Path(out_dir)
    image_dir = root / "images" / split / video_name
    image_dir.mkdir(parents=True, exist_ok=True)
    height, width = clip.frames[0].shape[:2]
    params = [cv2.IMWRITE_JPEG_QUALITY, int(jpeg_quality)]
    for image, frame in zip(clip.frames, clip.sequence.frames, strict=True):
        ok, data = cv2.imencode(".jpg", image, params)
        if not ok:
            raise RuntimeError(f"JPEG encoding failed for frame {frame.index} of {video_name}")
        path = image_dir / f"{frame.index:06d}.jpg"
        path.write_bytes(data.tobytes())
        frame.image_path = str(path.resolve())
        frame.image_id = base_id + frame.index
    clip.sequence.name = video_name
    ann_dir = root / "annotations" / split
    ann_dir.mkdir(parents=True, exist_ok=True)
    data = sequence_to_posetrack18(clip.sequence, video_name, (width, height), split)
    json_path = ann_dir / f"{video_name}.json"
    json_path.write_text(json.dumps(data, separators=(",", ":")) + "\n", encoding="utf-8")
    return json_path


def write_dataset(
    out_dir: str | Path,
    preset: str = "mixed",
    seed: int = 0,
    videos: int = 1,
    frames: int = 30,
    persons: int | None = None,
    size: tuple[int, int] = (320, 240),
    split: str = "train",
    label_every: int = 1,
    jpeg_quality: int = 90,
    on_video: Callable[[int], None] | None = None,
) -> list[Path]:
    """Write ``videos`` clips of ``frames`` frames; video i uses ``video_seed(seed, i)`` (a
    held-out set is simply another ``seed``). ``on_video(i)`` is called after each video.
    Returns the JSON paths."""
    if isinstance(videos, bool) or not isinstance(videos, int) or not 1 <= videos < 999999:
        raise ValueError(f"videos must be an int in [1, 999998], got {videos!r}")
    if not isinstance(frames, int) or not 1 <= frames <= MAX_FRAMES:
        raise ValueError(f"frames must be an int in [1, {MAX_FRAMES}], got {frames!r}")
    paths = []
    for i in range(videos):
        clip = generate_clip(preset, video_seed(seed, i), frames, persons, size, label_every)
        paths.append(write_clip_posetrack18(clip, out_dir, video_name(i), split, jpeg_quality))
        if on_video is not None:
            on_video(i)
    return paths
