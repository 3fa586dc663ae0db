"""pavenet-sdk: end-to-end multi-person pose estimation in video with PAVE-Net.

``import pavenet_sdk`` needs only numpy (and OpenCV where images are touched); torch is
imported only by the model, training and torch backends. The public names below load on
first use, so ``pavenet_sdk.model`` or the CLI never pay for the runtime they do not use.

Example:
    >>> from pavenet_sdk import Estimator
    >>> est = Estimator()                      # the bundled model, fastest backend
    >>> for result in est.run("video.mp4"):    # or push_frame(frame) per camera frame
    ...     result.keypoints, result.track_ids
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS = {
    "Estimator": "pavenet_sdk.runtime.estimator",
    "Stream": "pavenet_sdk.runtime.estimator",
    "TrackerOptions": "pavenet_sdk.runtime.estimator",
    "SmootherOptions": "pavenet_sdk.runtime.estimator",
    "FrameResult": "pavenet_sdk.runtime.results",
    "ModelPackage": "pavenet_sdk.runtime.package",
    "PackageError": "pavenet_sdk.runtime.package",
    "load_package": "pavenet_sdk.runtime.package",
    "available_backends": "pavenet_sdk.runtime.backends",
    "bundled_models": "pavenet_sdk.runtime.models",
}
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

if TYPE_CHECKING:
    from pavenet_sdk.runtime.backends import available_backends
    from pavenet_sdk.runtime.estimator import Estimator, SmootherOptions, Stream, TrackerOptions
    from pavenet_sdk.runtime.models import bundled_models
    from pavenet_sdk.runtime.package import ModelPackage, PackageError, load_package
    from pavenet_sdk.runtime.results import FrameResult


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'pavenet_sdk' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
