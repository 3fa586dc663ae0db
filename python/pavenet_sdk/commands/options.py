"""Command-line options shared by several commands, and the argparse types that check them.

- :func:`add_model_arguments` / :func:`estimator_options`: the model options of ``pavenet run``,
  ``batch`` and ``watch`` and the :class:`~pavenet_sdk.Estimator` arguments they give;
- :func:`add_cluster_arguments`: where ``batch`` and ``watch`` run;
- :func:`parse_size`: every size on the command line is ``WIDTHxHEIGHT`` (e.g. ``1920x1080``),
  in the order of the runtime API's (width, height) sizes and of OpenCV's.

A value an argparse type refuses is reported as one ``error:`` line naming its option.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from typing import Any

PRECISIONS = ("f32", "bf16", "f16")
JSON_FORMATS = ("posetrack", "coco")
_SIZE = re.compile(r"\s*(\d+)\s*[xX]\s*(\d+)\s*")


def parse_size(text: str) -> tuple[int, int]:
    """``"WxH"`` -> ``(width, height)`` px, e.g. ``"1920x1080"`` -> ``(1920, 1080)``.

    Raises:
        argparse.ArgumentTypeError: not two positive integers joined by ``x``.
    """
    match = _SIZE.fullmatch(text)
    size = (int(match.group(1)), int(match.group(2))) if match else (0, 0)
    if min(size) < 1:
        raise argparse.ArgumentTypeError(
            f"must be WIDTHxHEIGHT in pixels, e.g. 1920x1080, got {text!r}"
        )
    return size


def unit_interval(text: str) -> float:
    """argparse type: a number in [0, 1]."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1], got {text!r}")
    return value


def nms_value(text: str) -> float | bool:
    """argparse type of ``--nms-oks``: a number in [0, 1], or ``off`` (False)."""
    return False if text.strip().lower() == "off" else unit_interval(text)


def int_at_least(minimum: int) -> Callable[[str], int]:
    """argparse type: an integer >= ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}")
        return value

    parse.__name__ = f"int_at_least_{minimum}"
    return parse


positive_int = int_at_least(1)


def add_model_arguments(parser: argparse.ArgumentParser, *, threads: bool = True) -> None:
    """The model options: ``--model --backend --precision [--threads] --score-threshold
    --nms-oks --smooth --fps``.

    threads: offer ``--threads`` (cluster workers always run one thread each).
    """
    parser.add_argument("--model", default=None, help="model package (default: the bundled model)")
    parser.add_argument(
        "--backend",
        default="auto",
        help="auto, openvino, onnx, torchscript or torch (default: auto)",
    )
    parser.add_argument("--precision", default="f32", choices=PRECISIONS)
    if threads:
        parser.add_argument(
            "--threads", type=positive_int, default=1, help="inference threads (default 1)"
        )
    parser.add_argument(
        "--score-threshold",
        type=unit_interval,
        default=None,
        metavar="FLOAT",
        help="keep people scoring at least this, in [0, 1] (default: the model's own, else 0.3)",
    )
    parser.add_argument(
        "--nms-oks",
        type=nms_value,
        default=None,
        metavar="FLOAT|off",
        help="drop a person whose OKS with a better-scoring one exceeds this, in [0, 1] (e.g. "
        "0.45), or 'off' (default: the model's own, else off)",
    )
    parser.add_argument("--smooth", action="store_true", help="One-Euro keypoint smoothing")
    parser.add_argument("--fps", type=float, default=None, help="frame rate of image folders")


def add_json_format_argument(parser: argparse.ArgumentParser) -> None:
    """``--json-format posetrack|coco``: the format of the pose files written."""
    parser.add_argument(
        "--json-format",
        choices=JSON_FORMATS,
        default="posetrack",
        help="PoseTrack 2018 (joints mapped into its 17 slots) or COCO keypoints with video "
        "and frame ids, in the model's own layout (default: posetrack)",
    )


def estimator_options(args: argparse.Namespace) -> dict[str, Any]:
    """The Estimator keyword arguments of :func:`add_model_arguments`' options (``model`` and
    ``backend`` excepted; ``threads`` where the command offers it)."""
    options: dict[str, Any] = {
        "precision": args.precision,
        "score_threshold": args.score_threshold,
        "smooth": args.smooth,
    }
    if getattr(args, "threads", None) is not None:
        options["threads"] = args.threads
    if args.nms_oks is not None:
        options["nms_oks"] = args.nms_oks
    return options


def add_cluster_arguments(parser: argparse.ArgumentParser) -> None:
    """``--address`` and ``--workers`` of the commands that run on a Ray cluster."""
    parser.add_argument(
        "--address",
        default="local",
        help="local (a private Ray instance on this machine, loopback only; the default), "
        "auto (the cluster started with `ray start` on this node) or HOST:PORT of a head node",
    )
    parser.add_argument(
        "--workers",
        type=positive_int,
        default=None,
        help="actors, one model each (default: one per CPU)",
    )
