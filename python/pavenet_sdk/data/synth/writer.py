"""Write synthetic clips as a dataset: JPEG frames plus PoseTrack 2018 or COCO keypoints JSON.

Frames go to ``<out>/images/<split>/<video>/000000.jpg`` (PoseTrack's layout). Annotations:

- ``"posetrack"``: ``<out>/annotations/<split>/<video>.json``, one PoseTrack 2018 file per
  video (what poseval reads);
- ``"coco"``: ``<out>/annotations/person_keypoints_<split>.json``, one COCO keypoints file
  with ``videos`` and per-image ``video_id`` / ``frame_id``.

``file_name`` is relative to ``<out>``. PoseTrack files hold PoseTrack's 17 slots only, so a
layout with joints PoseTrack lacks (the eyes of ``coco-17``) is written as COCO by default.
Video names look like PoseTrack's (``000001_mpii_synth``) because the official evaluator
derives ids from them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from pavenet_sdk.data.coco import write_coco_keypoints
from pavenet_sdk.data.posetrack import write_posetrack18
from pavenet_sdk.data.synth.clip import MAX_FRAMES, SyntheticClip, generate_clip
from pavenet_sdk.layouts import DEFAULT_LAYOUT, JointLayout, get_layout

FORMATS = ("posetrack", "coco")

_NAME_RE = re.compile(r"^(\d{1,6})_(mpii|bonn|mpiinew)(_[A-Za-z0-9]+)*$")
_TYPE_CODE = {"mpii": 1, "bonn": 2, "mpiinew": 3}  # first digit of PoseTrack 2018 frame ids


def video_seed(seed: int, index: int) -> int:
    """Seed of video ``index`` of a dataset written with ``seed`` (independent streams)."""
    state = np.random.SeedSequence([int(seed), int(index)]).generate_state(1, dtype=np.uint64)
    return int(state[0] >> np.uint64(1))


def video_name(index: int) -> str:
    """PoseTrack-style name of the ``index``-th (0-based) synthetic video."""
    if not 0 <= index < 999999:
        raise ValueError(f"video index must be in [0, 999998], got {index}")
    return f"{index + 1:06d}_mpii_synth"


def _parse_name(name: str) -> int:
    """The first PoseTrack 2018 image id of video ``name`` (refusing names poseval cannot
    parse)."""
    match = _NAME_RE.match(name)
    if match is None:
        raise ValueError(
            f"video name {name!r} must look like PoseTrack's '<digits>_<mpii|bonn|mpiinew>[_x]' "
            "(e.g. 000001_mpii_synth) so the official evaluator accepts it"
        )
    return _TYPE_CODE[match.group(2)] * 10**10 + int(match.group(1)) * 10**4


def default_format(layout: str | JointLayout) -> str:
    """``"posetrack"`` when PoseTrack's 17 slots hold every joint of ``layout``, else
    ``"coco"``."""
    return "posetrack" if None not in get_layout(layout).posetrack_slots else "coco"


def write_clip_posetrack18(
    clip: SyntheticClip,
    out_dir: str | Path,
    video_name: str,
    split: str = "train",
    jpeg_quality: int = 90,
) -> Path:
    """Write ``clip``'s frames as JPEGs and its annotations as PoseTrack 2018 JSON (the clip's
    joints that PoseTrack has, through :func:`pavenet_sdk.data.posetrack.write_posetrack18`).

    Renames ``clip.sequence`` to ``video_name`` and fills each frame's ``image_path``
    (absolute), ``image_id`` and ``image_size``. Returns the JSON path. The same clip and
    quality give byte-identical files.
    """
    root = write_clip_frames(clip, out_dir, video_name, split, jpeg_quality)
    json_path = root / "annotations" / split / f"{video_name}.json"
    return write_posetrack18(clip.sequence, json_path, layout=clip.layout, scores=False,
                             image_root=root, split=split, decimals=2)  # fmt: skip


def write_clip_frames(
    clip: SyntheticClip, out_dir: str | Path, video_name: str, split: str = "train",
    jpeg_quality: int = 90,
) -> Path:  # fmt: skip
    """Write ``clip``'s frames as ``<out_dir>/images/<split>/<video_name>/<index>.jpg``.

    Renames ``clip.sequence`` to ``video_name`` and fills each frame's ``image_path``
    (absolute), ``image_id`` (PoseTrack 2018 style) and ``image_size``. Returns ``out_dir``.
    """
    if not re.fullmatch(r"[A-Za-z0-9_]+", split):
        raise ValueError(f"split must be a plain folder name, got {split!r}")
    if not 1 <= int(jpeg_quality) <= 100:
        raise ValueError(f"jpeg_quality must be in [1, 100], got {jpeg_quality}")
    base_id = _parse_name(video_name)
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
        frame.image_size = (width, height)
    clip.sequence.name = video_name
    return root


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
    layout: str | JointLayout = DEFAULT_LAYOUT,
    annotation_format: str | None = None,
) -> list[Path]:
    """Write ``videos`` clips of ``frames`` frames; video i uses ``video_seed(seed, i)`` (a
    held-out set is simply another ``seed``). ``on_video(i)`` is called after each video.

    ``layout`` sets the annotated joints (the images do not depend on it);
    ``annotation_format`` is ``"posetrack"`` or ``"coco"`` (module docstring; default:
    :func:`default_format` of the layout). Returns the JSON paths (one per video for
    PoseTrack, one in all for COCO)."""
    layout = get_layout(layout)
    annotation_format = annotation_format or default_format(layout)
    if annotation_format not in FORMATS:
        raise ValueError(f"annotation_format must be one of {FORMATS}, got {annotation_format!r}")
    if annotation_format == "posetrack" and default_format(layout) == "coco":
        lost = [n for n, s in zip(layout.joints, layout.posetrack_slots, strict=True) if s is None]
        raise ValueError(f"PoseTrack files cannot hold the joints {lost} of layout "
                         f"{layout.name!r}: write annotation_format='coco'")  # fmt: skip
    if isinstance(videos, bool) or not isinstance(videos, int) or not 1 <= videos < 999999:
        raise ValueError(f"videos must be an int in [1, 999998], got {videos!r}")
    if not isinstance(frames, int) or not 1 <= frames <= MAX_FRAMES:
        raise ValueError(f"frames must be an int in [1, {MAX_FRAMES}], got {frames!r}")
    paths, sequences = [], []
    for i in range(videos):
        clip = generate_clip(preset, video_seed(seed, i), frames, persons, size, label_every,
                             layout)  # fmt: skip
        if annotation_format == "posetrack":
            paths.append(write_clip_posetrack18(clip, out_dir, video_name(i), split, jpeg_quality))
        else:
            write_clip_frames(clip, out_dir, video_name(i), split, jpeg_quality)
            sequences.append(clip.sequence)
        if on_video is not None:
            on_video(i)
    if sequences:
        path = Path(out_dir) / "annotations" / f"person_keypoints_{split}.json"
        paths.append(write_coco_keypoints(path, sequences, layout, image_root=out_dir))
    return paths
