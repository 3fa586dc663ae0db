"""In-memory annotation types shared by the PoseTrack readers and the synthetic generator.

Coordinates are pixels of the original frame. Keypoints use the model's 15 PoseTrack joints
(``JOINT_NAMES``); the 17-slot PoseTrack 2018 layout adds two (always empty) ear slots.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

JOINT_NAMES: tuple[str, ...] = (
    "nose", "head_bottom", "head_top",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
)  # fmt: skip
NUM_JOINTS = len(JOINT_NAMES)
# left/right pairs, swapped by horizontal flips
FLIP_PAIRS: tuple[tuple[int, int], ...] = ((3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14))
# limbs drawn by the visualiser and the synthetic renderer (joint index pairs)
SKELETON: tuple[tuple[int, int], ...] = (
    (0, 1), (1, 2), (1, 3), (1, 4), (3, 5), (5, 7), (4, 6), (6, 8),
    (3, 9), (4, 10), (9, 10), (9, 11), (11, 13), (10, 12), (12, 14),
)  # fmt: skip
# PoseTrack 2018 17-slot order = 15 joints with left_ear/right_ear inserted at slots 3 and 4
POSETRACK18_SLOTS: tuple[int, ...] = (0, 1, 2, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16)
# OKS sigmas of the 15 joints (pavenet-model.md section 2)
OKS_SIGMAS = np.array(
    [0.26, 0.79, 0.79, 0.79, 0.79, 0.72, 0.72, 0.62, 0.62, 1.07, 1.07, 0.87, 0.87, 0.89, 0.89],
    dtype=np.float32,
) / 10.0


@dataclass
class Person:
    """One annotated person in one frame.

    keypoints: (15, 3) float32, columns x px, y px, visibility (0 = not annotated).
    head_box: (x1, y1, x2, y2) px or None.
    scores: (15,) per-joint confidences of a prediction, or None (ground truth).
    score: person-level confidence of a prediction, or None.
    """

    track_id: int
    keypoints: np.ndarray
    head_box: tuple[float, float, float, float] | None = None
    scores: np.ndarray | None = None
    score: float | None = None


@dataclass
class Frame:
    """One frame of a sequence; ``image_path`` is absolute once a reader has resolved it."""

    index: int
    image_path: str
    is_labeled: bool
    persons: list[Person] = field(default_factory=list)
    # polygons, each an (n, 2) float32 array of x, y px
    ignore_regions: list[np.ndarray] = field(default_factory=list)
    image_id: int | None = None


@dataclass
class Sequence:
    """A video: its frames in temporal order."""

    name: str
    frames: list[Frame]

    @property
    def labeled_indices(self) -> list[int]:
        return [i for i, f in enumerate(self.frames) if f.is_labeled]
