"""Tracker (OKS greedy, time-based expiry) and the One-Euro smoother."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pavenet_sdk import native
from pavenet_sdk.layouts import COCO_17, POSETRACK_15

K = POSETRACK_15.num_joints


def person(cx: float, cy: float, size: float = 100.0, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.uniform(-0.5, 0.5, (K, 2)) * [size * 0.5, size] + [cx, cy]).astype(np.float32)


def frame(*people: np.ndarray) -> np.ndarray:
    return np.stack(people).astype(np.float32) if people else np.zeros((0, K, 2), np.float32)


def test_ids_follow_people_across_order_changes_and_motion() -> None:
    tr = native.Tracker(oks_threshold=0.5, max_age_seconds=1.0)
    a, b, c = person(100, 200, seed=1), person(400, 200, seed=2), person(700, 250, seed=3)
    ids = tr.update(0.0, frame(a, b, c), np.array([0.9, 0.8, 0.7], np.float32))
    assert ids.tolist() == [1, 2, 3] and ids.dtype == np.int64
    step = np.float32([4, -2])
    ids = tr.update(1 / 30, frame(c + step, a + step, b + step), np.ones(3, np.float32))
    assert ids.tolist() == [3, 1, 2]
    ids = tr.update(2 / 30, frame(b + 2 * step), np.ones(1, np.float32))  # a and c occluded
    assert ids.tolist() == [2]
    assert sorted(tr.active_ids().tolist()) == [1, 2, 3]
    ids = tr.update(0.5, frame(a + 3 * step, c), np.ones(2, np.float32))  # back within 1 s
    assert ids.tolist() == [1, 3]


def test_tracks_expire_by_time_not_frames() -> None:
    tr = native.Tracker(max_age_seconds=0.5)
    p = frame(person(100, 100))
    assert tr.update(0.0, p, np.ones(1, np.float32)).tolist() == [1]
    # a slow camera: 0.4 s between frames still continues the track
    assert tr.update(0.4, p, np.ones(1, np.float32)).tolist() == [1]
    assert tr.update(0.8, frame(), np.zeros(0, np.float32)).tolist() == []
    assert tr.update(0.95, p, np.ones(1, np.float32)).tolist() == [2]  # 0.55 s unmatched
    tr.reset()
    assert tr.update(0.0, p, np.ones(1, np.float32)).tolist() == [1]


def test_far_people_and_weak_detections() -> None:
    tr = native.Tracker(oks_threshold=0.5, min_new_score=0.5)
    ids = tr.update(
        0.0, frame(person(100, 100), person(300, 100)), np.array([0.9, 0.2], np.float32)
    )
    assert ids.tolist() == [1, -1]
    ids = tr.update(0.1, frame(person(600, 600)), np.array([0.9], np.float32))
    assert ids.tolist() == [2]  # too far from track 1 to continue it


def test_areas_and_boxes_set_the_oks_scale() -> None:
    p0, p1 = frame(person(100, 100, size=50)), frame(person(112, 100, size=50))
    # tiny area: a 12 px move is a different person; a big one: the same person
    small = native.Tracker(oks_threshold=0.5)
    small.update(0.0, p0, np.ones(1, np.float32), areas=np.array([100.0], np.float32))
    assert small.update(
        0.1, p1, np.ones(1, np.float32), areas=np.array([100.0], np.float32)
    ).tolist() == [2]
    big = native.Tracker(oks_threshold=0.5)
    box = np.array([[0, 0, 300, 300]], np.float32)
    big.update(0.0, p0, np.ones(1, np.float32), boxes=box)
    assert big.update(0.1, p1, np.ones(1, np.float32), boxes=box).tolist() == [1]


def one_euro_reference(times, xs, min_cutoff, beta, d_cutoff):
    def alpha(cutoff, dt):
        tau = 1 / (2 * math.pi * cutoff)
        return 1 / (1 + tau / dt)

    out, x_hat, dx_hat, t_prev = [], None, 0.0, None
    for t, x in zip(times, xs, strict=True):
        if x_hat is None:
            x_hat = x
        else:
            dt = t - t_prev
            dx_hat += alpha(d_cutoff, dt) * ((x - x_hat) / dt - dx_hat)
            x_hat += alpha(min_cutoff + beta * abs(dx_hat), dt) * (x - x_hat)
        t_prev = t
        out.append(x_hat)
    return np.array(out)


def test_one_euro_matches_reference_with_variable_frame_rate() -> None:
    rng = np.random.default_rng(0)
    times = np.cumsum(rng.uniform(0.01, 0.1, 40))
    xs = np.cumsum(rng.normal(0, 3, 40)) + 100
    sm = native.OneEuroSmoother(min_cutoff=1.5, beta=0.05, d_cutoff=1.0)
    got = []
    for t, x in zip(times, xs, strict=True):
        kp = np.full((1, 2, 2), x, np.float32)
        got.append(sm.smooth(t, np.array([7], np.int64), kp)[0, 1, 0])
    want = one_euro_reference(times, xs.astype(np.float32).astype(np.float64), 1.5, 0.05, 1.0)
    np.testing.assert_allclose(got, want, rtol=1e-5)
    assert np.std(np.diff(got)) < np.std(np.diff(xs))  # it does smooth


def test_smoother_state_per_track_and_retain() -> None:
    sm = native.OneEuroSmoother()
    kp = np.zeros((2, K, 2), np.float32)
    kp[1] += 50
    sm.smooth(0.0, np.array([1, 2]), kp)
    out = sm.smooth(0.1, np.array([2, 1]), kp[::-1] + 10)
    assert np.all(out[0] > 50) and np.all(out[0] < 60) and np.all(out[1] < 10)
    # untracked detections (-1) pass through, hold no state
    raw = sm.smooth(0.2, np.array([-1]), kp[:1] + 99)
    np.testing.assert_array_equal(raw, kp[:1] + 99)
    assert len(sm) == 2
    sm.retain(np.array([2], np.int64))
    assert len(sm) == 1
    restarted = sm.smooth(0.3, np.array([1]), kp[:1] + 5)
    np.testing.assert_array_equal(restarted, kp[:1] + 5)  # a dropped id starts fresh


def test_tracker_then_smoother_pipeline() -> None:
    tr, sm = native.Tracker(), native.OneEuroSmoother(min_cutoff=1.0, beta=0.0)
    for i in range(5):
        kp = frame(person(100 + 3 * i, 100))
        ids = tr.update(i / 30, kp, np.ones(1, np.float32))
        out = sm.smooth(i / 30, ids, kp)
        sm.retain(tr.active_ids())
        assert out.shape == kp.shape and ids.tolist() == [1]


def test_timestamps_must_not_decrease() -> None:
    tr = native.Tracker()
    tr.update(1.0, frame(), np.zeros(0, np.float32))
    with pytest.raises(ValueError, match="must not decrease"):
        tr.update(0.5, frame(), np.zeros(0, np.float32))
    sm = native.OneEuroSmoother()
    sm.smooth(1.0, np.array([1]), frame(person(0, 0)))
    with pytest.raises(ValueError, match="went back"):
        sm.smooth(0.5, np.array([1]), frame(person(0, 0)))


def test_tracker_takes_its_sigmas_and_k_from_the_layout() -> None:
    rng = np.random.default_rng(3)
    k = COCO_17.num_joints
    a = (rng.uniform(0, 100, (k, 2)) + [100, 100]).astype(np.float32)
    b = (rng.uniform(0, 100, (k, 2)) + [500, 100]).astype(np.float32)
    tr = native.Tracker(oks_threshold=0.5, layout=COCO_17)
    assert tr.update(0.0, np.stack([a, b]), np.ones(2, np.float32)).tolist() == [1, 2]
    step = np.float32([3, 1])
    assert tr.update(0.1, np.stack([b + step, a + step]), np.ones(2, np.float32)).tolist() == [2, 1]
    with pytest.raises(ValueError, match="K = 15 joints but 17 OKS sigmas"):
        tr.update(0.2, np.zeros((1, 15, 2), np.float32), np.ones(1, np.float32))
    by_name = native.Tracker(layout="coco-17")
    assert by_name.update(0.0, a[None], np.ones(1, np.float32)).tolist() == [1]
    with pytest.raises(ValueError, match="not both"):
        native.Tracker(layout=COCO_17, sigmas=COCO_17.sigmas_array)
    with pytest.raises(ValueError, match="unknown joint layout"):
        native.Tracker(layout="mpii-16")


def test_layout_sigmas_decide_the_match() -> None:
    """The same 6 px move on the nose continues a track under large sigmas, not tiny ones."""
    from pavenet_sdk.layouts import JointLayout

    def layout(sigma: float) -> JointLayout:
        return JointLayout("one", ("nose",), (), (), (sigma,))

    p0 = np.zeros((1, 1, 2), np.float32) + 50
    p1 = p0 + np.float32([6, 0])
    area = np.array([100.0], np.float32)
    for sigma, expected in ((1.0, [1]), (0.01, [2])):
        tr = native.Tracker(oks_threshold=0.5, layout=layout(sigma))
        tr.update(0.0, p0, np.ones(1, np.float32), areas=area)
        assert tr.update(0.1, p1, np.ones(1, np.float32), areas=area).tolist() == expected


def test_smoother_handles_any_k() -> None:
    sm = native.OneEuroSmoother(min_cutoff=1.0, beta=0.0)
    for k in (COCO_17.num_joints, POSETRACK_15.num_joints):
        kp = np.full((1, k, 2), 10.0, np.float32)
        sm.smooth(0.0, np.array([k]), kp)
        out = sm.smooth(0.1, np.array([k]), kp + 10)
        assert out.shape == (1, k, 2) and np.all((out > 10) & (out < 20))
