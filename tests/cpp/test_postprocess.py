"""decode_poses against numpy references: scores, order, top-k, per-axis un-letterbox, boxes,
and the optional OKS-NMS (the PAVE-Net authors' ``oks_nms``)."""

from __future__ import annotations

import numpy as np
import pytest

from pavenet_sdk import native
from pavenet_sdk.layouts import COCO_17, POSETRACK_15


def reference(poses, logits, sigmas, lb, top_k, threshold):
    scores = 1 / (1 + np.exp(-logits.astype(np.float64)))
    keep = np.flatnonzero(scores >= threshold)
    keep = keep[np.argsort(-scores[keep], kind="stable")]
    if top_k is not None:
        keep = keep[:top_k]
    s = scores[keep]
    xy = poses[keep].astype(np.float64) * [lb.in_w, lb.in_h] - [lb.pad_x, lb.pad_y]
    xy /= [lb.scale_x, lb.scale_y]
    xy = np.clip(xy, 0, [lb.orig_w, lb.orig_h])
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        f = np.clip(1 - np.exp(-0.2 / sigmas[keep].astype(np.float64)), 0, 1)
    f = np.nan_to_num(f, nan=0.0)
    kp_scores = s[:, None] * 0.7 * f[..., 0] * f[..., 1]
    boxes = np.concatenate([xy.min(1), xy.max(1)], axis=1) if len(keep) else np.zeros((0, 4))
    return xy, kp_scores, s, boxes, keep


def make(rng, m=30, k=15):
    poses = rng.uniform(-0.1, 1.1, (m, k, 2)).astype(np.float32)
    logits = rng.normal(0, 2, m).astype(np.float32)
    sigmas = rng.uniform(0.01, 0.5, (m, k, 2)).astype(np.float32)
    return poses, logits, sigmas


@pytest.mark.parametrize("top_k,threshold", [(None, 0.0), (5, 0.0), (10, 0.6), (0, 0.0)])
def test_matches_numpy_reference(top_k, threshold) -> None:
    poses, logits, sigmas = make(np.random.default_rng(0))
    lb = native.Letterbox(
        scale=0.4, pad_x=3.0, pad_y=1.5, in_w=192, in_h=160, orig_w=480, orig_h=400,
        scale_x=0.4, scale_y=0.395,
    )  # fmt: skip
    got = native.decode_poses(poses, logits, sigmas, lb, top_k=top_k, score_threshold=threshold)
    want = reference(poses, logits, sigmas, lb, top_k, threshold)
    for g, w in zip(got, want, strict=True):
        assert g.shape == np.asarray(w).shape
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-3)
    assert got.indices.dtype == np.int64 and got.keypoints.dtype == np.float32
    assert np.all(np.diff(got.scores) <= 0)


def letterbox_reference(width: int, height: int, in_w: int, in_h: int) -> tuple[float, float]:
    """(scale_x, scale_y): the resize rounds each side to whole px (half away from zero)."""
    scale = min(in_w / width, in_h / height)
    new_w = min(max(int(np.floor(width * scale + 0.5)), 1), in_w)
    new_h = min(max(int(np.floor(height * scale + 0.5)), 1), in_h)
    return new_w / width, new_h / height


# (height, width) of the frame, (in_h, in_w) of the model input: sizes where the rounding of the
# two sides differs, 720p and 4K among them, odd sizes, and extreme aspect ratios
SIZES = [
    ((719, 1279), (192, 192)),
    ((720, 1280), (192, 192)),
    ((2160, 3840), (800, 1333)),
    ((2160, 3840), (192, 192)),
    ((481, 641), (384, 640)),
    ((333, 777), (191, 257)),
    ((1001, 97), (160, 96)),
    ((3, 1000), (64, 64)),
]


