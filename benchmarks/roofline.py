"""Section 6: distance to the machine's limits.

FLOPs per frame = encode_frame (one frame) + decode_window (one window), counted with
``torch.utils.flop_counter.FlopCounterMode`` (convolutions and matrix products) plus the
deformable sampling, which that counter cannot see (custom op), counted analytically as
5 FMA = 10 FLOP per sampled point and channel (4 bilinear corners + the attention weight).
Norms, softmax and activations are not counted (a few % at most).

Peak FP32 = cores x clock x FP32 lanes per vector x FMA pipes x 2 (an FMA is 2 FLOP).
Memory bandwidth: a numpy copy of a large array (bytes read + bytes written per second).
The fused op's traffic and bandwidth use the kernel benchmark's paper-layer inputs.
"""

from __future__ import annotations

import time

import numpy as np

from . import models
from .bench_ms_deform_attn import make_layer, traffic
from .common import Case, Mode, cpu_facts, environment, interleave, load1, log, summarize
from .fused_kernel import record_calls

FLOP_PER_SAMPLE_CHANNEL = 10
FMA_PIPES = 2  # AMD Zen 2-4 and recent Intel cores: two FMA pipes per core


def peak_gflops() -> dict:
    """Peak FP32 GFLOP/s of all logical CPUs, with each factor of the product."""
    cpu = cpu_facts()
    lanes = 16 if "avx512f" in cpu.get("flags", []) else 8 if "avx2" in cpu.get("flags", []) else 4
    cores = cpu["logical_cpus"]
    ghz = cpu.get("mhz", 0.0) / 1e3
    per_core = ghz * lanes * FMA_PIPES * 2
    return {
        "cores": cores,
        "clock_ghz": round(ghz, 3),
        "fp32_lanes": lanes,
        "fma_pipes": FMA_PIPES,
        "flop_per_fma": 2,
        "per_core_gflops": round(per_core, 1),
        "peak_gflops": round(per_core * cores, 1),
        "derivation": f"{cores} cores x {ghz:.3f} GHz x {lanes} lanes x {FMA_PIPES} FMA x 2 "
        f"= {per_core * cores:.1f} GFLOP/s ({per_core:.1f} per core)",
        "clock_source": "/proc/cpuinfo 'cpu MHz' (nominal; boost clocks would raise the peak)",
    }


