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


def parse_formats(text: str) -> list[str]:
    """``--format`` value -> format names; raises UsageError naming an unknown one."""
    from pavenet_sdk.cli import UsageError
    from pavenet_sdk.manifest import GRAPH_FILES  # the formats a package can hold

    if text.strip() == "all":
        return list(GRAPH_FILES)
    formats = [f.strip() for f in text.split(",") if f.strip()]
    unknown = [f for f in formats if f not in GRAPH_FILES]
    if unknown or not formats:
        raise UsageError(
            f"--format: unknown format(s) {', '.join(unknown) or repr(text)}; "
            f"choose from {', '.join(GRAPH_FILES)} or 'all'"
        )
    return formats


def main(args: argparse.Namespace) -> int:
    from pavenet_sdk.cli import user_input

    formats = parse_formats(args.format)  # before loading torch and the checkpoint
    from pavenet_sdk.checkpoint import load_model
    from pavenet_sdk.export import export_package

    with user_input():  # a file that is not a (readable) pavenet-sdk checkpoint
        model = load_model(args.checkpoint)
    out = args.out or args.checkpoint.with_suffix("")
    export_package(model, out, formats, name=args.name)
    print(f"model package written to {out} ({', '.join(formats)})")
    return 0
