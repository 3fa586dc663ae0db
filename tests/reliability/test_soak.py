"""Short soak: resident memory stays flat over a stream and over create/destroy churn.

The CI version of ``benchmarks/soak.py`` (whose helpers it uses). Frames are 240x320 BGR
(230 KB), so a stream that kept one frame-sized buffer per frame would grow by ~180 MB over
the measured 800 frames; even a leak of one encoder memory per frame (~22 KB) gives a
slope ~5x above the limit. ``test_detector_catches_a_small_leak`` proves the limits bite.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from pavenet_sdk.runtime.estimator import Estimator

SOAK_PY = Path(__file__).resolve().parents[2] / "benchmarks" / "soak.py"
MIB = 1024 * 1024
# per-frame slope limit: far below any per-frame buffer (the smallest, the encoder memory of
# the micro model, is 85 tokens x 64 x 4 B = 22 KB), far above allocator noise (~0 B/frame)
MAX_SLOPE = 4096
MAX_GROWTH = 8 * MIB  # total after warm-up


@pytest.fixture(scope="module")
def soak():
    if not SOAK_PY.is_file():
        pytest.skip("benchmarks/soak.py is not in this checkout")
    spec = importlib.util.spec_from_file_location("pavenet_soak", SOAK_PY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def onnx_package(micro_model):
    return micro_model[1]


def _check_flat(stats: dict) -> None:
    growth = (stats["rss_end_mib"] - stats["rss_start_mib"]) * MIB
    assert stats["slope_bytes_per_step"] < MAX_SLOPE, stats
    assert growth < MAX_GROWTH, stats


@pytest.mark.slow
def test_stream_memory_is_flat(soak, onnx_package):
    est = Estimator(onnx_package, backend="onnx", score_threshold=0.0, smooth=True)
    frames = soak.make_frames(16, 240, 320)
    run = soak.soak_stream(est, frames, n=1000, sample_every=100)
    _check_flat(soak.growth(run["samples"], warmup=200))


@pytest.mark.slow
def test_estimator_and_stream_churn_is_flat(soak, onnx_package):
    frames = soak.make_frames(4, 120, 160)

    def cycle() -> None:
        est = Estimator(onnx_package, backend="onnx", score_threshold=0.0)
        for stream in (est.stream(), est.stream()):
            for frame in frames:
                stream.push_frame(frame)
            stream.flush()

    run = soak.churn(cycle, cycles=24, sample_every=4)
    # an engine session or a stream that outlived its Estimator would raise the floor by
    # megabytes per cycle; the lowest samples ignore transient allocator peaks
    rss = np.array([r for _, r in run["samples"][1:]], dtype=np.float64)
    assert rss[-3:].min() - rss[:3].min() < MAX_GROWTH, run["samples"]


def test_detector_catches_a_small_leak(soak, onnx_package):
    """The same measurement flags a stream that keeps each letterboxed input (48 KB)."""
    est = Estimator(onnx_package, backend="onnx", score_threshold=0.0)
    kept = []
    encode = est.backend.encode

    def leaky_encode(image: np.ndarray) -> np.ndarray:
        kept.append(image.copy())
        return encode(image)

    est.backend.encode = leaky_encode
    run = soak.soak_stream(est, soak.make_frames(4, 240, 320), n=400, sample_every=50)
    stats = soak.growth(run["samples"], warmup=100)
    assert stats["slope_bytes_per_step"] > MAX_SLOPE, stats
    assert len(kept) == 400
