"""The runtime works where torch is not installed (Jetson-style deployments)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent(
    """
    import sys
    sys.modules["torch"] = None  # any `import torch` now raises ImportError
    import numpy as np
    import pavenet_sdk
    from pavenet_sdk import Estimator, available_backends
    assert "torch" not in available_backends() and "torchscript" not in available_backends()
    rng = np.random.default_rng(0)
    for backend in sys.argv[2:]:
        est = Estimator(sys.argv[1], backend=backend, score_threshold=0.0)
        frames = [rng.integers(0, 256, (48, 80, 3), dtype=np.uint8) for _ in range(3)]
        results = [r for f in frames for r in est.push_frame(f)] + est.flush()
        assert len(results) == 3, results
        results[0].plot(frames[0])
        print(backend, "ok")
    """
)


def test_import_does_not_load_torch():
    code = "import sys, pavenet_sdk, pavenet_sdk.runtime.estimator; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_onnx_and_openvino_backends_run_without_torch(micro_model):
    _, package = micro_model
    from pavenet_sdk.runtime.backends import available_backends

    backends = [b for b in ("onnx", "openvino") if b in available_backends()]
    if not backends:
        pytest.skip("neither onnxruntime nor openvino is installed")
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(package), *backends], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [w for b in backends for w in (b, "ok")]
