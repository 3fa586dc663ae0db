"""RealNVP density, the RLE loss and SetCriterion."""

from __future__ import annotations

import math

import pytest
import torch

from pavenet_sdk.model import SetCriterion, build_model
from pavenet_sdk.model.losses import sigmoid_focal_loss
from pavenet_sdk.model.rle import RealNVP, rle_loss


def _grid_mass(flow: RealNVP, half: float = 8.0, n: int = 321) -> float:
    axis = torch.linspace(-half, half, n)
    xy = torch.stack(torch.meshgrid(axis, axis, indexing="ij"), -1).reshape(-1, 2)
    with torch.no_grad():
        density = flow.log_prob(xy).exp()
    return float(density.sum() * (axis[1] - axis[0]) ** 2)


def test_realnvp_is_a_normalised_density():
    torch.manual_seed(0)
    flow = RealNVP()
    assert flow.mask.tolist() == [[0, 1], [1, 0]] * 3
    assert sum(p.numel() for p in flow.parameters()) == 53784  # the official flow's size
    # at init it is ~ the standard normal
    assert flow.log_prob(torch.zeros(1, 2)).item() == pytest.approx(
        -math.log(2 * math.pi), abs=1e-3
    )
    with torch.no_grad():
        for p in flow.parameters():
            p.normal_(0, 0.1)  # an arbitrary invertible flow still integrates to 1
    assert _grid_mass(flow) == pytest.approx(1.0, abs=0.02)


def test_rle_loss_matches_the_formula_with_an_identity_flow():
    flow = RealNVP()
    with torch.no_grad():
        for p in flow.parameters():
            p.zero_()  # s = t = 0: q is the standard normal
    pred = torch.tensor([[[0.5, 0.4]]])
    gt = torch.tensor([[[0.45, 0.5]]])
    sigma = torch.tensor([[[0.1, 0.2]]])
    vis = torch.ones(1, 1, dtype=torch.bool)
    total, count = rle_loss(pred, sigma, gt, vis, flow)
    mu_bar = (pred - gt) / sigma
    log_q = -0.5 * (mu_bar**2).sum() - math.log(2 * math.pi)
    expected = sum(
        math.log(s) - log_q + math.log(s * math.sqrt(2 * math.pi)) + abs(g - p) / (math.sqrt(2) * s)
        for p, g, s in zip(
            pred.flatten().tolist(), gt.flatten().tolist(), sigma.flatten().tolist(), strict=True
        )
    )
    assert count.item() == 2
    assert total.item() == pytest.approx(float(expected), rel=1e-5)


def test_rle_fit_decreases_and_ignores_invisible_joints():
    torch.manual_seed(0)
    gt = torch.rand(16, 15, 2) * 0.8 + 0.1
    noisy = gt + 0.02 * torch.randn_like(gt)
    vis = torch.rand(16, 15) > 0.3
    flow = RealNVP()
    pred_logit = torch.zeros(16, 15, 2, requires_grad=True)
    sigma_logit = torch.zeros(16, 15, 2, requires_grad=True)
    opt = torch.optim.Adam(
        [
            {"params": [pred_logit, sigma_logit], "lr": 0.1},
            {"params": flow.parameters(), "lr": 1e-3},
        ]
    )
    losses = []
    for _ in range(40):
        total, count = rle_loss(pred_logit.sigmoid(), sigma_logit.sigmoid(), noisy, vis, flow)
        loss = total / count
        assert torch.isfinite(loss)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] - 4.0  # sharper sigmas as the predictions converge
    assert (pred_logit.grad[~vis] == 0).all()  # invisible joints get no gradient
    err = (pred_logit.sigmoid() - noisy).abs()[vis].mean()
    assert err < 0.01


def test_focal_loss_values():
    logits = torch.tensor([0.0, 2.0])
    labels = torch.tensor([1.0, 0.0])
    p = torch.sigmoid(logits)
    expected = 0.25 * -math.log(0.5) * 0.5**2 + 0.75 * -math.log(1 - p[1].item()) * p[1].item() ** 2
    assert sigmoid_focal_loss(logits, labels, 0.25, 2.0).item() == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("reg", ["rle", "l1"])
def test_criterion_terms_and_empty_targets(make_config, make_targets, reg):
    cfg = make_config(**{"loss.reg": reg})
    model = build_model(cfg).train()
    criterion = SetCriterion(cfg)
    window = torch.randn(2, cfg.num_frames, 3, *cfg.input_size)
    targets = make_targets(2, [2, 1])
    losses = criterion(model(window, targets), targets)
    terms = ["cls", "rle"] if reg == "rle" else ["cls", "l1", "oks"]
    stages = ["enc"] + [f"dec{i}" for i in range(cfg.pose_decoder.num_layers)]
    expected = {f"loss_{s}_{t}" for s in stages for t in terms}
    expected |= {
        f"loss_joint{i}_{t}"
        for i in range(cfg.joint_decoder.num_layers)
        for t in terms
        if t != "cls"
    }
    assert set(losses) == expected | {"loss"}
    assert all(torch.isfinite(v) for v in losses.values())
    torch.testing.assert_close(losses["loss"], sum(v for k, v in losses.items() if k != "loss"))
    # no persons anywhere: only the negatives' class loss remains, the graph stays connected
    empty = make_targets(2, [0, 0])
    losses = criterion(model(window, empty), empty)
    assert torch.isfinite(losses["loss"]) and losses["loss"] > 0
    assert all(v == 0 for k, v in losses.items() if not k.endswith("cls") and k != "loss")
    losses["loss"].backward()


def test_criterion_matches_outputs_made_without_targets(make_config, make_targets):
    cfg = make_config()
    model = build_model(cfg).train()
    targets = make_targets(1, [2])
    losses = SetCriterion(cfg)(model(torch.randn(1, 3, 3, *cfg.input_size)), targets)
    assert torch.isfinite(losses["loss_joint1_rle"])


def test_criterion_validates_inputs(make_config, make_targets):
    criterion = SetCriterion(make_config())
    with pytest.raises(ValueError, match="training-mode"):
        criterion({"poses": torch.zeros(1)}, make_targets(1, [1]))
