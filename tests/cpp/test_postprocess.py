"""decode_poses against a numpy reference: scores, order, top-k, un-letterbox, boxes."""

from __future__ import annotations

import numpy as np
import pytest

from pavenet_sdk import native


def reference(poses, logits, sigmas, lb, top_k, threshold):
    scores = 1 / (1 + np.exp(-logits.astype(np.float64)))
    keep = np.flatnonzero(scores >= threshold)
    keep = keep[np.argsort(-scores[keep], kind="stable")]
    if top_k is not None:
        keep = keep[:top_k]
    s = scores[keep]
    xy = poses[keep].astype(np.float64) * [lb.in_w, lb.in_h] - [lb.pad_x, lb.pad_y]
    xy /= lb.scale
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
        scale=0.4, pad_x=3.0, pad_y=1.5, in_w=192, in_h=160, orig_w=480, orig_h=400
    )
    got = native.decode_poses(poses, logits, sigmas, lb, top_k=top_k, score_threshold=threshold)
    want = reference(poses, logits, sigmas, lb, top_k, threshold)
    for g, w in zip(got, want, strict=True):
        assert g.shape == np.asarray(w).shape
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-3)
    assert got.indices.dtype == np.int64 and got.keypoints.dtype == np.float32
    assert np.all(np.diff(got.scores) <= 0)


def test_roundtrip_with_letterbox() -> None:
    """A point of the original image survives letterbox + [0, 1] normalisation + decode."""
    image = np.zeros((300, 500, 3), np.uint8)
    _, lb = native.letterbox(image, 128, 192)
    px = np.array([[[123.0, 77.0], [499.0, 299.0]]])
    norm = (px * lb.scale + [lb.pad_x, lb.pad_y]) / [lb.in_w, lb.in_h]
    out = native.decode_poses(
        norm.astype(np.float32),
        np.array([3.0], np.float32),
        np.full((1, 2, 2), 0.1, np.float32),
        lb,
    )
    np.testing.assert_allclose(out.keypoints[0], px[0], atol=1e-3)
    np.testing.assert_allclose(out.boxes[0], [123, 77, 499, 299], atol=1e-3)


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

    lb = native.Letterbox(scale=0.5, pad_x=1, pad_y=2, in_w=3, in_h=4, orig_w=5, orig_h=6)
    back = pickle.loads(pickle.dumps(lb))
    assert (back.scale, back.pad_x, back.pad_y, back.in_w, back.in_h, back.orig_w, back.orig_h) == (
        0.5,
        1,
        2,
        3,
        4,
        5,
        6,
    )
    assert "scale=0.5" in repr(back)
