"""The static part of a clip: pinhole camera, textured cluttered background, camera jitter."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from pavenet_sdk.data.synth.motion import Arena
from pavenet_sdk.data.synth.presets import Preset

REFERENCE_HEIGHT = 1.7  # m: ``Preset.height_frac`` refers to a person this tall


@dataclass(frozen=True)
class Camera:
    """Level pinhole camera ``height`` metres above the ground; focal and centre in px."""

    focal: float
    cx: float
    cy: float
    height: float

    def project(self, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """World points (..., 3) m -> image points (..., 2) px and depths (...) m."""
        z = np.maximum(pts[..., 2], 0.2)
        u = self.cx + self.focal * pts[..., 0] / z
        v = self.cy - self.focal * (pts[..., 1] - self.height) / z
        return np.stack([u, v], axis=-1), z


def sample_camera(
    rng: np.random.Generator, width: int, height: int, preset: Preset
) -> tuple[Camera, Arena]:
    """A camera whose horizon keeps the nearest people mostly in frame, and the ground region
    where people of ``preset.height_frac`` frame heights stand."""
    focal = width * rng.uniform(0.8, 1.2)
    lo, hi = preset.height_frac
    z_near = focal * REFERENCE_HEIGHT / (hi * height)
    z_far = focal * REFERENCE_HEIGHT / (lo * height)
    ratio = rng.uniform(0.4, 1.0)  # camera height / person height
    tallest = hi * height
    cy_lo, cy_hi = tallest * (1 - ratio) + 0.02 * height, height * 0.98 - tallest * ratio
    cy = rng.uniform(cy_lo, cy_hi) if cy_lo < cy_hi else 0.5 * (cy_lo + cy_hi)
    camera = Camera(focal=focal, cx=width / 2, cy=cy, height=ratio * REFERENCE_HEIGHT)
    return camera, Arena(z_near=z_near, z_far=z_far, tan_half=0.4 * width / focal)


def _colour(rng: np.random.Generator, lo: float = 30, hi: float = 230) -> tuple[float, ...]:
    return tuple(float(v) for v in rng.uniform(lo, hi, size=3))


def make_background(
    rng: np.random.Generator, camera: Camera, size: tuple[int, int], margin: int, preset: Preset
) -> np.ndarray:
    """Background canvas (H + 2 margin, W + 2 margin, 3) uint8 BGR: wall/sky and floor
    gradients with smooth shading, optional floor tiles, clutter shapes and fine texture.
    The frame is a crop of it, which lets the camera jitter."""
    width, height = size
    cw, ch = width + 2 * margin, height + 2 * margin
    horizon = camera.cy + margin
    # colour per row at 1/8 resolution, then smooth shading, then one upscale
    sh, sw = max(ch // 8, 2), max(cw // 8, 2)
    rows = np.arange(sh) * ch / sh
    anchors = np.array([0.0, horizon - 1, horizon, ch])
    keys = np.array([_colour(rng), _colour(rng), _colour(rng), _colour(rng)])
    grad = np.stack([np.interp(rows, anchors, keys[:, k]) for k in range(3)], axis=-1)
    small = grad[:, None, :] + rng.normal(0, 18, size=(sh, sw, 1)) + rng.normal(0, 6, (sh, sw, 3))
    small = cv2.GaussianBlur(small.astype(np.float32), (0, 0), 1.0)
    canvas = cv2.resize(np.clip(small, 0, 255).astype(np.uint8), (cw, ch),
                        interpolation=cv2.INTER_LINEAR)  # fmt: skip
    if rng.random() < 0.6:  # floor tiles in perspective
        tone = tuple(float(v) * 0.8 for v in canvas[min(ch - 1, int(horizon) + 4), cw // 2])
        for depth in np.geomspace(1.0, 40.0, 12):
            y = int(horizon + camera.focal * camera.height / depth)
            if y < ch:
                cv2.line(canvas, (0, y), (cw, y), tone, 1, cv2.LINE_AA)
        vx = camera.cx + margin
        for x in np.arange(-12.0, 12.1, rng.uniform(0.8, 2.0)):
            cv2.line(
                canvas,
                (int(vx), int(horizon)),
                (int(vx + x * (ch - horizon) / camera.height), ch),
                tone,
                1,
                cv2.LINE_AA,
            )
    for _ in range(int(rng.integers(preset.clutter[0], preset.clutter[1] + 1))):
        _draw_clutter(rng, canvas, horizon)
    return add_noise(canvas, rng, int(rng.integers(2, 8)), block=2)


NOISE_PAD = 64  # noise tiles are larger than the image; each use crops at a random offset


@lru_cache(maxsize=24)
def _noise_tiles(height: int, width: int, level: int, block: int) -> tuple[np.ndarray, ...]:
    """Positive and negative parts (uint8) of a fixed Gaussian noise tile with std ``level``
    made of ``block`` x ``block`` px cells (block > 1 gives a grey texture, 1 colour noise)."""
    rng = np.random.default_rng(0x5EED + 97 * level + block)
    h, w = (height + NOISE_PAD) // block + 1, (width + NOISE_PAD) // block + 1
    noise = rng.normal(0.0, level, size=(h, w, 3 if block == 1 else 1))
    noise = np.repeat(np.repeat(noise, block, axis=0), block, axis=1)[
        : height + NOISE_PAD, : width + NOISE_PAD
    ]
    noise = np.broadcast_to(np.clip(np.round(noise), -255, 255), (*noise.shape[:2], 3))
    return np.maximum(noise, 0).astype(np.uint8), np.maximum(-noise, 0).astype(np.uint8)


def add_noise(img: np.ndarray, rng: np.random.Generator, level: int, block: int = 1) -> np.ndarray:
    """``img`` (uint8, 3 channels) plus zero-mean Gaussian noise of std ``level`` grey levels,
    cropped at a random offset from a cached tile (cheap enough for every frame)."""
    h, w = img.shape[:2]
    pos, neg = _noise_tiles(h, w, level, block)
    oy, ox = (int(v) for v in rng.integers(0, NOISE_PAD, size=2))
    return cv2.subtract(cv2.add(img, pos[oy : oy + h, ox : ox + w]), neg[oy : oy + h, ox : ox + w])


def _draw_clutter(rng: np.random.Generator, canvas: np.ndarray, horizon: float) -> None:
    """One random shape: boxes resting near the horizon, blobs, polygons and poles or limb-like
    thick lines (distractors for a pose model)."""
    ch, cw = canvas.shape[:2]
    colour = _colour(rng, 10, 245)
    kind = rng.integers(5)
    x, y = rng.uniform(0, cw), rng.uniform(0, ch)
    if kind == 0:  # box or building standing on the floor
        w, h = rng.uniform(0.05, 0.3) * cw, rng.uniform(0.05, 0.5) * ch
        base = horizon + rng.uniform(-0.05, 0.25) * ch
        cv2.rectangle(canvas, (int(x), int(base - h)), (int(x + w), int(base)), colour, -1)
        if rng.random() < 0.5:  # windows or shelves
            step = max(4, int(h / rng.integers(3, 8)))
            shade = tuple(v * 0.6 for v in colour)
            for yy in range(int(base - h) + step // 2, int(base), step):
                cv2.line(canvas, (int(x) + 2, yy), (int(x + w) - 2, yy), shade, 1)
    elif kind == 1:
        r = rng.uniform(0.02, 0.12) * ch
        axes = (int(r), int(r * rng.uniform(0.4, 1.6)))
        cv2.ellipse(canvas, (int(x), int(y)), axes, rng.uniform(0, 180), 0, 360, colour, -1,
                    cv2.LINE_AA)  # fmt: skip
    elif kind == 2:
        pts = np.array([x, y]) + rng.normal(0, 0.08 * ch, size=(int(rng.integers(3, 7)), 2))
        cv2.fillPoly(canvas, [pts.astype(np.int32)], colour, cv2.LINE_AA)
    elif kind == 3:  # pole
        w = int(rng.uniform(0.01, 0.04) * cw) + 1
        cv2.line(canvas, (int(x), 0), (int(x + rng.normal(0, 5)), int(horizon + 0.2 * ch)),
                 colour, w, cv2.LINE_AA)  # fmt: skip
    else:  # limb-like capsule
        length = rng.uniform(0.05, 0.2) * ch
        a = rng.uniform(0, np.pi)
        end = (int(x + length * np.cos(a)), int(y + length * np.sin(a)))
        cv2.line(canvas, (int(x), int(y)), end, colour, int(rng.integers(2, 9)), cv2.LINE_AA)


def camera_offsets(
    rng: np.random.Generator, num_frames: int, shake: float, margin: int
) -> np.ndarray:
    """Per-frame integer crop offsets (T, 2) in px, a smooth random walk within +-margin."""
    out = np.zeros((num_frames, 2), dtype=np.int64)
    pos = rng.uniform(-0.5, 0.5, size=2) * margin
    steps = rng.normal(0.0, shake, size=(num_frames, 2))
    for i in range(num_frames):
        pos = np.clip(0.85 * pos + steps[i], -margin, margin)
        out[i] = np.round(pos)
    return out
