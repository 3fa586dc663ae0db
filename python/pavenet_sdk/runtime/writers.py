"""Output writers for ``pavenet run``: annotated video and PoseTrack 2018 prediction JSON."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from pavenet_sdk.data.types import POSETRACK18_SLOTS, Frame, Person, Sequence
from pavenet_sdk.runtime.results import FrameResult

POSETRACK18_KEYPOINTS = (
    "nose", "head_bottom", "head_top", "left_ear", "right_ear", "left_shoulder",
    "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip",
    "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
)  # fmt: skip


class VideoWriter:
    """MP4 writer opened on the first frame (``mp4v``: OpenCV builds cannot all write avc1)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._writer: cv2.VideoWriter | None = None

    def write(self, frame: np.ndarray, fps: float) -> None:
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            h, w = frame.shape[:2]
            self._writer = cv2.VideoWriter(
                str(self.path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h)
            )
            if not self._writer.isOpened():
                raise OSError(f"cannot write video {self.path}")
        self._writer.write(frame)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.release()


def result_to_posetrack18(result: FrameResult, image_id: int) -> list[dict]:
    """PoseTrack 2018 prediction annotations of one frame (17 slots, ears ``0,0,0``)."""
    annotations = []
    for n in range(len(result)):
        keypoints = np.zeros((17, 3), np.float64)
        scores = np.zeros(17, np.float64)
        keypoints[list(POSETRACK18_SLOTS), :2] = result.keypoints[n]
        keypoints[list(POSETRACK18_SLOTS), 2] = 1.0
        scores[list(POSETRACK18_SLOTS)] = result.keypoint_scores[n]
        annotations.append(
            {
                "image_id": image_id,
                "track_id": int(result.track_ids[n]),
                "keypoints": keypoints.round(2).ravel().tolist(),
                "scores": scores.round(5).tolist(),
                "score": round(float(result.scores[n]), 5),
            }
        )
    return annotations


class PoseTrackJsonWriter:
    """Collects results of one video and writes them as a PoseTrack 2018 prediction file."""

    def __init__(self, path: str | Path, video_name: str) -> None:
        self.path = Path(path)
        self.video_name = video_name
        self._images: list[dict] = []
        self._annotations: list[dict] = []

    def add(self, result: FrameResult) -> None:
        image_id = result.frame_index
        self._images.append(
            {
                "id": image_id,
                "file_name": f"{self.video_name}/{result.frame_index:06d}.jpg",
                "frame_index": result.frame_index,
                "timestamp": result.timestamp,
            }
        )
        self._annotations.extend(result_to_posetrack18(result, image_id))

    def close(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "images": self._images,
            "annotations": self._annotations,
            "categories": [{"id": 1, "name": "person", "keypoints": list(POSETRACK18_KEYPOINTS)}],
        }
        self.path.write_text(json.dumps(payload))


def results_to_sequence(name: str, results: list[FrameResult]) -> Sequence:
    """Predictions of one video as a :class:`Sequence` (for ``eval.evaluate_sequences``)."""
    frames = []
    for r in results:
        persons = []
        for n in range(len(r)):
            keypoints = np.concatenate([r.keypoints[n], np.ones((r.keypoints.shape[1], 1))], 1)
            persons.append(
                Person(
                    track_id=int(r.track_ids[n]),
                    keypoints=keypoints.astype(np.float32),
                    scores=r.keypoint_scores[n],
                    score=float(r.scores[n]),
                )
            )
        frames.append(Frame(index=r.frame_index, image_path="", is_labeled=True, persons=persons))
    return Sequence(name=name, frames=frames)
