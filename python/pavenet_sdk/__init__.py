"""pavenet-sdk: end-to-end multi-person pose estimation in video with PAVE-Net.

``import pavenet_sdk`` needs only numpy (and OpenCV where images are touched); torch is
imported only by the model, training and torch backends. The public names below load on
first use, so ``pavenet_sdk.model`` or the CLI never pay for the runtime they do not use.

Sizes in the runtime API are (width, height) px; array shapes are numpy's (H, W, ...).

Example:
    >>> from pavenet_sdk import Estimator
    >>> est = Estimator()                      # the bundled model, fastest backend
    >>> for result in est.run("video.mp4"):    # or push_frame(frame) per camera frame
    ...     result.keypoints, result.track_ids, result.joint_names

Submodules ``pavenet_sdk.layouts`` (joint layouts), ``pavenet_sdk.native`` (the C++ core) and
``pavenet_sdk.manifest`` (model package manifests) are reachable as attributes too.
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
    "JointLayout": "pavenet_sdk.layouts",
    "LAYOUTS": "pavenet_sdk.layouts",
    "POSETRACK_15": "pavenet_sdk.layouts",
    "COCO_17": "pavenet_sdk.layouts",
    "get_layout": "pavenet_sdk.layouts",
}
# submodules loaded on first attribute access (``import pavenet_sdk.layouts`` works as usual)
_SUBMODULES = ("layouts", "manifest", "native")
__all__ = [
    "COCO_17",
    "Estimator",
    "FrameResult",
    "JointLayout",
    "LAYOUTS",
    "ModelPackage",
    "POSETRACK_15",
    "PackageError",
    "SmootherOptions",
    "Stream",
    "TrackerOptions",
    "__version__",
    "available_backends",
    "bundled_models",
    "get_layout",
    "load_package",
]

if TYPE_CHECKING:
    from pavenet_sdk.layouts import COCO_17, LAYOUTS, POSETRACK_15, JointLayout, get_layout
    from pavenet_sdk.runtime.backends import available_backends
    from pavenet_sdk.runtime.estimator import Estimator, SmootherOptions, Stream, TrackerOptions
    from pavenet_sdk.runtime.models import bundled_models
    from pavenet_sdk.runtime.package import ModelPackage, PackageError, load_package
    from pavenet_sdk.runtime.results import FrameResult


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"pavenet_sdk.{name}")  # sets the attribute itself
    if name not in _EXPORTS:
        raise AttributeError(f"module 'pavenet_sdk' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS) | set(_SUBMODULES))
