"""Eager PyTorch backend: a PAVE-Net module run directly, fused attention on.

It runs a model rebuilt from a package's checkpoint (``load``) or one the caller holds in
memory (``Estimator.from_model``). Each call runs the model in eval mode with the fused native
attention and puts back the mode and attention flags it found, so a model that is being
trained can be evaluated between steps and keeps training afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch

from pavenet_sdk.checkpoint import load_model
from pavenet_sdk.model import PAVENet
from pavenet_sdk.model.attention import attention_modules
from pavenet_sdk.runtime.backends import check_outputs
from pavenet_sdk.runtime.package import ModelPackage


class TorchBackend:
    name = "torch"

    def __init__(self, model: PAVENet, threads: int, precision: str = "f32") -> None:
        if not isinstance(model, PAVENet):
            raise TypeError(f"the torch backend runs a PAVENet model, got {type(model).__name__}")
        if precision != "f32":
            raise ValueError("the torch backend runs f32 only")
        self.precision = precision
        torch.set_num_threads(threads)
        self.model = model
        self._attention = attention_modules(model)

    @contextmanager
    def _inference(self) -> Iterator[None]:
        """Eval mode + fused attention + inference mode for one call; the model's own mode
        and attention flags are restored afterwards."""
        training = self.model.training
        unfused = [m for m in self._attention if not m.fused]
        if training:
            self.model.eval()
        for m in unfused:
            m.fused = True
        try:
            with torch.inference_mode():
                yield
        finally:
            for m in unfused:
                m.fused = False
            if training:
                self.model.train()

    def _tensor(self, array: np.ndarray) -> torch.Tensor:
        """``array`` on the model's device (a model being trained may live on a GPU)."""
        return torch.from_numpy(array).to(next(self.model.parameters()).device)

    def encode(self, image: np.ndarray) -> np.ndarray:
        with self._inference():
            return self.model.encode_frame(self._tensor(image))[0].cpu().numpy()

    def decode(self, memories: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        with self._inference():
            out = self.model.decode_window(self._tensor(memories)[None])
            return check_outputs(*(out[key].cpu().numpy() for key in ("poses", "logits", "sigmas")))


def load(package: ModelPackage, threads: int, precision: str) -> TorchBackend:
    if precision != "f32":
        raise ValueError("the torch backend runs f32 only")
    model = load_model(package.graph("torch", "checkpoint"))
    model.set_fused_attention(True)
    return TorchBackend(model, threads, precision)
