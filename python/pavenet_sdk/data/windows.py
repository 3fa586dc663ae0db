"""Training windows: F = 2T + 1 frames around a labelled centre frame, plus its targets.

Torch-free; the trainer converts :func:`collate_windows` output to tensors. Letters: F frames,
N persons, K joints of the joint layout (``pavenet_sdk.layouts``), B samples. A person's
keypoints are in the layout's joint order; a flip swaps them with ``layout.flip_index``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import cv2
import numpy as np

from pavenet_sdk.data.transforms import (
    AugmentConfig,
    letterbox,
    letterbox_matrix,
    sample_affine,
    warp_window,
)
from pavenet_sdk.data.types import AREA_FACTOR, Frame, Person, Sequence
from pavenet_sdk.layouts import DEFAULT_LAYOUT, JointLayout, get_layout

__all__ = [
    "Composite",
    "SequenceWindows",
    "WindowSample",
    "collate_windows",
    "make_window",
    "window_indices",
]

Composite = Callable[
    [list[np.ndarray], list[Person], np.random.Generator], tuple[list[np.ndarray], list[Person]]
]
"""A window-level edit (e.g. copy-paste of segmented people): (frames, centre persons, rng) ->
new frames and persons. It must not modify its inputs."""

MIN_AREA = 1e-4  # floor of the normalised OKS area (one visible joint has a zero-size box)


@dataclass
class WindowSample:
    """One training window and the centre frame's targets.

    images: (F, 3, in_h, in_w) float32, RGB ImageNet-normalised, padding 0.
    keypoints: (N, K, 2) float32 (x, y) in [0, 1] of the whole model input (x / in_w, y / in_h);
        invisible joints are 0.
    visibility: (N, K) bool, the joint is annotated and inside the model input.
    areas: (N,) float32, OKS area in normalised units: 0.53 x the box of the visible joints
        (in x / in_w, y / in_h units), at least ``MIN_AREA``.
    track_ids: (N,) int64.
    matrix: (2, 3) float64, original px -> model-input px (to map predictions back).
    flipped: whether the window was mirrored (left/right joints already swapped).
    """

    images: np.ndarray
    keypoints: np.ndarray
    visibility: np.ndarray
    areas: np.ndarray
    track_ids: np.ndarray
    matrix: np.ndarray
    flipped: bool = False


def window_indices(num_frames: int, centre: int, T: int) -> list[int]:
    """Frame indices centre-T .. centre+T, clamped to the sequence (ends replicated)."""
    if num_frames < 1 or not 0 <= centre < num_frames or T < 0:
        raise ValueError(f"bad window: centre {centre} of {num_frames} frames, T={T}")
    return [min(max(i, 0), num_frames - 1) for i in range(centre - T, centre + T + 1)]


def _targets(
    persons: list[Person], matrix: np.ndarray, flipped: bool, src_wh, in_hw, layout: JointLayout
):
    in_h, in_w = in_hw
    n, K = len(persons), layout.num_joints
    kps = np.zeros((n, K, 3), dtype=np.float64)
    for i, p in enumerate(persons):
        k = np.asarray(p.keypoints, dtype=np.float64)
        if k.shape != (K, 3):
            raise ValueError(
                f"Person.keypoints must be ({K}, 3) for layout {layout.name!r}, got {k.shape}"
            )
        kps[i] = k
    src_ok = (kps[..., 2] > 0) & (kps[..., 0] >= 0) & (kps[..., 1] >= 0)
    src_ok &= (kps[..., 0] <= src_wh[0]) & (kps[..., 1] <= src_wh[1])
    xy = kps[..., :2] @ matrix[:, :2].T + matrix[:, 2]  # (N, K, 2) model-input px
    vis = src_ok & (xy[..., 0] >= 0) & (xy[..., 0] < in_w) & (xy[..., 1] >= 0) & (xy[..., 1] < in_h)
    if flipped:  # a mirrored left wrist is the new right wrist
        xy, vis = xy[:, layout.flip_index], vis[:, layout.flip_index]
    norm = xy / (in_w, in_h)
    norm[~vis] = 0.0
    keep = vis.any(axis=1)
    norm, vis = norm[keep], vis[keep]
    lo = np.where(vis[..., None], norm, np.inf).min(axis=1)
    hi = np.where(vis[..., None], norm, -np.inf).max(axis=1)
    areas = np.maximum(AREA_FACTOR * np.prod(hi - lo, axis=1), MIN_AREA) if len(norm) else hi[:, 0]
    tracks = np.array([p.track_id for p, k in zip(persons, keep, strict=True) if k], np.int64)
    return norm.astype(np.float32), vis, areas.astype(np.float32), tracks


def _person_boxes(persons: list[Person], layout: JointLayout) -> np.ndarray:
    """(N, 4) x0, y0, x1, y1 px of each person's labelled joints (people with two or more)."""
    boxes = []
    for p in persons:
        k = np.asarray(p.keypoints, dtype=np.float64)
        if k.shape != (layout.num_joints, 3):
            continue  # _targets names the bad shape
        xy = k[k[:, 2] > 0, :2]
        if len(xy) >= 2:
            boxes.append([*xy.min(axis=0), *xy.max(axis=0)])
    return np.asarray(boxes, dtype=np.float64).reshape(-1, 4)


