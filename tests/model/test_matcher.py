"""Hungarian matcher on hand-made cases, against a scipy reference, and the OKS function."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.optimize import linear_sum_assignment

from pavenet_sdk.layouts import COCO_17, POSETRACK_15
from pavenet_sdk.model.matcher import HungarianMatcher, oks


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
    similarity = oks(
        preds[:, None],
        gt[None],
        torch.ones(1, 1, 15, dtype=torch.bool),
        torch.tensor([[0.05]]),
        torch.full((15,), 0.08),
    )
    assert similarity.shape == (3, 1)
    assert similarity[0, 0].item() == pytest.approx(1.0)
    assert 1 > similarity[1, 0] > similarity[2, 0] > 0


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


def _reference_oks(pred, gt, vis, area, sigmas):
    """COCO's OKS of one pose pair in numpy (float64), over the visible joints."""
    d2 = ((pred - gt) ** 2).sum(-1)
    e = d2 / (2 * (2 * sigmas) ** 2 * (area + 1e-9))
    return float((np.exp(-e) * vis).sum() / max(vis.sum(), 1))


def _reference_matches(logits, poses, targets, sigmas, alpha=0.25, gamma=2.0):
    """The documented cost (2 focal + 70 L1 / (2 #visible) - 7 OKS) solved by scipy directly."""
    out = []
    for b, t in enumerate(targets):
        gt, vis, areas = (t[k].double().numpy() for k in ("keypoints", "visibility", "areas"))
        n = gt.shape[0]
        if n == 0:
            out.append(([], []))
            continue
        p = 1 / (1 + np.exp(-logits[b].double().numpy()))
        focal = alpha * (1 - p) ** gamma * -np.log(p + 1e-8)
        focal -= (1 - alpha) * p**gamma * -np.log(1 - p + 1e-8)
        pred = poses[b].double().numpy()
        cost = np.zeros((pred.shape[0], n))
        for q in range(pred.shape[0]):
            for j in range(n):
                l1 = (np.abs(pred[q] - gt[j]) * vis[j][:, None]).sum() / max(2 * vis[j].sum(), 1)
                similarity = _reference_oks(pred[q], gt[j], vis[j], areas[j], sigmas)
                cost[q, j] = 2.0 * focal[q] + 70.0 * l1 - 7.0 * similarity
        rows, cols = linear_sum_assignment(cost)
        out.append((rows.tolist(), cols.tolist()))
    return out


@pytest.mark.parametrize("layout", [POSETRACK_15, COCO_17], ids=lambda x: x.name)
def test_matches_equal_scipy_on_the_documented_cost(layout):
    g = torch.Generator().manual_seed(7)
    K, sigmas = layout.num_joints, layout.sigmas_array.astype(np.float64)
    matcher = HungarianMatcher(layout=layout)
    for trial in range(20):
        B, Q = 2, 9
        logits, poses = torch.randn(B, Q, generator=g), torch.rand(B, Q, K, 2, generator=g)
        targets = []
        for _ in range(B):
            n = int(torch.randint(0, 12, (1,), generator=g))  # sometimes more targets than Q
            kp = torch.rand(n, K, 2, generator=g)
            vis = torch.rand(n, K, generator=g) > 0.3
            areas = torch.rand(n, generator=g) * 0.2 + 0.01
            targets.append({"keypoints": kp, "visibility": vis, "areas": areas})
        got = [(r.tolist(), c.tolist()) for r, c in matcher(logits, poses, targets)]
        assert got == _reference_matches(logits, poses, targets, sigmas), f"trial {trial}"


def test_oks_pairs_and_all_pairs_are_one_function():
    g = torch.Generator().manual_seed(3)
    sigmas = torch.as_tensor(COCO_17.sigmas_array)
    pred, gt = torch.rand(4, 17, 2, generator=g), torch.rand(5, 17, 2, generator=g)
    vis = torch.rand(5, 17, generator=g) > 0.4
    vis[2] = False  # no visible joint: OKS 0
    areas = torch.rand(5, generator=g) * 0.1 + 0.01
    table = oks(pred[:, None], gt[None], vis[None], areas[None], sigmas)
    assert table.shape == (4, 5) and torch.all(table[:, 2] == 0)
    for q in range(4):
        aligned = oks(pred[q].expand(5, 17, 2), gt, vis, areas, sigmas)
        assert torch.equal(aligned, table[q])
        for n in range(5):
            p, t, s = pred[q].double().numpy(), gt[n].double().numpy(), sigmas.double().numpy()
            ref = _reference_oks(p, t, vis[n].numpy(), float(areas[n]), s)
            assert table[q, n].item() == pytest.approx(ref, rel=1e-5, abs=1e-7)


def test_matcher_takes_k_and_sigmas_from_its_layout():
    coco = HungarianMatcher(layout="coco-17")
    assert coco.num_joints == 17 and coco.layout is COCO_17
    with pytest.raises(ValueError, match="coco-17"):
        coco(torch.zeros(1, 3), torch.rand(1, 3, 15, 2), [_target(torch.rand(1, 15, 2))])
    with pytest.raises(ValueError, match="unknown joint layout"):
        HungarianMatcher(layout="mpii-16")
