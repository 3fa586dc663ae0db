"""``summary.md`` (markdown tables) and PNG plots from every section JSON in a folder."""

from __future__ import annotations

import json
from pathlib import Path


def _md(headers: list[str], rows: list[list]) -> list[str]:
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return out + [""]


def _ms(stats: dict) -> str:
    """Median ms with 3 significant digits (ops take 0.1 ms, models seconds)."""
    v = stats["median_ms"]
    return f"{v:.3f}" if v < 1 else f"{v:.2f}" if v < 10 else f"{v:.1f}" if v < 1000 else f"{v:.0f}"


def _source(name: str, data: dict) -> list[str]:
    env = data["environment"]
    cpu = env["cpu"]
    return [
        f"Source: `{name}.json`, made by `{env['command']}` (mode {env['mode']['name']}), "
        f"{cpu['model']} ({cpu['logical_cpus']} vCPU, {', '.join(cpu.get('flags', []))}), "
        f"{env['threads']} thread, commit {env['git_commit']}.",
        "",
    ]


def _targets(data: dict) -> list[str]:
    rows = [[t["what"], t["target"], t["measured"], "yes" if t["met"] else "**no**"]
            for t in data.get("targets", [])]  # fmt: skip
    return _md(["target", "wanted", "measured", "met"], rows) if rows else []


def encoder_cache(d: dict) -> list[str]:
    rows = []
    for r in d["runs"]:
        s, q = r["stats"], r["ratios"]
        rows.append([
            r["model"], f"{r['input_size'][0]}x{r['input_size'][1]}", r["T"],
            _ms(s["ours_torch"]), f"{_ms(s['ours_best'])} ({r['best_backend']})",
            _ms(s.get("ours_in_memory", s.get("cached_model"))), _ms(s["recompute"]), _ms(s["ste"]),
            q["recompute_over_ours_torch"], q["recompute_over_ours_best"],
            q["ste_over_ours_torch"], f"{r['load1_before']}/{r['load1_after']}",
        ])  # fmt: skip
    head = ["model", "input", "T", "(a) ours torch", "(a) ours best", "ours in-memory",
            "(b) recompute", "(c) STE", "b/a torch", "b/a best", "c/a torch",
            "load 1m"]  # fmt: skip
    return ["## 1. Encoder cache (ms per new frame)", ""] + _md(head, rows) + _targets(d)


def crowd_scaling(d: dict) -> list[str]:
    m = d["model"]
    rows = [[r["persons"], _ms(r["ours"]), r["people_reported_mean"],
             r.get("postprocess_track_ms", "-"),
             _ms(r["recompute"]) if "recompute" in r else "-", r["two_stage_reference_ms"]]
            for r in d["rows"]]  # fmt: skip
    head = ["people", "ours (ms)", "people reported", "post-process + track for n (ms)",
            "recompute (ms)", "two-stage ref. (ms)"]  # fmt: skip
    return (
        ["## 2. Crowd scaling (ms per frame)", "",
         f"tiny model ({m['weights']} weights), {m['backend']}, frames {m['frame_size_wh']}; "
         f"{d['two_stage_reference']}. Plot: `crowd_scaling.png`.", ""]
        + _md(head, rows) + _targets(d)
    )  # fmt: skip


def _kernel(s: dict, label: str) -> str:
    key = f"{label}/kernel_numpy"
    return f"{_ms(s[key])}" if key in s else "-"


def fused_kernel(d: dict) -> list[str]:
    rows = []
    for r in d["runs"]:
        s = r["stats"]
        for label in r["shapes"]:
            x = r["speedups"][label]
            rows.append([
                r["model"], label, _ms(s[f"{label}/op_fused"]), _ms(s[f"{label}/op_grid_sample"]),
                x["op"], _kernel(s, label), _ms(s[f"{label}/module_fused"]),
                _ms(s[f"{label}/module_grid_sample"]), x["module"],
            ])  # fmt: skip
        rows.append(
            [
                r["model"],
                "whole model (encode + decode)",
                "-",
                "-",
                "-",
                "-",
                _ms(s["model/fused"]),
                _ms(s["model/grid_sample"]),
                r["speedups"]["model"],
            ]
        )
    head = ["model", "attention", "op fused", "op grid_sample", "op x", "C++ kernel alone",
            "module fused", "module grid_sample", "module x"]  # fmt: skip
    return ["## 3. Fused deformable attention (ms per call)", ""] + _md(head, rows) + _targets(d)


