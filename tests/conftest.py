"""Shared fixtures: a micro PAVE-Net exported to every installed format (random weights)."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

SHARED = Path(os.environ.get("PAVENET_SHARED", Path(__file__).resolve().parents[2] / "shared"))
HAS_TORCH = importlib.util.find_spec("torch") is not None


def micro_config():
    """A tiny-preset model shrunk so tests run in seconds (same structure, every part kept)."""
    from pavenet_sdk.model import get_preset

    return get_preset("tiny").replace(
        input_size=(64, 64),
        **{
            "encoder.num_layers": 1,
            "encoder.ffn_dim": 64,
            "pose_decoder.num_layers": 2,
            "pose_decoder.num_queries": 12,
            "pose_decoder.ffn_dim": 64,
            "pose_decoder.mlp_hidden": 32,
            "joint_decoder.ffn_dim": 64,
            "backbone.width": 8,
            "top_k": 6,
        },
    )


@pytest.fixture(scope="session")
def micro_model(tmp_path_factory):
    """(model, package dir) for the micro config, exported to all formats whose engine imports."""
    if not HAS_TORCH:
        pytest.skip("needs torch")
    import torch

    from pavenet_sdk.export import export_package
    from pavenet_sdk.model import build_model
    from pavenet_sdk.runtime.backends import available_backends

    torch.manual_seed(0)
    model = build_model(micro_config()).eval()
    formats = [f for f in ("onnx", "openvino", "torchscript", "torch") if f in available_backends()]
    out = tmp_path_factory.mktemp("micro-package")
    export_package(model, out, formats, name="micro")
    return model, out
