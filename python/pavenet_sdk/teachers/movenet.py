"""MoveNet teachers (Google, Apache-2.0) in ONNX Runtime: MultiPose, and Thunder top-down.

Graphs (measured I/O of the converted TF.js models; COCO-17 joint order):

- MultiPose Lightning: int32 RGB ``[1, H, W, 3]`` (H, W multiples of 32; long side 256 is the
  design size) -> ``[1, 6, 56]``: per candidate 17 x (y, x, score) in [0, 1] of the input,
  then ymin, xmin, ymax, xmax and the person score.
- SinglePose Thunder: int32 RGB ``[1, 256, 256, 3]`` -> ``[1, 1, 17, 3]``: 17 x (y, x, score)
  in [0, 1] of the crop. Run top-down on person boxes (from MultiPose here).
"""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np

from pavenet_sdk.data.types import Person
from pavenet_sdk.layouts import COCO_17
from pavenet_sdk.teachers.base import Teacher, check_image, make_person
from pavenet_sdk.teachers.session import GraphSignature, open_session

__all__ = ["MULTIPOSE", "THUNDER", "MoveNetMultiPose", "MoveNetThunder"]

K = COCO_17.num_joints  # MoveNet's joints are COCO's 17, in COCO's order
# per candidate: K x (y, x, score), then ymin, xmin, ymax, xmax, person score
MULTIPOSE = GraphSignature(
    "MoveNet MultiPose", (1, None, None, 3), (1, 6, 3 * K + 5), "tensor(int32)"
)
THUNDER = GraphSignature("MoveNet Thunder", (1, 256, 256, 3), (1, 1, K, 3), "tensor(int32)")
THUNDER_SIZE = 256


