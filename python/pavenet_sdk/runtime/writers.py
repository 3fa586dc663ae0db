"""Output writers for ``pavenet run``: annotated video, PoseTrack 2018 or COCO keypoints JSON.

Both are context managers: leaving the ``with`` block, normally, by an exception or by Ctrl-C,
releases the video (a playable file of the frames written) and writes a complete JSON file of
the frames done. The JSON formats themselves live in :mod:`pavenet_sdk.data.posetrack` and
:mod:`pavenet_sdk.data.coco`; this module only turns :class:`FrameResult` objects into
:class:`~pavenet_sdk.data.types.Frame` objects in the result's own joint layout.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from types import TracebackType

import cv2
import numpy as np

from pavenet_sdk.data.posetrack import PoseTrack18Writer
from pavenet_sdk.data.types import Frame, Person, Sequence
from pavenet_sdk.layouts import COCO_17, POSETRACK_15, JointLayout, get_layout
from pavenet_sdk.runtime.results import FrameResult


class _ClosedOnExit:
    """Context manager: leaving the ``with`` block for any reason calls ``close()``."""

    def __enter__(self):
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        raise NotImplementedError


class VideoWriter(_ClosedOnExit):
    """MP4 writer opened on the first frame (``mp4v``: OpenCV builds cannot all write avc1).

    A context manager; :meth:`close` (also on errors) releases the file.
    """

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
                self._writer = None
                raise OSError(f"cannot write video {self.path}")
        self._writer.write(frame)

    def close(self) -> None:
        """Release the file (safe to call more than once)."""
        if self._writer is not None:
            self._writer.release()
            self._writer = None


def result_to_frame(result: FrameResult, image_path: str = "") -> Frame:
    """One result as a :class:`Frame` of predicted persons (keypoints in ``result.layout``).

    Every joint is predicted (presence 1) with its ``keypoint_scores``; the person score and
    box are kept; ``Frame.index`` and ``image_id`` are ``result.frame_index``.
    """
    persons = []
    for n in range(len(result)):
        keypoints = np.concatenate(
            [result.keypoints[n], np.ones((result.keypoints.shape[1], 1), np.float32)], axis=1
        )
        persons.append(
            Person(
                track_id=int(result.track_ids[n]),
                keypoints=keypoints.astype(np.float32),
                scores=np.asarray(result.keypoint_scores[n], dtype=np.float32),
                score=float(result.scores[n]),
                box=tuple(float(v) for v in result.boxes[n]),
            )
        )
    return Frame(
        index=int(result.frame_index),
        image_path=image_path,
        is_labeled=True,
        persons=persons,
        image_id=int(result.frame_index),
        image_size=tuple(int(v) for v in result.image_size),
        timestamp=float(result.timestamp),
    )


def results_to_sequence(name: str, results: Iterable[FrameResult]) -> Sequence:
    """Predictions of one video as a :class:`Sequence` (for the evaluators)."""
    return Sequence(name=name, frames=[result_to_frame(r) for r in results])


class _JsonWriter(_ClosedOnExit):
    """Shared by the JSON writers: a context manager over the results of one video in one joint
    layout (``layout``, or the first result's); subclasses store frames and write the file."""

    def __init__(
        self, path: str | Path, video_name: str, layout: str | JointLayout | None = None
    ) -> None:
        self.path = Path(path)
        self.video_name = video_name
        self.layout = None if layout is None else get_layout(layout)
        self._closed = False

    def add(self, result: FrameResult) -> None:
        """Append the result of the next frame."""
        if self._closed:
            raise ValueError(f"{self.path}: the writer is closed")
        if self.layout is None:
            self.layout = result.layout
        elif result.layout != self.layout:
            raise ValueError(
                f"{self.path}: result in layout {result.layout.name!r} after results in "
                f"{self.layout.name!r}"
            )
        self._write(result_to_frame(result, f"{self.video_name}/{result.frame_index:06d}.jpg"))

    def close(self) -> None:
        """Write the file (a video without frames when no result came); safe to call again."""
        if not self._closed:
            self._closed = True
            self._finish()

    def _write(self, frame: Frame) -> None:
        raise NotImplementedError

    def _finish(self) -> None:
        raise NotImplementedError


class PoseTrackJsonWriter(_JsonWriter):
    """The results of one video as a PoseTrack 2018 prediction file, written as they come.

    Joints go into PoseTrack's 17 slots by name, so a COCO-17 model's file has head_bottom and
    head_top ``0,0,0`` with score 0. A context manager (see
    :class:`~pavenet_sdk.data.posetrack.PoseTrack18Writer`); coordinates are rounded to 0.01 px.
    """

    _out: PoseTrack18Writer | None = None

    def _open(self) -> PoseTrack18Writer:
        if self._out is None:
            layout = self.layout or POSETRACK_15
            self._out = PoseTrack18Writer(
                self.path, self.video_name, layout=layout, scores=True, decimals=2
            )
        return self._out

    def _write(self, frame: Frame) -> None:
        self._open().write(frame)

    def _finish(self) -> None:
        self._open().close()


class CocoJsonWriter(_JsonWriter):
    """The results of one video as a COCO keypoints file (video and frame ids, per-joint
    ``keypoint_scores``, person ``score``, ``track_id``), in the results' own layout.

    Results are kept as poses (not pixels) and the file is written atomically when the writer
    closes, so leaving the ``with`` block for any reason leaves the frames done.
    """

    def __init__(
        self, path: str | Path, video_name: str, layout: str | JointLayout | None = None
    ) -> None:
        super().__init__(path, video_name, layout)
        self._frames: list[Frame] = []

    def _write(self, frame: Frame) -> None:
        self._frames.append(frame)

    def _finish(self) -> None:
        from pavenet_sdk.data.coco import write_coco_keypoints

        sequences = [Sequence(self.video_name, self._frames)]
        write_coco_keypoints(self.path, sequences, self.layout or COCO_17)


#: ``pavenet run --json-format`` -> writer class
JSON_WRITERS = {"posetrack": PoseTrackJsonWriter, "coco": CocoJsonWriter}
