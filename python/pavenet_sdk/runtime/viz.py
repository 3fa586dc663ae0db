"""Drawing skeletons, scores and track ids on frames (OpenCV), for any joint layout."""

from __future__ import annotations

from typing import TYPE_CHECKING

import cv2
import numpy as np

if TYPE_CHECKING:
    from pavenet_sdk.runtime.results import FrameResult


def track_color(track_id: int) -> tuple[int, int, int]:
    """A stable, well-separated BGR colour per track id (golden-ratio hue steps)."""
    hue = int((track_id * 0.618033988749895 % 1.0) * 179)
    hsv = np.uint8([[[hue, 220, 255]]])
    b, g, r = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0]
    return int(b), int(g), int(r)


def draw_poses(
    image: np.ndarray,
    result: FrameResult,
    joint_threshold: float = 0.1,
    thickness: int | None = None,
    show_ids: bool = True,
) -> np.ndarray:
    """Return a copy of ``image`` (uint8 HxWx3 BGR) with ``result`` drawn on it.

    Limbs are the skeleton of ``result.layout``. Joints whose ``keypoint_scores`` are below
    ``joint_threshold`` and limbs touching them are skipped. Limbs touching a left joint (the
    first of each of the layout's flip pairs) are drawn thinner so the figure's orientation
    stays readable.
    """
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected a uint8 HxWx3 image, got {image.dtype} {image.shape}")
    layout = result.layout
    left = {a for a, _ in layout.flip_pairs}
    canvas = image.copy()
    scale = max(image.shape[:2]) / 640
    width = thickness or max(1, round(2 * scale))
    for person in range(len(result)):
        kps = result.keypoints[person]
        ok = result.keypoint_scores[person] >= joint_threshold
        color = track_color(int(result.track_ids[person]))
        for a, b in layout.skeleton:
            if ok[a] and ok[b]:
                limb_width = max(1, width - 1) if (a in left or b in left) else width
                pa = tuple(int(round(v)) for v in kps[a])
                pb = tuple(int(round(v)) for v in kps[b])
                cv2.line(canvas, pa, pb, color, limb_width, cv2.LINE_AA)
        for k in np.flatnonzero(ok):
            center = tuple(int(round(v)) for v in kps[k])
            cv2.circle(canvas, center, width + 1, color, -1, cv2.LINE_AA)
        if show_ids:
            x1, y1 = (int(v) for v in result.boxes[person, :2])
            label = f"#{int(result.track_ids[person])} {result.scores[person]:.2f}"
            cv2.putText(
                canvas,
                label,
                (x1, max(12, y1 - 4)),
                cv2.FONT_HERSHEY_SIMPLEX,
                0.4 * max(scale, 0.75),
                color,
                1,
                cv2.LINE_AA,
            )
    return canvas
