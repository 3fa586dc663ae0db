"""Section 5: peak resident memory of one stream and of 4 streams sharing one Estimator.

Each case runs in a fresh interpreter (``python -m benchmarks.memory PACKAGE BACKEND
STREAMS FRAMES WxH``) that reads ``VmRSS``/``VmHWM`` from /proc/self/status after the imports,
after loading the model and after pushing the frames. The cache needs N x D x 4 bytes per
frame and (2T + 1) frames per stream (``FrameWindow``), plus one (F, N, D) copy per decoded
window.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pavenet_sdk

from . import models
from .common import REPO, Mode, environment, log


def status_kib() -> dict[str, int]:
    """VmRSS and VmHWM (peak) of this process, KiB."""
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0])
    return out


def worker(package: str, backend: str, streams: int, frames: int, size: tuple[int, int]) -> dict:
    """Runs inside the fresh interpreter; returns the three /proc readings in MiB."""
    import numpy as np

    from pavenet_sdk.runtime.estimator import Estimator

    if backend in ("torch", "torchscript"):
        import torch  # noqa: F401  (imported before the first reading, like the engines)
    readings = {"after_import": status_kib()}
    est = Estimator(package, backend=backend, score_threshold=0.0)
    readings["after_load"] = status_kib()
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8) for _ in range(4)]
    handles = [est.stream() for _ in range(streams)]
    for i in range(frames):
        for s in handles:  # round-robin, as one thread serving several cameras
            s.push_frame(images[i % len(images)])
    readings["after_push"] = status_kib()
    return {k: {m: round(v / 1024, 1) for m, v in r.items()} for k, r in readings.items()}


def _spawn(package: Path, backend: str, streams: int, frames: int, size) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join(
        # benchmarks/ and the very pavenet_sdk this process uses (installed or source tree)
        [str(REPO), str(Path(pavenet_sdk.__file__).resolve().parents[1]), env.get("PYTHONPATH", "")]
    )
    cmd = [sys.executable, "-m", "benchmarks.memory", str(package), backend, str(streams),
           str(frames), f"{size[0]}x{size[1]}"]  # fmt: skip
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900, cwd=REPO)
    if out.returncode != 0:
        raise RuntimeError(f"memory worker failed ({' '.join(cmd)}):\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(mode: Mode) -> dict:
    from pavenet_sdk.runtime.backends import resolve_backend
    from pavenet_sdk.runtime.package import load_package

    rows = []
    for name, cfg in models.configs(mode).items():
        if name == "paper-r50" and mode.name in ("quick", "smoke"):
            continue  # one model is enough for the quick run
        model = models.build(cfg)
        pkg = models.package(model, models.formats(mode, models.STREAMING), name)
        best = resolve_backend("auto", load_package(pkg))
        cache_frame = cfg.num_tokens * cfg.d_model * 4
        # the peak is reached once the window is full; big models need only a few frames
        frames = mode.memory_frames if name == "tiny" else min(mode.memory_frames, 2 * cfg.T + 3)
        for backend in dict.fromkeys((best, "torch")):
            for streams in (1, 4):
                r = _spawn(pkg, backend, streams, frames, mode.frame_size)
                row = {
                    "model": name,
                    "input_size": list(cfg.input_size),
                    "backend": backend,
                    "streams": streams,
                    "frames_per_stream": frames,
                    "readings_mib": r,
                    "peak_mib": r["after_push"]["VmHWM"],
                    "model_load_mib": round(
                        r["after_load"]["VmRSS"] - r["after_import"]["VmRSS"], 1
                    ),
                    "streaming_mib": round(r["after_push"]["VmHWM"] - r["after_load"]["VmRSS"], 1),
                    "cache_bytes_per_frame": cache_frame,
                    "cache_bytes_per_stream": cache_frame * cfg.num_frames,
                }
                rows.append(row)
                log(f"memory {name} {backend} x{streams}: peak {row['peak_mib']} MiB")
    return {
        "section": "memory",
        "unit": "MiB (VmHWM = peak RSS, VmRSS = current), each case in a fresh process",
        "environment": environment(mode, threads=1),
        "cache_formula": "bytes per frame = N x D x 4 (float32); per stream = (2T + 1) frames",
        "rows": rows,
    }


if __name__ == "__main__":
    from pavenet_sdk.commands.options import parse_size

    pkg_arg, backend_arg, streams_arg, frames_arg, size_arg = sys.argv[1:6]
    result = worker(pkg_arg, backend_arg, int(streams_arg), int(frames_arg), parse_size(size_arg))
    print(json.dumps(result))
