"""A pavenet model package as a teacher: the image as a one-frame stream through Estimator."""

from __future__ import annotations

import numpy as np
import pytest

from pavenet_sdk.teachers.package import PackageTeacher
from pavenet_sdk.teachers.registry import load_teacher


def test_package_teacher_equals_a_one_frame_stream(micro_model):
    from pavenet_sdk import Estimator

    _, package = micro_model
    loaded = load_teacher(package)
    assert isinstance(loaded, PackageTeacher) and loaded.name == package.name
    teacher = PackageTeacher(package, score_threshold=0.0)  # random weights score low
    image = np.random.default_rng(0).integers(0, 255, (120, 160, 3), dtype=np.uint8)
    persons = teacher(image)
    stream = Estimator(package, score_threshold=0.0).stream()
    (reference,) = stream.push_frame(image) + stream.flush()
    assert len(persons) == len(reference) > 0
    k = teacher.layout.num_joints
    for person, i in zip(persons, np.argsort(-reference.scores, kind="stable"), strict=True):
        assert person.keypoints.shape == (k, 3) and person.scores.shape == (k,)
        np.testing.assert_allclose(person.keypoints[:, :2], reference.keypoints[i], atol=1e-4)
        np.testing.assert_allclose(person.scores, reference.keypoint_scores[i], atol=1e-6)
        assert person.score == pytest.approx(float(reference.scores[i]))
        np.testing.assert_allclose(person.box, reference.boxes[i], atol=1e-4)
