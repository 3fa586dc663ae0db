"""OpenVINO backend (CPU plugin).

OpenVINO's CPU plugin runs bf16 by default on CPUs that support it; the SDK asks for the
precision explicitly so results do not silently change with the machine.
"""

from __future__ import annotations

import threading

import numpy as np
import openvino as ov

from pavenet_sdk.runtime.backends import check_outputs
from pavenet_sdk.runtime.package import ModelPackage, PackageError

_HINTS = {"f32": "f32", "bf16": "bf16", "f16": "f16"}


class OpenVinoBackend:
    name = "openvino"

    def __init__(self, package: ModelPackage, threads: int, precision: str) -> None:
        core = ov.Core()
        if precision != "f32":
            capabilities = core.get_property("CPU", "OPTIMIZATION_CAPABILITIES")
            if precision.upper() not in [c.upper() for c in capabilities]:
                raise ValueError(
                    f"this CPU does not support {precision} in OpenVINO (it offers {capabilities})"
                )
        self.precision = precision
        config = {"INFERENCE_NUM_THREADS": threads, "INFERENCE_PRECISION_HINT": _HINTS[precision]}
        # OpenVINO reads ONNX directly, so a package may ship ONNX graphs alone
        fmt = "openvino" if "openvino" in package.formats else "onnx"
        self._encoder = _compile(core, package.graph(fmt, "encoder"), config)
        self._decoder = _compile(core, package.graph(fmt, "decoder"), config)
        # an infer request serves one call at a time: one pair per thread
        self._local = threading.local()

    def _requests(self):
        if not hasattr(self._local, "encoder"):
            self._local.encoder = self._encoder.create_infer_request()
            self._local.decoder = self._decoder.create_infer_request()
        return self._local.encoder, self._local.decoder

    def encode(self, image: np.ndarray) -> np.ndarray:
        encoder, _ = self._requests()
        result = encoder.infer({0: image})
        return np.array(result[0][0], dtype=np.float32)

    def decode(self, memories: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        _, decoder = self._requests()
        result = decoder.infer({0: memories[None]})
        return check_outputs(*(np.array(result[i]) for i in range(3)))


def _compile(core: ov.Core, path, config: dict):
    try:
        return core.compile_model(str(path), "CPU", config)
    except Exception as exc:  # OpenVINO raises RuntimeError subclasses with long texts
        raise PackageError(f"cannot load OpenVINO graph {path}: {exc}") from None


def load(package: ModelPackage, threads: int, precision: str) -> OpenVinoBackend:
    return OpenVinoBackend(package, threads, precision)
