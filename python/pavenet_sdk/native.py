"""The native core (C++, ``pavenet_sdk._core``) behind a small, documented Python API.

Letters: N people (or memory tokens), K joints, M model queries, F = 2T + 1 window frames,
D model width. Coordinates: model outputs are (x, y) in [0, 1] of the whole model input
(padding included); everything returned here is in original-image pixels.

Everything is numpy in, numpy out, and releases the GIL while it works. ``_core`` itself is
private: import from here.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

try:
    from pavenet_sdk import _core
except ImportError as exc:  # the wheel ships it; a source checkout must build it first
    raise ImportError(
        "pavenet_sdk._core (the compiled native core) is missing. Install the package "
        "(`pip install pavenet-sdk` or `pip install .` in the source tree), or for development "
        "build it with CMake and link build/<dir>/_core*.so into python/pavenet_sdk/ "
        "(see docs/native.md)."
    ) from exc

from pavenet_sdk.layouts import JointLayout, get_layout
from pavenet_sdk.manifest import IMAGENET_MEAN, IMAGENET_STD

__all__ = [
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "DecodedPoses",
    "FrameWindow",
    "Letterbox",
    "OneEuroSmoother",
    "Tracker",
    "Window",
    "build_info",
    "decode_poses",
    "get_num_threads",
    "has_cuda",
    "letterbox",
    "ms_deform_attn",
    "ms_deform_attn_cuda",
    "set_num_threads",
]

#: How a model input was made: ``original_x = (input_x - pad_x) / scale_x`` and
#: ``original_y = (input_y - pad_y) / scale_y``. Fields: scale (the nominal ratio
#: min(in_w / orig_w, in_h / orig_h)), pad_x, pad_y (px, 0: image at the top-left), in_w, in_h
#: (model input px), orig_w, orig_h, scale_x = resized_w / orig_w, scale_y = resized_h /
#: orig_h (the resized size is rounded per axis, so they differ slightly from ``scale``).
#: ``Letterbox(scale=..., in_w=..., in_h=..., orig_w=..., orig_h=...)`` without scale_x /
#: scale_y maps both axes with ``scale``.
Letterbox = _core.Letterbox
#: Per-stream ring buffer of encoder memories: ``FrameWindow(T)``, ``push(memory (N, D)
#: float32, frame_index, timestamp_s) -> list[Window]``, ``flush()``, ``reset()``.
#: A window of frame t is ready once frame t + T arrived; missing frames at the start repeat
#: the first frame, at ``flush()`` the last one. Memory: 2T + 1 frames. It holds memories
#: only: other per-frame state stays with the caller, keyed by ``frame_index``.
FrameWindow = _core.FrameWindow
#: A ready window: ``memories`` (F, N, D) float32 (its own copy, temporal order),
#: ``frame_indices`` (F,), and the centre frame's ``frame_index`` and ``timestamp`` (s).
Window = _core.Window
#: One-Euro smoothing keyed by track id: ``OneEuroSmoother(min_cutoff=1.0, beta=0.0,
#: d_cutoff=1.0)``, ``smooth(timestamp_s, track_ids (N,) int64, keypoints (N, K, 2)) ->
#: (N, K, 2)``, ``retain(track_ids)`` drops every other id's state, ``reset()``, ``len()``.
#: Every coordinate is filtered on its own, so any joint layout (any K) works; an id whose K
#: changes starts afresh.
OneEuroSmoother = _core.OneEuroSmoother

build_info = _core.build_info
set_num_threads = _core.set_num_threads
get_num_threads = _core.get_num_threads
has_cuda = _core.has_cuda


class DecodedPoses(NamedTuple):
    """People of one frame, best first (N <= top_k)."""

    keypoints: np.ndarray  # (N, K, 2) float32, original px, clamped to the image
    keypoint_scores: np.ndarray  # (N, K) float32 in [0, 1]
    scores: np.ndarray  # (N,) float32 person score sigmoid(logit), descending
    boxes: np.ndarray  # (N, 4) float32 x1, y1, x2, y2 original px (keypoint extent)
    indices: np.ndarray  # (N,) int64 query index in the model output


def letterbox(
    image: np.ndarray,
    out_h: int,
    out_w: int,
    *,
    bgr_to_rgb: bool = True,
    mean: tuple[float, float, float] = IMAGENET_MEAN,
    std: tuple[float, float, float] = IMAGENET_STD,
) -> tuple[np.ndarray, Letterbox]:
    """Make the model input from an image.

    Args:
        image: (H, W, 3) uint8, any strides (BGR when ``bgr_to_rgb``, as OpenCV reads it).
        out_h, out_w: model input height and width, px (the output array is
            (3, out_h, out_w), numpy order).
        mean, std: per output (RGB) channel, 0-255 scale.

    Returns:
        ``(chw, letterbox)``: (3, out_h, out_w) float32 ``(v - mean) / std``; the image is
        resized keeping its aspect ratio (scale = min(out_w / W, out_h / H), each side rounded
        to whole px, bilinear like cv2.resize INTER_LINEAR) and placed at the top-left; the
        padding is 0.
    """
    return _core.letterbox(image, out_h, out_w, bgr_to_rgb=bgr_to_rgb, mean=mean, std=std)


def decode_poses(
    poses: np.ndarray,
    logits: np.ndarray,
    sigmas: np.ndarray,
    letterbox: Letterbox,
    *,
    top_k: int | None = None,
    score_threshold: float = 0.0,
    nms_oks: float | None = None,
    layout: JointLayout | str | None = None,
) -> DecodedPoses:
    """Raw model outputs of one frame -> people in original pixels.

    Args:
        poses: (M, K, 2) float32 (x, y) in [0, 1] of the whole model input.
        logits: (M,) float32 person logits.
        sigmas: (M, K, 2) float32 predicted sigmas (normalised units).
        letterbox: the record ``letterbox()`` returned for this frame; x maps back with its
            ``scale_x``, y with its ``scale_y``.
        top_k: keep at most this many people (None: no limit).
        score_threshold: keep people with sigmoid(logit) >= this.
        nms_oks: OKS-NMS threshold in [0, 1] (None: off, the default). Among the kept people,
            best first, a person whose OKS with an already kept one exceeds it is dropped
            (OKS with the layout's sigmas over the mean area of the two keypoint boxes, as the
            PAVE-Net authors' ``oks_nms``). Needs ``layout``.
        layout: the joint layout of the model (a :class:`JointLayout` or a registered name);
            K must match it. Optional unless ``nms_oks`` is set.

    Keypoint score = score * 0.7 * (1 - exp(-0.2 / sx)) * (1 - exp(-0.2 / sy)). People are
    sorted by descending score; ties keep query order.
    """
    if top_k is not None and top_k < 0:
        raise ValueError(f"top_k must be >= 0 or None, got {top_k}")
    oks_sigmas: list[float] = []
    if layout is not None:
        joint_layout = get_layout(layout)
        _check_joints(poses, joint_layout)
        oks_sigmas = [float(s) for s in joint_layout.sigmas]
    if nms_oks is not None:
        nms_oks = float(nms_oks)
        if not 0.0 <= nms_oks <= 1.0:
            raise ValueError(f"nms_oks must be in [0, 1] or None, got {nms_oks}")
        if layout is None:
            raise ValueError("nms_oks needs the joint layout (layout=...) for its OKS sigmas")
    out = _core.decode_poses(
        poses,
        logits,
        sigmas,
        letterbox,
        top_k=-1 if top_k is None else int(top_k),
        score_threshold=float(score_threshold),
        nms_oks=nms_oks,
        oks_sigmas=oks_sigmas,
    )
    return DecodedPoses(*out)


def _check_joints(poses: np.ndarray, layout: JointLayout) -> None:
    shape = getattr(poses, "shape", ())
    if len(shape) == 3 and shape[1] != layout.num_joints:
        raise ValueError(
            f"poses have K = {shape[1]} joints but layout {layout.name!r} has {layout.num_joints}"
        )


class Tracker:
    """Stable track ids from OKS between a frame's people and the live tracks.

    Every (person, track) pair with OKS >= ``oks_threshold`` is a candidate; pairs are taken
    greedily by descending OKS (ties: higher score). Unmatched people start new tracks (ids
    from 1) unless their score is below ``min_new_score`` (id -1). A track unmatched for more
    than ``max_age_seconds`` is dropped, so variable frame rates behave. One per stream.
    """

    def __init__(
        self,
        oks_threshold: float = 0.3,
        max_age_seconds: float = 1.0,
        *,
        min_new_score: float = 0.0,
        layout: JointLayout | str | None = None,
        sigmas: np.ndarray | None = None,
    ) -> None:
        """Per-joint OKS sigmas come from ``layout`` (a :class:`JointLayout` or a registered
        name), or from ``sigmas`` (K,) given directly; neither: 0.1 for every joint (any K).
        """
        if layout is not None and sigmas is not None:
            raise ValueError("give the OKS sigmas through layout or sigmas, not both")
        if layout is not None:
            sigmas = get_layout(layout).sigmas_array
        flat = [] if sigmas is None else np.asarray(sigmas, dtype=np.float32).reshape(-1)
        self._core = _core.Tracker(
            oks_threshold=float(oks_threshold),
            max_age_seconds=float(max_age_seconds),
            min_new_score=float(min_new_score),
            sigmas=[float(s) for s in flat],
        )

    def update(
        self,
        timestamp: float,
        keypoints: np.ndarray,
        scores: np.ndarray,
        *,
        areas: np.ndarray | None = None,
        boxes: np.ndarray | None = None,
    ) -> np.ndarray:
        """Assign ids to one frame's people.

        Args:
            timestamp: seconds, never decreasing within a stream.
            keypoints: (N, K, 2) float32 px (K: the layout's joints when one was given).
            scores: (N,) float32.
            areas: (N,) px^2 object scale for OKS, or ``boxes`` (N, 4) x1, y1, x2, y2 px;
                neither: the keypoint extent.

        Returns:
            (N,) int64 track ids (-1: not tracked).
        """
        if areas is None and boxes is not None:
            b = np.asarray(boxes, dtype=np.float32)
            if b.ndim != 2 or b.shape[1] != 4:
                raise ValueError(f"boxes must be (N, 4), got shape {b.shape}")
            areas = np.ascontiguousarray((b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]))
        return self._core.update(float(timestamp), keypoints, scores, areas)

    def active_ids(self) -> np.ndarray:
        """(T,) int64 ids of the live tracks."""
        return self._core.active_ids()

    def reset(self) -> None:
        """Forget every track (ids restart at 1)."""
        self._core.reset()


def ms_deform_attn(
    value: np.ndarray,
    spatial_shapes: np.ndarray,
    level_start_index: np.ndarray,
    sampling_locations: np.ndarray,
    attention_weights: np.ndarray,
    *,
    isa: str | None = None,
) -> np.ndarray:
    """Multi-scale deformable attention forward on numpy arrays (float32, int64 indices).

    value (B, S, H, Dh), spatial_shapes (L, 2) (H_l, W_l), level_start_index (L,),
    sampling_locations (B, Q, H, L, P, 2) (x, y) in [0, 1], attention_weights (B, Q, H, L, P)
    -> (B, Q, H * Dh). Samples at pixel (x * W_l - 0.5, y * H_l - 0.5); corners outside the
    map and NaN/inf locations contribute 0. ``isa`` pins a CPU kernel (see ``build_info()``).
    """
    return _core.ms_deform_attn(
        value,
        spatial_shapes,
        level_start_index,
        sampling_locations,
        attention_weights,
        isa=isa or "",
    )


def ms_deform_attn_cuda(
    value: np.ndarray,
    spatial_shapes: np.ndarray,
    level_start_index: np.ndarray,
    sampling_locations: np.ndarray,
    attention_weights: np.ndarray,
) -> np.ndarray:
    """:func:`ms_deform_attn` on the GPU (host arrays in and out; CUDA builds only).

    Raises:
        RuntimeError: the native core was built without CUDA.
    """
    if not has_cuda():
        raise RuntimeError(
            "pavenet_sdk._core was built without CUDA (rebuild with PAVENET_CUDA=ON)"
        )
    return _core.ms_deform_attn_cuda(
        value, spatial_shapes, level_start_index, sampling_locations, attention_weights
    )
