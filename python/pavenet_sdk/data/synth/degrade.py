"""Per-frame degradations that temporal context can undo.

Each frame independently may get one global degradation (motion blur, defocus, a contrast drop
or a noise burst), and occluders pass in front of single people for a few frames only, so the
neighbouring frames usually still show what one frame lost. Every frame also gets mild sensor
noise.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from pavenet_sdk.data.synth.presets import DEGRADATIONS, Preset
from pavenet_sdk.data.synth.scene import add_noise


@dataclass
class FrameInfo:
    """What was done to one frame (for analysis, e.g. scoring degraded frames separately).

    camera_offset: (dx, dy) px of the camera jitter. motion_blur: blur length px (0 = none) along
    ``blur_angle`` degrees. defocus: Gaussian sigma px (0 = none). contrast: factor (1 = none).
    noise: sensor noise std in grey levels. occluded_tracks: track ids an occluder passes over.
    """

    camera_offset: tuple[int, int] = (0, 0)
    motion_blur: float = 0.0
    blur_angle: float = 0.0
    defocus: float = 0.0
    contrast: float = 1.0
    noise: float = 0.0
    noise_burst: bool = False
    occluded_tracks: list[int] = field(default_factory=list)

    @property
    def kinds(self) -> tuple[str, ...]:
        """Names of the degradations applied to this frame (empty for a clean frame)."""
        out = [name for name, on in (
            ("motion_blur", self.motion_blur > 0), ("defocus", self.defocus > 0),
            ("contrast", self.contrast < 1), ("noise", self.noise_burst),
            ("occluder", bool(self.occluded_tracks)),
        ) if on]  # fmt: skip
        return tuple(out)

    @property
    def degraded(self) -> bool:
        return bool(self.kinds)


@dataclass(frozen=True)
class Occluder:
    """A shape passing in front of the scene during frames [start, stop).

    kind: bar (vertical pole) | board (rectangle) | blob (ellipse). centre (px) at frame
    ``start``, velocity px/frame, size (w, h) px, angle degrees, BGR colour.
    """

    kind: str
    start: int
    stop: int
    track: int
    centre: tuple[float, float]
    velocity: tuple[float, float]
    size: tuple[float, float]
    angle: float
    colour: tuple[float, float, float]


def sample_frame_infos(
    rng: np.random.Generator, preset: Preset, offsets: np.ndarray, scale: float
) -> list[FrameInfo]:
    """Global degradations per frame. ``scale`` = frame height / 240 scales pixel sizes."""
    names = [n for n in DEGRADATIONS if preset.degrade_weights.get(n, 0) > 0]
    weights = np.array([preset.degrade_weights[n] for n in names], dtype=np.float64)
    base_noise = rng.uniform(*preset.base_noise)
    infos = []
    for t, off in enumerate(offsets):
        info = FrameInfo(camera_offset=(int(off[0]), int(off[1])), noise=base_noise)
        if names and rng.random() < preset.p_degrade:
            kind = names[int(rng.choice(len(names), p=weights / weights.sum()))]
            if kind == "motion_blur":
                info.motion_blur = rng.uniform(5, 14) * scale
                # along the camera's motion when it moved, else a random direction
                dx, dy = (offsets[t] - offsets[t - 1]) if t > 0 else (0, 0)
                random_angle = rng.uniform(0, 180)
                moved = dx * dx + dy * dy >= 1
                info.blur_angle = float(np.degrees(np.arctan2(dy, dx))) if moved else random_angle
            elif kind == "defocus":
                info.defocus = rng.uniform(1.5, 3.5) * scale
            elif kind == "contrast":
                info.contrast = rng.uniform(0.2, 0.5)
            else:
                info.noise, info.noise_burst = rng.uniform(10, 24), True
        infos.append(info)
    return infos


def sample_occluders(
    rng: np.random.Generator, preset: Preset, centres: np.ndarray, heights: np.ndarray,
    visible: np.ndarray,
) -> list[Occluder]:  # fmt: skip
    """Occluders aimed at visible people. centres (T, P, 2) px, heights (T, P) px, visible
    (T, P) bool."""
    num_frames = centres.shape[0]
    out: list[Occluder] = []
    for t in range(num_frames):
        candidates = np.flatnonzero(visible[t])
        if len(candidates) == 0 or rng.random() >= preset.p_occluder:
            continue
        k = int(rng.choice(candidates))
        lo, hi = preset.occluder_frames
        stop = min(num_frames, t + int(rng.integers(lo, hi + 1)))
        h = float(heights[t, k])
        kind = str(rng.choice(["bar", "board", "blob"]))
        if kind == "bar":
            size = (h * rng.uniform(0.12, 0.3), 4.0 * h)
        elif kind == "board":
            size = (h * rng.uniform(0.4, 0.8), h * rng.uniform(0.3, 0.6))
        else:
            size = (h * rng.uniform(0.2, 0.4), h * rng.uniform(0.2, 0.4))
        speed = h * rng.uniform(0.1, 0.4) * rng.choice([-1.0, 1.0])
        mid = 0.5 * (stop - 1 - t)
        cx, cy = centres[t, k] + rng.normal(0, 0.1 * h, size=2)
        tone = rng.uniform(0.3, 1.0)
        out.append(Occluder(
            kind=kind, start=t, stop=stop, track=k, centre=(cx - speed * mid, cy),
            velocity=(speed, 0.0), size=size, angle=rng.uniform(-15, 15),
            colour=tuple(float(v) * tone for v in rng.uniform(20, 235, size=3)),
        ))  # fmt: skip
    return out


def draw_occluder(img: np.ndarray, occ: Occluder, t: int) -> None:
    """Draw ``occ`` as it is at frame ``t`` (no-op outside its frames)."""
    if not occ.start <= t < occ.stop:
        return
    dt = t - occ.start
    cx, cy = occ.centre[0] + occ.velocity[0] * dt, occ.centre[1] + occ.velocity[1] * dt
    w, h = occ.size
    if occ.kind == "blob":
        cv2.ellipse(img, (int(cx), int(cy)), (max(1, int(w)), max(1, int(h))), occ.angle, 0, 360,
                    occ.colour, -1, cv2.LINE_AA)  # fmt: skip
        return
    box = cv2.boxPoints(((cx, cy), (w, h), occ.angle))
    cv2.fillConvexPoly(img, np.round(box).astype(np.int32), occ.colour, cv2.LINE_AA)
    edge = tuple(v * 0.6 for v in occ.colour)
    cv2.polylines(img, [np.round(box).astype(np.int32)], True, edge, 1, cv2.LINE_AA)


def apply_degradations(img: np.ndarray, info: FrameInfo, rng: np.random.Generator) -> np.ndarray:
    """Apply ``info``'s global degradations and sensor noise to a BGR uint8 frame."""
    if info.motion_blur > 0:
        n = int(round(info.motion_blur)) | 1
        kernel = np.zeros((n, n), np.float32)
        a = np.radians(info.blur_angle)
        d = np.array([np.cos(a), np.sin(a)]) * (n - 1) / 2
        c = (n - 1) / 2
        cv2.line(kernel, (round(c - d[0]), round(c - d[1])), (round(c + d[0]), round(c + d[1])),
                 1.0, 1)  # fmt: skip
        img = cv2.filter2D(img, -1, kernel / kernel.sum(), borderType=cv2.BORDER_REFLECT)
    if info.defocus > 0:
        img = cv2.GaussianBlur(img, (0, 0), info.defocus)
    if info.contrast < 1:
        haze = rng.uniform(40, 215)
        img = cv2.convertScaleAbs(img, alpha=info.contrast, beta=haze * (1 - info.contrast))
    # few distinct levels keep the tile cache small
    level = int(round(info.noise)) if info.noise <= 6 else 4 * int(round(info.noise / 4))
    if level > 0:
        img = add_noise(img, rng, min(level, 32))
    return img
