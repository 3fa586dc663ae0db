"""Section 4: every inference engine on the same package, at 1 and 2 threads.

Each (engine, threads) is an Estimator on one package; all are fed the same looping clip,
interleaved frame by frame. Latency = steady-state ``push_frame`` median; throughput =
frames / total time of the timed pushes. torch and the native core have process-global
thread pools, so each call sets them to its case's count first.

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
    installed = models.installed_formats()
    pkg = models.package(model, installed, (name, cfg.T, "backends"))
    ov_default = openvino_default_precision()
    frames = models.clip_frames(3, 8, mode.frame_size)
    cases, skipped, labels = [], [], {}
    for label, backend, precision in ENGINES:
        if backend not in installed:
            skipped.append({"engine": label, "reason": f"{backend} is not installed"})
            continue
        precision = precision or ov_default or "f32"
        if label == "OpenVINO default" and precision == "f32":
            skipped.append(
                {"engine": label, "reason": "the CPU plugin's default is f32 here (no native "
                 "bf16): identical to OpenVINO f32"}
            )  # fmt: skip
            continue
        for threads in mode.backend_threads:
            est = Estimator(pkg, backend=backend, precision=precision, threads=threads,
                            score_threshold=0.0)  # fmt: skip

            def push(est=est, threads=threads, cycle=models.Cycle(frames)):
                set_threads(threads)
                est.push_frame(cycle())

            key = f"{label} @{threads}t"
            labels[key] = {"engine": label, "backend": backend, "precision": precision,
                           "threads": threads}  # fmt: skip
            cases.append(Case(key, push, warmup=cfg.num_frames + 1))
    before = load1()
    stats = interleave(cases, max(mode.repeats, 3) * 2)
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
    for threads in mode.backend_threads:
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
