"""Every trainable parameter receives a gradient from the training losses."""

from __future__ import annotations

import re

import pytest
import torch

from pavenet_sdk.model import SetCriterion, build_model


def _dead_parameters(cfg) -> re.Pattern:
    """Parameters no loss can reach, by design (they exist for weight-compatibility):
    the neighbour-frame pose MLPs of the last STPD and STJD layers. Their outputs only feed
    the STJD's detached references, or nothing, because neighbour frames carry no labels."""
    F = cfg.decoder_frames
    last_pd, last_jd = cfg.pose_decoder.num_layers - 1, cfg.joint_decoder.num_layers - 1
    others = "|".join(str(f) for f in range(F) if f != F // 2) or "none"
    sigma = "|.*sigma" if cfg.loss.reg == "l1" else ""  # L1 + OKS do not use the sigma heads
    return re.compile(
        rf"(pose_decoder\.pose_heads\.({others})\.{last_pd}\."
        rf"|joint_decoder\.pose_heads\.({others})\.{last_jd}\.{sigma})"
    )


@pytest.mark.parametrize(
    "changes",
    [{}, {"references": "random"}, {"encoder_type": "spatiotemporal"}, {"loss.reg": "l1"}],
    ids=["pavenet", "random-refs", "ste", "l1"],
)
def test_gradients_reach_every_trainable_parameter(make_config, make_targets, changes):
    cfg = make_config(**{"backbone.frozen_stages": 1, **changes})
    torch.manual_seed(0)
    model = build_model(cfg).train()
    with torch.no_grad():  # zero-initialised heads would hide gradients of earlier layers
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.02)
    criterion = SetCriterion(cfg)
    targets = make_targets(2, [2, 1])
    window = torch.randn(2, cfg.num_frames, 3, *cfg.input_size)
    losses = criterion(model(window, targets), targets)
    assert torch.isfinite(losses["loss"])
    losses["loss"].backward()
    dead = _dead_parameters(cfg)
    missing = [
        n
        for n, p in model.named_parameters()
        if p.requires_grad and not dead.match(n) and (p.grad is None or not p.grad.abs().sum() > 0)
    ]
    assert not missing, missing
    dead_names = [n for n, _ in model.named_parameters() if dead.match(n)]
    if cfg.decoder_frames > 1:
        assert dead_names  # the exemption is not vacuous ...
        for n, p in model.named_parameters():
            if n in dead_names and "sigma" not in n:  # ... and really receives nothing
                assert p.grad is None or not p.grad.any(), n
    frozen = [n for n, p in model.named_parameters() if not p.requires_grad]
    assert frozen and all(n.startswith("backbone.") for n in frozen)
    if cfg.loss.reg == "rle":
        assert all(p.grad is not None for p in criterion.parameters())  # the flows train too
