"""Any pavenet model package as a teacher (e.g. an imported PAVE-Net R50 for a small model).

Each image goes through :class:`pavenet_sdk.Estimator` as a one-frame stream (the frame is
pushed, the stream flushed; the temporal window replicates it), so the teacher sees exactly
what ``pavenet run`` would on a still image.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from pavenet_sdk.data.types import Person
from pavenet_sdk.layouts import LAYOUTS, JointLayout, get_layout
from pavenet_sdk.teachers.base import TeacherError, check_image, make_person

__all__ = ["PackageTeacher", "package_layout"]


def package_layout(manifest: dict[str, Any], where: str) -> JointLayout:
    """The joint layout a manifest declares (``layout``), else the built-in layout whose joint
    names equal its ``joint_names``."""
    if manifest.get("layout") is not None:
        try:
            return get_layout(manifest["layout"])
        except ValueError as exc:
            raise TeacherError(f"{where}: {exc}") from None
    names = tuple(manifest.get("joint_names", ()))
    for layout in LAYOUTS.values():
        if layout.joints == names:
            return layout
    raise TeacherError(f"{where}: its joints {list(names)} are not a known joint layout")


class PackageTeacher:
    """A pavenet model package labelling single images.

    Args:
        model: a model package directory or archive, or a bundled model's name.
        threads: inference threads.
        score_threshold: persons below this person score are not returned (the label
            command filters again with its own ``--min-score``).
        nms_oks: OKS-NMS threshold of the post-processing (None: off, as ``Estimator``).
    """

    def __init__(
        self,
        model: str | Path,
        *,
        threads: int = 1,
        score_threshold: float = 0.05,
        nms_oks: float | None = None,
    ) -> None:
        from pavenet_sdk import Estimator, load_package
        from pavenet_sdk.runtime.models import resolve_model

        path = resolve_model(model)
        self.layout = package_layout(load_package(path).manifest, str(path))
        self.name = Path(str(model)).name
        self.estimator = Estimator(
            path, threads=threads, score_threshold=score_threshold, nms_oks=nms_oks, track=False
        )

    def __call__(self, image_bgr: np.ndarray) -> list[Person]:
        check_image(image_bgr)
        stream = self.estimator.stream()
        results = stream.push_frame(image_bgr) + stream.flush()
        if len(results) != 1:
            raise RuntimeError(f"a one-frame stream gave {len(results)} results")
        r = results[0]
        persons = [
            make_person(r.keypoints[i], r.keypoint_scores[i], r.scores[i], r.boxes[i])
            for i in range(len(r))
        ]
        return sorted(persons, key=lambda p: -p.score)