def make_window(
    images: list[np.ndarray], persons: list[Person], input_size,
    augment: AugmentConfig | Mapping | None = None, rng: np.random.Generator | None = None,
    layout: str | JointLayout = DEFAULT_LAYOUT,
) -> WindowSample:  # fmt: skip
    """Build one window sample from in-memory frames (any frame source).

    Args:
        images: F = 2T + 1 frames, (H, W, 3) uint8 BGR, all the same size, in time order.
        persons: the centre frame's persons (pixel keypoints (K, 3) in ``layout``'s joint
            order; ``keypoints[:, 2] > 0`` = labelled).
        input_size: (in_h, in_w) px of the model input, or an int for a square one.
        augment: None = the deterministic runtime letterbox; else one random transform for the
            whole window (:class:`AugmentConfig` or a mapping of its fields).
        rng: random generator (required with ``augment``).
        layout: joint layout of ``persons`` (a name or a :class:`JointLayout`); its flip pairs
            swap left and right joints when the window is mirrored.

    Returns:
        a :class:`WindowSample`; persons without a visible joint are dropped.
    """
    if not isinstance(images, (list, tuple)) or len(images) % 2 != 1:
        got = f"{len(images)} frames" if isinstance(images, (list, tuple)) else type(images)
        raise ValueError(f"images must be a list of 2T + 1 frames, got {got}")
    shape = images[0].shape if isinstance(images[0], np.ndarray) else None
    for image in images:
        if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
            got = getattr(image, "dtype", type(image))
            raise TypeError(f"frames must be uint8 numpy arrays, got {got}")
        if image.ndim != 3 or image.shape[2] != 3 or image.shape != shape:
            raise ValueError(f"frames must be (H, W, 3) of one size, got {image.shape} and {shape}")
    cfg = AugmentConfig.coerce(augment)
    layout = get_layout(layout)
    h, w = shape[:2]
    in_hw = (input_size, input_size) if isinstance(input_size, int) else tuple(input_size)
    if cfg is None:
        matrix, flipped = letterbox_matrix(w, h, in_hw), False
        stack = np.stack([letterbox(image, in_hw)[0] for image in images])
    else:
        if rng is None:
            raise ValueError("make_window needs an rng when augmenting")
        matrix, flipped = sample_affine(rng, cfg, w, h, in_hw, _person_boxes(persons, layout))
        stack = warp_window(list(images), matrix, in_hw, rng, cfg)
    kps, vis, areas, tracks = _targets(persons, matrix, flipped, (w, h), in_hw, layout)
    return WindowSample(stack, kps, vis, areas, tracks, matrix, flipped)


def _imread(frame: Frame) -> np.ndarray:
    image = cv2.imread(frame.image_path, cv2.IMREAD_COLOR)
    if image is None:
        raise FileNotFoundError(f"cannot read image {frame.image_path!r}")
    return image


class SequenceWindows:
    """Map-style dataset over any labelled sequences: item i = the window around the i-th
    labelled frame.

    Frames t-T .. t+T are read (ends replicated), optionally edited by ``composite`` (the
    same edit for every frame of the window, before the transform), then augmented with one
    transform per window. The random draws of both come from
    ``np.random.default_rng([seed, epoch, i])`` so runs repeat (``seed=None``: fresh entropy);
    call :meth:`set_epoch` each pass.

    Args:
        sequences: e.g. from :func:`pavenet_sdk.data.posetrack.load_posetrack` or
            :func:`pavenet_sdk.data.coco.read_coco_keypoints` (a still image is a one-frame
            sequence: its window repeats it).
        T: frames on each side of the centre (F = 2T + 1).
        input_size: (in_h, in_w) model input px.
        augment: :class:`AugmentConfig`, a mapping of its fields, or None (letterbox only).
        image_loader: Frame -> (H, W, 3) uint8 BGR; default reads ``frame.image_path``.
        layout: joint layout of the sequences' persons.
        composite: optional :data:`Composite` applied to the window's frames and the centre
            frame's persons before the transform (e.g. pasted people).
    """

    def __init__(
        self, sequences: list[Sequence], T: int, input_size, augment=None, *,
        seed: int | None = 0, image_loader: Callable[[Frame], np.ndarray] | None = None,
        layout: str | JointLayout = DEFAULT_LAYOUT, composite: Composite | None = None,
    ) -> None:  # fmt: skip
        if int(T) < 0:
            raise ValueError(f"T must be >= 0, got {T}")
        self.sequences, self.T, self.input_size = list(sequences), int(T), input_size
        self.augment = AugmentConfig.coerce(augment)
        self.layout = get_layout(layout)
        self.seed, self.epoch = seed, 0
        self.image_loader = image_loader or _imread
        self.composite = composite
        self.items = [(s, t) for s, seq in enumerate(self.sequences) for t in seq.labeled_indices]

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> WindowSample:
        if not -len(self) <= i < len(self):
            raise IndexError(f"window {i} out of range for {len(self)} labelled frames")
        s, t = self.items[i]
        frames = self.sequences[s].frames
        idx = window_indices(len(frames), t, self.T)
        cache = {k: self.image_loader(frames[k]) for k in sorted(set(idx))}
        seed = None if self.seed is None else [int(self.seed), self.epoch, i % len(self)]
        rng = np.random.default_rng(seed)
        images, persons = [cache[k] for k in idx], list(frames[t].persons)
        if self.composite is not None:
            images, persons = self.composite(images, persons, rng)
        return make_window(images, persons, self.input_size, self.augment, rng, self.layout)


def collate_windows(samples: list[WindowSample]) -> tuple[np.ndarray, list[dict[str, np.ndarray]]]:
    """Batch samples: images (B, F, 3, in_h, in_w) float32 and one target dict per sample
    (``keypoints`` (N, K, 2), ``visibility`` (N, K) bool, ``areas`` (N,), ``track_ids`` (N,))."""
    if not samples:
        raise ValueError("collate_windows needs at least one sample")
    images = np.stack([s.images for s in samples])
    targets = [{"keypoints": s.keypoints, "visibility": s.visibility, "areas": s.areas,
                "track_ids": s.track_ids} for s in samples]  # fmt: skip
    return images, targets
