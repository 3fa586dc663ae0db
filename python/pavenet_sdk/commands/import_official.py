"""``pavenet import-official``: the authors' released weights -> a pavenet-sdk checkpoint
(and optionally a model package)."""

from __future__ import annotations

import argparse
from pathlib import Path

from pavenet_sdk.commands.options import parse_size

HELP = "import the authors' released PAVE-Net weights (.pth) into a checkpoint / model package"

BACKBONES = {"r50": "paper-r50", "swin-l": "paper-swinl"}
DEFAULT_FORMATS = "onnx,openvino,torch"
DEFAULT_INPUT = (1333, 800)  # (width, height): the authors' 1333 x 800 bound, letterboxed


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("checkpoint", type=Path, help="official checkpoint (.pth, mmcv format)")
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument(
        "--backbone", choices=sorted(BACKBONES), default="r50", help="which release (default r50)"
    )
    size = parser.add_mutually_exclusive_group()
    size.add_argument(
        "--input-size",
        type=parse_size,
        default=None,
        metavar="WxH",
        help="fixed model input (letterbox target) as WIDTHxHEIGHT, like every size on the "
        "command line (0.1 took HxW); default 1333x800",
    )
    size.add_argument(
        "--video-size",
        type=parse_size,
        default=None,
        metavar="WxH",
        help="set the input size to the authors' keep-ratio resize of this video resolution "
        "(no letterbox padding), e.g. 1920x1080 -> input 1333x750",
    )
    parser.add_argument(
        "--export", action="store_true", help="also write a model package (see --formats)"
    )
    parser.add_argument(
        "--formats", default=DEFAULT_FORMATS,
        help=f"package formats, comma-separated (default {DEFAULT_FORMATS})",
    )  # fmt: skip
    parser.add_argument("--name", default=None, help="model name (default: <preset>-official)")


def main(args: argparse.Namespace) -> int:
    import torch

    from pavenet_sdk.checkpoint import save_checkpoint
    from pavenet_sdk.model import get_preset
    from pavenet_sdk.official.importer import (
        OfficialImportError,
        file_sha256,
        import_official,
    )
    from pavenet_sdk.official.preprocess import PREPROCESSING, official_input_size

    torch.set_num_threads(max(1, min(4, torch.get_num_threads())))
    preset = BACKBONES[args.backbone]
    if args.video_size is not None:
        height, width = official_input_size(*args.video_size)
    else:
        width, height = args.input_size or DEFAULT_INPUT
    cfg = get_preset(preset).replace(input_size=(height, width))  # the model config's order
    name = args.name or f"{preset}-official"
    print(f"importing {args.checkpoint} as {preset} (input {width}x{height})")
    try:
        model, report = import_official(args.checkpoint, cfg)
    except OfficialImportError as exc:  # bad input: one error line, the report below it
        raise SystemExit(
            f"import failed: {args.checkpoint} does not match {preset}:\n{exc.report.format()}"
        ) from None
    except ValueError as exc:  # unreadable or unsafe file (a missing one is an OSError)
        raise SystemExit(f"import failed: {exc}") from None
    print(report.format())
    source = {
        "file": args.checkpoint.name,
        "sha256": file_sha256(args.checkpoint),
        "preset": preset,
        "imported_tensors": report.mapped,
        "skipped": dict(report.skipped),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    ckpt = args.out / f"{name}.pt"
    save_checkpoint(ckpt, model, official_source=source, preprocessing=PREPROCESSING)
    print(f"checkpoint written to {ckpt}")
    if args.export:
        from pavenet_sdk.export import export_package

        formats = [f.strip() for f in args.formats.split(",") if f.strip()]
        package = args.out / f"{name}-{width}x{height}"
        export_package(
            model, package, formats, name=name,
            preprocessing=PREPROCESSING, official_source=source,
        )  # fmt: skip
        print(f"model package written to {package} ({', '.join(formats)})")
    return 0
