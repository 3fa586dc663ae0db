"""``pavenet label``: pseudo-label videos and images with a teacher, as COCO keypoints."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = "label videos and images with a teacher model (COCO keypoints + frames)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("sources", nargs="+", metavar="SRC", help="videos, image folders, images")
    parser.add_argument(
        "--teacher",
        required=True,
        help="movenet-multipose, movenet-thunder (both need --teacher-dir), a MoveNet "
        "MultiPose .onnx file, or a pavenet model package",
    )
    parser.add_argument("--teacher-dir", type=Path, default=None, help="folder of MoveNet .onnx")
    parser.add_argument("--out", type=Path, required=True, help="dataset folder to write")
    parser.add_argument("--every", type=int, default=1, help="label every Nth frame (default 1)")
    parser.add_argument("--max-frames", type=int, default=None, help="labelled frames per source")
    parser.add_argument(
        "--context",
        type=int,
        default=0,
        help="also save the C frames before and after each labelled video frame, unlabelled "
        "(for temporal models with --every > 1; default 0)",
    )
    parser.add_argument("--min-score", type=float, default=0.2, help="person score (default 0.2)")
    parser.add_argument(
        "--min-joints", type=int, default=5, help="joints at --joint-threshold (default 5)"
    )
    parser.add_argument(
        "--joint-threshold",
        type=float,
        default=0.3,
        help="joints below this confidence are written unlabelled (default 0.3)",
    )
    parser.add_argument(
        "--min-box", type=float, default=24.0, help="person box, longer side px (default 24)"
    )
    parser.add_argument("--flip", action="store_true", help="average with the mirrored image")
    parser.add_argument("--size", type=int, default=256, help="MultiPose input long side (256)")
    parser.add_argument("--threads", type=int, default=1, help="inference threads (default 1)")
    parser.add_argument(
        "--sequence",
        action="store_true",
        help="treat image folders as the frames of one video (default: independent stills)",
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="relabel sources whose output exists"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def _check(args: argparse.Namespace) -> None:
    from pavenet_sdk.cli import UsageError

    for name in ("every", "threads"):
        if getattr(args, name) < 1:
            raise UsageError(f"--{name} must be >= 1, got {getattr(args, name)}")
    if args.max_frames is not None and args.max_frames < 1:
        raise UsageError(f"--max-frames must be >= 1, got {args.max_frames}")
    if args.size < 32 or args.size % 32:
        raise UsageError(f"--size must be a positive multiple of 32, got {args.size}")
    if args.context < 0:
        raise UsageError(f"--context must be >= 0, got {args.context}")
    if args.out.exists() and not args.out.is_dir():
        raise UsageError(f"--out {args.out} is a file, not a folder")


def main(args: argparse.Namespace) -> int:
    from pavenet_sdk.cli import user_input
    from pavenet_sdk.teachers.base import TeacherError
    from pavenet_sdk.teachers.labeller import (
        LabelError,
        LabelFilters,
        find_sources,
        label_source,
    )
    from pavenet_sdk.teachers.registry import load_teacher

    _check(args)
    with user_input(ValueError):
        filters = LabelFilters(args.min_score, args.min_joints, args.joint_threshold, args.min_box)
    with user_input(LabelError, TeacherError):
        sources = find_sources(args.sources, folders_as_video=args.sequence)
        teacher = load_teacher(
            args.teacher,
            teacher_dir=args.teacher_dir,
            threads=args.threads,
            size=args.size,
            flip=args.flip,
        )
    args.out.mkdir(parents=True, exist_ok=True)
    print(
        f"teacher: {teacher.name} ({teacher.layout.name}); {len(sources)} source(s) -> {args.out}"
    )
    failures: list[tuple[str, str]] = []
    for k, source in enumerate(sources, start=1):
        target = args.out / f"{source.stem}.json"
        if target.exists() and not args.overwrite:
            print(f"[{k}/{len(sources)}] {source.path}: done earlier ({target}), skipped")
            continue
        try:
            result = label_source(
                source,
                teacher,
                args.out,
                filters,
                every=args.every,
                max_frames=args.max_frames,
                context=args.context,
                progress=not args.no_progress,
            )
        except Exception as exc:  # one bad source must not stop the batch
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            failures.append((str(source.path), reason or type(exc).__name__))
            print(f"[{k}/{len(sources)}] {source.path}: failed: {failures[-1][1]}")
            continue
        failures += [(str(path), why) for path, why in result.skipped]
        print(
            f"[{k}/{len(sources)}] {source.path}: {result.frames} frames, "
            f"{result.persons} persons -> {result.path}"
        )
    if failures:
        print(f"failed: {len(failures)}", file=sys.stderr)
        for path, reason in failures:
            print(f"  {path}: {reason}", file=sys.stderr)
        return 1
    return 0
