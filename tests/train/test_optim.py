"""Learning-rate schedule and parameter groups."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from pavenet_sdk.train.config import OptimSection  # noqa: E402
from pavenet_sdk.train.optim import build_optimizer, lr_factor, param_groups  # noqa: E402


def test_warmup_then_cosine() -> None:
    cfg = OptimSection(warmup_steps=10, schedule="cosine", min_lr_ratio=0.1)
    assert lr_factor(cfg, 0, 0.0) == pytest.approx(0.1)
    assert lr_factor(cfg, 9, 0.0) == pytest.approx(1.0)
    assert lr_factor(cfg, 50, 0.5) == pytest.approx(0.55)
    assert lr_factor(cfg, 100, 1.0) == pytest.approx(0.1)
    assert lr_factor(cfg, 100, 3.0) == pytest.approx(0.1)  # progress is clamped


def test_step_decay() -> None:
    cfg = OptimSection(warmup_steps=0, schedule="step", step_milestones=(0.5, 0.8), step_gamma=0.1)
    assert lr_factor(cfg, 0, 0.49) == pytest.approx(1.0)
    assert lr_factor(cfg, 0, 0.5) == pytest.approx(0.1)
    assert lr_factor(cfg, 0, 0.9) == pytest.approx(0.01)


class _Toy(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.backbone = torch.nn.Sequential(torch.nn.Linear(2, 2))
        self.sampling_offsets = torch.nn.Linear(2, 2)
        self.head = torch.nn.Linear(2, 2)
        self.norm = torch.nn.LayerNorm(2)
        self.frozen = torch.nn.Linear(2, 2)
        self.frozen.requires_grad_(False)


def test_param_groups_multipliers_and_decay() -> None:
    cfg = OptimSection(lr=1e-3, backbone_lr_mult=0.1, offsets_lr_mult=0.5, weight_decay=0.01)
    groups = {g["name"]: g for g in param_groups(_Toy(), cfg)}
    assert groups["backbone"]["lr"] == pytest.approx(1e-4)
    assert groups["offsets"]["lr"] == pytest.approx(5e-4)
    assert groups["main"]["weight_decay"] == 0.01
    assert groups["main_nodecay"]["weight_decay"] == 0.0  # biases and norms
    n_params = sum(len(g["params"]) for g in groups.values())
    assert n_params == 8  # the frozen Linear is left out
    assert isinstance(build_optimizer(_Toy(), cfg), torch.optim.AdamW)
