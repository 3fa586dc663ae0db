"""Fixtures of the model tests: small configs that keep every part of the architecture."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")


def small_config(**overrides):
    """The tiny preset shrunk to a 64x64 input and width-8 backbone (runs in milliseconds)."""
    from pavenet_sdk.model import get_preset

    base = {
        "input_size": (64, 64),
        "backbone.width": 8,
        "encoder.num_layers": 1,
        "encoder.ffn_dim": 32,
        "pose_decoder.num_layers": 2,
        "pose_decoder.num_queries": 10,
        "pose_decoder.ffn_dim": 32,
        "pose_decoder.mlp_hidden": 32,
        "joint_decoder.num_layers": 2,
        "joint_decoder.ffn_dim": 32,
        "d_model": 32,
        "num_heads": 4,
        "neck.gn_groups": 8,
        "top_k": 5,
    }
    base.update(overrides)
    return get_preset("tiny").replace(**base)


@pytest.fixture(autouse=True)
def _one_thread():
    """The machine is shared: every model test runs on one thread."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def random_targets(batch: int, counts: list[int], num_joints: int = 15, seed: int = 0):
    """Targets with ``counts[b]`` persons in sample b: poses inside the image, 80% visible."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for b in range(batch):
        n = counts[b]
        centre = torch.rand(n, 1, 2, generator=g) * 0.6 + 0.2
        kp = (centre + (torch.rand(n, num_joints, 2, generator=g) - 0.5) * 0.3).clamp(0, 1)
        vis = torch.rand(n, num_joints, generator=g) > 0.2
        out.append({"keypoints": kp, "visibility": vis, "areas": torch.full((n,), 0.04)})
    return out


@pytest.fixture
def make_config():
    """``make_config(**overrides) -> ModelConfig`` (see :func:`small_config`)."""
    return small_config


@pytest.fixture
def make_targets():
    """``make_targets(batch, counts, num_joints=15, seed=0) -> list of target dicts``."""
    return random_targets