def copy_bandwidth(mb: int, repeats: int) -> dict:
    """GB/s of ``np.copyto`` on ``mb`` MiB arrays; read + write bytes counted."""
    src = np.ones(mb * 2**20 // 4, dtype=np.float32)
    dst = np.empty_like(src)
    np.copyto(dst, src)  # fault the pages in
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        np.copyto(dst, src)
        times.append((time.perf_counter() - t0) * 1e3)
    s = summarize(times)
    moved = 2 * src.nbytes
    return {
        "array_mib": mb,
        "bytes_moved": moved,
        "best_gb_per_s": round(moved / s["min_ms"] / 1e6, 1),
        "median_gb_per_s": round(moved / s["median_ms"] / 1e6, 1),
    }


def count_flops(model, cfg) -> dict:
    """FLOPs of encode_frame + decode_window: counted matmul/conv + analytic sampling."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    torch.manual_seed(1)
    image = torch.randn(1, 3, *cfg.input_size)
    model.requires_grad_(False)  # the counter's module tracker hooks tensors needing grad
    parts = {}
    # no_grad, not inference_mode: the counter's module tracker breaks on inference tensors
    with torch.no_grad(), record_calls(model) as calls:
        counter = FlopCounterMode(display=False)
        with counter:
            memory = model.encode_frame(image)
        parts["encode_counted"] = counter.get_total_flops()
        n_enc = len(calls)
        memories = torch.cat([memory] * cfg.num_frames)[None]
        counter = FlopCounterMode(display=False)
        with counter:
            model.decode_window(memories)
        parts["decode_counted"] = counter.get_total_flops()
    for part, sel in (("encode", calls[:n_enc]), ("decode", calls[n_enc:])):
        total = 0
        for c in sel:
            value, _, _, loc, _ = c["op_args"]
            samples = loc.shape[0] * loc.shape[1] * loc.shape[2] * loc.shape[3] * loc.shape[4]
            total += samples * value.shape[3] * FLOP_PER_SAMPLE_CHANNEL
        parts[f"{part}_sampling"] = int(total)
    parts["total"] = int(sum(parts.values()))
    return parts


def measure(name: str, cfg, mode: Mode, peak: dict) -> dict:
    import torch

    from pavenet_sdk.runtime.estimator import Estimator

    model = models.build(cfg)
    model.set_fused_attention(True)
    flops = count_flops(model, cfg)
    pkg = models.package(model, models.formats(mode, models.STREAMING), name)
    best = Estimator(pkg, backend="auto", score_threshold=0.0)
    image = torch.randn(1, 3, *cfg.input_size)
    memories = torch.cat([model.encode_frame(image).detach()] * cfg.num_frames)[None]

    def eager():
        with torch.inference_mode():
            model.encode_frame(image)
            model.decode_window(memories)

    img = image.numpy()
    window = memories[0].numpy()

    def engine():
        best.backend.encode(img)
        best.backend.decode(window)

    stats = interleave([Case("torch_eager", eager), Case("best_engine", engine)], mode.repeats)
    gflop = flops["total"] / 1e9
    achieved = {
        k: {
            "ms_per_frame": v["median_ms"],
            "gflop_per_s": round(gflop / (v["median_ms"] / 1e3), 2),
            "fraction_of_one_core_peak": round(
                gflop / (v["median_ms"] / 1e3) / peak["per_core_gflops"], 3
            ),
        }
        for k, v in stats.items()
    }
    log(f"roofline {name}: {gflop:.2f} GFLOP/frame, " + ", ".join(
        f"{k} {v['gflop_per_s']} GFLOP/s" for k, v in achieved.items()))  # fmt: skip
    return {
        "model": name,
        "input_size": list(cfg.input_size),
        "T": cfg.T,
        "flops_per_frame": flops,
        "gflop_per_frame": round(gflop, 3),
        "best_engine": f"{best.backend_name} ({best.backend.precision})",
        "achieved_1_thread": achieved,
        "stats": stats,
    }


def fused_op_bandwidth(size: tuple[int, int], repeats: int, bw: dict) -> dict:
    """Time the native op on the kernel benchmark's paper-layer inputs at ``size``."""
    from pavenet_sdk import native

    arrays = make_layer(size, "local")
    stats = interleave([Case("fused", lambda: native.ms_deform_attn(*arrays))], repeats)["fused"]
    moved = traffic(arrays[0], arrays[3], arrays[4])
    ms = stats["median_ms"]
    out = {
        "input_size": list(size),
        "tokens": int(arrays[0].shape[1]),
        "shape": "paper encoder layer: H 8, Dh 32, L 4, P 4, Q = tokens, local offsets",
        "fused_ms": ms,
        **moved,
        "compulsory_gb_per_s": round(moved["compulsory_bytes"] / ms / 1e6, 1),
        "corner_gb_per_s": round(moved["corner_bytes"] / ms / 1e6, 1),
    }
    out["compulsory_fraction_of_copy_bw"] = round(
        out["compulsory_gb_per_s"] / bw["best_gb_per_s"], 3
    )
    out["corner_fraction_of_copy_bw"] = round(out["corner_gb_per_s"] / bw["best_gb_per_s"], 3)
    return out


def run(mode: Mode) -> dict:
    before = load1()
    peak = peak_gflops()
    bw = copy_bandwidth(mode.bandwidth_mb, max(3, mode.repeats))
    log(f"roofline: peak {peak['derivation']}; copy bandwidth {bw['best_gb_per_s']} GB/s")
    configs = models.configs(mode)
    rows = [measure(name, cfg, mode, peak) for name, cfg in configs.items()]
    op_sizes = [configs[n].input_size for n in configs]
    ops = [fused_op_bandwidth(tuple(s), max(3, mode.repeats), bw) for s in op_sizes]
    return {
        "section": "roofline",
        "environment": environment(mode, threads=1),
        "method": {
            "flops": "FlopCounterMode (conv, mm, bmm, addmm, sdpa) on encode_frame + "
            "decode_window, plus deformable sampling counted as "
            f"{FLOP_PER_SAMPLE_CHANNEL} FLOP per sampled point and channel; norms, softmax, "
            "activations not counted",
            "bandwidth": "numpy copyto of a large float32 array, (read + write) bytes / time",
            "op_traffic": "compulsory = value + locations + weights + output once; corner = "
            "4 bilinear corners x Dh x 4 bytes per sample, no reuse (upper bound)",
        },
        "peak": peak,
        "copy_bandwidth": bw,
        "models": rows,
        "fused_op": ops,
        "load1_before": before,
        "load1_after": load1(),
    }
