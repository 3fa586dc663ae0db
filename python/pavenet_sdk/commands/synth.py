"""``pavenet synth``: write a synthetic dataset (PoseTrack 2018 or COCO keypoints JSON), or a
preview contact sheet."""

from __future__ import annotations

import argparse

from pavenet_sdk.commands.options import parse_size

HELP = "write a synthetic multi-person pose video dataset (PoseTrack 2018 or COCO) or a preview"
PRESET_NAMES = ("mixed", "easy", "crowd", "occlusion")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--out", metavar="DIR", help="dataset root (gets images/, annotations/)")
    target.add_argument("--preview", metavar="PNG", help="write a contact sheet with ground truth")
    parser.add_argument("--preset", default="mixed", choices=PRESET_NAMES)
    parser.add_argument("--seed", type=int, default=0, help="dataset seed (video i uses (seed, i))")
    parser.add_argument(
        "--videos",
        type=int,
        default=None,
        help="videos to write (default 10) or clips in the preview (default 3)",
    )
    parser.add_argument(
        "--frames", type=int, default=None, help="frames per video (default 30; preview default 4)"
    )
    parser.add_argument(
        "--persons", type=int, default=None, help="fix the number of annotated people per clip"
    )
    parser.add_argument(
        "--size",
        type=parse_size,
        default=(320, 240),
        metavar="WxH",
        help="frame width x height in pixels (default 320x240)",
    )
    parser.add_argument("--split", default="train", help="folder under images/ and annotations/")
    parser.add_argument("--label-every", type=int, default=1, help="label every k-th frame")
    parser.add_argument("--jpeg-quality", type=int, default=90)
    parser.add_argument(
        "--layout",
        default="posetrack-15",
        metavar="NAME",
        help="joints to annotate: posetrack-15 (default) or coco-17 (eyes and "
        "ears placed on the 3-D heads)",
    )
    parser.add_argument(
        "--format",
        dest="annotation_format",
        default=None,
        choices=("posetrack", "coco"),
        help="annotation files (default: posetrack when PoseTrack's 17 slots "
        "hold the layout, else coco)",
    )
    parser.add_argument("--scale", type=float, default=1.0, help="preview image scale")


def main(args: argparse.Namespace) -> int:
    from pavenet_sdk.cli import user_input

    with user_input(ValueError, TypeError):
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    import time

    import cv2

    from pavenet_sdk.data.synth import contact_sheet, write_dataset

    if args.preview:
        sheet = contact_sheet(args.preset, args.seed, 3 if args.videos is None else args.videos,
                              4 if args.frames is None else args.frames,
                              args.size, args.scale, args.persons, args.layout)  # fmt: skip
        if not cv2.imwrite(args.preview, sheet):
            raise OSError(f"could not write {args.preview}")
        print(f"wrote {args.preview} ({sheet.shape[1]}x{sheet.shape[0]})")
        return 0

    from tqdm import tqdm

    videos = 10 if args.videos is None else args.videos
    frames = 30 if args.frames is None else args.frames
    start = time.perf_counter()
    with tqdm(total=videos, unit="video", desc=f"synth {args.preset}") as bar:
        paths = write_dataset(
            args.out, preset=args.preset, seed=args.seed, videos=videos, frames=frames,
            persons=args.persons, size=args.size, split=args.split,
            label_every=args.label_every, jpeg_quality=args.jpeg_quality,
            on_video=lambda _: bar.update(1), layout=args.layout,
            annotation_format=args.annotation_format,
        )  # fmt: skip
    elapsed = time.perf_counter() - start
    total = videos * frames
    print(f"wrote {videos} videos, {total} frames to {args.out} in {elapsed:.1f} s "
          f"({total / elapsed:.0f} frames/s incl. JPEG); annotations in "
          f"{paths[0].parent}")  # fmt: skip
    return 0
