"""Eager PyTorch backend: rebuilds the model from the package checkpoint, fused attention on."""

from __future__ import annotations

import numpy as np
import torch

from pavenet_sdk.checkpoint import load_model
from pavenet_sdk.runtime.backends import check_outputs
from pavenet_sdk.runtime.package import ModelPackage


class TorchBackend:
    name = "torch"

    def __init__(self, package: ModelPackage, threads: int, precision: str) -> None:
        if precision != "f32":
            raise ValueError("the torch backend runs f32 only")
        self.precision = precision
        torch.set_num_threads(threads)
        self.model = load_model(package.graph("torch", "checkpoint")).eval()
        self.model.set_fused_attention(True)

    @torch.inference_mode()
    def encode(self, image: np.ndarray) -> np.ndarray:
        return self.model.encode_frame(torch.from_numpy(image))[0].numpy()

    @torch.inference_mode()
    def decode(self, memories: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        out = self.model.decode_window(torch.from_numpy(memories)[None])
        return check_outputs(out["poses"].numpy(), out["logits"].numpy(), out["sigmas"].numpy())


def load(package: ModelPackage, threads: int, precision: str) -> TorchBackend:
    return TorchBackend(package, threads, precision)
