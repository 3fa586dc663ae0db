"""Soak test: does resident memory stay flat over a long stream and over create/destroy churn?

Three phases, each sampling this process's resident set size (VmRSS from /proc/self/status):
1. ``--frames`` frames (default 20,000) through one stream of one Estimator (tracking and
   One-Euro smoothing on, score threshold 0 so every query goes through post-processing),
   RSS every ``--sample-every`` frames; growth is measured after ``--warmup`` frames.
2. ``--cycles`` streams created, fed a few frames, flushed and dropped on one Estimator.
3. ``--cycles`` Estimators (model load + engine sessions) created, used and dropped.

Without ``--model`` a random-weight micro model (64x64 input) is exported to a temporary
folder in a child process (needs torch there), so this process never imports torch.

    OMP_NUM_THREADS=1 PYTHONPATH=python python benchmarks/soak.py --frames 20000

Writes ``benchmarks/results/soak.json``; exits 1 when a phase's RSS floor grows more than
``--target-pct`` (default 2 %) after warm-up.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from pavenet_sdk.commands.options import parse_size

RESULTS = Path(__file__).resolve().parent / "results" / "soak.json"
MIB = 1024 * 1024


def rss_bytes() -> int:
    """Resident set size of this process, bytes (Linux /proc; psutil is not needed)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024  # reported in kB
    raise RuntimeError("VmRSS not found in /proc/self/status (Linux only)")


def export_micro_package(out_dir: str) -> str:
    """Export a random-weight micro PAVE-Net (64x64 input, T = 1) as an ONNX package."""
    import torch

    from pavenet_sdk.export import export_package
    from pavenet_sdk.model import build_model, get_preset

    torch.set_num_threads(1)
    torch.manual_seed(0)
    export_package(build_model(get_preset("micro")).eval(), out_dir, ["onnx"], name="soak-micro")
    return out_dir


