"""``pavenet batch``: pose files for many videos on a Ray cluster (resumable)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from pavenet_sdk.commands.options import (
    add_cluster_arguments,
    add_json_format_argument,
    add_model_arguments,
    estimator_options,
    int_at_least,
    positive_int,
)

HELP = "pose files for many videos on a Ray cluster (or this machine), resumable"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("sources", nargs="*", help="video files or folders of images")
    parser.add_argument(
        "--list", type=Path, default=None, help="a text file of more sources, one per line"
    )
    parser.add_argument("--out", type=Path, required=True, help="folder for NAME.json (+ .mp4)")
    parser.add_argument("--video", action="store_true", help="also write annotated NAME.mp4")
    add_json_format_argument(parser)
    add_cluster_arguments(parser)
    add_model_arguments(parser, threads=False)
    parser.add_argument(
        "--chunk-frames",
        type=int_at_least(0),
        default=None,
        help="split videos longer than this into chunks run in parallel (default 1800; "
        "0: never split)",
    )
    parser.add_argument(
        "--attempts",
        type=positive_int,
        default=3,
        help="tries of a task whose worker dies (default 3)",
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
    from pavenet_sdk.cli import UsageError
    from pavenet_sdk.cluster.batch import DEFAULT_CHUNK_FRAMES, run_batch
    from pavenet_sdk.cluster.engine import ClusterError

    sources = read_sources(args)
    if not sources:
        raise UsageError("give at least one SOURCE (or --list FILE)")
    chunk = DEFAULT_CHUNK_FRAMES if args.chunk_frames is None else args.chunk_frames or None
    # the options are checked by now; a source that cannot be read fails alone, in the summary
    try:
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
    except ClusterError as exc:  # Ray missing, or the workers (the model) cannot start
        raise UsageError(str(exc)) from exc
    print(summary.format())
    if args.summary is not None:
        args.summary.parent.mkdir(parents=True, exist_ok=True)
        args.summary.write_text(json.dumps(summary.to_dict(), indent=2) + "\n")
    return 1 if summary.failed else 0
