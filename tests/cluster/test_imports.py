"""Ray stays out of ``import pavenet_sdk`` and of the command line until a command needs it."""

from __future__ import annotations

import subprocess
import sys


def test_the_sdk_and_its_cli_import_without_ray():
    code = (
        "import sys, pavenet_sdk, pavenet_sdk.cli, pavenet_sdk.cluster, "
        "pavenet_sdk.cluster.batch, pavenet_sdk.cluster.streams\n"
        "pavenet_sdk.cli.build_parser()\n"
        "import os; print('ray' in sys.modules, os.environ['RAY_USAGE_STATS_ENABLED'])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "0"]


def test_batch_and_watch_are_commands(capsys):
    from pavenet_sdk.cli import build_parser

    parser = build_parser()
    args = parser.parse_args(["batch", "a.mp4", "--out", "o", "--address", "auto"])
    assert (args.command, args.sources, args.address) == ("batch", ["a.mp4"], "auto")
    args = parser.parse_args(["watch", "0", "rtsp://cam/live", "--out", "o", "--queue", "2"])
    assert (args.command, args.sources, args.queue) == ("watch", ["0", "rtsp://cam/live"], 2)


def test_every_public_name_resolves_without_ray():
    code = (
        "import importlib.util, sys, pavenet_sdk.cluster.engine as engine\n"
        "init = engine.__file__.replace('engine.py', '__init__.py')\n"
        "spec = importlib.util.spec_from_file_location('cluster_init', init)\n"
        "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)\n"
        "names = [getattr(module, name).__name__ for name in module.__all__]\n"
        "print(len(names) == len(set(module.__all__)), 'ray' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "False"]
