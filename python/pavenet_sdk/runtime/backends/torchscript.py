"""TorchScript backend: the exported graphs call the fused native op (``torch.ops.pavenet``)."""

from __future__ import annotations

import numpy as np
import torch

import pavenet_sdk.model.msda  # noqa: F401  (registers torch.ops.pavenet.ms_deform_attn)
from pavenet_sdk.runtime.backends import check_outputs
from pavenet_sdk.runtime.package import ModelPackage, PackageError


class TorchScriptBackend:
    name = "torchscript"

    def __init__(self, package: ModelPackage, threads: int, precision: str) -> None:
        if precision != "f32":
            raise ValueError("the torchscript backend runs f32 only")
        self.precision = precision
        torch.set_num_threads(threads)
        self._encoder = _load(package.graph("torchscript", "encoder"))
        self._decoder = _load(package.graph("torchscript", "decoder"))

    @torch.inference_mode()
    def encode(self, image: np.ndarray) -> np.ndarray:
        return self._encoder(torch.from_numpy(image))[0].numpy()

    @torch.inference_mode()
    def decode(self, memories: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        poses, logits, sigmas = self._decoder(torch.from_numpy(memories)[None])
        return check_outputs(poses.numpy(), logits.numpy(), sigmas.numpy())


def _load(path) -> torch.jit.ScriptModule:
    try:
        module = torch.jit.load(str(path), map_location="cpu")
    except Exception as exc:  # torch raises RuntimeError with the archive error
        raise PackageError(f"cannot load TorchScript graph {path}: {exc}") from None
    return module.eval()


def load(package: ModelPackage, threads: int, precision: str) -> TorchScriptBackend:
    return TorchScriptBackend(package, threads, precision)
