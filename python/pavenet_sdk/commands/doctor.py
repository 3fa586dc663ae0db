"""``pavenet doctor``: what this installation can run and how it was built."""

from __future__ import annotations

import argparse
import importlib
import os
import platform

HELP = "show versions, native build (SIMD, CUDA, threads) and the available backends"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model", default=None, help="also load this model package (default: bundled)"
    )


def _version(module: str) -> str:
    try:
        return getattr(importlib.import_module(module), "__version__", "installed")
    except ImportError:
        return "not installed"


def main(args: argparse.Namespace) -> int:
    from pavenet_sdk import __version__, native
    from pavenet_sdk.runtime.backends import available_backends
    from pavenet_sdk.runtime.models import bundled_models, resolve_model
    from pavenet_sdk.runtime.package import load_package

    if args.model is not None:  # a model the user named must exist and be a valid package
        load_package(resolve_model(args.model))

    rows = [
        ("pavenet-sdk", __version__),
        ("python", platform.python_version()),
        ("platform", f"{platform.system()} {platform.machine()}"),
        ("cpu cores", str(os.cpu_count())),
    ]
    rows += [(m, _version(m)) for m in ("numpy", "cv2", "onnxruntime", "openvino", "torch")]
    info = native.build_info()
    rows += [(f"native {key}", str(value)) for key, value in info.items()]
    rows.append(("backends available", ", ".join(available_backends()) or "none"))
    rows.append(("bundled models", ", ".join(bundled_models()) or "none"))
    try:
        from pavenet_sdk.runtime.estimator import Estimator

        rows.append(("auto backend", repr(Estimator(args.model))))  # names the joint layout
    except Exception as exc:  # doctor reports problems instead of failing on them
        rows.append(("auto backend", f"unavailable: {exc}"))
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    return 0
