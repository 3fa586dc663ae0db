"""Bad input to the native core raises TypeError/ValueError with a clear message, never crashes."""

from __future__ import annotations

import numpy as np
import pytest

from pavenet_sdk import native

from .msda_cases import make_problem


@pytest.fixture
def problem():
    return list(make_problem(np.random.default_rng(0)))


@pytest.mark.parametrize(
    "index,bad,exc,match",
    [
        (0, lambda a: a.astype(np.float64), TypeError, "value must have dtype float32"),
        (0, lambda a: a[0], ValueError, r"value must be \(B, S, H, Dh\)"),
        (0, lambda a: a[:, :-1], ValueError, "value has S = 39 tokens but the spatial shapes"),
        (1, lambda a: a.astype(np.int32), TypeError, "spatial_shapes must have dtype int64"),
        (1, lambda a: a[:, :1], ValueError, r"spatial_shapes must be \(L, 2\)"),
        (1, lambda a: a * 2, ValueError, "spatial_shapes"),
        (1, lambda a: -a, ValueError, r"spatial_shapes\[0\] = \(-5, -6\)"),
        (2, lambda a: a[:2], ValueError, "level_start_index must be"),
        (2, lambda a: a + 1000, ValueError, r"level_start_index\[0\] = 1000"),
        (2, lambda a: a[::-1].copy(), ValueError, "level_start_index"),
        (3, lambda a: a[..., :1], ValueError, "sampling_locations must be"),
        (3, lambda a: a[:, :, :2], ValueError, "sampling_locations must be"),
        (3, lambda a: a.tolist(), TypeError, "sampling_locations must be a numpy array"),
        (4, lambda a: a[..., :2], ValueError, "attention_weights must be"),
        (4, lambda a: a.astype(np.float16), TypeError, "attention_weights must have dtype"),
    ],
)
def test_msda_rejects_bad_input(problem, index, bad, exc, match) -> None:
    problem[index] = bad(problem[index])
    with pytest.raises(exc, match=match):
        native.ms_deform_attn(*problem)


def test_msda_huge_bogus_level_is_rejected_without_reading(problem) -> None:
    problem[1] = problem[1].copy()
    problem[1][0] = [2**40, 2**40]
    with pytest.raises(ValueError, match=r"must be in \[1, 2\^30\] and fit in S"):
        native.ms_deform_attn(*problem)


def test_msda_unknown_isa(problem) -> None:
    with pytest.raises(ValueError, match="unknown ISA 'avx9000'"):
        native.ms_deform_attn(*problem, isa="avx9000")


@pytest.mark.parametrize(
    "image,exc,match",
    [
        (np.zeros((4, 4, 3), np.float32), TypeError, "dtype uint8"),
        (np.zeros((4, 4), np.uint8), ValueError, r"\(H, W, 3\)"),
        (np.zeros((4, 4, 4), np.uint8), ValueError, r"\(H, W, 3\)"),
        (np.zeros((0, 4, 3), np.uint8), ValueError, "empty"),
        (np.zeros((4, 0, 3), np.uint8), ValueError, "empty"),
        ([[[0, 0, 0]]], TypeError, "numpy array"),
    ],
)
def test_letterbox_rejects_bad_images(image, exc, match) -> None:
    with pytest.raises(exc, match=match):
        native.letterbox(image, 8, 8)


def test_letterbox_rejects_bad_sizes_and_std() -> None:
    image = np.zeros((4, 4, 3), np.uint8)
    with pytest.raises(ValueError, match="output size"):
        native.letterbox(image, 0, 8)
    with pytest.raises(ValueError, match="std"):
        native.letterbox(image, 8, 8, std=(1.0, 0.0, 1.0))
    with pytest.raises(TypeError):
        native.letterbox(image, 8, 8, mean=(1.0, 2.0))