def backends(d: dict) -> list[str]:
    out = ["## 4. Backends (push_frame steady state)", ""]
    for run in d["runs"]:
        rows = [
            [
                r["engine"],
                r["precision"],
                r["threads"],
                f"{r['median_ms']:.1f}",
                r["throughput_fps"],
                r["speedup_vs_torch_eager"],
            ]
            for r in run["rows"]
        ]
        out += [f"{run['model']} {run['input_size'][0]}x{run['input_size'][1]}, T={run['T']}:", ""]
        out += _md(["engine", "precision", "threads", "ms/frame", "frames/s", "x torch eager"],
                   rows)  # fmt: skip
        best = [f"{t} thread(s): {b['engine']} (x{b['speedup_vs_torch_eager']} vs torch eager)"
                for t, b in run["best"].items()]  # fmt: skip
        out += ["Best: " + "; ".join(best)]
        out += [f"Skipped: {s['engine']}: {s['reason']}" for s in run["skipped"]] + [""]
    return out


def memory(d: dict) -> list[str]:
    rows = [[r["model"], r["backend"], r["streams"], r["peak_mib"], r["model_load_mib"],
             r["streaming_mib"], f"{r['cache_bytes_per_frame'] / 1024:.0f}",
             f"{r['cache_bytes_per_stream'] / 1024:.0f}"] for r in d["rows"]]  # fmt: skip
    head = ["model", "backend", "streams", "peak RSS MiB", "model load MiB", "streaming MiB",
            "cache KiB/frame", "cache KiB/stream"]  # fmt: skip
    return ["## 5. Memory", "", d["cache_formula"] + ".", ""] + _md(head, rows)


def roofline(d: dict) -> list[str]:
    p, bw = d["peak"], d["copy_bandwidth"]
    out = ["## 6. Distance to the limit", "", f"Peak FP32: {p['derivation']}. "
           f"Copy bandwidth: {bw['best_gb_per_s']} GB/s (best), {bw['median_gb_per_s']} (median).",
           "", f"FLOPs: {d['method']['flops']}.", ""]  # fmt: skip
    rows = []
    for m in d["models"]:
        f = m["flops_per_frame"]
        for eng, a in m["achieved_1_thread"].items():
            rows.append([m["model"], f"{m['input_size'][0]}x{m['input_size'][1]}",
                         f"{f['total'] / 1e9:.2f}",
                         f"{(f['encode_sampling'] + f['decode_sampling']) / 1e9:.3f}",
                         eng if eng != "best_engine" else m["best_engine"], a["ms_per_frame"],
                         a["gflop_per_s"], a["fraction_of_one_core_peak"]])  # fmt: skip
    out += _md(["model", "input", "GFLOP/frame", "of which sampling", "engine", "ms/frame",
                "GFLOP/s", "of 1-core peak"], rows)  # fmt: skip
    rows = [[f"{o['input_size'][0]}x{o['input_size'][1]}", o["tokens"], o["fused_ms"],
             f"{o['compulsory_bytes'] / 1e6:.1f}", o["compulsory_gb_per_s"],
             f"{o['corner_bytes'] / 1e6:.1f}", o["corner_gb_per_s"],
             o["corner_fraction_of_copy_bw"]] for o in d["fused_op"]]  # fmt: skip
    out += ["Fused op (" + d["fused_op"][0]["shape"] + "):", ""] if d["fused_op"] else []
    out += _md(["input", "tokens", "ms", "compulsory MB", "GB/s", "corner MB", "GB/s",
                "corner / copy bw"], rows)  # fmt: skip
    return out


