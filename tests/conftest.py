"""Shared fixtures: a micro PAVE-Net exported to every installed format (random weights)."""

from __future__ import annotations

import importlib.util
import os

import pytest

from shared_data import SHARED

HAS_TORCH = importlib.util.find_spec("torch") is not None
# package code that reads $PAVENET_SHARED (e.g. `pavenet info`) sees the tests' data folder
os.environ.setdefault("PAVENET_SHARED", str(SHARED))


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
