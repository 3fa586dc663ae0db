"""The authors' pre/post-processing conventions (official-checkpoint.md items 13-15) and how
our fixed-size letterbox input approximates them.

Official test pipeline: RGB, ImageNet mean/std, keep-ratio resize so the image fits in
1333 x 800 (long x short side), no padding (``size_divisor=1``, batch of 1), keypoints
normalised by the **unpadded** resized image, 15 PoseTrack joints, top-20 persons, joint
confidence from the last STJD sigma head. Our runtime letterboxes every frame into a fixed
``input_size`` (resized image top-left, zero padding right/bottom) and normalises by the whole
input. With ``input_size`` equal to the official resized size of the video, there is no
padding and both conventions coincide; :func:`official_input_size` computes that size.

Torch-free.
"""

from __future__ import annotations

import math

from pavenet_sdk.layouts import POSETRACK_15
from pavenet_sdk.manifest import IMAGENET_MEAN, IMAGENET_STD

OFFICIAL_SCALE = (1333, 800)  # (long side, short side) bound of the keep-ratio resize

PREPROCESSING: dict = {
    "source": "official PAVE-Net checkpoint (zgspose/PAVENet), imported",
    "color": "rgb",
    "mean": list(IMAGENET_MEAN),
    "std": list(IMAGENET_STD),
    "official_resize": "keep ratio within 1333x800 (long x short), no padding, batch 1",
    "official_normalisation": "keypoints / unpadded resized image size",
    "runtime_resize": "letterbox into input_size: scale = min(in_w/W, in_h/H), image top-left, "
    "zero padding right/bottom after normalisation; keypoints / whole input",
    "num_joints": POSETRACK_15.num_joints,  # the released models are PoseTrack-15
    "frames": "[t-1, t, t+1], boundary frames replicated",
    "top_k": 20,
    "joint_confidence": "person score x 0.7*(1-exp(-0.2/sigma_x))*(1-exp(-0.2/sigma_y)), "
    "sigma from the last STJD sigma head",
}


def official_input_size(
    width: int, height: int, scale: tuple[int, int] = OFFICIAL_SCALE
) -> tuple[int, int]:
    """(h, w) px the authors' keep-ratio resize gives a ``width`` x ``height`` frame.

    Using it as the model ``input_size`` makes our letterbox padding-free for that video
    resolution, so the imported weights see exactly the official input geometry.
    Example: 1920x1080 -> (750, 1333); 1280x720 -> (750, 1333); 640x480 -> (800, 1067).
    """
    for name, v in (("width", width), ("height", height)):
        if not isinstance(v, int) or v < 1:
            raise ValueError(f"{name} must be a positive int, got {v!r}")
    long_bound, short_bound = max(scale), min(scale)
    factor = min(long_bound / max(width, height), short_bound / min(width, height))
    # mmcv rounds each side to the nearest pixel
    return int(height * factor + 0.5), int(width * factor + 0.5)


def letterbox_padding(
    width: int, height: int, input_size: tuple[int, int]
) -> tuple[float, int, int]:
    """(scale, pad_right px, pad_bottom px) of our letterbox for a ``width`` x ``height`` frame
    into ``input_size`` (h, w), with the resized size rounded up as a bound."""
    in_h, in_w = input_size
    scale = min(in_w / width, in_h / height)
    return scale, max(0, in_w - math.ceil(width * scale)), max(0, in_h - math.ceil(height * scale))
