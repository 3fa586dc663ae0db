"""Model-input letterboxing and the window augmentation (one random affine per window).

Coordinates are continuous pixel coordinates with the pixel-edge convention (pixel i spans
[i, i+1)), the same as the runtime: the letterbox resizes to whole pixels per axis, so
``input_x = scale_x * original_x`` with ``scale_x = resized_w / width`` (``scale_y`` likewise)
and ``original_x = (x_norm * in_w - pad_x) / scale_x`` back. An augmentation is a 2x3 matrix ``M``
mapping original px to model-input px; every frame of a window is warped with the same ``M``
(one ``cv2.warpAffine`` per frame) and the keypoints are mapped with it too.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import ClassVar

import cv2
import numpy as np

from pavenet_sdk import manifest, native

__all__ = [
    "IMAGENET_MEAN", "IMAGENET_STD", "AugmentConfig", "letterbox", "letterbox_matrix",
    "letterbox_size", "sample_affine", "warp_window",
]  # fmt: skip

IMAGENET_MEAN = np.asarray(manifest.IMAGENET_MEAN, dtype=np.float32)  # RGB, 0-255
IMAGENET_STD = np.asarray(manifest.IMAGENET_STD, dtype=np.float32)


@dataclass(frozen=True)
class AugmentConfig:
    """Random window transform; each part is drawn once per window.

    Geometry: ``flip`` probability of a horizontal flip (the window builder swaps left and
    right joints with the joint layout's ``flip_index``); rotation uniform in +-``rotate``
    degrees with probability ``rotate_prob``; scale uniform in [1 - ``scale``, 1 + ``scale``]
    (> 1 zooms in, i.e. crops); translation uniform in +-``translate`` of the input size.
    Person zoom: with probability ``zoom`` (when the window has labelled people), the transform
    centres one random person instead and scales it so that its keypoint box's larger side
    (relative to the input's) is uniform in ``zoom_height``, at most ``zoom_max_upscale``
    input px per original px; rotation, flip and translation apply as above, ``scale`` not.
    This is how close-up and partly visible people reach footage of whole, small people.
    Background crop: otherwise, with probability ``background`` (when the window has labelled
    people: a frame without any may be one the labeller missed), the input is filled with a
    region of the frame clear of every labelled person (``boxes`` grown by
    ``background_margin`` of their size on each side), its height a uniform fraction in
    ``background_height`` of the frame's (the input's aspect ratio; up to 20 draws, else the
    plain transform). Such windows teach the model where no people are; rotation and flip
    apply, ``scale`` and translation not. Joints that the transform still brings into the
    input stay targets, so the labels remain consistent.
    Photometric (if ``photometric``), each with probability ``photometric_prob``: brightness
    +-``brightness`` grey levels, contrast and saturation factors in 1 +- ``contrast`` /
    ``saturation``, hue shift +-``hue`` degrees.
    """

    label: ClassVar[str] = "AugmentConfig"  # how errors name the fields' owner

    flip: float = 0.5
    rotate: float = 30.0
    rotate_prob: float = 0.5
    scale: float = 0.25
    translate: float = 0.1
    zoom: float = 0.0
    zoom_height: tuple[float, float] = (0.4, 1.0)
    zoom_max_upscale: float = 3.0
    background: float = 0.0
    background_height: tuple[float, float] = (0.25, 0.6)
    background_margin: float = 0.25
    photometric: bool = True
    photometric_prob: float = 0.5
    brightness: float = 32.0
    contrast: float = 0.5
    saturation: float = 0.5
    hue: float = 18.0

    def __post_init__(self) -> None:
        rules = [(("flip", "rotate_prob", "photometric_prob", "zoom", "background"), 0.0, 1.0,
                  "a probability in [0, 1]"),
                 (("rotate", "translate", "brightness", "hue", "background_margin"), 0.0,
                  math.inf, ">= 0"),
                 (("scale", "contrast", "saturation"), 0.0, 0.999, "in [0, 1)")]  # fmt: skip
        for names, lo, hi, text in rules:
            for name in names:
                value = getattr(self, name)
                if not lo <= value <= hi:
                    raise ValueError(f"{self.label}.{name} must be {text}, got {value}")
        for name, top in (("zoom_height", math.inf), ("background_height", 1.0)):
            object.__setattr__(self, name, tuple(float(v) for v in getattr(self, name)))
            lo, hi = getattr(self, name)
            if not 0.0 < lo <= hi <= top:
                bound = "" if top == math.inf else f" <= {top:g}"
                raise ValueError(f"{self.label}.{name} must be 0 < min <= max{bound}, got {lo, hi}")
        if not self.zoom_max_upscale > 0.0:
            raise ValueError(
                f"{self.label}.zoom_max_upscale must be > 0, got {self.zoom_max_upscale}"
            )

    @classmethod
    def coerce(cls, value: AugmentConfig | Mapping | None) -> AugmentConfig | None:
        """Accept a config, a mapping of its fields, or None (no augmentation)."""
        if value is None or isinstance(value, AugmentConfig):
            return value
        if isinstance(value, Mapping):
            unknown = set(value) - {f.name for f in fields(cls)}
            if unknown:
                raise ValueError(f"unknown augmentation options {sorted(unknown)}")
            return cls(**value)
        raise TypeError(f"augment must be AugmentConfig, a mapping or None, got {type(value)}")


def _input_hw(input_size) -> tuple[int, int]:
    h, w = (input_size, input_size) if isinstance(input_size, int) else input_size
    if int(h) < 1 or int(w) < 1:
        raise ValueError(f"input_size must be (in_h, in_w) >= 1, got {input_size}")
    return int(h), int(w)


def letterbox_size(width: int, height: int, input_size) -> tuple[float, int, int]:
    """(scale, resized_w, resized_h) of the letterbox, rounded like the native runtime."""
    in_h, in_w = _input_hw(input_size)
    scale = min(in_w / width, in_h / height)
    new_w = min(max(int(math.floor(width * scale + 0.5)), 1), in_w)
    new_h = min(max(int(math.floor(height * scale + 0.5)), 1), in_h)
    return scale, new_w, new_h


def letterbox_matrix(width: int, height: int, input_size) -> np.ndarray:
    """(2, 3) float64 original px -> input px of the deterministic letterbox: each axis scaled
    by its own ratio resized / original (the resized size is rounded per axis)."""
    _, new_w, new_h = letterbox_size(width, height, input_size)
    return np.array([[new_w / width, 0.0, 0.0], [0.0, new_h / height, 0.0]])


def _check_image(image: np.ndarray) -> None:
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
        got = getattr(image, "dtype", type(image))
        raise TypeError(f"images must be uint8 numpy arrays, got {got}")
    if image.ndim != 3 or image.shape[2] != 3 or image.shape[0] < 1 or image.shape[1] < 1:
        raise ValueError(f"images must be (H, W, 3) BGR, got shape {image.shape}")


def _normalize(bgr: np.ndarray) -> np.ndarray:
    """(H, W, 3) BGR 0-255 -> (3, H, W) float32 RGB (v - mean) / std."""
    rgb = bgr[..., ::-1].astype(np.float32)
    return np.ascontiguousarray(((rgb - IMAGENET_MEAN) / IMAGENET_STD).transpose(2, 0, 1))


def letterbox(image: np.ndarray, input_size) -> tuple[np.ndarray, float]:
    """Deterministic model input, made by the runtime's own :func:`pavenet_sdk.native.letterbox`.

    Args:
        image: (H, W, 3) uint8 BGR.
        input_size: (in_h, in_w) px, or an int for a square input.

    Returns:
        (3, in_h, in_w) float32 (RGB, ImageNet-normalised, resized image at the top-left,
        padding 0) and the scale (input px per original px).
    """
    _check_image(image)
    in_h, in_w = _input_hw(input_size)
    chw, record = native.letterbox(image, in_h, in_w)
    return chw, float(record.scale)


def _background_crop(
    rng: np.random.Generator, cfg: AugmentConfig, width: int, height: int, in_hw,
    boxes: np.ndarray,
) -> tuple[float, float, float] | None:  # fmt: skip
    """(centre x, centre y, height) px of a frame region clear of every grown person box, in
    the input's aspect ratio, or None when 20 draws find none."""
    grown = np.asarray(boxes, np.float64).reshape(-1, 4)
    size = grown[:, 2:] - grown[:, :2]
    grown = grown + np.hstack([-size, size]) * cfg.background_margin
    for _ in range(20):
        crop_h = float(rng.uniform(*cfg.background_height)) * height
        crop_w = crop_h * in_hw[1] / in_hw[0]
        if crop_w > width:
            continue
        x0, y0 = rng.uniform(0.0, width - crop_w), rng.uniform(0.0, height - crop_h)
        clear = ((grown[:, 0] >= x0 + crop_w) | (grown[:, 2] <= x0)
                 | (grown[:, 1] >= y0 + crop_h) | (grown[:, 3] <= y0))  # fmt: skip
        if clear.all():
            return x0 + crop_w / 2.0, y0 + crop_h / 2.0, crop_h
    return None


def sample_affine(
    rng: np.random.Generator, cfg: AugmentConfig, width: int, height: int, input_size,
    boxes: np.ndarray | None = None,
) -> tuple[np.ndarray, bool]:  # fmt: skip
    """Draw one augmentation: (2, 3) float64 original px -> input px, and whether it flips.

    Without a person zoom, the letterbox comes first (image at the top-left), then flip (in
    original px, so the image stays at the top-left), then rotation and scale about the centre
    of the letterboxed image, then translation. With one (``cfg.zoom``, ``boxes``: (N, 4)
    x0, y0, x1, y1 original px of the labelled people), flip, then rotation and scale about
    the chosen person's box centre, which lands at the input centre, then translation. A
    background crop (``cfg.background``) is placed like a zoomed person, without translation.
    """
    in_h, in_w = _input_hw(input_size)
    flip = bool(rng.random() < cfg.flip)
    angle = float(rng.uniform(-cfg.rotate, cfg.rotate)) if rng.random() < cfg.rotate_prob else 0.0
    zoom = float(rng.uniform(1.0 - cfg.scale, 1.0 + cfg.scale))
    shift = rng.uniform(-cfg.translate, cfg.translate, size=2) * (in_w, in_h)
    mirror = np.array([[-1.0, 0.0, width], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]) if flip else np.eye(3)
    person = None
    if cfg.zoom > 0 and boxes is not None and len(boxes) and rng.random() < cfg.zoom:
        person = np.asarray(boxes, dtype=np.float64)[rng.integers(len(boxes))]
        fraction = float(rng.uniform(*cfg.zoom_height))
    crop = None
    labelled = boxes is not None and len(boxes) > 0
    if person is None and cfg.background > 0 and labelled and rng.random() < cfg.background:
        crop = _background_crop(rng, cfg, width, height, (in_h, in_w), boxes)
    if crop is not None:
        cx, cy, crop_h = crop
        cx = width - cx if flip else cx
        s, zoom, shift = in_h / crop_h, 1.0, np.zeros(2)
        centre, target = (cx, cy), (in_w / 2.0, in_h / 2.0)
    elif person is None:
        s = letterbox_size(width, height, (in_h, in_w))[0]
        centre, target = (width / 2.0, height / 2.0), (width * s / 2.0, height * s / 2.0)
    else:
        x0, y0, x1, y1 = person
        if flip:
            x0, x1 = width - x1, width - x0
        extent = max((x1 - x0) / in_w, (y1 - y0) / in_h, 1e-6)
        s, zoom = min(fraction / extent, cfg.zoom_max_upscale), 1.0
        centre, target = ((x0 + x1) / 2.0, (y0 + y1) / 2.0), (in_w / 2.0, in_h / 2.0)
    # scale about the centre, then rotation + zoom (angle counter-clockwise on screen)
    rot = cv2.getRotationMatrix2D((0.0, 0.0), angle, zoom * s)
    rot[:, 2] = target + shift - rot[:, :2] @ centre
    m = np.vstack([rot, [0.0, 0.0, 1.0]]) @ mirror
    return m[:2], flip


def _photometric(rng: np.random.Generator, cfg: AugmentConfig):
    """Draw photometric parameters once; returns a function applied to each BGR float frame."""
    p = cfg.photometric_prob

    def maybe(lo: float, hi: float, neutral: float) -> float:
        return float(rng.uniform(lo, hi)) if rng.random() < p else neutral

    delta = maybe(-cfg.brightness, cfg.brightness, 0.0)
    alpha = maybe(1 - cfg.contrast, 1 + cfg.contrast, 1.0)
    sat = maybe(1 - cfg.saturation, 1 + cfg.saturation, 1.0)
    hue = maybe(-cfg.hue, cfg.hue, 0.0)

    def apply(img: np.ndarray) -> np.ndarray:  # (H, W, 3) float32 BGR 0-255
        if delta != 0.0 or alpha != 1.0:
            img = np.clip((img + delta) * alpha, 0.0, 255.0)
        if sat != 1.0 or hue != 0.0:
            hsv = cv2.cvtColor(img / 255.0, cv2.COLOR_BGR2HSV)  # H in degrees, S, V in [0, 1]
            hsv[..., 0] = np.mod(hsv[..., 0] + hue, 360.0)
            hsv[..., 1] = np.clip(hsv[..., 1] * sat, 0.0, 1.0)
            img = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR) * 255.0
        return img

    return apply


