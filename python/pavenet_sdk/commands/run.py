"""``pavenet run``: poses for a video, camera or image folder (or the built-in demo clip)."""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

HELP = "run pose estimation on a video, camera index or folder of images"
DEMO = {"preset": "easy", "seed": 2026, "num_frames": 60, "num_persons": 4}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", nargs="?", help="video file, camera index or image folder")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="run on a generated synthetic clip and score it against its ground truth",
    )
    parser.add_argument("--model", default=None, help="model package (default: the bundled model)")
    parser.add_argument(
        "--backend",
        default="auto",
        help="auto, openvino, onnx, torchscript or torch (default: auto)",
    )
    parser.add_argument("--precision", default="f32", choices=["f32", "bf16", "f16"])
    parser.add_argument("--threads", type=int, default=1, help="inference threads (default 1)")
    parser.add_argument("--score-threshold", type=float, default=0.3)
    parser.add_argument("--smooth", action="store_true", help="One-Euro keypoint smoothing")
    parser.add_argument("--fps", type=float, default=None, help="frame rate of image folders")
    parser.add_argument("--out", type=Path, default=None, help="annotated video to write (.mp4)")
    parser.add_argument(
        "--json", type=Path, default=None, help="poses to write (PoseTrack 2018 JSON)"
    )
    parser.add_argument("--show-fps", action="store_true", help="print throughput at the end")


def main(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from pavenet_sdk.runtime.estimator import Estimator
    from pavenet_sdk.runtime.sources import open_source
    from pavenet_sdk.runtime.writers import PoseTrackJsonWriter, VideoWriter, results_to_sequence

    if args.demo:
        from pavenet_sdk.data.synthetic import generate_clip

        clip = generate_clip(**DEMO)
        fps, total, name = 25.0, len(clip.frames), "demo"
        frames = ((frame, i / fps) for i, frame in enumerate(clip.frames))
        args.out = args.out or Path("pavenet-demo.mp4")
        args.json = args.json or Path("pavenet-demo.json")
        print(
            f"demo: a synthetic clip of {len(clip.frames)} frames with {DEMO['num_persons']} people"
        )
    elif args.source is None:
        raise SystemExit("pavenet run: give a SOURCE (video, camera index, image folder) or --demo")
    else:
        frames, info = open_source(args.source, args.fps)
        fps, total, name = info.fps, info.num_frames, Path(str(args.source)).stem
    estimator = Estimator(
        args.model,
        backend=args.backend,
        precision=args.precision,
        threads=args.threads,
        score_threshold=args.score_threshold,
        smooth=args.smooth,
    )
    print(estimator)
    video = VideoWriter(args.out) if args.out else None
    poses = PoseTrackJsonWriter(args.json, video_name=name) if args.json else None
    results, start = [], time.perf_counter()
    for result in tqdm(
        estimator.stream().run_frames(frames), total=total, unit="frame", disable=None
    ):
        if video:
            video.write(result.plot(result.image), fps)
        if poses:
            poses.add(result)
        results.append(dataclasses.replace(result, image=None))  # keep poses, not pixels
    elapsed = time.perf_counter() - start
    for writer, path, what in ((video, args.out, "annotated video"), (poses, args.json, "poses")):
        if writer:
            writer.close()
            print(f"{what}: {path}")
    persons = sum(len(r) for r in results) / max(len(results), 1)
    print(f"{len(results)} frames, {persons:.1f} persons per frame")
    if args.show_fps:
        print(f"{len(results) / elapsed:.1f} frames/s end to end ({elapsed:.2f} s)")
    if args.demo:
        from pavenet_sdk.eval import evaluate_sequences, format_table

        clip.sequence.name = name
        scores = evaluate_sequences([clip.sequence], [results_to_sequence(name, results)])
        print("accuracy against the clip's ground truth (PoseTrack AP):")
        print(format_table(scores))
    return 0
