"""The ``pavenet`` command line: one sub-command per module in ``pavenet_sdk.commands``.

Each command module exposes ``HELP`` (one line), ``add_arguments(parser)`` and
``main(args) -> int``; heavy imports happen inside ``main`` so ``pavenet --help`` stays fast.

Errors. Bad input is reported here, in one place, as one line on stderr,
``pavenet COMMAND: error: MESSAGE``, with exit code 2 (argparse's code for usage errors);
a message of several lines puts its first line there and the rest below it. Bad input is:

- a command-line argument argparse refuses;
- :class:`UsageError`, which commands raise for bad input they detect themselves (the
  :func:`user_input` block turns the ``ValueError`` of a call that validates user input, such
  as reading a config or opening a video, into one);
- ``OSError`` and its subclasses (a missing, unreadable or unwritable file or folder);
- :class:`pavenet_sdk.errors.InputError` and its subclasses: ``PackageError`` (a model
  package), ``OfficialImportError`` (an official checkpoint), ``MoveNetFormatError``,
  ``TeacherError`` and ``LabelError`` (teacher models and labelling sources), ``UsageError``;
- ``SystemExit`` with a message (``raise SystemExit("...")`` in a command).

Any other exception, ``ValueError`` and ``TypeError`` included, is a bug until a command says
otherwise, and keeps its traceback. ``PAVENET_DEBUG=1`` shows the traceback of bad input too.
Ctrl-C prints ``pavenet COMMAND: interrupted`` and exits with 130.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import re
import sys
from collections.abc import Iterator

from pavenet_sdk import __version__
from pavenet_sdk.errors import InputError, UsageError

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
    "label": "label",
    "batch": "batch",
    "watch": "watch",
}

PROG = "pavenet"
USAGE_ERROR = 2  # argparse's exit code for bad usage
INTERRUPTED = 130  # 128 + SIGINT, as shells report Ctrl-C


class _ArgumentError(UsageError):
    """argparse refused the command line of ``prog``."""

    def __init__(self, prog: str, message: str) -> None:
        super().__init__(f"{message} (see '{prog} --help')")
        self.prog = prog


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors reach :func:`main` instead of exiting."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise _ArgumentError(self.prog, message)

    def parse_args(self, args=None, namespace=None):  # type: ignore[override]
        """As argparse, but unknown arguments are blamed on the sub-command they follow."""
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            command = getattr(parsed, "command", None)
            prog = f"{self.prog} {command}" if command else self.prog
            raise _ArgumentError(prog, f"unrecognized arguments: {' '.join(extras)}")
        return parsed


@contextlib.contextmanager
def user_input(*errors: type[Exception]) -> Iterator[None]:
    """Inside the block, ``errors`` (default ``ValueError``) mean bad user input.

    Wrap only calls that validate what the user gave (a config, a file, an option value)::

        with user_input():
            cfg = load_config(args.config)
    """
    caught = errors or (ValueError,)
    try:
        yield
    except caught as exc:
        raise UsageError(str(exc)) from exc


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG, description="End-to-end multi-person pose estimation in video (PAVE-Net)."
    )
    parser.add_argument("--version", action="version", version=f"pavenet-sdk {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(f"pavenet_sdk.commands.{module_name}")
        command = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(command)
        command.set_defaults(_main=module.main)
    return parser


def is_input_error(exc: BaseException) -> bool:
    """Whether ``exc`` means bad input (reported in one line) rather than a bug."""
    return isinstance(exc, (InputError, OSError))


def error_message(exc: BaseException) -> str:
    """The user-facing text of an input error (a file error names the file first)."""
    if isinstance(exc, OSError) and exc.strerror and exc.filename is not None:
        return f"{exc.filename}: {exc.strerror}"
    if isinstance(exc, SystemExit):  # its message may already carry the prefix
        return re.sub(r"^(pavenet[\w -]*:\s*)?(error:\s*)?", "", str(exc.code).strip())
    return str(exc).strip() or type(exc).__name__


def _report(prog: str, exc: BaseException) -> int:
    first, *rest = error_message(exc).splitlines() or [""]
    print(f"{prog}: error: {first}", *rest, sep="\n", file=sys.stderr)
    return USAGE_ERROR


def _debug() -> bool:
    return os.environ.get("PAVENET_DEBUG", "") not in ("", "0")


def main(argv: list[str] | None = None) -> int:
    """Run one ``pavenet`` command; returns the exit code (2: bad input, 130: interrupted).

    Exceptions that are not bad input propagate with their traceback; ``--help`` and
    ``--version`` exit through argparse's ``SystemExit(0)``.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except _ArgumentError as exc:
        print(f"{exc.prog}: error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    prog = f"{PROG} {args.command}"
    try:
        return int(args._main(args) or 0)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return INTERRUPTED
    except SystemExit as exc:
        if not isinstance(exc.code, str) or _debug():
            raise
        return _report(prog, exc)
    except Exception as exc:
        if not is_input_error(exc) or _debug():
            raise
        return _report(prog, exc)


if __name__ == "__main__":
    # run the imported module's main, so commands that import UsageError from
    # pavenet_sdk.cli raise the class this main catches (not a __main__ copy of it)
    from pavenet_sdk.cli import main as _main

    sys.exit(_main())
