"""Per-frame results: named numpy fields, indexable like one array (numpy only)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np


@dataclass(frozen=True)
class FrameResult:
    """Every person found in one frame.

    Letters: N persons, K joints. Pixel coordinates are in the original frame.

    Attributes:
        frame_index: index of the frame in its stream (0-based, push order).
        timestamp: seconds, as given to ``push_frame`` (or frame_index / fps).
        keypoints: (N, K, 2) float32 x, y px.
        keypoint_scores: (N, K) float32 in [0, 1] (person score x joint confidence).
        scores: (N,) float32 person scores in [0, 1], descending.
        boxes: (N, 4) float32 x1, y1, x2, y2 px (keypoint extent).
        track_ids: (N,) int64 stable identities across frames.
        image_size: (width, height) px of the original frame.
        timings: milliseconds per stage (``preprocess``, ``encode``, ``decode``,
            ``postprocess``, ``track``).
        image: the frame itself when produced by ``Estimator.run`` (else None).
    """

    frame_index: int
    timestamp: float
    keypoints: np.ndarray
    keypoint_scores: np.ndarray
    scores: np.ndarray
    boxes: np.ndarray
    track_ids: np.ndarray
    image_size: tuple[int, int]
    timings: dict[str, float] = field(default_factory=dict)
    image: np.ndarray | None = field(default=None, repr=False, compare=False)

    _PER_PERSON = ("keypoints", "keypoint_scores", "scores", "boxes", "track_ids")

    def __len__(self) -> int:
        return int(self.scores.shape[0])

    def __getitem__(self, index: Any) -> FrameResult:
        """Select persons with an int, a slice, an index array or a boolean mask."""
        if isinstance(index, (int, np.integer)):
            index = [int(index)]
        picked = {name: getattr(self, name)[index] for name in self._PER_PERSON}
        return FrameResult(
            frame_index=self.frame_index,
            timestamp=self.timestamp,
            image_size=self.image_size,
            timings=dict(self.timings),
            image=self.image,
            **picked,
        )

    def plot(self, image: np.ndarray, **style: Any) -> np.ndarray:
        """Return a copy of ``image`` (BGR uint8) with skeletons, scores and track ids drawn."""
        from pavenet_sdk.viz import draw_poses

        return draw_poses(image, self, **style)

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python form (lists and numbers), ready for ``json.dumps``."""
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name == "image":
                continue
            value = getattr(self, f.name)
            out[f.name] = value.tolist() if isinstance(value, np.ndarray) else value
        out["image_size"] = list(self.image_size)
        return out

    def __repr__(self) -> str:
        return (
            f"FrameResult(frame_index={self.frame_index}, timestamp={self.timestamp:.3f}, "
            f"persons={len(self)}, track_ids={self.track_ids.tolist()})"
        )
