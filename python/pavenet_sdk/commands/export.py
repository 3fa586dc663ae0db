"""``pavenet export``: a checkpoint -> a model package for the runtime backends."""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "export a checkpoint to a model package (torchscript, onnx, openvino, torch)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("checkpoint", type=Path, help="a pavenet-sdk checkpoint (.pt)")
    parser.add_argument(
        "--format",
        default="all",
        help="comma-separated list of torchscript, onnx, openvino, torch, or 'all'",
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="package directory (default: next to the checkpoint)"
    )
    parser.add_argument("--name", default=None, help="model name stored in the manifest")


def main(args: argparse.Namespace) -> int:
    from pavenet_sdk.checkpoint import load_model
    from pavenet_sdk.export import FORMATS, export_package

    formats = list(FORMATS) if args.format == "all" else [f.strip() for f in args.format.split(",")]
    model = load_model(args.checkpoint)
    out = args.out or args.checkpoint.with_suffix("")
    export_package(model, out, formats, name=args.name)
    print(f"model package written to {out} ({', '.join(formats)})")
    return 0
