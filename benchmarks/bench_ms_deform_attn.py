"""Speed of the native deformable-attention kernel against the grid_sample reference.

One paper-configuration encoder layer (8 heads, Dh 32, 4 levels at strides 8/16/32/64,
4 points, Q = all tokens) at each input size. Sampling locations are the queries' own token
centres plus N(0, 2 px) offsets per level, like a trained encoder (``--locations uniform``
spreads them over the whole map: the cache-hostile worst case). Both ops run in the same
process, interleaved, on the same thread count; each timing sample lasts >= 50 ms (fast ops
are looped) and the median of the repeats is reported.

    PYTHONPATH=python python benchmarks/bench_ms_deform_attn.py --size 192x192 --size 1333x800

Sizes on the command line are WIDTHxHEIGHT (0.1 took HxW); the results' ``input_size`` is
[height, width], the model config's order.

Writes ``benchmarks/results/ms_deform_attn.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np

from pavenet_sdk.commands.options import parse_size

HEADS, HEAD_DIM, POINTS, STRIDES = 8, 32, 4, (8, 16, 32, 64)
RESULTS = Path(__file__).resolve().parent / "results" / "ms_deform_attn.json"


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def make_layer(size: tuple[int, int], locations: str, seed: int = 0):
    """numpy inputs of one encoder layer's sampling step at input size (H, W)."""
    rng = np.random.default_rng(seed)
    shapes = np.array([(math.ceil(size[0] / s), math.ceil(size[1] / s)) for s in STRIDES])
    sizes = shapes[:, 0] * shapes[:, 1]
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    tokens, levels = int(sizes.sum()), len(shapes)
    value = rng.standard_normal((1, tokens, HEADS, HEAD_DIM), dtype=np.float32)
    loc_shape = (1, tokens, HEADS, levels, POINTS, 2)
    if locations == "uniform":
        loc = rng.uniform(0, 1, loc_shape).astype(np.float32)
    else:  # reference = the query token's centre, offsets of ~2 px on every level
        ref = []
        for h, w in shapes:
            ys, xs = np.meshgrid((np.arange(h) + 0.5) / h, (np.arange(w) + 0.5) / w, indexing="ij")
            ref.append(np.stack([xs.ravel(), ys.ravel()], -1))
        ref = np.concatenate(ref)[None, :, None, None, None, :]
        px = rng.normal(0, 2, loc_shape) / shapes[None, None, None, :, None, ::-1]
        loc = (ref + px).astype(np.float32)
    attn = rng.random((1, tokens, HEADS, levels, POINTS), dtype=np.float32)
    attn /= attn.sum(axis=(-1, -2), keepdims=True)
    return value, shapes.astype(np.int64), starts, loc, attn


def traffic(value, loc, attn) -> dict[str, float]:
    """Bytes: every array once (compulsory) and every bilinear corner row read (no reuse)."""
    out_bytes = value.shape[0] * loc.shape[1] * HEADS * HEAD_DIM * 4
    compulsory = value.nbytes + loc.nbytes + attn.nbytes + out_bytes
    corners = attn.size * 4 * HEAD_DIM * 4
    return {"compulsory_bytes": compulsory, "corner_bytes": corners}


def bench(size, threads, repeats, locations, native, torch, reference) -> dict:
    arrays = make_layer(size, locations)
    tensors = [torch.from_numpy(a) for a in arrays]
    native.set_num_threads(threads)
    torch.set_num_threads(threads)
    fused = native.ms_deform_attn(*arrays)  # warm-up + correctness
    with torch.no_grad():
        ref = reference(*tensors).numpy()
    err = float(np.abs(fused - ref).max())

    def fused_run():
        native.ms_deform_attn(*arrays)

    def ref_run():
        with torch.no_grad():
            reference(*tensors)

    # Each timing sample repeats a fast op until it lasts ~50 ms, so one scheduler time slice
    # on a shared machine does not dominate a millisecond measurement.
    def loops(fn) -> int:
        t0 = time.perf_counter()
        fn()
        return max(1, math.ceil(0.05 / max(time.perf_counter() - t0, 1e-6)))

    n_fused, n_ref = loops(fused_run), loops(ref_run)
    t_fused, t_ref = [], []
    for _ in range(repeats):  # interleaved so machine load hits both alike
        for fn, n, out in ((fused_run, n_fused, t_fused), (ref_run, n_ref, t_ref)):
            t0 = time.perf_counter()
            for _ in range(n):
                fn()
            out.append((time.perf_counter() - t0) / n)
    fused_ms = 1e3 * statistics.median(t_fused)
    ref_ms = 1e3 * statistics.median(t_ref)
    bytes_moved = traffic(*[arrays[i] for i in (0, 3, 4)])
    return {
        "input_size": list(size),
        "tokens": int(arrays[0].shape[1]),
        "levels": arrays[1].tolist(),
        "locations": locations,
        "threads": threads,
        "isa": native.build_info()["isa"],
        "fused_ms": round(fused_ms, 3),
        "fused_min_ms": round(1e3 * min(t_fused), 3),
        "grid_sample_ms": round(ref_ms, 3),
        "speedup": round(ref_ms / fused_ms, 1),
        "max_abs_err": err,
        **bytes_moved,
        "corner_gb_per_s": round(bytes_moved["corner_bytes"] / fused_ms / 1e6, 1),
        "compulsory_gb_per_s": round(bytes_moved["compulsory_bytes"] / fused_ms / 1e6, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--size",
        type=parse_size,
        action="append",
        metavar="WxH",
        help="input width x height (repeatable; default 192x192 and 1333x800)",
    )
    parser.add_argument(
        "--threads", type=int, action="append", help="thread counts (repeatable; default 1 and 2)"
    )
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--locations", choices=("local", "uniform"), default="local")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    import torch

    from pavenet_sdk import native
    from pavenet_sdk.model.msda import ms_deform_attn_reference

    rows = []
    sizes = [(h, w) for w, h in args.size] if args.size else [(192, 192), (800, 1333)]
    for size in sizes:  # (height, width), as make_layer takes it
        for threads in args.threads or [1, 2]:
            row = bench(
                size, threads, args.repeats, args.locations, native, torch, ms_deform_attn_reference
            )
            rows.append(row)
            print(
                f"{size[1]}x{size[0]} ({row['tokens']} tokens) threads={threads} "
                f"{row['isa']}: fused {row['fused_ms']:.2f} ms, grid_sample "
                f"{row['grid_sample_ms']:.1f} ms, x{row['speedup']}, corner reads "
                f"{row['corner_gb_per_s']} GB/s, max err {row['max_abs_err']:.1e}",
                flush=True,
            )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "benchmark": "ms_deform_attn, paper encoder layer (H 8, Dh 32, L 4, P 4, Q = tokens)",
        "machine": {
            "load_average_1min": round(os.getloadavg()[0], 2),
            "cpu": cpu_name(),
            "python": platform.python_version(),
            "torch": torch.__version__,
        },
        "build": native.build_info(),
        "results": rows,
    }
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
