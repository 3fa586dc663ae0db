"""In-memory annotation types shared by the readers, the writers, the synthetic generator and
the evaluators.

The types do not know a joint layout: ``Person.keypoints`` is (K, 3) in whatever layout its
producer states (``pavenet_sdk.layouts``; readers take a ``layout`` argument, evaluators take
the layouts of both sides). Coordinates are pixels of the original frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# box area -> segment-free "object area" for OKS, as xtcocotools' use_area=False
AREA_FACTOR = 0.53


@dataclass
class Person:
    """One person in one frame (ground truth or prediction).

    Attributes:
        track_id: identity within the video (-1 when unknown).
        keypoints: (K, 3) float32: x px, y px, presence (> 0: annotated / predicted, e.g. 1,
            or COCO's 1 / 2 visibility; 0: not, stored as ``0, 0, 0``), K joints of the
            producer's layout.
        head_box: (x1, y1, x2, y2) px (PoseTrack's PCKh normalisation) or None.
        scores: (K,) per-joint confidences of a prediction, or None (ground truth).
        score: person-level confidence of a prediction, or None.
        box: person box (x1, y1, x2, y2) px, or None (then the keypoint extent stands in).
        area: object area px^2 for OKS (a COCO file's segmentation area), or None.
    """

    track_id: int
    keypoints: np.ndarray
    head_box: tuple[float, float, float, float] | None = None
    scores: np.ndarray | None = None
    score: float | None = None
    box: tuple[float, float, float, float] | None = None
    area: float | None = None

    def extent(self) -> tuple[float, float, float, float]:
        """(x1, y1, x2, y2) px: ``box``, else the extent of the annotated joints, else zeros."""
        if self.box is not None:
            return tuple(float(v) for v in self.box)  # type: ignore[return-value]
        kps = np.asarray(self.keypoints, dtype=np.float64)
        pts = kps[kps[:, 2] > 0, :2]
        if not len(pts):
            return (0.0, 0.0, 0.0, 0.0)
        (x1, y1), (x2, y2) = pts.min(0), pts.max(0)
        return (float(x1), float(y1), float(x2), float(y2))

    def object_area(self) -> float:
        """OKS scale px^2: ``area``, else ``AREA_FACTOR`` x the area of :meth:`extent`."""
        if self.area is not None:
            return float(self.area)
        x1, y1, x2, y2 = self.extent()
        return AREA_FACTOR * (x2 - x1) * (y2 - y1)


@dataclass
class Frame:
    """One frame of a sequence; ``image_path`` is absolute once a reader has resolved it.

    ``image_size`` is (width, height) px when known; ``timestamp`` is seconds from the start
    of the video when known.
    """

    index: int
    image_path: str
    is_labeled: bool
    persons: list[Person] = field(default_factory=list)
    # polygons, each an (n, 2) float32 array of x, y px
    ignore_regions: list[np.ndarray] = field(default_factory=list)
    image_id: int | None = None
    image_size: tuple[int, int] | None = None
    timestamp: float | None = None


@dataclass
class Sequence:
    """A video: its frames in temporal order."""

    name: str
    frames: list[Frame]

    @property
    def labeled_indices(self) -> list[int]:
        return [i for i, f in enumerate(self.frames) if f.is_labeled]
