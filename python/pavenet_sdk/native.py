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

from pavenet_sdk.data.types import OKS_SIGMAS

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
    "set_num_threads",
]

IMAGENET_MEAN = (123.675, 116.28, 103.53)  # RGB, 0-255 scale
IMAGENET_STD = (58.395, 57.12, 57.375)

#: How a model input was made: ``original_px = (input_px - pad) / scale``. Fields: scale,
#: pad_x, pad_y (px, 0: image at the top-left), in_w, in_h (model input px), orig_w, orig_h.
Letterbox = _core.Letterbox
#: Per-stream ring buffer of encoder memories: ``FrameWindow(T)``, ``push(memory (N, D)
#: float32, frame_index, timestamp_s, meta=None) -> list[Window]``, ``flush()``, ``reset()``.
#: A window of frame t is ready once frame t + T arrived; missing frames at the start repeat
#: the first frame, at ``flush()`` the last one. Memory: 2T + 1 frames.
FrameWindow = _core.FrameWindow
#: A ready window: ``memories`` (F, N, D) float32 (its own copy, temporal order),
#: ``frame_indices`` (F,), and the centre frame's ``frame_index``, ``timestamp`` (s), ``meta``.
Window = _core.Window
#: One-Euro smoothing keyed by track id: ``OneEuroSmoother(min_cutoff=1.0, beta=0.0,
#: d_cutoff=1.0)``, ``smooth(timestamp_s, track_ids (N,) int64, keypoints (N, K, 2)) ->
#: (N, K, 2)``, ``retain(track_ids)`` drops every other id's state, ``reset()``, ``len()``.
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
        out_h, out_w: model input size, px.
        mean, std: per output (RGB) channel, 0-255 scale.

    Returns:
        ``(chw, letterbox)``: (3, out_h, out_w) float32 ``(v - mean) / std``; the image is
        resized keeping its aspect ratio (scale = min(out_w / W, out_h / H), bilinear like
        cv2.resize INTER_LINEAR) and placed at the top-left; the padding is 0.
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
) -> DecodedPoses:
    """Raw model outputs of one frame -> people in original pixels.

    Args:
        poses: (M, K, 2) float32 (x, y) in [0, 1] of the whole model input.
        logits: (M,) float32 person logits.
        sigmas: (M, K, 2) float32 predicted sigmas (normalised units).
        letterbox: the record ``letterbox()`` returned for this frame.
        top_k: keep at most this many people (None: no limit).
        score_threshold: keep people with sigmoid(logit) >= this.

    Keypoint score = score * 0.7 * (1 - exp(-0.2 / sx)) * (1 - exp(-0.2 / sy)).
    """
    if top_k is not None and top_k < 0:
        raise ValueError(f"top_k must be >= 0 or None, got {top_k}")
    out = _core.decode_poses(
        poses,
        logits,
        sigmas,
        letterbox,
        top_k=-1 if top_k is None else int(top_k),
        score_threshold=float(score_threshold),
    )
    return DecodedPoses(*out)


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
        sigmas: np.ndarray | None = None,
    ) -> None:
        """``sigmas`` (K,): per-joint OKS sigmas; default: the 15 PoseTrack joints'."""
        sigmas = OKS_SIGMAS if sigmas is None else np.asarray(sigmas, dtype=np.float32)
        self._core = _core.Tracker(
            oks_threshold=float(oks_threshold),
            max_age_seconds=float(max_age_seconds),
            min_new_score=float(min_new_score),
            sigmas=[float(s) for s in sigmas.reshape(-1)],
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
            keypoints: (N, K, 2) float32 px.
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
