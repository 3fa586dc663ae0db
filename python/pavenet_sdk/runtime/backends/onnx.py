"""ONNX Runtime backend (CPU execution provider)."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort

from pavenet_sdk.runtime.backends import check_outputs
from pavenet_sdk.runtime.package import ModelPackage, PackageError


class OnnxBackend:
    name = "onnx"

    def __init__(self, package: ModelPackage, threads: int, precision: str) -> None:
        if precision != "f32":
            raise ValueError("the onnx backend runs f32 only; use backend='openvino' for bf16/f16")
        self.precision = precision
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._encoder = _session(package.graph("onnx", "encoder"), options)
        self._decoder = _session(package.graph("onnx", "decoder"), options)

    def encode(self, image: np.ndarray) -> np.ndarray:
        (memory,) = self._encoder.run(None, {"image": image})
        return memory[0]

    def decode(self, memories: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        poses, logits, sigmas = self._decoder.run(None, {"memories": memories[None]})
        return check_outputs(poses, logits, sigmas)


def _session(path, options) -> ort.InferenceSession:
    try:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own exception types
        raise PackageError(f"cannot load ONNX graph {path}: {exc}") from None


def load(package: ModelPackage, threads: int, precision: str) -> OnnxBackend:
    return OnnxBackend(package, threads, precision)
