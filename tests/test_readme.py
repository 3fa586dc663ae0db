"""The README's commands stay the ones CI runs and the CLI offers."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    command = re.search(r"^(python -m pytest[^\n#]*?)\s*$", ci, re.M).group(1)
    assert command in readme


def test_readme_commands_exist_in_the_cli():
    from pavenet_sdk.cli import COMMANDS

    readme = (ROOT / "README.md").read_text()
    used = set(re.findall(r"`pavenet ([a-z-]+)", readme))
    assert used and used <= set(COMMANDS), used - set(COMMANDS)
