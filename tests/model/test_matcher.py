"""Hungarian matcher on hand-made cases."""

from __future__ import annotations

import pytest
import torch

from pavenet_sdk.model.matcher import HungarianMatcher, pairwise_oks


def _target(poses, areas=0.05, vis=None):
    poses = torch.as_tensor(poses, dtype=torch.float32)
    n, K = poses.shape[:2]
    if vis is None:
        vis = torch.ones(n, K, dtype=torch.bool)
    return {"keypoints": poses, "visibility": vis, "areas": torch.full((n,), areas)}


def _pose(x, y, K=15, spread=0.02):
    offsets = torch.linspace(-spread, spread, K)
    return torch.stack([x + offsets, y + offsets.flip(0)], -1)


def test_obvious_assignment():
    preds = torch.stack([_pose(0.2, 0.2), _pose(0.8, 0.8), _pose(0.5, 0.5)])[None]
    logits = torch.zeros(1, 3)
    targets = [_target(torch.stack([_pose(0.79, 0.81), _pose(0.21, 0.2)]))]
    ((rows, cols),) = HungarianMatcher()(logits, preds, targets)
    assert rows.tolist() == [0, 1] and cols.tolist() == [1, 0]


def test_class_score_breaks_ties():
    same = torch.stack([_pose(0.5, 0.5), _pose(0.5, 0.5)])[None]
    targets = [_target(_pose(0.5, 0.5)[None])]
    ((rows, _),) = HungarianMatcher()(torch.tensor([[-3.0, 3.0]]), same, targets)
    assert rows.tolist() == [1]


def test_invisible_joints_do_not_count():
    gt = _pose(0.5, 0.5)
    vis = torch.zeros(1, 15, dtype=torch.bool)
    vis[0, :5] = True
    good = gt.clone()
    good[5:] += 0.4  # wrong only where the target is invisible
    bad = gt + 0.05
    ((rows, _),) = HungarianMatcher()(
        torch.zeros(1, 2), torch.stack([bad, good])[None], [_target(gt[None], vis=vis)]
    )
    assert rows.tolist() == [1]


def test_empty_targets_and_more_targets_than_predictions():
    preds = torch.rand(2, 3, 15, 2)
    empty = {
        "keypoints": torch.zeros(0, 15, 2),
        "visibility": torch.zeros(0, 15, dtype=torch.bool),
        "areas": torch.zeros(0),
    }
    many = _target(torch.rand(5, 15, 2))
    out = HungarianMatcher()(torch.zeros(2, 3), preds, [empty, many])
    assert [len(r) for r, _ in out] == [0, 3]
    assert out[0][0].dtype == torch.long
    assert len(set(out[1][1].tolist())) == 3


def test_batched_equals_per_sample():
    g = torch.Generator().manual_seed(0)
    preds, logits = torch.rand(3, 8, 15, 2, generator=g), torch.randn(3, 8, generator=g)
    targets = [_target(torch.rand(n, 15, 2, generator=g)) for n in (2, 4, 1)]
    matcher = HungarianMatcher()
    batched = matcher(logits, preds, targets)
    for b in range(3):
        ((r, c),) = matcher(logits[b : b + 1], preds[b : b + 1], targets[b : b + 1])
        assert torch.equal(r, batched[b][0]) and torch.equal(c, batched[b][1])


def test_oks_is_one_at_the_target_and_falls_with_distance():
    gt = _pose(0.5, 0.5)[None]
    preds = torch.stack([gt[0], gt[0] + 0.01, gt[0] + 0.1])
    oks = pairwise_oks(
        preds,
        gt,
        torch.ones(1, 15, dtype=torch.bool),
        torch.tensor([0.05]),
        torch.full((15,), 0.08),
    )
    assert oks[0, 0].item() == pytest.approx(1.0)
    assert 1 > oks[1, 0] > oks[2, 0] > 0


def test_bad_targets_raise():
    with pytest.raises(ValueError, match="one per sample"):
        HungarianMatcher()(
            torch.zeros(2, 3), torch.rand(2, 3, 15, 2), [_target(torch.rand(1, 15, 2))]
        )
    with pytest.raises(ValueError, match="lacks"):
        HungarianMatcher()(
            torch.zeros(1, 3), torch.rand(1, 3, 15, 2), [{"keypoints": torch.rand(1, 15, 2)}]
        )
    with pytest.raises(TypeError):
        HungarianMatcher()(torch.zeros(1, 3), torch.rand(1, 3, 15, 2), "targets")