def _resize(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Area averaging when shrinking (no aliasing), bilinear when enlarging."""
    shrink = width < image.shape[1] or height < image.shape[0]
    return cv2.resize(
        image, (width, height), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
    )


class MoveNetMultiPose:
    """MoveNet MultiPose Lightning, one pass over the whole image (up to 6 people).

    The image is resized so that its long side is ``size`` and padded at the right and bottom
    to multiples of 32; outputs are mapped back to original pixels with each axis's own ratio.

    Args:
        path: the MultiPose ``.onnx`` file.
        size: long side of the model input, a multiple of 32 (256 is the model's design size).
        threads: ONNX Runtime intra-op threads.
    """

    name = "movenet-multipose"
    layout = COCO_17

    def __init__(self, path: str | Path, *, size: int = 256, threads: int = 1) -> None:
        if not isinstance(size, int) or size < 32 or size % 32:
            raise ValueError(f"size must be a positive multiple of 32, got {size!r}")
        self.path = Path(path)
        self.size = size
        self.session = open_session(self.path, MULTIPOSE, threads)
        self._input = self.session.get_inputs()[0].name

    def input_shape(self, height: int, width: int) -> tuple[int, int, int, int]:
        """(resized h, resized w, padded h, padded w) of the model input for an image."""
        scale = self.size / max(height, width)
        new_h = min(max(round(height * scale), 1), self.size)
        new_w = min(max(round(width * scale), 1), self.size)
        return new_h, new_w, math.ceil(new_h / 32) * 32, math.ceil(new_w / 32) * 32

    def __call__(self, image_bgr: np.ndarray) -> list[Person]:
        check_image(image_bgr)
        height, width = image_bgr.shape[:2]
        new_h, new_w, pad_h, pad_w = self.input_shape(height, width)
        tensor = np.zeros((1, pad_h, pad_w, 3), dtype=np.int32)
        tensor[0, :new_h, :new_w] = _resize(image_bgr, new_w, new_h)[..., ::-1]
        out = self.session.run(None, {self._input: tensor})[0][0].astype(np.float64)  # (6, 56)
        # normalised input -> input px -> original px, per axis
        to_x, to_y = pad_w * width / new_w, pad_h * height / new_h
        joints = out[:, :51].reshape(-1, 17, 3)
        xy = np.stack([joints[..., 1] * to_x, joints[..., 0] * to_y], axis=-1)
        ymin, xmin, ymax, xmax = (out[:, 51 + i] for i in range(4))
        boxes = np.stack([xmin * to_x, ymin * to_y, xmax * to_x, ymax * to_y], axis=1)
        boxes = np.clip(boxes, 0.0, [width, height, width, height])
        persons = [
            make_person(xy[i], joints[i, :, 2], out[i, 55], boxes[i]) for i in range(len(out))
        ]
        return sorted(persons, key=lambda p: -p.score)


class MoveNetThunder:
    """MoveNet SinglePose Thunder run top-down on the person boxes of a detector.

    Each detected person's box is enlarged by ``box_scale`` and made square around its
    centre; that crop (zero-padded beyond the image) is resized to 256 x 256 and Thunder's
    keypoints are mapped back to original pixels. The person score stays the detector's
    (whether someone is there; so ``--min-score`` means the same for both MoveNet teachers),
    the joint confidences are Thunder's.

    Args:
        path: the SinglePose Thunder ``.onnx`` file.
        detector: a COCO-17 teacher whose persons carry boxes (normally MoveNet MultiPose).
        box_threshold: detector persons scoring below this are not refined (nor returned).
        box_scale: box enlargement before cropping.
        threads: ONNX Runtime intra-op threads.
    """

    name = "movenet-thunder"
    layout = COCO_17

    def __init__(
        self,
        path: str | Path,
        detector: Teacher,
        *,
        box_threshold: float = 0.05,
        box_scale: float = 1.25,
        threads: int = 1,
    ) -> None:
        if detector.layout.joints != COCO_17.joints:
            raise ValueError(f"the detector must speak coco-17, not {detector.layout.name}")
        if not 0.0 <= box_threshold <= 1.0 or box_scale <= 0:
            raise ValueError(f"bad box_threshold {box_threshold} or box_scale {box_scale}")
        self.path = Path(path)
        self.detector = detector
        self.box_threshold = float(box_threshold)
        self.box_scale = float(box_scale)
        self.session = open_session(self.path, THUNDER, threads)
        self._input = self.session.get_inputs()[0].name

    def crop_window(self, box: tuple[float, float, float, float]) -> tuple[int, int, int]:
        """(x0, y0, side) px of the square crop for a person box (x1, y1, x2, y2)."""
        x1, y1, x2, y2 = box
        side = max(round(max(x2 - x1, y2 - y1) * self.box_scale), 1)
        return round((x1 + x2 - side) / 2), round((y1 + y2 - side) / 2), side

    def refine(self, image_bgr: np.ndarray, box: tuple[float, float, float, float]):
        """Thunder on the crop around ``box``: (17, 2) px and (17,) confidences."""
        x0, y0, side = self.crop_window(box)
        height, width = image_bgr.shape[:2]
        crop = np.zeros((side, side, 3), dtype=np.uint8)
        sx0, sy0 = max(x0, 0), max(y0, 0)
        sx1, sy1 = min(x0 + side, width), min(y0 + side, height)
        if sx1 > sx0 and sy1 > sy0:
            crop[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = image_bgr[sy0:sy1, sx0:sx1]
        tensor = _resize(crop, THUNDER_SIZE, THUNDER_SIZE)[None, ..., ::-1].astype(np.int32)
        out = self.session.run(None, {self._input: tensor})[0].reshape(17, 3).astype(np.float64)
        xy = np.stack([x0 + out[:, 1] * side, y0 + out[:, 0] * side], axis=1)
        return xy, out[:, 2]

    def __call__(self, image_bgr: np.ndarray) -> list[Person]:
        check_image(image_bgr)
        persons = []
        for found in self.detector(image_bgr):
            if found.score is None or found.score < self.box_threshold or found.box is None:
                continue
            xy, conf = self.refine(image_bgr, found.box)
            persons.append(make_person(xy, conf, found.score, found.box))
        return sorted(persons, key=lambda p: -p.score)
