"""Any pavenet model package as a teacher (e.g. an imported PAVE-Net R50 for a small model).

Each image goes through :class:`pavenet_sdk.Estimator` as a one-frame stream (the frame is
pushed, the stream flushed; the temporal window replicates it), so the teacher sees exactly
what ``pavenet run`` would on a still image.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pavenet_sdk.data.types import Person
from pavenet_sdk.manifest import DEFAULT_SCORE_THRESHOLD
from pavenet_sdk.teachers.base import check_image, make_person

__all__ = ["PackageTeacher"]


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
        from pavenet_sdk import Estimator

        self.name = Path(str(model)).name
        self.estimator = Estimator(
            model, threads=threads, score_threshold=score_threshold, nms_oks=nms_oks, track=False
        )
        self.layout = self.estimator.layout
        #: the person-score threshold the package recommends (what ``Estimator`` defaults to)
        self.default_threshold = float(
            self.estimator.package.manifest.get("score_threshold", DEFAULT_SCORE_THRESHOLD)
        )

    def __call__(self, image_bgr: np.ndarray) -> list[Person]:
        check_image(image_bgr)
        r = self.estimator.predict_image(image_bgr)
        persons = [
            make_person(r.keypoints[i], r.keypoint_scores[i], r.scores[i], r.boxes[i])
            for i in range(len(r))
        ]
        return sorted(persons, key=lambda p: -p.score)
