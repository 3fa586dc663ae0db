"""``pavenet run``: poses for a video, camera or image folder (or the bundled demo clip)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

HELP = "run pose estimation on a video, camera index or folder of images"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", nargs="?", help="video file, camera index or image folder")
    parser.add_argument(
        "--demo", action="store_true", help="run the bundled model on a generated synthetic clip"
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
    from pavenet_sdk.runtime.estimator import Estimator
    from pavenet_sdk.runtime.writers import PoseTrackJsonWriter, VideoWriter

    source = args.source
    if args.demo:
        source = _make_demo_clip()
        args.out = args.out or Path("pavenet-demo.mp4")
        args.json = args.json or Path("pavenet-demo.json")
    if source is None:
        raise SystemExit("pavenet run: give a SOURCE or --demo")
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
    poses = PoseTrackJsonWriter(args.json, video_name=Path(str(source)).stem) if args.json else None
    from tqdm import tqdm

    from pavenet_sdk.runtime.sources import open_source

    frames, info = open_source(source, args.fps)
    count, persons, start = 0, 0, time.perf_counter()
    with tqdm(total=info.num_frames, unit="frame", disable=None) as bar:
        for result in estimator.stream().run_frames(frames):
            count += 1
            persons += len(result)
            if video:
                video.write(result.plot(result.image), info.fps)
            if poses:
                poses.add(result)
            bar.update(1)
    elapsed = time.perf_counter() - start
    if video:
        video.close()
        print(f"annotated video: {args.out}")
    if poses:
        poses.close()
        print(f"poses: {args.json}")
    print(f"{count} frames, {persons / max(count, 1):.1f} persons per frame")
    if args.show_fps:
        print(f"{count / elapsed:.1f} frames/s end to end ({elapsed:.2f} s)")
    return 0


def _make_demo_clip() -> Path:
    """A short synthetic clip (deterministic) written to a temporary folder of JPEGs."""
    import tempfile

    import cv2

    from pavenet_sdk.data.synthetic import generate_clip

    clip = generate_clip("easy", seed=2026, num_frames=48, num_persons=3)
    folder = Path(tempfile.mkdtemp(prefix="pavenet-demo-"))
    for i, frame in enumerate(clip.frames):
        cv2.imwrite(str(folder / f"{i:06d}.jpg"), frame)
    print(f"demo clip: {len(clip.frames)} synthetic frames in {folder}")
    return folder
