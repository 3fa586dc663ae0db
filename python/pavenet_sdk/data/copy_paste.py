"""Copy-paste composites: real people cut out by their instance masks, pasted onto real frames.

Pseudo-labelled video holds few scenes and few overlaps. Pasting segmented people (e.g. the
Penn-Fudan pedestrians) onto other real frames makes crowds, partial occlusions and new
backgrounds; the pasted person's keypoints move with it, and joints of people already in the
frame that end up under a pasted mask stop being supervised.

A whole window (2T + 1 frames) gets the same pasted people, drifting by a constant velocity,
so the temporal decoder sees consistent motion. Torch-free; images are BGR uint8.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence as Seq
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from pavenet_sdk.data.types import Frame, Person, Sequence
from pavenet_sdk.layouts import JointLayout

__all__ = ["Cutout", "PasteConfig", "cutouts_from_masks", "paste_people", "pennfudan_mask"]


@dataclass(frozen=True)
class Cutout:
    """One segmented person.

    image: (h, w, 3) uint8 BGR crop around the person.
    mask: (h, w) float32 alpha in [0, 1].
    keypoints: (K, 3) float32 x, y px in the crop, visibility (> 0: supervised).
    """

    image: np.ndarray
    mask: np.ndarray
    keypoints: np.ndarray


@dataclass(frozen=True)
class PasteConfig:
    """How many people to paste and how.

    count: (min, max) pasted people per window.
    height: (min, max) pasted person height as a fraction of the frame height.
    max_drift: largest per-frame drift, as a fraction of the pasted height.
    feather: alpha blur radius in px (soft mask edges).
    """

    count: tuple[int, int] = (1, 3)
    height: tuple[float, float] = (0.2, 0.9)
    max_drift: float = 0.03
    feather: int = 2

    def __post_init__(self) -> None:
        if not 0 <= self.count[0] <= self.count[1]:
            raise ValueError(f"count must be 0 <= min <= max, got {self.count}")
        if not 0 < self.height[0] <= self.height[1]:
            raise ValueError(f"height must be 0 < min <= max, got {self.height}")


def pennfudan_mask(frame: Frame) -> Path:
    """Penn-Fudan layout: ``images/X.jpg`` has its instance mask at ``masks/X_mask.png``."""
    image = Path(frame.image_path)
    return image.parent.parent / "masks" / f"{image.stem}_mask.png"


def _box_iou(a: np.ndarray, b: np.ndarray) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _match_instances(persons: list[Person], instances: np.ndarray) -> list[tuple[Person, int]]:
    """Pair labelled persons with mask instance ids (each used once), by the share of the
    person's labelled joints that fall on the instance, then box IoU."""
    ids = [int(i) for i in np.unique(instances) if i != 0]
    h, w = instances.shape
    boxes = {}
    for i in ids:
        ys, xs = np.nonzero(instances == i)
        boxes[i] = np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], np.float64)
    pairs = []
    for p_idx, person in enumerate(persons):
        kps = np.asarray(person.keypoints, np.float64)
        vis = kps[:, 2] > 0
        if not vis.any():
            continue
        xy = kps[vis, :2]
        box = np.array([*xy.min(0), *xy.max(0)])
        cols = np.clip(xy[:, 0].astype(int), 0, w - 1)
        rows = np.clip(xy[:, 1].astype(int), 0, h - 1)
        hits = instances[rows, cols]
        for i in ids:
            share = float(np.mean(hits == i))
            if share > 0:
                pairs.append((share + _box_iou(box, boxes[i]), p_idx, i))
    used_p, used_i, out = set(), set(), []
    for _, p_idx, i in sorted(pairs, reverse=True):
        if p_idx not in used_p and i not in used_i:
            used_p.add(p_idx), used_i.add(i)
            out.append((persons[p_idx], i))
    return out


def cutouts_from_masks(
    sequences: Seq[Sequence],
    mask_path: Callable[[Frame], Path] = pennfudan_mask,
    *,
    min_height: int = 48,
    min_joints: int = 6,
) -> list[Cutout]:
    """Cut labelled people out of images that have instance masks.

    Args:
        sequences: labelled frames (e.g. teacher pseudo-labels of the Penn-Fudan images).
        mask_path: frame -> its instance mask (pixel value i = instance i, 0 = background).
        min_height: skip people whose mask is shorter than this (px).
        min_joints: skip people with fewer labelled joints.

    Returns:
        the cutouts; frames without a readable mask are skipped.
    """
    cutouts = []
    for seq in sequences:
        for frame in seq.frames:
            if not frame.persons:
                continue
            path = mask_path(frame)
            instances = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
            image = cv2.imread(frame.image_path, cv2.IMREAD_COLOR)
            if instances is None or image is None:
                continue
            if instances.ndim == 3:
                instances = instances[..., 0]
            if instances.shape != image.shape[:2]:
                raise ValueError(f"{path}: mask {instances.shape} != image {image.shape[:2]}")
            for person, inst in _match_instances(frame.persons, instances):
                ys, xs = np.nonzero(instances == inst)
                x1, y1, x2, y2 = xs.min(), ys.min(), xs.max() + 1, ys.max() + 1
                kps = np.asarray(person.keypoints, np.float32).copy()
                if y2 - y1 < min_height or int((kps[:, 2] > 0).sum()) < min_joints:
                    continue
                kps[:, 0] -= x1
                kps[:, 1] -= y1
                mask = (instances[y1:y2, x1:x2] == inst).astype(np.float32)
                cutouts.append(Cutout(image[y1:y2, x1:x2].copy(), mask, kps))
    return cutouts


