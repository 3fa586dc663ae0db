"""Shared fixtures: a micro PAVE-Net exported to every installed format (random weights)."""

from __future__ import annotations

import importlib.util

import pytest

HAS_TORCH = importlib.util.find_spec("torch") is not None


@pytest.fixture(scope="session")
def micro_model(tmp_path_factory):
    """(model, package dir): the ``micro`` preset exported to every installed format."""
    if not HAS_TORCH:
        pytest.skip("needs torch")
    import torch

    from pavenet_sdk.export import export_package
    from pavenet_sdk.model import build_model, get_preset
    from pavenet_sdk.runtime.backends import available_backends

    torch.manual_seed(0)
    model = build_model(get_preset("micro")).eval()
    formats = [f for f in ("onnx", "openvino", "torchscript", "torch") if f in available_backends()]
    out = tmp_path_factory.mktemp("micro-package")
    export_package(model, out, formats, name="micro")
    return model, out
