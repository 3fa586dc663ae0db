"""``build_training``: one matcher shared by the model and the criterion, matches solved
once, and any joint layout (COCO-17) trains."""

from __future__ import annotations

import pytest
import torch

from pavenet_sdk.layouts import COCO_17
from pavenet_sdk.model import HungarianMatcher, SetCriterion, build_model, build_training
from pavenet_sdk.model.losses import SetCriterion as _Criterion


class CountingMatcher(HungarianMatcher):
    """A matcher that counts its calls."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.calls = 0

    def __call__(self, logits, poses, targets):
        self.calls += 1
        return super().__call__(logits, poses, targets)


def test_build_shares_one_matcher(make_config):
    cfg = make_config()
    model, criterion = build_training(cfg)
    assert isinstance(criterion, SetCriterion)
    assert criterion.matcher is model.matcher
    assert model.matcher.layout.name == cfg.layout
    with pytest.raises(ValueError, match="layout"):
        build_model(cfg, HungarianMatcher(layout="coco-17"))
    with pytest.raises(ValueError, match="layout"):
        SetCriterion(cfg, HungarianMatcher(layout="coco-17"))


@pytest.mark.parametrize("references", ["pose_aware", "random"])
def test_the_last_stpd_layer_is_matched_once(make_config, make_targets, references):
    torch.manual_seed(0)
    cfg = make_config(references=references)
    matcher = CountingMatcher(layout=cfg.layout)
    model = build_model(cfg, matcher).train()
    criterion = SetCriterion(cfg, matcher)
    window = torch.randn(2, cfg.num_frames, 3, *cfg.input_size)
    targets = make_targets(2, [3, 1])
    outputs = model(window, targets)
    assert matcher.calls == 1  # the model matched its last STPD layer
    losses = criterion(outputs, targets)
    # proposals (two-stage only) and every STPD layer but the last; the STJD reuses too
    proposals = 1 if references == "pose_aware" else 0
    assert matcher.calls == 1 + proposals + cfg.pose_decoder.num_layers - 1
    # solving the last layer again gives the same losses
    fresh = _Criterion(cfg, matcher)
    fresh.load_state_dict(criterion.state_dict())  # the same RLE flows
    fresh._model_matches = lambda outputs: None
    again = fresh(outputs, targets)
    assert matcher.calls == 1 + 2 * proposals + 2 * cfg.pose_decoder.num_layers - 1
    for name, value in losses.items():
        assert torch.equal(value, again[name]), name


def test_coco_17_trains_one_step(make_config):
    torch.manual_seed(0)
    cfg = make_config(layout="coco-17", **{"loss.reg": "l1"})
    model, criterion = build_training(cfg)
    model.train()
    assert torch.equal(criterion.sigmas, torch.as_tensor(COCO_17.sigmas_array))
    g = torch.Generator().manual_seed(1)
    targets = []
    for n in (2, 1):
        centre = torch.rand(n, 1, 2, generator=g) * 0.6 + 0.2
        kp = (centre + (torch.rand(n, 17, 2, generator=g) - 0.5) * 0.3).clamp(0, 1)
        vis = torch.rand(n, 17, generator=g) > 0.2
        targets.append({"keypoints": kp, "visibility": vis, "areas": torch.full((n,), 0.04)})
    params = list(model.parameters()) + list(criterion.parameters())
    optimizer = torch.optim.AdamW(params, lr=1e-3)
    window = torch.randn(2, cfg.num_frames, 3, *cfg.input_size)
    outputs = model(window, targets)
    assert outputs["layers"][-1]["poses"].shape[-2:] == (17, 2)
    assert outputs["joint_layers"][-1]["poses"].shape[-2:] == (17, 2)
    losses = criterion(outputs, targets)
    assert torch.isfinite(losses["loss"])
    before = {k: v.detach().clone() for k, v in model.joint_decoder.named_parameters()}
    losses["loss"].backward()
    optimizer.step()
    after = dict(model.joint_decoder.named_parameters())
    assert any(not torch.equal(before[k], after[k]) for k in before)  # the STJD learns
    # 15-joint targets are refused with a message naming the shapes
    with pytest.raises(ValueError, match=r"\(N, 17, 2\)"):
        criterion(outputs, [{**t, "keypoints": t["keypoints"][:, :15]} for t in targets])
