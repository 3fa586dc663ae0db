"""Section 4: every inference engine on the same package, at 1 and 2 threads.

Each (engine, threads) is an Estimator on one package; all are fed the same looping clip,
interleaved frame by frame (one block per thread count). Latency = steady-state
``push_frame`` median; throughput = frames / total time of the timed pushes. torch and the
native core have process-global thread pools, so each call sets them to its case's count
first.

OpenVINO's "default precision" is whatever its CPU plugin picks without a hint: bf16 on
CPUs with native bf16, f32 otherwise (recorded in the JSON).
"""

from __future__ import annotations

from . import models
from .common import Case, Mode, environment, interleave, load1, log, set_threads

ENGINES = (  # label, backend, precision
    ("torch eager", "torch", "f32"),
    ("TorchScript", "torchscript", "f32"),
    ("ONNX Runtime", "onnx", "f32"),
    ("OpenVINO f32", "openvino", "f32"),
    ("OpenVINO default", "openvino", None),
)


def openvino_default_precision() -> str | None:
    """The CPU plugin's own inference precision (no hint), e.g. "bf16" or "f32"."""
    try:
        import openvino as ov
    except ImportError:
        return None
    hint = str(ov.Core().get_property("CPU", "INFERENCE_PRECISION_HINT")).lower()  # "<Type: ...>"
    for name, short in (("bfloat16", "bf16"), ("bf16", "bf16"), ("float16", "f16"), ("f16", "f16")):
        if name in hint:
            return short
    return "f32"


def measure(name: str, cfg, mode: Mode) -> dict:
    from pavenet_sdk.runtime.estimator import Estimator

    model = models.build(cfg)
    installed = models.formats(mode)
    pkg = models.package(model, installed, name)
    ov_default = openvino_default_precision()
    frames = models.clip_frames(3, 8, mode.frame_size)
    cases, skipped, labels = [], [], {}
    for label, backend, precision in ENGINES:
        if backend not in installed:
            skipped.append(
                {
                    "engine": label,
                    "reason": f"{backend}: not installed or not exported in this mode",
                }
            )
            continue
        precision = precision or ov_default or "f32"
        if label == "OpenVINO default" and precision == "f32":
            skipped.append(
                {"engine": label, "reason": "the CPU plugin's default is f32 here (no native "
                 "bf16): identical to OpenVINO f32"}
            )  # fmt: skip
            continue
        # 2 threads on shared cores run torch 10-30x slower than 1 (section note in
        # docs/performance.md); on paper-r50 that is minutes per frame, so it runs 1 thread
        thread_counts = mode.backend_threads if name == "tiny" else (1,)
        for threads in thread_counts:
            est = Estimator(pkg, backend=backend, precision=precision, threads=threads,
                            score_threshold=0.0)  # fmt: skip

            cycle = models.Cycle(frames)

            def push(est=est, threads=threads, cycle=cycle):
                set_threads(threads)
                est.push_frame(cycle())

            key = f"{label} @{threads}t"
            labels[key] = {"engine": label, "backend": backend, "precision": precision,
                           "threads": threads}  # fmt: skip
            cases.append(Case(key, push, warmup=cfg.num_frames + 1))
    before = load1()
    # one interleaved block per thread count, fewest threads first: idle OpenMP workers of a
    # multi-thread case keep spinning for a while and would slow the next case down
    stats = {}
    for threads in sorted({info["threads"] for info in labels.values()}):
        block = [c for c in cases if labels[c.name]["threads"] == threads]
        rounds = max(mode.repeats, 3) * (2 if name == "tiny" else 1)  # big models: fewer
        stats.update(interleave(block, rounds))
    set_threads(1)
    rows = []
    for key, info in labels.items():
        s = stats[key]
        rows.append({**info, **{k: v for k, v in s.items() if k != "times_ms"},
                     "throughput_fps": round(1e3 * s["n"] / sum(s["times_ms"]), 2),
                     "times_ms": s["times_ms"]})  # fmt: skip
    for row in rows:
        ref = next(r for r in rows if r["backend"] == "torch" and r["threads"] == row["threads"])
        row["speedup_vs_torch_eager"] = round(ref["median_ms"] / row["median_ms"], 3)
    best = {}
    for threads in sorted({r["threads"] for r in rows}):
        pool = [r for r in rows if r["threads"] == threads]
        top = min(pool, key=lambda r: r["median_ms"])
        best[str(threads)] = {"engine": top["engine"], "speedup_vs_torch_eager":
                              top["speedup_vs_torch_eager"]}  # fmt: skip
    log(
        f"backends {name}: "
        + ", ".join(f"{r['engine']}@{r['threads']}t {r['median_ms']:.1f} ms" for r in rows)
    )
    return {
        "model": name,
        "T": cfg.T,
        "input_size": list(cfg.input_size),
        "openvino_default_precision": ov_default,
        "skipped": skipped,
        "load1_before": before,
        "load1_after": load1(),
        "rows": rows,
        "best": best,
    }


def run(mode: Mode) -> dict:
    configs = models.configs(mode)
    names = ["tiny"] + (["paper-r50"] if mode.backends_r50 and "paper-r50" in configs else [])
    return {
        "section": "backends",
        "unit": "ms per frame (push_frame steady state, median); throughput in frames/s",
        "environment": environment(mode, threads=1),
        "runs": [measure(n, configs[n], mode) for n in names],
    }
