"""``pavenet watch``: poses of many live streams on a Ray cluster, one JSON-lines file each."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from pavenet_sdk.commands.options import (
    add_cluster_arguments,
    add_model_arguments,
    estimator_options,
    int_at_least,
    positive_int,
)

HELP = "poses of many cameras / streams on a Ray cluster, as JSON lines per stream"
STATUS_EVERY_S = 10.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "sources", nargs="+", help="camera indices, stream URLs (rtsp://...), videos, folders"
    )
    parser.add_argument("--out", type=Path, required=True, help="folder for NAME.jsonl")
    add_cluster_arguments(parser)
    add_model_arguments(parser, threads=False)
    parser.add_argument(
        "--queue",
        type=positive_int,
        default=8,
        help="frames per stream waiting for inference (default 8)",
    )
    parser.add_argument(
        "--realtime", action="store_true", help="read files at their frame rate, like cameras"
    )
    parser.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
    parser.add_argument(
        "--restarts",
        type=int_at_least(0),
        default=3,
        help="restarts of a stream whose worker died (default 3)",
    )


def main(args: argparse.Namespace) -> int:
    from pavenet_sdk.cli import UsageError, user_input
    from pavenet_sdk.cluster.engine import ClusterError
    from pavenet_sdk.cluster.streams import StreamPool

    with user_input():  # only checks the arguments, e.g. two sources with the same name
        pool = StreamPool(
            args.sources,
            model=args.model,
            backend=args.backend,
            workers=args.workers,
            address=args.address,
            out=args.out,
            queue_size=args.queue,
            realtime=args.realtime,
            fps=args.fps,
            max_restarts=args.restarts,
            **estimator_options(args),
        )
    try:  # a stream that cannot be opened fails alone, in its stats
        with pool:
            print(f"watching {len(args.sources)} streams; results in {args.out}/NAME.jsonl")
            last = time.monotonic()
            for _ in pool.results(args.duration):
                if time.monotonic() - last >= STATUS_EVERY_S:
                    print(_status(pool.stats()), flush=True)
                    last = time.monotonic()
            stats = pool.stats()
    except ClusterError as exc:  # Ray missing, or the workers (the model) cannot start
        raise UsageError(str(exc)) from exc
    print(_status(stats))
    return 1 if any(s.state == "failed" for s in stats.values()) else 0


def _status(stats: dict) -> str:
    lines = []
    for name, s in stats.items():
        line = (
            f"{name}: {s.state}, {s.delivered} results, {s.dropped} dropped, {s.lost} lost, "
            f"{s.restarts} restarts"
        )
        if s.error:
            line += f" ({s.error})"
        lines.append(line)
    return "\n".join(lines)
