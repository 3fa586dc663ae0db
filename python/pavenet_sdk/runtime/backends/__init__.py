"""Inference backends: one module per engine, one protocol.

Every backend runs the two graphs of a model package:
    encode(image (1, 3, in_h, in_w) float32) -> memory (N, D) float32   (once per frame)
    decode(memories (F, N, D) float32) -> poses (M, K, 2) in [0, 1] of the model input,
                                          logits (M,), sigmas (M, K, 2)
Availability is decided by importing the engine; a missing engine names the extra to install.
"""

from __future__ import annotations

import importlib
from typing import Protocol

import numpy as np

from pavenet_sdk.runtime.package import ModelPackage, PackageError

# preference order for backend="auto", fastest first as measured on the bundled model
# (benchmarks/results/backends.json): TorchScript and eager torch call the fused native op,
# the ONNX/OpenVINO graphs use the portable grid_sample path
BACKENDS: dict[str, tuple[str, str, str]] = {
    # name: (module, engine module that must import, extra that installs it)
    "torchscript": ("pavenet_sdk.runtime.backends.torchscript", "torch", "torch"),
    "openvino": ("pavenet_sdk.runtime.backends.openvino", "openvino", "openvino"),
    "torch": ("pavenet_sdk.runtime.backends.torch", "torch", "torch"),
    "onnx": ("pavenet_sdk.runtime.backends.onnx", "onnxruntime", "onnx"),
}
PRECISIONS = ("f32", "bf16", "f16")


class Backend(Protocol):
    """What the estimator needs from an inference engine."""

    name: str
    precision: str

    def encode(self, image: np.ndarray) -> np.ndarray: ...

    def decode(self, memories: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]: ...


def available_backends() -> list[str]:
    """Backends whose engine imports in this environment, in ``auto`` preference order."""
    found = []
    for name, (_, engine, _) in BACKENDS.items():
        try:
            importlib.import_module(engine)
        except ImportError:
            continue
        found.append(name)
    return found


def resolve_backend(name: str, package: ModelPackage) -> str:
    """Map ``"auto"`` to the best backend both installed and present in the package."""
    if name != "auto":
        if name not in BACKENDS:
            raise ValueError(
                f"unknown backend {name!r}; choose one of: auto, {', '.join(BACKENDS)}"
            )
        return name
    installed = available_backends()
    for candidate in BACKENDS:
        if candidate in installed and can_run(candidate, package):
            return candidate
    raise RuntimeError(
        f"no backend can run {package.root}: it holds {package.formats}, installed engines: "
        f"{installed or 'none'}; install one with pip install 'pavenet-sdk[onnx]'"
    )


def can_run(name: str, package: ModelPackage) -> bool:
    """Whether ``package`` holds graphs backend ``name`` reads (OpenVINO also reads ONNX)."""
    return name in package.formats or (name == "openvino" and "onnx" in package.formats)


def load_backend(name: str, package: ModelPackage, threads: int, precision: str) -> Backend:
    """Instantiate backend ``name`` (not "auto") for ``package``."""
    module_name, engine, extra = BACKENDS[name]
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    try:
        importlib.import_module(engine)
    except ImportError as exc:
        raise ImportError(
            f"backend {name!r} needs {engine}: pip install 'pavenet-sdk[{extra}]'"
        ) from exc
    if not can_run(name, package):
        raise PackageError(
            f"package {package.root} has no graphs the {name!r} backend reads "
            f"(it has: {', '.join(package.formats)}); export them with "
            f"`pavenet export CKPT --format {name}` or pick another backend"
        )
    module = importlib.import_module(module_name)
    return module.load(package, threads=threads, precision=precision)


def check_outputs(
    poses: np.ndarray, logits: np.ndarray, sigmas: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Drop the batch axis of decoder outputs and check their shapes agree."""
    poses, logits, sigmas = (
        np.ascontiguousarray(a[0], dtype=np.float32) for a in (poses, logits, sigmas)
    )
    if poses.ndim != 3 or logits.shape != poses.shape[:1] or sigmas.shape != poses.shape:
        raise RuntimeError(
            f"decoder returned inconsistent shapes: poses {poses.shape}, logits {logits.shape}, "
            f"sigmas {sigmas.shape}"
        )
    return poses, logits, sigmas
