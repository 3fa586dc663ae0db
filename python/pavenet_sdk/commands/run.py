"""``pavenet run``: poses for a video, camera or image folder (or the built-in demo clip)."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import time
from pathlib import Path

from pavenet_sdk.commands.options import (
    add_json_format_argument,
    add_model_arguments,
    estimator_options,
)

HELP = "run pose estimation on a video, camera index or folder of images"
SYNTHETIC_DEMO = {"preset": "easy", "seed": 2026, "num_frames": 60, "num_persons": 4}
DEMO_CLIP = Path(__file__).resolve().parents[1] / "assets" / "demo-two-people.mp4"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", nargs="?", help="video file, camera index or image folder")
    parser.add_argument(
        "--demo",
        nargs="?",
        const="real",
        choices=["real", "synthetic"],
        help="run on the bundled real clip (two people in a room), or 'synthetic': a generated "
        "clip scored against its ground truth",
    )
    add_model_arguments(parser)
    parser.add_argument("--out", type=Path, default=None, help="annotated video to write (.mp4)")
    parser.add_argument("--json", type=Path, default=None, help="poses to write (JSON)")
    add_json_format_argument(parser)
    parser.add_argument("--show-fps", action="store_true", help="print throughput at the end")


def main(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from pavenet_sdk.cli import UsageError, user_input
    from pavenet_sdk.runtime.estimator import Estimator
    from pavenet_sdk.runtime.sources import open_source
    from pavenet_sdk.runtime.writers import JSON_WRITERS, VideoWriter, results_to_sequence

    clip = None
    if args.demo:
        args.out = args.out or Path("pavenet-demo.mp4")
        args.json = args.json or Path("pavenet-demo.json")
    if args.demo == "synthetic":
        from pavenet_sdk.data.synth import generate_clip

        clip = generate_clip(**SYNTHETIC_DEMO)
        fps, total, name = 25.0, len(clip.frames), "demo"
        frames = ((frame, i / fps) for i, frame in enumerate(clip.frames))
        people = SYNTHETIC_DEMO["num_persons"]
        print(f"demo: a synthetic clip of {len(clip.frames)} frames with {people} people")
    elif args.demo == "real":
        frames, info = open_source(DEMO_CLIP)
        fps, total, name = info.fps, info.num_frames, "demo"
        print(f"demo: {info.num_frames} real frames ({DEMO_CLIP.name}, see its README)")
    elif args.source is None:
        raise UsageError("give a SOURCE (video, camera index, image folder) or --demo")
    else:
        with user_input():
            frames, info = open_source(args.source, args.fps)
        fps, total, name = info.fps, info.num_frames, Path(str(args.source)).stem
    with user_input():  # the model package and the backend
        estimator = Estimator(args.model, backend=args.backend, **estimator_options(args))
    print(estimator)
    results, count, persons = [], 0, 0
    start = time.perf_counter()
    with contextlib.ExitStack() as outputs:  # closed on any exit: the files hold what was done
        video = outputs.enter_context(VideoWriter(args.out)) if args.out else None
        writer = JSON_WRITERS[args.json_format]
        poses = outputs.enter_context(writer(args.json, name)) if args.json else None
        stream = estimator.stream().run_frames(frames)
        try:
            for result in tqdm(stream, total=total, unit="frame", disable=None):
                if video:
                    video.write(result.plot(result.image), fps)
                if poses:
                    poses.add(result)
                count, persons = count + 1, persons + len(result)
                if clip is not None:  # keep poses, not pixels, for the demo's score
                    results.append(dataclasses.replace(result, image=None))
        except BaseException:
            if count:
                print(f"stopped after {count} frames; the outputs hold those frames")
            raise
    elapsed = time.perf_counter() - start
    for path, what in ((args.out, "annotated video"), (args.json, "poses")):
        if path:
            print(f"{what}: {path}")
    print(f"{count} frames, {persons / max(count, 1):.1f} persons per frame")
    if args.show_fps:
        print(f"{count / elapsed:.1f} frames/s end to end ({elapsed:.2f} s)")
    if clip is not None:
        from pavenet_sdk.eval import evaluate_sequences, format_table

        clip.sequence.name = name
        scores = evaluate_sequences(
            [clip.sequence],
            [results_to_sequence(name, results)],
            gt_layout=clip.layout,
            pred_layout=estimator.layout,
        )
        print("accuracy against the clip's ground truth (PoseTrack AP):")
        print(format_table(scores))
    return 0