def warp_window(
    images: list[np.ndarray], matrix: np.ndarray, input_size,
    rng: np.random.Generator | None = None, cfg: AugmentConfig | None = None,
) -> np.ndarray:  # fmt: skip
    """Warp every frame with the same ``matrix`` (+ the same photometric draw if ``cfg``).

    Args:
        images: F frames (H, W, 3) uint8 BGR of one size.
        matrix: (2, 3) original px -> input px (continuous, pixel-edge convention).

    Returns:
        (F, 3, in_h, in_w) float32 RGB normalised; outside the warped image it is 0.
    """
    in_h, in_w = _input_hw(input_size)
    h, w = images[0].shape[:2]
    # cv2 maps pixel indices (centres); shift the continuous matrix by half a pixel
    m = np.asarray(matrix, dtype=np.float64)
    m_idx = m.copy()
    m_idx[:, 2] += m[:, :2] @ (0.5, 0.5) - 0.5
    size = (in_w, in_h)
    mask = cv2.warpAffine(np.full((h, w), 255, np.uint8), m_idx, size, flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)  # fmt: skip
    weight = mask.astype(np.float32) / 255.0
    apply = _photometric(rng, cfg) if (cfg is not None and cfg.photometric) else None
    border = tuple(float(v) for v in IMAGENET_MEAN[::-1])
    out = np.empty((len(images), 3, in_h, in_w), dtype=np.float32)
    for k, image in enumerate(images):
        warped = cv2.warpAffine(image, m_idx, size, flags=cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_CONSTANT, borderValue=border)  # fmt: skip
        frame = warped.astype(np.float32)
        if apply is not None:
            frame = apply(frame)
        out[k] = _normalize(frame) * weight  # padding exactly 0 after normalisation
    return out
