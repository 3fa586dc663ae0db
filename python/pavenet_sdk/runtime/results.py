"""Per-frame results: named numpy fields, indexable like one array (numpy only)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from pavenet_sdk.layouts import DEFAULT_LAYOUT, JointLayout, get_layout


@dataclass(frozen=True)
class FrameResult:
    """Every person found in one frame.

    Letters: N persons, K joints (``layout.num_joints``). Pixel coordinates are in the
    original frame; sizes are (width, height).

    Attributes:
        frame_index: index of the frame in its stream (0-based, push order).
        timestamp: seconds, as given to ``push_frame`` (or frame_index / fps).
        keypoints: (N, K, 2) float32 x, y px, joints in ``joint_names`` order.
        keypoint_scores: (N, K) float32 in [0, 1] (person score x joint confidence).
        scores: (N,) float32 person scores in [0, 1], descending.
        boxes: (N, 4) float32 x1, y1, x2, y2 px (keypoint extent).
        track_ids: (N,) int64 stable identities across frames.
        image_size: (width, height) px of the original frame.
        timings: milliseconds per stage (``preprocess``, ``encode``, ``decode``,
            ``postprocess``, ``track``).
        image: the frame itself when produced by ``Estimator.run`` (else None).
        layout: the joint layout of the keypoints (a :class:`~pavenet_sdk.layouts.JointLayout`
            or a registered name; default: the SDK's default layout, posetrack-15).
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
    layout: JointLayout = field(default=DEFAULT_LAYOUT, repr=False)  # type: ignore[assignment]

    _PER_PERSON = ("keypoints", "keypoint_scores", "scores", "boxes", "track_ids")

    def __post_init__(self) -> None:
        layout = get_layout(self.layout)
        object.__setattr__(self, "layout", layout)
        shape = np.shape(self.keypoints)
        if len(shape) != 3 or shape[1] != layout.num_joints or shape[2] != 2:
            raise ValueError(
                f"keypoints must be (N, {layout.num_joints}, 2) for layout {layout.name!r}, "
                f"got shape {shape}"
            )

    @property
    def joint_names(self) -> tuple[str, ...]:
        """Names of the K joints, in keypoint order."""
        return self.layout.joints

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
            layout=self.layout,
            **picked,
        )

    def plot(self, image: np.ndarray | None = None, **style: Any) -> np.ndarray:
        """A copy of ``image`` (BGR uint8; default: the frame this result came from,
        ``result.image``) with skeletons, scores and track ids drawn.

        ``style``: ``joint_threshold``, ``thickness``, ``show_ids`` (see
        :func:`pavenet_sdk.runtime.viz.draw_poses`).
        """
        from pavenet_sdk.runtime.viz import draw_poses

        if image is None:
            if self.image is None:
                raise ValueError(
                    f"frame {self.frame_index} carries no image (only Estimator.run and "
                    "Stream.run_frames keep the frame in result.image); pass the frame: "
                    "result.plot(frame)"
                )
            image = self.image
        return draw_poses(image, self, **style)

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python form (lists and numbers), ready for ``json.dumps``."""
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name in ("image", "layout"):
                continue
            value = getattr(self, f.name)
            out[f.name] = value.tolist() if isinstance(value, np.ndarray) else value
        out["image_size"] = list(self.image_size)
        out["layout"] = self.layout.name
        out["joint_names"] = list(self.joint_names)
        return out

    def __repr__(self) -> str:
        return (
            f"FrameResult(frame_index={self.frame_index}, timestamp={self.timestamp:.3f}, "
            f"persons={len(self)}, track_ids={self.track_ids.tolist()})"
        )