@pytest.mark.parametrize("frame,model_input", SIZES)
def test_letterbox_then_decode_returns_every_point(frame, model_input) -> None:
    """A point of the original image survives letterbox + [0, 1] normalisation + decode."""
    (height, width), (in_h, in_w) = frame, model_input
    _, lb = native.letterbox(np.zeros((height, width, 3), np.uint8), in_h, in_w)
    want_x, want_y = letterbox_reference(width, height, in_w, in_h)
    assert lb.scale_x == pytest.approx(want_x, rel=1e-12)
    assert lb.scale_y == pytest.approx(want_y, rel=1e-12)
    assert lb.scale == pytest.approx(min(in_w / width, in_h / height), rel=1e-12)
    rng = np.random.default_rng(height * width)
    px = rng.uniform(0, [width, height], (64, 2))
    px[:4] = [[0, 0], [width, height], [width, 0], [0, height]]  # the corners
    # what the model sees: the point's position in the resized image, in [0, 1] of the input
    norm = (px * [want_x, want_y] + [lb.pad_x, lb.pad_y]) / [in_w, in_h]
    out = native.decode_poses(
        norm.astype(np.float32)[None],
        np.array([3.0], np.float32),
        np.full((1, len(px), 2), 0.1, np.float32),
        lb,
    )
    np.testing.assert_allclose(out.keypoints[0], px, atol=1e-3, rtol=0)


def test_one_scale_for_both_axes_was_off_by_a_fraction_of_a_pixel() -> None:
    """Where the sides round differently, mapping y back with the nominal scale misses."""
    _, lb = native.letterbox(np.zeros((719, 1279, 3), np.uint8), 192, 192)
    assert lb.scale_x == lb.scale and lb.scale_y != lb.scale
    y = 719.0
    assert abs(y * lb.scale_y / lb.scale - y) > 0.4  # the bottom row, the old mapping


def test_a_record_without_axis_scales_uses_scale() -> None:
    lb = native.Letterbox(scale=0.5, pad_x=2, in_w=100, in_h=100, orig_w=200, orig_h=150)
    assert lb.scale_x == lb.scale_y == 0.5
    out = native.decode_poses(
        np.array([[[0.52, 0.5]]], np.float32),
        np.zeros(1, np.float32),
        np.full((1, 1, 2), 0.1, np.float32),
        lb,
    )
    np.testing.assert_allclose(out.keypoints[0, 0], [100.0, 100.0], atol=1e-4)


def test_nan_logits_are_never_selected_and_ties_keep_order() -> None:
    poses, _, sigmas = make(np.random.default_rng(1), m=4, k=2)
    logits = np.array([1.0, np.nan, 1.0, 2.0], np.float32)
    lb = native.Letterbox(scale=1.0, in_w=10, in_h=10, orig_w=10, orig_h=10)
    out = native.decode_poses(poses, logits, sigmas, lb)
    assert out.indices.tolist() == [3, 0, 2]


def test_empty_input() -> None:
    lb = native.Letterbox(scale=1.0, in_w=10, in_h=10, orig_w=10, orig_h=10)
    z = np.zeros((0, 15, 2), np.float32)
    out = native.decode_poses(z, np.zeros(0, np.float32), z, lb)
    assert out.keypoints.shape == (0, 15, 2) and out.boxes.shape == (0, 4)


def test_letterbox_record_pickles() -> None:
    import pickle

    lb = native.Letterbox(
        scale=0.5, pad_x=1, pad_y=2, in_w=3, in_h=4, orig_w=5, orig_h=6, scale_x=0.4, scale_y=0.6
    )
    back = pickle.loads(pickle.dumps(lb))
    fields = ("scale", "pad_x", "pad_y", "in_w", "in_h", "orig_w", "orig_h", "scale_x", "scale_y")
    assert [getattr(back, f) for f in fields] == [0.5, 1, 2, 3, 4, 5, 6, 0.4, 0.6]
    assert "scale=0.5" in repr(back) and "scale_y=0.6" in repr(back)
    # a record pickled before scale_x / scale_y existed (7 fields) maps both axes with scale
    old = native.Letterbox.__new__(native.Letterbox)
    old.__setstate__((0.5, 1.0, 2.0, 3, 4, 5, 6))
    assert (old.scale_x, old.scale_y, old.orig_h) == (0.5, 0.5, 6)


# ---- OKS-NMS ----------------------------------------------------------------------------------


def oks_nms_reference(keypoints, scores, sigmas, threshold):
    """The PAVE-Net authors' oks_nms: greedy by descending score (ties: first query first),
    areas from each pose's keypoint box, OKS over the mean area of the pair."""
    kp = keypoints.astype(np.float64)
    areas = np.ptp(kp[..., 0], axis=1) * np.ptp(kp[..., 1], axis=1)
    variances = (np.asarray(sigmas, np.float64) * 2) ** 2
    order = np.argsort(-scores, kind="stable")
    keep = []
    while order.size:
        i, rest = order[0], order[1:]
        keep.append(int(i))
        d2 = ((kp[rest] - kp[i]) ** 2).sum(-1)
        e = d2 / variances / ((areas[i] + areas[rest])[:, None] / 2 + np.spacing(1)) / 2
        order = rest[np.exp(-e).mean(1) <= threshold]
    return keep


