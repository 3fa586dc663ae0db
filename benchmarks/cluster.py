"""Throughput of ``pavenet batch`` on Ray against plain ``pavenet run`` on the same clips.

    python benchmarks/cluster.py [--clips 4 --frames 48] [--model pavenet-tiny] [--smoke]

Cases, all on the same synthetic mp4 clips, one after the other in one run:

- ``pavenet run`` once per clip (a fresh process each: start-up, model load, the clip);
- the same work in one process (one ``Estimator``, one thread): the per-frame cost;
- ``run_batch`` on a local Ray instance with 1 and with 2 workers;
- ``run_batch`` on a two-node cluster simulated on this machine (a head and a worker node of
  one CPU each, on 127.0.0.1 only; see ``pavenet_sdk.cluster.local``);
- one clip as long as all the others together, split into chunks over 2 workers.

From these: the engine's overhead per frame and per source, and a projection of N nodes.
Writes ``benchmarks/results/cluster.json`` and ``benchmarks/results/cluster.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_var] = "1"
if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

RESULTS = Path(__file__).resolve().parent / "results"
PROJECTED_NODES = (1, 2, 4, 8, 16, 32, 64)
PROJECTED_CPUS = 16  # CPUs of a projected node


def make_clips(folder: Path, count: int, frames: int, size: tuple[int, int]) -> list[str]:
    """``count`` synthetic mp4 clips of ``frames`` frames (distinct seeds), and one long clip
    of ``count * frames`` frames (last in the list)."""
    import cv2

    from pavenet_sdk.data.synth import generate_clip

    paths = []
    for seed, n in [(i, frames) for i in range(count)] + [(count, count * frames)]:
        path = folder / f"clip{seed:02d}.mp4"
        clip = generate_clip("mixed", seed=seed, num_frames=n, size=size)
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 25.0, size)
        for frame in clip.frames:
            writer.write(frame)
        writer.release()
        paths.append(str(path))
    return paths


def driver_sources(folder: Path, clip: str, count: int) -> list[str]:
    """``count`` names for the same one-frame clip: many sources, almost no work each."""
    import cv2

    capture = cv2.VideoCapture(clip)
    ok, frame = capture.read()
    capture.release()
    if not ok:
        raise RuntimeError(f"cannot read {clip}")
    first = folder / "one-frame.mp4"
    writer = cv2.VideoWriter(str(first), cv2.VideoWriter_fourcc(*"mp4v"), 25.0, frame.shape[1::-1])
    writer.write(frame)
    writer.release()
    paths = []
    for i in range(count):
        path = folder / f"tiny{i:04d}.mp4"
        os.link(first, path)
        paths.append(str(path))
    return paths


def time_cli(clips: list[str], model: str, backend: str, out: Path) -> dict:
    """``pavenet run CLIP --json`` in a fresh process per clip."""
    start = time.perf_counter()
    for clip in clips:
        cmd = [sys.executable, "-m", "pavenet_sdk.cli", "run", clip, "--model", model,
               "--backend", backend, "--json", str(out / f"{Path(clip).stem}.json")]  # fmt: skip
        subprocess.run(cmd, check=True, capture_output=True)
    return {"seconds": time.perf_counter() - start}


def time_in_process(clips: list[str], model: str, backend: str, out: Path) -> dict:
    """One Estimator, every clip streamed and written, in this process."""
    from pavenet_sdk import Estimator
    from pavenet_sdk.cluster.outputs import plan_outputs, write_json
    from pavenet_sdk.runtime.sources import open_source

    start = time.perf_counter()
    est = Estimator(model, backend=backend, threads=1)
    load = time.perf_counter() - start
    infer = write = 0.0
    for clip in clips:
        t0 = time.perf_counter()
        frames, _ = open_source(clip)
        results = list(est.stream().run_frames(frames))
        t1 = time.perf_counter()
        write_json(plan_outputs(out, Path(clip).stem, video=False), results)
        infer, write = infer + t1 - t0, write + time.perf_counter() - t1
    return {"seconds": time.perf_counter() - start, "load_seconds": load,
            "infer_seconds": infer, "write_seconds": write}  # fmt: skip


_WORKER: dict = {}


def _load(model: str, backend: str) -> None:
    from pavenet_sdk import Estimator

    _WORKER["est"] = Estimator(model, backend=backend, threads=1)


def _one_clip(clip: str, out: str) -> int:
    from pavenet_sdk.cluster.outputs import plan_outputs, write_json
    from pavenet_sdk.runtime.sources import open_source

    frames, _ = open_source(clip)
    results = list(_WORKER["est"].stream().run_frames(frames))
    write_json(plan_outputs(Path(out), Path(clip).stem, video=False), results)
    return len(results)


def time_processes(clips: list[str], model: str, backend: str, out: Path, workers: int) -> dict:
    """The same clips on a plain process pool (no Ray): what the machine gives in parallel."""
    from concurrent.futures import ProcessPoolExecutor

    start = time.perf_counter()
    with ProcessPoolExecutor(workers, initializer=_load, initargs=(model, backend)) as pool:
        list(pool.map(time.sleep, [0.0] * workers))  # every worker has loaded its model
        loaded = time.perf_counter()
        list(pool.map(_one_clip, clips, [str(out)] * len(clips)))
        done = time.perf_counter()
    return {"seconds": done - loaded, "startup_seconds": loaded - start, "workers": workers}


def time_batch(clips: list[str], model: str, backend: str, out: Path, **kwargs) -> dict:
    """``run_batch`` on a fresh local instance (``cpus``) or on ``address``."""
    from pavenet_sdk.cluster.batch import run_batch
    from pavenet_sdk.cluster.engine import connect

    cpus = kwargs.pop("cpus", None)
    address = kwargs.pop("address", "local")
    start = time.perf_counter()
    init = {"num_cpus": cpus, "object_store_memory": 128 * 1024**2} if cpus else {}
    with connect(address, **init):
        connected = time.perf_counter() - start
        cpu = time.process_time()
        summary = run_batch(clips, out, model=model, backend=backend, **kwargs)
        driver_cpu = time.process_time() - cpu
    failed = [s.error for s in summary.sources if s.status == "failed"]
    if failed:
        raise RuntimeError(f"the batch failed: {failed}")
    return {"seconds": summary.seconds, "connect_seconds": connected,
            "startup_seconds": summary.startup_seconds, "frames": summary.frames,
            "workers": summary.workers, "nodes": summary.nodes,
            "chunks": sum(s.chunks for s in summary.sources),
            "driver_cpu_seconds": driver_cpu}  # fmt: skip


def time_two_nodes(clips: list[str], model: str, backend: str, out: Path) -> dict:
    from pavenet_sdk.cluster.local import LocalCluster

    start = time.perf_counter()
    with LocalCluster((1, 1)) as cluster:
        up = time.perf_counter() - start
        result = time_batch(clips, model, backend, out, address=cluster.address, workers=2)
    return {**result, "cluster_start_seconds": up}


def analyse(cases: dict, clips: int, frames: int) -> dict:
    """Per-frame and per-source costs, and a projection to N nodes.

    A worker spends ``c`` s per frame (decode + inference: the in-process run) and ``o`` s
    per source beyond that (probe, opening twice, the JSON, the engine's messages: one worker
    on many one-frame sources, minus their frame); the driver spends ``d`` s of CPU per
    source (scheduling, bookkeeping: the same run). N nodes of C workers then give about
    ``min(N * C * F / (F * c + o), F / d)`` frames/s for F-frame sources.
    """
    total = clips * frames
    c = cases["in_process"]["infer_seconds"] / total
    many = cases["driver"]
    o = max(0.0, many["seconds"] / many["sources"] - c)
    d = many["driver_cpu_seconds"] / many["sources"]
    w = cases["in_process"]["write_seconds"] / total
    cli = (cases["pavenet_run"]["seconds"] - total * (c + w)) / clips
    rows = []
    for nodes in PROJECTED_NODES:
        workers = nodes * PROJECTED_CPUS
        work, driver = workers * frames / (frames * c + o), frames / d
        rows.append({"nodes": nodes, "workers": workers,
                     "frames_per_second": round(min(work, driver), 1),
                     "driver_bound": driver < work})  # fmt: skip
    one = cases["ray_1_worker"]["seconds"]
    return {
        "frame_ms": round(1e3 * c, 2),
        "json_ms_per_frame": round(1e3 * w, 3),
        "pavenet_run_per_source_s": round(cli, 2),
        "source_overhead_ms": round(1e3 * o, 1),
        "driver_cpu_per_source_ms": round(1e3 * d, 1),
        "ray_1_worker_vs_in_process": round(one / cases["in_process"]["infer_seconds"], 3),
        "speedup_2_workers": round(one / cases["ray_2_workers"]["seconds"], 2),
        "speedup_2_processes": round(
            cases["in_process"]["infer_seconds"] / cases["processes_2"]["seconds"], 2
        ),
        "projection": {"cpus_per_node": PROJECTED_CPUS, "clip_frames": frames, "rows": rows},
    }


def markdown(report: dict) -> str:
    cases, a = report["cases"], report["analysis"]
    frames = report["frames"]
    lines = [
        f"Clips: {report['clips']} x {report['frames_per_clip']} frames "
        f"{report['size'][0]}x{report['size'][1]} (+ one clip of {frames} frames for chunks), "
        f"model `{report['model']}` backend `{report['backend']}`, 1 thread per worker, "
        f"{report['cpus']} shared vCPUs, load {report['load_before']} -> {report['load_after']}.",
        "",
        "| case | workers | wall s (excl. start-up) | start-up s | frames/s |",
        "|---|---|---|---|---|",
    ]
    for key, label in (
        ("pavenet_run", "`pavenet run` per clip (new process each)"),
        ("in_process", "one process, one Estimator"),
        ("processes_2", "a plain pool of 2 processes (no Ray)"),
        ("ray_1_worker", "`run_batch`, local Ray, 1 worker"),
        ("ray_2_workers", "`run_batch`, local Ray, 2 workers"),
        ("ray_two_nodes", "`run_batch`, 2 nodes x 1 CPU (loopback)"),
        ("ray_chunks", "1 long clip in chunks, 2 workers"),
    ):
        c = cases[key]
        start = (
            c.get("startup_seconds", c.get("load_seconds", 0.0))
            + c.get("connect_seconds", 0.0)
            + c.get("cluster_start_seconds", 0.0)
        )
        wall = c["seconds"] - (c.get("load_seconds", 0.0) if key == "in_process" else 0.0)
        lines.append(
            f"| {label} | {c.get('workers', 1)} | {wall:.2f} | {start:.2f} | {frames / wall:.1f} |"
        )
    lines += [
        "",
        f"Per frame: decode + inference {a['frame_ms']} ms (JSON {a['json_ms_per_frame']} ms); "
        f"`run_batch` on 1 worker takes {a['ray_1_worker_vs_in_process']}x the in-process time "
        f"on {report['frames_per_clip']}-frame clips. Per source, a worker spends "
        f"{a['source_overhead_ms']} ms beyond its frames (probe, opening, JSON, messages) and "
        f"the driver {a['driver_cpu_per_source_ms']} ms of CPU "
        f"({report['cases']['driver']['sources']} one-frame sources on 1 worker); "
        f"`pavenet run` pays {a['pavenet_run_per_source_s']} s per source (a process, imports, "
        f"the model). 2 workers vs 1: {a['speedup_2_workers']}x on {report['cpus']} shared "
        f"vCPUs; 2 plain processes vs 1: {a['speedup_2_processes']}x (what the machine gives).",
        "",
        f"Projection: min(N x C x F / (F x c + o), F / d) with C = "
        f"{a['projection']['cpus_per_node']} workers per node, F = "
        f"{a['projection']['clip_frames']}-frame sources and the costs c, o, d above:",
        "",
        "| nodes | workers | frames/s |",
        "|---|---|---|",
    ]
    for row in a["projection"]["rows"]:
        bound = " (driver-bound)" if row["driver_bound"] else ""
        lines.append(f"| {row['nodes']} | {row['workers']} | {row['frames_per_second']}{bound} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    from pavenet_sdk.commands.options import parse_size

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=4)
    parser.add_argument("--frames", type=int, default=48)
    parser.add_argument(
        "--size", type=parse_size, default=(320, 240), metavar="WxH", help="clip size (320x240)"
    )
    parser.add_argument("--model", default="pavenet-tiny", help="package path or bundled name")
    parser.add_argument("--backend", default="auto")
    parser.add_argument(
        "--driver-sources", type=int, default=100, help="one-frame sources of the driver case"
    )
    parser.add_argument("--smoke", action="store_true", help="2 clips x 6 frames (seconds)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.smoke:
        args.clips, args.frames, args.driver_sources = 2, 6, 10
    size = args.size
    load_before = round(os.getloadavg()[0], 2)
    with tempfile.TemporaryDirectory(prefix="pavenet-cluster-bench-") as tmp:
        folder = Path(tmp)
        *clips, long_clip = make_clips(folder, args.clips, args.frames, size)
        common = (args.model, args.backend)

        def out(name: str) -> Path:
            path = folder / name
            path.mkdir()
            return path

        cases = {"pavenet_run": time_cli(clips, *common, out("cli"))}
        cases["in_process"] = time_in_process(clips, *common, out("serial"))
        cases["processes_2"] = time_processes(clips, *common, out("processes"), workers=2)
        cases["ray_1_worker"] = time_batch(clips, *common, out("ray1"), cpus=1, workers=1)
        cases["ray_2_workers"] = time_batch(clips, *common, out("ray2"), cpus=2, workers=2)
        cases["ray_two_nodes"] = time_two_nodes(clips, *common, out("nodes"))
        many = driver_sources(folder, clips[0], args.driver_sources)
        cases["driver"] = {
            **time_batch(many, *common, out("many"), cpus=1, workers=1),
            "sources": len(many),
        }
        cases["ray_chunks"] = time_batch(
            [long_clip], *common, out("chunks"), cpus=2, workers=2,
            chunk_frames=-(-args.clips * args.frames // 2),
        )  # fmt: skip
    from pavenet_sdk import Estimator

    backend = Estimator(args.model, backend=args.backend).backend_name
    report = {
        "clips": args.clips, "frames_per_clip": args.frames, "frames": args.clips * args.frames,
        "size": list(size), "model": args.model, "backend": backend, "cpus": os.cpu_count(),
        "load_before": load_before, "load_after": round(os.getloadavg()[0], 2),
        "cases": {k: {n: round(v, 3) if isinstance(v, float) else v for n, v in c.items()}
                  for k, c in cases.items()},
    }  # fmt: skip
    report["analysis"] = analyse(cases, args.clips, args.frames)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "cluster.json").write_text(json.dumps(report, indent=2) + "\n")
    table = markdown(report)
    (args.out / "cluster.md").write_text(table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
