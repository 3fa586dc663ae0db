"""pavenet-sdk: end-to-end multi-person pose estimation in video with PAVE-Net.

``import pavenet_sdk`` needs only numpy (and OpenCV where images are touched); torch is
imported only by the model, training and torch backends.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
