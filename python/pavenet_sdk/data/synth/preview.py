"""Contact sheets of generated clips with their ground truth drawn on top."""

from __future__ import annotations

import cv2
import numpy as np

from pavenet_sdk.data.synth.clip import generate_clip
from pavenet_sdk.data.synth.writer import video_seed
from pavenet_sdk.data.types import Frame
from pavenet_sdk.layouts import DEFAULT_LAYOUT, JointLayout, get_layout

_COLOURS = {"left": (255, 160, 0), "right": (0, 140, 255), "centre": (80, 220, 80)}  # BGR


def _limb_colours(layout: JointLayout) -> list[tuple[int, int, tuple[int, int, int]]]:
    """(a, b, colour) per limb: left limbs blue, right limbs orange, the others green."""
    left = {a for a, _ in layout.flip_pairs}
    right = {b for _, b in layout.flip_pairs}
    out = []
    for i, j in layout.skeleton:
        side = "left" if {i, j} & left else "right" if {i, j} & right else "centre"
        out.append((i, j, _COLOURS[side]))
    return out


def draw_ground_truth(
    image: np.ndarray, frame: Frame, layout: str | JointLayout = DEFAULT_LAYOUT
) -> np.ndarray:
    """A copy of ``image`` (H, W, 3) uint8 BGR with skeletons (left blue, right orange), joints,
    head boxes (yellow), track ids and ignore regions (red, hatched) of ``frame``, whose
    keypoints are in ``layout``."""
    limbs = _limb_colours(get_layout(layout))
    out = image.copy()
    for poly in frame.ignore_regions:
        pts = np.round(poly).astype(np.int32)
        x1, y1 = pts.min(axis=0)
        x2, y2 = pts.max(axis=0)
        roi = out[y1 : y2 + 1, x1 : x2 + 1]  # a view: hatch lines are clipped to the region's box
        for d in range(0, int(x2 - x1 + y2 - y1) + 1, 5):
            cv2.line(roi, (d, 0), (0, d), (0, 0, 200), 1)
        cv2.polylines(out, [pts], True, (0, 0, 255), 1, cv2.LINE_AA)
    for person in frame.persons:
        kps = person.keypoints
        for i, j, colour in limbs:
            if kps[i, 2] > 0 and kps[j, 2] > 0:
                p, q = np.round(kps[i, :2]).astype(int), np.round(kps[j, :2]).astype(int)
                cv2.line(out, tuple(p), tuple(q), colour, 2, cv2.LINE_AA)
        for i in np.flatnonzero(kps[:, 2] > 0):
            cv2.circle(out, tuple(np.round(kps[i, :2]).astype(int)), 2, (255, 255, 255), -1)
        if person.head_box is not None:
            x1, y1, x2, y2 = (int(round(v)) for v in person.head_box)
            cv2.rectangle(out, (x1, y1), (x2, y2), (0, 230, 230), 1)
            cv2.putText(out, str(person.track_id), (x1, max(y1 - 2, 8)), cv2.FONT_HERSHEY_PLAIN,
                        0.8, (0, 230, 230), 1, cv2.LINE_AA)  # fmt: skip
    return out


def contact_sheet(
    preset: str = "mixed",
    seed: int = 0,
    clips: int = 3,
    frames: int = 4,
    size: tuple[int, int] = (320, 240),
    scale: float = 1.0,
    persons: int | None = None,
    layout: str | JointLayout = DEFAULT_LAYOUT,
) -> np.ndarray:
    """A BGR uint8 image: for each of ``clips`` clips (seeds derived from ``seed`` as in
    ``write_dataset``), one row of raw frames and one row with ground truth (in ``layout``)
    drawn."""
    if not 0.05 <= scale <= 4:
        raise ValueError(f"scale must be in [0.05, 4], got {scale}")
    rows = []
    for c in range(clips):
        clip = generate_clip(preset, video_seed(seed, c), frames, persons, size, layout=layout)
        raw, gt = [], []
        for image, frame, info in zip(clip.frames, clip.sequence.frames, clip.info, strict=True):
            label = f"{preset} v{c} f{frame.index} {','.join(info.kinds) or 'clean'}"
            raw.append(image.copy())
            cv2.putText(raw[-1], label, (3, 12), cv2.FONT_HERSHEY_PLAIN, 0.9, (255, 255, 255), 1,
                        cv2.LINE_AA)  # fmt: skip
            gt.append(draw_ground_truth(image, frame, clip.layout))
        rows += [np.hstack(raw), np.hstack(gt)]
    sheet = np.vstack(rows)
    if scale != 1.0:
        sheet = cv2.resize(sheet, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return sheet
