"""The teacher interface: a pose model that labels images for a student to learn from.

A teacher is any object with a ``name``, a joint ``layout`` and ``__call__(image_bgr)``
returning the persons it sees, as :class:`~pavenet_sdk.data.types.Person` objects:

- ``keypoints``: (K, 3) float32, x px, y px of the original image, presence 1 (every joint
  is predicted; confidences say how much to trust it);
- ``scores``: (K,) float32 per-joint confidences in [0, 1];
- ``score``: the person score in [0, 1];
- ``box``: (x1, y1, x2, y2) px, the person's box;
- ``track_id``: -1 (teachers see single images).

Persons come sorted by descending ``score``. Teachers never download anything: their files
are arguments, and a missing or unusable file raises :class:`TeacherError` naming it.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from pavenet_sdk.data.types import Person
from pavenet_sdk.errors import InputError
from pavenet_sdk.layouts import JointLayout

__all__ = ["Teacher", "TeacherError", "check_image", "make_person"]


class TeacherError(InputError):
    """A teacher cannot be loaded or run: a missing, corrupt or wrong model file, a bad name."""


@runtime_checkable
class Teacher(Protocol):
    """What ``pavenet label`` needs from a pose model."""

    name: str
    layout: JointLayout

    def __call__(self, image_bgr: np.ndarray) -> list[Person]:
        """Persons in ``image_bgr`` (uint8 HxWx3 BGR), best first (module docstring)."""
        ...


def check_image(image: np.ndarray) -> None:
    """Raise TypeError/ValueError unless ``image`` is a non-empty uint8 HxWx3 array."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
        raise TypeError(f"images must be uint8 numpy arrays, got {getattr(image, 'dtype', image)}")
    if image.ndim != 3 or image.shape[2] != 3 or image.shape[0] < 1 or image.shape[1] < 1:
        raise ValueError(f"images must be (H, W, 3) BGR, got shape {image.shape}")


def make_person(
    xy: np.ndarray, scores: np.ndarray, score: float, box: np.ndarray | None = None
) -> Person:
    """A teacher's Person from (K, 2) px, (K,) confidences, a person score and an optional box
    (x1, y1, x2, y2; default: the extent of the keypoints)."""
    xy = np.asarray(xy, dtype=np.float32)
    keypoints = np.concatenate([xy, np.ones((len(xy), 1), np.float32)], axis=1)
    if box is None:
        box = np.concatenate([xy.min(0), xy.max(0)])
    x1, y1, x2, y2 = (float(v) for v in box)
    return Person(
        track_id=-1,
        keypoints=keypoints,
        scores=np.clip(np.asarray(scores, dtype=np.float32), 0.0, 1.0),
        score=float(np.clip(score, 0.0, 1.0)),
        box=(x1, y1, x2, y2),
    )
