"""Frame sources: video files, cameras, stream URLs and folders of images, as (frame,
timestamp) pairs."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
STREAM_SCHEMES = ("rtsp://", "rtsps://", "rtmp://", "http://", "https://", "udp://", "tcp://")


@dataclass(frozen=True)
class SourceInfo:
    """What is known about a source before reading it."""

    fps: float
    num_frames: int | None  # None for cameras and unknown lengths


def camera_index(source: str | int | Path) -> int | None:
    """The camera index ``source`` names (an int or a digit string), else None."""
    if isinstance(source, int):
        return source
    if isinstance(source, str) and source.isdigit():
        return int(source)
    return None


def is_live(source: str | int | Path) -> bool:
    """Whether ``source`` is read live: a camera index or a stream URL (``STREAM_SCHEMES``).

    A live source has no known length and cannot be re-read from an earlier frame; anything
    else is a path (a video file, an image or a folder of images).
    """
    if camera_index(source) is not None:
        return True
    return isinstance(source, str) and source.lower().startswith(STREAM_SCHEMES)


def open_source(source: str | int | Path, fps: float | None = None) -> tuple[Iterator, SourceInfo]:
    """Open ``source`` and return an iterator of ``(frame_bgr uint8 HxWx3, timestamp_s)``.

    Args:
        source: a video file, a camera index (int or digit string), a stream URL (``rtsp://``,
            ``http(s)://``, ...; read live, as a camera), a folder of images or one image.
        fps: frame rate for sources without timestamps (image folders); default 30.

    Cameras and stream URLs (:func:`is_live`) are timestamped with a monotonic clock from the
    first frame.
    """
    camera = camera_index(source)
    if camera is not None:
        return _live(camera, f"camera {source}")
    if is_live(source):  # a stream URL
        return _live(str(source), f"stream {source}")
    path = Path(source)
    if not path.exists():
        raise FileNotFoundError(f"source not found: {path}")
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise ValueError(f"{path} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
        return _images(files, fps or 30.0), SourceInfo(fps or 30.0, len(files))
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return _images([path], fps or 30.0), SourceInfo(fps or 30.0, 1)
    return _video(path, fps)


def _images(files: list[Path], fps: float) -> Iterator[tuple[np.ndarray, float]]:
    for i, file in enumerate(files):
        frame = cv2.imread(str(file), cv2.IMREAD_COLOR)
        if frame is None:
            raise ValueError(f"cannot decode image {file}")
        yield frame, i / fps


def _video(path: Path, fps: float | None) -> tuple[Iterator, SourceInfo]:
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise ValueError(f"cannot open video {path} (unsupported codec or not a video)")
    native_fps = capture.get(cv2.CAP_PROP_FPS) or 0.0
    rate = fps or (native_fps if native_fps > 0 else 30.0)
    count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) or None

    def frames() -> Iterator[tuple[np.ndarray, float]]:
        try:
            index = 0
            while True:
                ok, frame = capture.read()
                if not ok:
                    return
                # container timestamps keep variable-frame-rate videos right
                ms = capture.get(cv2.CAP_PROP_POS_MSEC)
                yield frame, (ms / 1000.0 if fps is None and ms > 0 else index / rate)
                index += 1
        finally:
            capture.release()

    return frames(), SourceInfo(rate, count)


def _live(source: int | str, what: str) -> tuple[Iterator, SourceInfo]:
    capture = cv2.VideoCapture(source)
    if not capture.isOpened():
        raise ValueError(f"cannot open {what}")
    rate = capture.get(cv2.CAP_PROP_FPS) or 30.0

    def frames() -> Iterator[tuple[np.ndarray, float]]:
        start = time.monotonic()
        try:
            while True:
                ok, frame = capture.read()
                if not ok:
                    return
                yield frame, time.monotonic() - start
        finally:
            capture.release()

    return frames(), SourceInfo(rate, None)
