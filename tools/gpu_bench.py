"""Speed of the CUDA deformable-attention kernel: a short GPU mode of the kernel benchmark.

The same paper encoder layer as ``benchmarks/bench_ms_deform_attn.py`` (8 heads, Dh 32,
4 levels at strides 8-64, 4 points, Q = all tokens, locally spread sampling locations), timed
four ways in one process, interleaved, median of ``--repeats`` samples (each >= 20 ms):

- ``cpu_fused``: the native CPU kernel on all cores;
- ``cuda_kernel``: ``_core.ms_deform_attn_cuda``, host arrays in and out (copies included);
- ``cuda_op``: ``torch.ops.pavenet.ms_deform_attn`` on CUDA tensors (what a CUDA model calls);
- ``grid_sample_cuda``: the ``grid_sample`` reference on CUDA tensors, for scale.

Without a CUDA build or device the CUDA rows are null (``--require-cuda``: exit 1 instead).

    python tools/gpu_bench.py --out gpu_bench.json
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

BENCHMARK = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_ms_deform_attn.py"
SAMPLE_S = 0.02  # each timing sample repeats a fast call until it lasts this long


def load_layer_benchmark():
    """``benchmarks/bench_ms_deform_attn.py`` as a module (it needs only numpy to import)."""
    spec = importlib.util.spec_from_file_location("bench_ms_deform_attn", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def time_interleaved(fns: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Median ms per call of each function, the functions interleaved sample by sample."""
    loops = {}
    for name, fn in fns.items():
        fn()  # warm-up (first CUDA call, allocations)
        t0 = time.perf_counter()
        fn()
        loops[name] = max(1, math.ceil(SAMPLE_S / max(time.perf_counter() - t0, 1e-6)))
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            for _ in range(loops[name]):
                fn()
            samples[name].append((time.perf_counter() - t0) / loops[name])
    return {name: round(1e3 * statistics.median(s), 3) for name, s in samples.items()}


def cuda_functions(arrays, core, torch) -> tuple[dict[str, Callable[[], object]], np.ndarray]:
    """The timed CUDA calls and the CUDA kernel's output."""
    from pavenet_sdk.model.msda import ms_deform_attn_reference

    tensors = [torch.from_numpy(a).cuda() for a in arrays]

    def synced(fn: Callable[[], object]) -> Callable[[], object]:
        def run() -> object:
            with torch.no_grad():
                out = fn()
            torch.cuda.synchronize()
            return out

        return run

    fns = {
        "cuda_kernel": lambda: core.ms_deform_attn_cuda(*arrays),
        "cuda_op": synced(lambda: torch.ops.pavenet.ms_deform_attn(*tensors)),
        "grid_sample_cuda": synced(lambda: ms_deform_attn_reference(*tensors)),
    }
    return fns, core.ms_deform_attn_cuda(*arrays)


def bench_size(size, repeats, layer, native, core, torch) -> dict:
    arrays = layer.make_layer(size, "local")
    cpu_out = native.ms_deform_attn(*arrays)
    fns: dict[str, Callable[[], object]] = {"cpu_fused": lambda: native.ms_deform_attn(*arrays)}
    row: dict = {"input_size": list(size), "tokens": int(arrays[0].shape[1])}
    if torch is not None:
        cuda_fns, cuda_out = cuda_functions(arrays, core, torch)
        fns.update(cuda_fns)
        row["max_abs_err_cuda_vs_cpu"] = float(np.abs(cuda_out - cpu_out).max())
    times = time_interleaved(fns, repeats)
    for name in ("cpu_fused", "cuda_kernel", "cuda_op", "grid_sample_cuda"):
        row[f"{name}_ms"] = times.get(name)
    return row


def cuda_torch(native, require: bool):
    """torch with a CUDA device and a CUDA build of the native op, else None (or exit)."""
    problems = []
    if not native.has_cuda():
        problems.append("pavenet_sdk._core was built without CUDA (PAVENET_CUDA=ON)")
    try:
        import torch

        import pavenet_sdk.model.msda  # noqa: F401  (registers torch.ops.pavenet)
    except ImportError as exc:
        problems.append(f"torch is not importable: {exc}")
    else:
        if not torch.cuda.is_available():
            problems.append(f"torch {torch.__version__} sees no CUDA device")
    if not problems:
        return torch
    message = "; ".join(problems)
    if require:
        raise SystemExit(f"gpu_bench: {message}")
    print(f"gpu_bench: CUDA rows skipped: {message}", file=sys.stderr)
    return None


def main(argv: list[str] | None = None) -> int:
    layer = load_layer_benchmark()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=layer.parse_size, action="append",
                        help="input WxH (repeatable; default 192x192 and 1333x800)")  # fmt: skip
    parser.add_argument("--repeats", type=int, default=7, help="timing samples per call")
    parser.add_argument("--threads", type=int, default=0, help="CPU kernel threads (0: all)")
    parser.add_argument("--out", type=Path, default=None, help="write the results here (JSON)")
    parser.add_argument(
        "--require-cuda", action="store_true", help="exit 1 without the CUDA kernel and a device"
    )
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")

    from pavenet_sdk import _core, native

    torch = cuda_torch(native, args.require_cuda)
    native.set_num_threads(args.threads)
    rows = []
    sizes = [(h, w) for w, h in args.size] if args.size else [(192, 192), (800, 1333)]
    for size in sizes:
        row = bench_size(size, args.repeats, layer, native, _core, torch)
        rows.append(row)
        timings = ", ".join(
            f"{k[:-3]} {v:.2f} ms" for k, v in row.items() if k.endswith("_ms") and v is not None
        )
        err = row.get("max_abs_err_cuda_vs_cpu")
        print(f"{size[1]}x{size[0]} ({row['tokens']} tokens): {timings}"
              + ("" if err is None else f"; max |cuda - cpu| {err:.1e}"), flush=True)  # fmt: skip
    report = {
        "benchmark": "ms_deform_attn on CUDA, paper encoder layer (H 8, Dh 32, L 4, P 4)",
        "gpu": torch.cuda.get_device_name(0) if torch is not None else None,
        "torch": getattr(torch, "__version__", None),
        "torch_cuda": getattr(getattr(torch, "version", None), "cuda", None),
        "cpu": layer.cpu_name(),
        "cpu_threads": native.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "build": native.build_info(),
        "results": rows,
    }
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
