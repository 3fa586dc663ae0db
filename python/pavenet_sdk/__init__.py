"""pavenet-sdk: end-to-end multi-person pose estimation in video with PAVE-Net.

``import pavenet_sdk`` needs only numpy (and OpenCV where images are touched); torch is
imported only by the model, training and torch backends.

Example:
    >>> from pavenet_sdk import Estimator
    >>> est = Estimator()                      # the bundled model, fastest backend
    >>> for result in est.run("video.mp4"):    # or push_frame(frame) per camera frame
    ...     result.keypoints, result.track_ids
"""

from __future__ import annotations

__version__ = "0.1.0"

from pavenet_sdk.runtime.backends import available_backends
from pavenet_sdk.runtime.estimator import Estimator, SmootherOptions, Stream, TrackerOptions
from pavenet_sdk.runtime.models import bundled_models
from pavenet_sdk.runtime.package import ModelPackage, PackageError, load_package
from pavenet_sdk.runtime.results import FrameResult

__all__ = [
    "Estimator",
    "FrameResult",
    "ModelPackage",
    "PackageError",
    "SmootherOptions",
    "Stream",
    "TrackerOptions",
    "__version__",
    "available_backends",
    "bundled_models",
    "load_package",
]
