"""Shared pieces of the suite: run modes, interleaved timing, machine facts, JSON output.

Every comparison is timed in one process with the cases interleaved (A B C A B C ...), so a
neighbour process that steals the CPU for a while slows all cases alike; the medians and
their ratio are reported, with the thread count and the 1-minute load average.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
RESULTS = BENCH_DIR / "results"


@dataclass(frozen=True)
class Mode:
    """How much to measure. ``r50_size`` is the stated (h, w) input of the paper-r50 runs."""

    name: str
    repeats: int  # timed rounds per interleaved comparison
    r50_size: tuple[int, int] | None  # None: no paper-r50 runs
    temporal_radii: tuple[int, ...]  # T values of the encoder-cache section
    r50_radii: tuple[int, ...]  # T values for paper-r50 there (the slow model)
    persons: tuple[int, ...]  # crowd-scaling person counts
    crowd_rounds: int  # timed frames per person count
    backend_threads: tuple[int, ...]
    backends_r50: bool  # also time every backend on paper-r50 (1 thread only: see backends.py)
    memory_frames: int  # frames pushed per stream in the memory cases
    bandwidth_mb: int  # array size of the copy-bandwidth measurement
    micro: bool = False  # smoke: a shrunk model instead of the presets
    formats: tuple[str, ...] | None = None  # export only these (None: every installed engine)
    frame_size: tuple[int, int] = (640, 480)  # synthetic camera frames (w, h)


MODES = {
    "smoke": Mode(
        "smoke", repeats=2, r50_size=None, temporal_radii=(1,), r50_radii=(1,), persons=(1, 3),
        crowd_rounds=2, backend_threads=(1,), backends_r50=False, memory_frames=3,
        bandwidth_mb=16, micro=True, frame_size=(160, 120), formats=("torch", "torchscript"),
    ),
    "quick": Mode(
        "quick", repeats=5, r50_size=(256, 448), temporal_radii=(1, 2), r50_radii=(1,),
        persons=(1, 3, 5, 10, 20), crowd_rounds=12, backend_threads=(1, 2), backends_r50=False,
        memory_frames=10, bandwidth_mb=256,
    ),
    "full": Mode(
        "full", repeats=5, r50_size=(384, 640), temporal_radii=(1, 2), r50_radii=(1, 2),
        persons=(1, 3, 5, 10, 20), crowd_rounds=40, backend_threads=(1, 2), backends_r50=True,
        memory_frames=20, bandwidth_mb=512,
    ),
}  # fmt: skip


@dataclass
class Case:
    """One timed callable; ``warmup`` untimed calls first (e.g. to fill a stream's window)."""

    name: str
    fn: Callable[[], object]
    warmup: int = 1
    times_ms: list[float] = field(default_factory=list)


def summarize(times_ms: list[float]) -> dict[str, float]:
    """Median, min, p90 and mean (ms) of a list of timings."""
    ordered = sorted(times_ms)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    return {
        "median_ms": round(statistics.median(ordered), 3),
        "min_ms": round(ordered[0], 3),
        "p90_ms": round(p90, 3),
        "mean_ms": round(statistics.fmean(ordered), 3),
        "n": len(ordered),
    }


def interleave(cases: list[Case], repeats: int) -> dict[str, dict[str, float]]:
    """Time ``cases`` round-robin for ``repeats`` rounds; returns name -> summary.

    Warm-up calls are interleaved too (round r warms every case still needing it).
    """
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    for r in range(max((c.warmup for c in cases), default=0)):
        for case in cases:
            if r < case.warmup:
                case.fn()
    for _ in range(repeats):
        for case in cases:
            t0 = time.perf_counter()
            case.fn()
            case.times_ms.append((time.perf_counter() - t0) * 1e3)
    return {c.name: {**summarize(c.times_ms), "times_ms": [round(t, 3) for t in c.times_ms]}
            for c in cases}  # fmt: skip


def ratio(stats: dict[str, dict], num: str, den: str) -> float:
    """median(num) / median(den), rounded."""
    return round(stats[num]["median_ms"] / stats[den]["median_ms"], 3)


def set_threads(n: int) -> None:
    """Intra-op threads of torch (if loaded) and of the native core: both are process-global."""
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(n)
    from pavenet_sdk import native

    native.set_num_threads(n)


def load1() -> float:
    """1-minute load average."""
    return round(os.getloadavg()[0], 2)


def cpu_facts() -> dict:
    """CPU model, family/model ids, logical CPUs, nominal clock and SIMD flags."""
    facts: dict = {
        "model": platform.processor() or platform.machine(),
        "logical_cpus": os.cpu_count(),
    }
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return facts
    first: dict[str, str] = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        first.setdefault(key.strip(), value.strip())
    wanted = ("avx2", "fma", "avx512f", "avx512_bf16", "amx_bf16", "avx_vnni")
    facts.update(
        model=first.get("model name", facts["model"]),
        family=int(first.get("cpu family", "0") or 0),
        model_id=int(first.get("model", "0") or 0),
        mhz=float(first.get("cpu MHz", "0") or 0),
        flags=[f for f in wanted if f in first.get("flags", "").split()],
    )
    return facts


def git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True, text=True, timeout=10, check=True,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def environment(mode: Mode, threads: int) -> dict:
    """Everything needed to read an absolute number: machine, versions, threads, load."""
    versions = {}
    for name in ("numpy", "torch", "onnxruntime", "openvino"):
        module = sys.modules.get(name)
        versions[name] = getattr(module, "__version__", None) if module else None
    from pavenet_sdk import native

    return {
        "cpu": cpu_facts(),
        "python": platform.python_version(),
        "versions": versions,
        "native": native.build_info(),
        "threads": threads,
        "env_threads": {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")},
        "mode": asdict(mode),
        "git_commit": git_commit(),
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
    }


def write_json(out_dir: Path, name: str, payload: dict) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2) + "\n")
    return path


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')} load {load1():.1f}] {msg}", flush=True)