RENDER = {"encoder_cache": encoder_cache, "crowd_scaling": crowd_scaling,
          "fused_kernel": fused_kernel, "backends": backends, "memory": memory,
          "roofline": roofline}  # fmt: skip


def plot_crowd(d: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = [r["persons"] for r in d["rows"]]
    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=120)
    ours = [r["ours"]["median_ms"] for r in d["rows"]]
    err = [[o - r["ours"]["min_ms"] for o, r in zip(ours, d["rows"], strict=True)],
           [r["ours"]["p90_ms"] - o for o, r in zip(ours, d["rows"], strict=True)]]  # fmt: skip
    ax.errorbar(n, ours, yerr=err, marker="o", capsize=3,
                label=f"PAVE-Net SDK, encoder cache ({d['model']['backend']})")  # fmt: skip
    if all("recompute" in r for r in d["rows"]):
        ax.plot(n, [r["recompute"]["median_ms"] for r in d["rows"]], marker="s",
                label="same model, window recomputed per frame (torch)")  # fmt: skip
    ax.plot(
        n,
        [r["two_stage_reference_ms"] for r in d["rows"]],
        "k--",
        label="two-stage reference, measured separately: MediaPipe 12 + 19 n ms",
    )
    ax.set_xlabel("people in the frame")
    ax.set_ylabel("latency per frame (ms, median; bars min-p90)")
    ax.set_title(f"tiny model {d['model']['input_size'][0]}x{d['model']['input_size'][1]}, "
                 f"1 thread, {d['environment']['cpu']['model']}, shared cores "
                 f"(1-min load {d['load1_before']})", fontsize=9)  # fmt: skip
    ax.set_xticks(n)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_backends(d: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = d["runs"]
    fig, axes = plt.subplots(1, len(runs), figsize=(5.5 * len(runs), 3.8), dpi=120, squeeze=False)
    for ax, run in zip(axes[0], runs, strict=True):
        threads = sorted({r["threads"] for r in run["rows"]})
        engines = list(dict.fromkeys(r["engine"] for r in run["rows"]))
        width = 0.8 / len(threads)
        for i, t in enumerate(threads):
            vals = [
                next(
                    (r["median_ms"] for r in run["rows"] if r["engine"] == e and r["threads"] == t),
                    0,
                )
                for e in engines
            ]
            ax.bar(
                [j + i * width for j in range(len(engines))], vals, width, label=f"{t} thread(s)"
            )
        ax.set_xticks([j + width * (len(threads) - 1) / 2 for j in range(len(engines))])
        ax.set_xticklabels(engines, rotation=20, fontsize=8)
        ax.set_ylabel("ms per frame (median)")
        ax.set_title(f"{run['model']} {run['input_size'][0]}x{run['input_size'][1]}", fontsize=9)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def write_report(folder: Path) -> list[Path]:
    """Rebuild ``summary.md`` and the plots from the JSONs present; returns written paths."""
    data = {}
    for name in RENDER:
        path = folder / f"{name}.json"
        if path.is_file():
            data[name] = json.loads(path.read_text())
    lines = ["# pavenet-sdk performance summary", "",
             "Absolute times belong to the machine named under each table; ratios come from "
             "cases timed interleaved in one process. Regenerate: "
             "`PYTHONPATH=python python benchmarks/run.py` (`--quick`, `--only NAME`).",
             ""]  # fmt: skip
    written = []
    for name, d in data.items():
        lines += RENDER[name](d) + _source(name, d)
    summary = folder / "summary.md"
    summary.write_text("\n".join(lines))
    written.append(summary)
    if "crowd_scaling" in data:
        plot_crowd(data["crowd_scaling"], folder / "crowd_scaling.png")
        written.append(folder / "crowd_scaling.png")
    if "backends" in data:
        plot_backends(data["backends"], folder / "backends.png")
        written.append(folder / "backends.png")
    return written