def test_decode_rejects_mismatched_shapes() -> None:
    lb = native.Letterbox(scale=1.0, in_w=8, in_h=8, orig_w=8, orig_h=8)
    poses = np.zeros((3, 15, 2), np.float32)
    with pytest.raises(ValueError, match=r"logits must be \(M,\) with M = len\(poses\)"):
        native.decode_poses(poses, np.zeros(2, np.float32), poses, lb)
    with pytest.raises(ValueError, match="sigmas must be"):
        native.decode_poses(poses, np.zeros(3, np.float32), poses[:, :3], lb)
    with pytest.raises(TypeError, match="poses must have dtype float32"):
        native.decode_poses(poses.astype(np.float64), np.zeros(3, np.float32), poses, lb)
    with pytest.raises(ValueError, match="top_k"):
        native.decode_poses(poses, np.zeros(3, np.float32), poses, lb, top_k=-2)
    bad = native.Letterbox(scale=0.0, in_w=8, in_h=8, orig_w=8, orig_h=8)
    with pytest.raises(ValueError, match="scale, scale_x, scale_y > 0"):
        native.decode_poses(poses, np.zeros(3, np.float32), poses, bad)
    bad_y = native.Letterbox(scale=1.0, in_w=8, in_h=8, orig_w=8, orig_h=8, scale_y=-1.0)
    with pytest.raises(ValueError, match="scale_y > 0"):
        native.decode_poses(poses, np.zeros(3, np.float32), poses, bad_y)


def test_decode_rejects_bad_nms_options() -> None:
    lb = native.Letterbox(scale=1.0, in_w=8, in_h=8, orig_w=8, orig_h=8)
    poses, logits = np.zeros((3, 15, 2), np.float32), np.zeros(3, np.float32)
    with pytest.raises(ValueError, match="nms_oks needs the joint layout"):
        native.decode_poses(poses, logits, poses, lb, nms_oks=0.45)
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="nms_oks must be in"):
            native.decode_poses(poses, logits, poses, lb, nms_oks=bad, layout="posetrack-15")
    with pytest.raises(ValueError, match="K = 15 joints but layout 'coco-17' has 17"):
        native.decode_poses(poses, logits, poses, lb, layout="coco-17")
    with pytest.raises(ValueError, match="unknown joint layout"):
        native.decode_poses(poses, logits, poses, lb, layout="nosuch")
    # the native call checks the same when reached directly
    from pavenet_sdk import _core

    with pytest.raises(ValueError, match="needs K = 15 OKS sigmas, got 2"):
        _core.decode_poses(poses, logits, poses, lb, nms_oks=0.5, oks_sigmas=[0.1, 0.1])
    with pytest.raises(ValueError, match="nms_oks must be in"):
        _core.decode_poses(poses, logits, poses, lb, nms_oks=2.0, oks_sigmas=[0.1] * 15)


def test_window_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="T must be"):
        native.FrameWindow(-1)
    win = native.FrameWindow(1)
    with pytest.raises(TypeError, match="memory must have dtype float32"):
        win.push(np.zeros((4, 2)), 0, 0.0)
    with pytest.raises(ValueError, match=r"memory must be \(N, D\)"):
        win.push(np.zeros((4, 2, 1), np.float32), 0, 0.0)
    with pytest.raises(ValueError, match="N, D >= 1"):
        win.push(np.zeros((0, 2), np.float32), 0, 0.0)
    with pytest.raises(TypeError, match="incompatible function arguments"):  # no meta slot
        win.push(np.zeros((4, 2), np.float32), 0, 0.0, np.zeros((2, 2)))


def test_tracker_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="oks_threshold"):
        native.Tracker(oks_threshold=1.5)
    with pytest.raises(ValueError, match="sigmas"):
        native.Tracker(sigmas=np.zeros(15))
    tr = native.Tracker(layout="posetrack-15")
    kp = np.zeros((2, 15, 2), np.float32)
    with pytest.raises(ValueError, match="scores must be"):
        tr.update(0.0, kp, np.zeros(3, np.float32))
    with pytest.raises(ValueError, match="K = 3 joints but 15 OKS sigmas"):
        tr.update(0.0, kp[:, :3], np.zeros(2, np.float32))
    with pytest.raises(ValueError, match="boxes must be"):
        tr.update(0.0, kp, np.zeros(2, np.float32), boxes=np.zeros((2, 3)))
    with pytest.raises(ValueError, match="timestamp"):
        tr.update(float("nan"), kp, np.zeros(2, np.float32))
    with pytest.raises(ValueError, match="min_cutoff"):
        native.OneEuroSmoother(min_cutoff=0.0)