def _blend(frame: np.ndarray, crop: np.ndarray, alpha: np.ndarray, x: int, y: int) -> None:
    """Alpha-blend ``crop`` into ``frame`` at top-left (x, y), clipped to the frame."""
    h, w = frame.shape[:2]
    ch, cw = crop.shape[:2]
    fx1, fy1, fx2, fy2 = max(x, 0), max(y, 0), min(x + cw, w), min(y + ch, h)
    if fx1 >= fx2 or fy1 >= fy2:
        return
    cx1, cy1 = fx1 - x, fy1 - y
    a = alpha[cy1 : cy1 + fy2 - fy1, cx1 : cx1 + fx2 - fx1, None]
    src = crop[cy1 : cy1 + fy2 - fy1, cx1 : cx1 + fx2 - fx1].astype(np.float32)
    dst = frame[fy1:fy2, fx1:fx2].astype(np.float32)
    frame[fy1:fy2, fx1:fx2] = np.clip(a * src + (1 - a) * dst + 0.5, 0, 255).astype(np.uint8)


def _covered(alpha_canvas: np.ndarray, keypoints: np.ndarray) -> np.ndarray:
    """(K,) bool: the joint lies under a pasted person (alpha > 0.5)."""
    h, w = alpha_canvas.shape
    x = np.round(keypoints[:, 0]).astype(int)
    y = np.round(keypoints[:, 1]).astype(int)
    inside = (x >= 0) & (x < w) & (y >= 0) & (y < h)
    out = np.zeros(len(keypoints), bool)
    out[inside] = alpha_canvas[y[inside], x[inside]] > 0.5
    return out


def paste_people(
    frames: list[np.ndarray],
    persons: list[Person],
    cutouts: Seq[Cutout],
    layout: JointLayout,
    rng: np.random.Generator,
    config: PasteConfig | None = None,
) -> tuple[list[np.ndarray], list[Person]]:
    """Paste random cutouts into a window of frames; return new frames and centre persons.

    Args:
        frames: the window's 2T + 1 frames (H, W, 3) uint8 BGR, not modified.
        persons: the centre frame's labelled persons.
        cutouts: the pool to draw from (empty: frames returned unchanged).
        layout: the keypoints' layout (flips swap its left/right joints).
        rng: random generator.
        config: counts and sizes; default :class:`PasteConfig`.

    Returns:
        (frames, persons): copies with the pasted people; the pasted persons are appended
        (track ids after the existing ones) and joints of earlier persons hidden under a
        pasted one lose their visibility.
    """
    cfg = config or PasteConfig()
    frames = [f.copy() for f in frames]
    n = int(rng.integers(cfg.count[0], cfg.count[1] + 1)) if cutouts else 0
    if n == 0:
        return frames, list(persons)
    h, w = frames[0].shape[:2]
    centre = len(frames) // 2
    out = [Person(p.track_id, np.asarray(p.keypoints, np.float32).copy(), p.head_box,
                  p.scores, p.score) for p in persons]  # fmt: skip
    next_id = max([p.track_id for p in persons], default=0) + 1
    for _ in range(n):
        cut = cutouts[int(rng.integers(len(cutouts)))]
        target_h = float(rng.uniform(*cfg.height)) * h
        s = target_h / cut.image.shape[0]
        cw, ch = max(1, round(cut.image.shape[1] * s)), max(1, round(cut.image.shape[0] * s))
        crop = cv2.resize(
            cut.image, (cw, ch), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR
        )
        alpha = cv2.resize(cut.mask, (cw, ch), interpolation=cv2.INTER_LINEAR)
        if cfg.feather > 0:
            k = 2 * cfg.feather + 1
            alpha = cv2.GaussianBlur(alpha, (k, k), 0)
        kps = cut.keypoints.copy()
        kps[:, 0] = (kps[:, 0] + 0.5) * (cw / cut.image.shape[1]) - 0.5
        kps[:, 1] = (kps[:, 1] + 0.5) * (ch / cut.image.shape[0]) - 0.5
        if rng.random() < 0.5:  # mirror the person: x flips and left/right joints swap
            crop, alpha = crop[:, ::-1].copy(), alpha[:, ::-1].copy()
            kps[:, 0] = cw - 1 - kps[:, 0]
            kps = kps[layout.flip_index]
        x0 = float(rng.uniform(*sorted((-0.3 * cw, w - 0.7 * cw))))
        y0 = float(rng.uniform(*sorted((-0.1 * ch, h - 0.8 * ch))))
        vx, vy = rng.uniform(-cfg.max_drift, cfg.max_drift, size=2) * ch
        canvas = np.zeros((h, w), np.float32)
        for f, frame in enumerate(frames):
            x = round(x0 + (f - centre) * vx)
            y = round(y0 + (f - centre) * vy)
            _blend(frame, crop, alpha, x, y)
            if f == centre:
                xc, yc = x, y
                _blend_alpha(canvas, alpha, x, y)
        for p in out:  # joints now hidden behind the pasted person
            p.keypoints[_covered(canvas, p.keypoints[:, :2]), 2] = 0
        kps[:, 0] += xc
        kps[:, 1] += yc
        out.append(Person(next_id, kps.astype(np.float32)))
        next_id += 1
    return frames, out


def _blend_alpha(canvas: np.ndarray, alpha: np.ndarray, x: int, y: int) -> None:
    h, w = canvas.shape
    ah, aw = alpha.shape
    fx1, fy1, fx2, fy2 = max(x, 0), max(y, 0), min(x + aw, w), min(y + ah, h)
    if fx1 < fx2 and fy1 < fy2:
        region = alpha[fy1 - y : fy2 - y, fx1 - x : fx2 - x]
        canvas[fy1:fy2, fx1:fx2] = np.maximum(canvas[fy1:fy2, fx1:fx2], region)
