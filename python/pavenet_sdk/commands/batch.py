"""``pavenet batch``: pose files for many videos on a Ray cluster (resumable)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

HELP = "pose files for many videos on a Ray cluster (or this machine), resumable"


def add_cluster_arguments(parser: argparse.ArgumentParser) -> None:
    """Options shared by ``batch`` and ``watch``: where to run and which model."""
    parser.add_argument(
        "--address",
        default="local",
        help="local (a private Ray instance on this machine, loopback only; the default), "
        "auto (the cluster started with `ray start` on this node) or HOST:PORT of a head node",
    )
    parser.add_argument(
        "--workers", type=int, default=None, help="actors, one model each (default: one per CPU)"
    )
    parser.add_argument("--model", default=None, help="model package (default: the bundled model)")
    parser.add_argument(
        "--backend", default="auto", help="auto, openvino, onnx, torchscript or torch"
    )
    parser.add_argument("--precision", default="f32", choices=["f32", "bf16", "f16"])
    parser.add_argument("--score-threshold", type=float, default=0.3)
    parser.add_argument(
        "--nms-oks",
        type=float,
        default=None,
        metavar="FLOAT",
        help="drop a person whose OKS with a better-scoring one exceeds this (default: off)",
    )
    parser.add_argument("--smooth", action="store_true", help="One-Euro keypoint smoothing")
    parser.add_argument("--fps", type=float, default=None, help="frame rate of image folders")


def estimator_options(args: argparse.Namespace) -> dict:
    """The Estimator arguments of the shared options (each worker runs one thread)."""
    options = {
        "precision": args.precision,
        "score_threshold": args.score_threshold,
        "smooth": args.smooth,
    }
    if args.nms_oks is not None:
        options["nms_oks"] = args.nms_oks
    return options


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("sources", nargs="*", help="video files or folders of images")
    parser.add_argument(
        "--list", type=Path, default=None, help="a text file of more sources, one per line"
    )
    parser.add_argument("--out", type=Path, required=True, help="folder for NAME.json (+ .mp4)")
    parser.add_argument("--video", action="store_true", help="also write annotated NAME.mp4")
    parser.add_argument(
        "--json-format",
        choices=["posetrack", "coco"],
        default="posetrack",
        help="PoseTrack 2018 or COCO keypoints, as `pavenet run --json-format` (default: "
        "posetrack)",
    )
    add_cluster_arguments(parser)
    parser.add_argument(
        "--chunk-frames",
        type=int,
        default=None,
        help="split videos longer than this into chunks run in parallel (default 1800; "
        "0: never split)",
    )
    parser.add_argument(
        "--attempts", type=int, default=3, help="tries of a task whose worker dies (default 3)"
    )
    parser.add_argument("--summary", type=Path, default=None, help="write the summary as JSON")


def read_sources(args: argparse.Namespace) -> list[str]:
    """The sources of the command line and of ``--list`` (blank lines and # comments skipped)."""
    sources = list(args.sources)
    if args.list is not None:
        lines = args.list.read_text(encoding="utf-8").splitlines()
        sources += [s.strip() for s in lines if s.strip() and not s.strip().startswith("#")]
    return sources


def main(args: argparse.Namespace) -> int:
    from pavenet_sdk.cli import UsageError, user_input
    from pavenet_sdk.cluster.batch import DEFAULT_CHUNK_FRAMES, run_batch
    from pavenet_sdk.cluster.engine import ClusterError

    sources = read_sources(args)
    if not sources:
        raise UsageError("give at least one SOURCE (or --list FILE)")
    chunk = DEFAULT_CHUNK_FRAMES if args.chunk_frames is None else args.chunk_frames or None
    try:
        with user_input():
            summary = run_batch(
                sources,
                args.out,
                model=args.model,
                backend=args.backend,
                workers=args.workers,
                address=args.address,
                video=args.video,
                json_format=args.json_format,
                chunk_frames=chunk,
                max_attempts=args.attempts,
                fps=args.fps,
                progress=True,
                **estimator_options(args),
            )
    except ClusterError as exc:
        raise UsageError(str(exc)) from exc
    print(summary.format())
    if args.summary is not None:
        args.summary.parent.mkdir(parents=True, exist_ok=True)
        args.summary.write_text(json.dumps(summary.to_dict(), indent=2) + "\n")
    return 1 if summary.failed else 0
