"""Flip averaging: mirrored persons map back, biases cancel, unmatched persons halve."""

from __future__ import annotations

import numpy as np
import pytest

from pavenet_sdk.layouts import COCO_17
from pavenet_sdk.teachers.base import make_person
from pavenet_sdk.teachers.flip import FlipAveraged, mirror_person, pairwise_oks

SIDE = np.array([-1.0 if n.startswith("left_") else 1.0 if n.startswith("right_") else 0.0
                 for n in COCO_17.joints])  # fmt: skip
LEVEL = (np.arange(17) + 1) // 2  # nose 0, eyes 1, ears 2, shoulders 3, ..., ankles 8


class MarkerTeacher:
    """Finds white columns; a person at each: left joints 30 px left of it, right joints 30 px
    right, each left/right pair at one height, all shifted by ``bias`` px (a teacher's
    systematic error). A column in the left half also yields a second, weaker person there
    (so it is seen in one pass only)."""

    name = "marker"
    layout = COCO_17

    def __init__(self, bias: float) -> None:
        self.bias = bias

    def __call__(self, image):
        columns = np.flatnonzero(image[0, :, 0] == 255)
        persons = []
        for c in columns:
            centre = c + 0.5  # the pixel's centre, continuous coordinates
            x = centre + 30 * SIDE + self.bias
            y = 10.0 + 35 * LEVEL
            conf = np.where(SIDE < 0, 0.9, 0.5)  # left joints more confident
            persons.append(make_person(np.c_[x, y], conf, 0.8, (x.min(), 10, x.max(), 290)))
            if centre < image.shape[1] / 2:
                persons.append(make_person(np.c_[x, y + 400], conf, 0.4))
        return persons


def test_mirror_person_is_an_involution():
    p = make_person(np.c_[np.arange(17.0), np.arange(17.0)], np.linspace(0, 1, 17), 0.7, None)
    twice = mirror_person(mirror_person(p, 100, COCO_17), 100, COCO_17)
    np.testing.assert_allclose(twice.keypoints, p.keypoints, atol=1e-5)
    np.testing.assert_allclose(twice.scores, p.scores)
    np.testing.assert_allclose(twice.box, p.box, atol=1e-5)
    once = mirror_person(p, 100, COCO_17)
    left_shoulder, right_shoulder = COCO_17.index(["left_shoulder", "right_shoulder"])
    assert once.keypoints[left_shoulder, 0] == pytest.approx(100 - p.keypoints[right_shoulder, 0])


def test_flip_cancels_a_horizontal_bias_and_averages_confidences():
    image = np.zeros((300, 160, 3), np.uint8)
    image[:, 40] = 255
    direct = MarkerTeacher(bias=1.5)(image)[0]
    averaged = FlipAveraged(MarkerTeacher(bias=1.5))(image)
    main = averaged[0]
    np.testing.assert_allclose(main.keypoints[:, 0], 40.5 + 30 * SIDE, atol=1e-4)  # no bias
    np.testing.assert_allclose(main.keypoints[:, 1], direct.keypoints[:, 1], atol=1e-5)
    # left joints: 0.9 direct, 0.5 from the mirror pass's right joints -> 0.7
    np.testing.assert_allclose(main.scores, np.where(SIDE != 0, 0.7, 0.5), atol=1e-6)
    assert main.score == pytest.approx(0.8)
    # the weak person is seen only in the direct pass (column in the left half): score halved;
    # the mirror pass sees the column in the right half and reports no second person
    assert [round(p.score, 3) for p in averaged] == [0.8, 0.2]
    assert averaged[1].keypoints[0, 1] == pytest.approx(410.0)


def test_pairwise_oks():
    a = make_person(np.c_[np.arange(17.0) * 5, np.arange(17.0) * 5], np.ones(17), 1.0, None)
    far = make_person(a.keypoints[:, :2] + 500, np.ones(17), 1.0, None)
    oks = pairwise_oks([a], [a, far], COCO_17)
    assert oks.shape == (1, 2) and oks[0, 0] == pytest.approx(1.0) and oks[0, 1] < 1e-6
    assert pairwise_oks([], [a], COCO_17).shape == (0, 1)