def crowd_with_duplicates(rng, k, people=8, copies=3, jitter=0.004):
    """Decoder outputs where each of ``people`` persons is predicted ``copies`` times."""
    base = rng.uniform(0.1, 0.3, (people, 1, 2)) + rng.uniform(0, 0.6, (people, 1, 2))
    shape = rng.uniform(-0.08, 0.08, (people, k, 2))
    poses = np.repeat(base + shape, copies, axis=0)
    poses += rng.normal(0, jitter, poses.shape) * rng.uniform(0, 4, (len(poses), 1, 1))
    logits = rng.normal(0, 2, len(poses))
    sigmas = rng.uniform(0.01, 0.3, (len(poses), k, 2))
    return poses.astype(np.float32), logits.astype(np.float32), sigmas.astype(np.float32)


@pytest.mark.parametrize("layout", [POSETRACK_15, COCO_17], ids=lambda lay: lay.name)
@pytest.mark.parametrize("threshold", [0.0, 0.3, 0.45, 0.9, 1.0])
@pytest.mark.parametrize("top_k", [None, 10])
def test_oks_nms_matches_the_reference(layout, threshold, top_k) -> None:
    k = layout.num_joints
    poses, logits, sigmas = crowd_with_duplicates(np.random.default_rng(k), k)
    lb = native.Letterbox(scale=0.5, in_w=192, in_h=192, orig_w=384, orig_h=384)
    plain = native.decode_poses(poses, logits, sigmas, lb, top_k=top_k, layout=layout)
    nms = native.decode_poses(
        poses, logits, sigmas, lb, top_k=top_k, nms_oks=threshold, layout=layout
    )
    keep = oks_nms_reference(plain.keypoints, plain.scores, layout.sigmas, threshold)
    assert nms.indices.tolist() == plain.indices[keep].tolist()
    for got, full in zip(nms, plain, strict=True):
        np.testing.assert_array_equal(got, full[keep])
    if threshold == 1.0:
        assert len(nms.scores) == len(plain.scores)  # OKS never exceeds 1
    if 0.3 <= threshold <= 0.45:
        assert 0 < len(nms.scores) < len(plain.scores)  # the duplicates went, people stayed


def test_oks_nms_keeps_the_first_of_tied_duplicates() -> None:
    k = COCO_17.num_joints
    pose = np.random.default_rng(0).uniform(0.3, 0.6, (1, k, 2)).astype(np.float32)
    poses = np.concatenate([pose + 0.4, pose, pose, pose + 1e-4])
    logits = np.array([0.0, 1.0, 1.0, 1.0], np.float32)  # queries 1-3: tied duplicates
    sigmas = np.full((4, k, 2), 0.05, np.float32)
    lb = native.Letterbox(scale=1.0, in_w=100, in_h=100, orig_w=100, orig_h=100)
    out = native.decode_poses(poses, logits, sigmas, lb, nms_oks=0.45, layout=COCO_17)
    assert out.indices.tolist() == [1, 0]
    plain = native.decode_poses(poses, logits, sigmas, lb)
    assert plain.indices.tolist() == [1, 2, 3, 0]  # ties keep query order
    assert oks_nms_reference(plain.keypoints, plain.scores, COCO_17.sigmas, 0.45) == [0, 3]


def test_oks_nms_off_by_default_and_single_people_pass() -> None:
    poses, logits, sigmas = crowd_with_duplicates(np.random.default_rng(1), 15)
    lb = native.Letterbox(scale=1.0, in_w=64, in_h=64, orig_w=64, orig_h=64)
    default = native.decode_poses(poses, logits, sigmas, lb)
    assert len(default.scores) == len(poses)
    one = native.decode_poses(
        poses, logits, sigmas, lb, top_k=1, nms_oks=0.0, layout="posetrack-15"
    )
    assert one.indices.tolist() == default.indices[:1].tolist()
    empty = native.decode_poses(
        poses[:0], logits[:0], sigmas[:0], lb, nms_oks=0.5, layout=POSETRACK_15
    )
    assert empty.keypoints.shape == (0, 15, 2)