def make_frames(count: int, height: int, width: int, seed: int = 0) -> list[np.ndarray]:
    """``count`` distinct uint8 BGR frames: noise plus a bright moving block."""
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(count):
        frame = rng.integers(0, 64, (height, width, 3), dtype=np.uint8)
        x = (i * width) // count
        frame[height // 4 : 3 * height // 4, x : x + width // 8] = 230
        frames.append(frame)
    return frames


def soak_stream(estimator, frames: list[np.ndarray], n: int, sample_every: int) -> dict:
    """Push ``n`` frames (cycling over ``frames``) into one new stream; RSS samples."""
    stream = estimator.stream()
    samples = [(0, rss_bytes())]
    results = 0
    start = time.perf_counter()
    for i in range(1, n + 1):
        results += len(stream.push_frame(frames[i % len(frames)], timestamp=i / 30))
        if i % sample_every == 0:
            samples.append((i, rss_bytes()))
    results += len(stream.flush())
    elapsed = time.perf_counter() - start
    if results != n:
        raise RuntimeError(f"{n} frames pushed but {results} results came back")
    return {"samples": samples, "ms_per_frame": 1e3 * elapsed / n}


def churn(make, cycles: int, sample_every: int) -> dict:
    """Call ``make()`` (build, use and drop an object) ``cycles`` times; RSS samples."""
    samples = [(0, rss_bytes())]
    start = time.perf_counter()
    for i in range(1, cycles + 1):
        make()
        if i % sample_every == 0:
            gc.collect()
            samples.append((i, rss_bytes()))
    return {"samples": samples, "ms_per_cycle": 1e3 * (time.perf_counter() - start) / cycles}


def growth(samples: list[tuple[int, int]], warmup: int) -> dict:
    """RSS growth from the first sample at or after ``warmup`` to the end.

    Returns MiB at both ends, growth in %, the least-squares slope in bytes per step (a steady
    leak of b bytes per frame shows up as a slope of b) and ``floor_growth_pct``: growth of
    the lowest sample of the last third over the lowest of the first third. A leak raises the
    floor; an allocator that keeps or returns an arena from one sample to the next does not.
    """
    kept = [(x, r) for x, r in samples if x >= warmup]
    if len(kept) < 2:
        raise ValueError(f"need two RSS samples after warm-up {warmup}, got {len(kept)}")
    xs = np.array([x for x, _ in kept], dtype=np.float64)
    rs = np.array([r for _, r in kept], dtype=np.float64)
    slope = float(np.polyfit(xs, rs, 1)[0])
    third = max(1, len(rs) // 3)
    first_floor, last_floor = rs[:third].min(), rs[-third:].min()
    return {
        "from_step": int(xs[0]),
        "rss_start_mib": rs[0] / MIB,
        "rss_end_mib": rs[-1] / MIB,
        "rss_max_mib": rs.max() / MIB,
        "growth_pct": 100.0 * (rs[-1] - rs[0]) / rs[0],
        "slope_bytes_per_step": slope,
        "floor_growth_pct": 100.0 * (last_floor - first_floor) / first_floor,
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", help="model package (default: export a micro model)")
    parser.add_argument("--backend", default="onnx")
    parser.add_argument("--frames", type=int, default=20_000)
    parser.add_argument("--sample-every", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=2000, help="frames before growth counts")
    parser.add_argument("--cycles", type=int, default=200, help="stream and Estimator cycles")
    parser.add_argument(
        "--frame-size",
        type=parse_size,
        default=(320, 240),
        metavar="WxH",
        help="width x height of the pushed frames (default 320x240; 0.1 took HxW)",
    )
    parser.add_argument("--target-pct", type=float, default=2.0, help="allowed RSS growth, %%")
    parser.add_argument("--out", type=Path, default=RESULTS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.frames < 2 * args.sample_every or args.warmup >= args.frames:
        raise SystemExit("--frames must cover the warm-up and at least two samples")
    width, height = args.frame_size
    tmp = None
    model = args.model
    if model is None:  # export in a child so torch never loads into the measured process
        tmp = tempfile.TemporaryDirectory(prefix="pavenet-soak-")
        with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
            model = pool.submit(export_micro_package, tmp.name).result()

    from pavenet_sdk.runtime.estimator import Estimator

    def new_estimator() -> Estimator:
        return Estimator(model, backend=args.backend, score_threshold=0.0, smooth=True)

    frames = make_frames(32, height, width)
    estimator = new_estimator()
    stream_phase = soak_stream(estimator, frames, args.frames, args.sample_every)
    print(f"frames: {args.frames} at {stream_phase['ms_per_frame']:.2f} ms/frame", flush=True)

    def stream_cycle() -> None:
        stream = estimator.stream()
        for i in range(4):
            stream.push_frame(frames[i])
        stream.flush()

    def estimator_cycle() -> None:
        est = new_estimator()
        stream_a, stream_b = est.stream(), est.stream()
        for i in range(3):
            stream_a.push_frame(frames[i])
            stream_b.push_frame(frames[-i])
        stream_a.flush()
        stream_b.flush()

    every = max(1, args.cycles // 10)
    streams = churn(stream_cycle, args.cycles, every)
    estimators = churn(estimator_cycle, args.cycles, every)
    stats = {
        "stream": growth(stream_phase["samples"], args.warmup),
        # the first cycles fill allocator pools: growth counts from the second sample on
        "stream_cycles": growth(streams["samples"], every),
        "estimator_cycles": growth(estimators["samples"], every),
    }
    for phase in (stream_phase, streams, estimators):  # readable JSON: [step, MiB]
        phase["samples"] = [[x, round(r / MIB, 2)] for x, r in phase["samples"]]
    report = {
        "command": "python benchmarks/soak.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        },
        "model": str(args.model or "random-weight micro model (64x64, T=1)"),
        "backend": args.backend,
        "frame_size_wh": [width, height],
        "target_growth_pct": args.target_pct,
        "stream": {"frames": args.frames, "warmup": args.warmup, **stream_phase, **stats["stream"]},
        "stream_cycles": {"cycles": args.cycles, **streams, **stats["stream_cycles"]},
        "estimator_cycles": {"cycles": args.cycles, **estimators, **stats["estimator_cycles"]},
    }
    failed = [
        k
        for k in ("stream", "stream_cycles", "estimator_cycles")
        if report[k]["floor_growth_pct"] > args.target_pct
    ]
    report["passed"] = not failed
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    for key in ("stream", "stream_cycles", "estimator_cycles"):
        r = report[key]
        print(
            f"{key}: RSS {r['rss_start_mib']:.1f} -> {r['rss_end_mib']:.1f} MiB "
            f"({r['growth_pct']:+.2f} %, floor {r['floor_growth_pct']:+.2f} %, "
            f"slope {r['slope_bytes_per_step']:.0f} B/step)"
        )
    print(f"wrote {args.out}: {'PASS' if not failed else 'FAIL ' + ', '.join(failed)}")
    if tmp is not None:
        tmp.cleanup()
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())
