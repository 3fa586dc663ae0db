"""Horizontal-flip test-time averaging for any teacher.

The teacher runs on the image and on its mirror image; the mirrored persons are mapped back
(x -> width - x, left and right joints swapped with the layout's ``flip_index``) and matched
to the direct ones by OKS. A matched pair is averaged (keypoints, joint confidences, person
score, box); a person found in one pass only keeps its keypoints with half its person score
(the average with a pass that scored it 0).
"""

from __future__ import annotations

import numpy as np

from pavenet_sdk.data.types import AREA_FACTOR, Person
from pavenet_sdk.layouts import JointLayout
from pavenet_sdk.teachers.base import Teacher, check_image, make_person

__all__ = ["FlipAveraged", "mirror_person", "pairwise_oks"]


def mirror_person(person: Person, width: int, layout: JointLayout) -> Person:
    """``person`` seen in the mirror image of a ``width``-px-wide image, seen in the original."""
    perm = layout.flip_index
    xy = np.asarray(person.keypoints, dtype=np.float64)[perm, :2].copy()
    xy[:, 0] = width - xy[:, 0]
    x1, y1, x2, y2 = person.box
    return make_person(
        xy, np.asarray(person.scores)[perm], person.score, (width - x2, y1, width - x1, y2)
    )


def pairwise_oks(a: list[Person], b: list[Person], layout: JointLayout) -> np.ndarray:
    """(len(a), len(b)) OKS over all joints, with each ``a`` person's box as the object scale."""
    if not a or not b:
        return np.zeros((len(a), len(b)))
    xa = np.stack([p.keypoints[:, :2] for p in a]).astype(np.float64)  # (A, K, 2)
    xb = np.stack([p.keypoints[:, :2] for p in b]).astype(np.float64)  # (B, K, 2)
    boxes = np.asarray([p.box for p in a], dtype=np.float64)
    area = AREA_FACTOR * (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    d2 = ((xa[:, None] - xb[None]) ** 2).sum(-1)  # (A, B, K)
    var = (2 * layout.sigmas_array.astype(np.float64)) ** 2
    return np.exp(-d2 / (2 * var * (np.maximum(area, 1.0)[:, None, None]))).mean(-1)


class FlipAveraged:
    """A teacher averaged with itself on the mirror image (module docstring).

    Args:
        teacher: any teacher whose persons carry scores and boxes.
        match_oks: OKS from which a direct and a mirrored person are the same person.
    """

    def __init__(self, teacher: Teacher, match_oks: float = 0.5) -> None:
        self.teacher = teacher
        self.match_oks = float(match_oks)
        self.name = f"{teacher.name}+flip"
        self.layout = teacher.layout

    def __call__(self, image_bgr: np.ndarray) -> list[Person]:
        check_image(image_bgr)
        width = image_bgr.shape[1]
        direct = self.teacher(image_bgr)
        mirrored = self.teacher(np.ascontiguousarray(image_bgr[:, ::-1]))
        mirrored = [mirror_person(p, width, self.layout) for p in mirrored]
        oks = pairwise_oks(direct, mirrored, self.layout)
        used: set[int] = set()
        out = []
        for i in np.argsort([-p.score for p in direct], kind="stable"):
            p = direct[i]
            free = [j for j in range(len(mirrored)) if j not in used]
            j = max(free, key=lambda j: oks[i, j], default=None)
            if j is None or oks[i, j] < self.match_oks:
                out.append(make_person(p.keypoints[:, :2], p.scores, p.score / 2, p.box))
                continue
            used.add(j)
            q = mirrored[j]
            out.append(
                make_person(
                    (p.keypoints[:, :2] + q.keypoints[:, :2]) / 2,
                    (p.scores + q.scores) / 2,
                    (p.score + q.score) / 2,
                    (np.asarray(p.box) + np.asarray(q.box)) / 2,
                )
            )
        for j, q in enumerate(mirrored):
            if j not in used:
                out.append(make_person(q.keypoints[:, :2], q.scores, q.score / 2, q.box))
        return sorted(out, key=lambda p: -p.score)
