"""The ``pavenet`` command line: one sub-command per module in ``pavenet_sdk.commands``.

Each command module exposes ``HELP`` (one line), ``add_arguments(parser)`` and
``main(args) -> int``; heavy imports happen inside ``main`` so ``pavenet --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from pavenet_sdk import __version__

# name on the command line -> module under pavenet_sdk.commands
COMMANDS = {
    "run": "run",
    "export": "export",
    "train": "train",
    "eval": "evaluate",
    "synth": "synth",
    "bench": "bench",
    "info": "info",
    "import-official": "import_official",
    "doctor": "doctor",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pavenet", description="End-to-end multi-person pose estimation in video (PAVE-Net)."
    )
    parser.add_argument("--version", action="version", version=f"pavenet-sdk {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(f"pavenet_sdk.commands.{module_name}")
        command = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(command)
        command.set_defaults(_main=module.main)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args._main(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
