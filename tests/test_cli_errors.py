"""Every ``pavenet`` command reports bad input as one ``error:`` line and exit code 2.

Bugs (any other exception) keep their traceback; Ctrl-C exits with 130.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from pavenet_sdk import cli
from pavenet_sdk.commands import doctor
from pavenet_sdk.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
SMOKE = ROOT / "configs" / "ci-smoke.toml"
CHECKPOINT = ROOT / "models" / "pavenet-tiny" / "model.pt"
# "pavenet COMMAND: error: ..." (bench's suite prints a bare "error: ...")
ERROR_LINE = re.compile(r"^(pavenet( [\w-]+)?: )?error: \S")

# id -> (argv with {tmp}/{images}/{text}/{bad_json}/{bad_toml} placeholders, text the error
# line must name: the file or argument at fault)
CASES = {
    "run-missing-video": (["run", "{tmp}/missing.mp4"], "missing.mp4"),
    "run-no-source": (["run"], "SOURCE"),
    "run-not-a-video": (["run", "{text}"], "notes.txt"),
    "run-missing-model": (["run", "{images}", "--model", "{tmp}/no-model"], "no-model"),
    "run-unknown-backend": (["run", "{images}", "--backend", "nosuch"], "nosuch"),
    "run-bad-precision": (["run", "{images}", "--precision", "f8"], "--precision"),
    "run-bad-threads": (["run", "{images}", "--threads", "0"], "--threads"),
    "run-bad-nms-oks": (["run", "{images}", "--nms-oks", "1.5"], "--nms-oks"),
    "batch-no-source": (["batch", "--out", "{tmp}/b"], "SOURCE"),
    "batch-bad-nms-oks": (["batch", "{images}", "--out", "{tmp}/b", "--nms-oks", "2"], "--nms-oks"),
    "batch-bad-workers": (["batch", "{images}", "--out", "{tmp}/b", "--workers", "0"], "--workers"),
    "batch-bad-chunk-frames": (
        ["batch", "{images}", "--out", "{tmp}/b", "--chunk-frames", "-1"],
        "--chunk-frames",
    ),
    "watch-bad-queue": (["watch", "0", "--out", "{tmp}/w", "--queue", "0"], "--queue"),
    "watch-same-source-twice": (["watch", "{images}", "{images}", "--out", "{tmp}/w"], "unique"),
    "export-missing-checkpoint": (["export", "{tmp}/missing.pt"], "missing.pt"),
    "export-not-a-checkpoint": (["export", "{text}"], "notes.txt"),
    "export-unknown-format": (
        ["export", str(CHECKPOINT), "--format", "nosuch", "--out", "{tmp}/pkg"],
        "nosuch",
    ),
    "train-missing-config": (["train", "{tmp}/missing.toml"], "missing.toml"),
    "train-unknown-key": (["train", "{bad_toml}"], "nosuch"),
    "train-bad-set": (["train", str(SMOKE), "--set", "nosuch"], "nosuch"),
    "train-bad-threads": (["train", str(SMOKE), "--threads", "0"], "--threads"),
    "train-bad-device": (["train", str(SMOKE), "--device", "tpu"], "--device"),
    "train-bad-max-steps": (["train", str(SMOKE), "--max-steps", "0"], "--max-steps"),
    "eval-missing-gt": (["eval", "--gt", "{tmp}/no-gt", "--pred", "{tmp}"], "no-gt"),
    "eval-no-pred": (["eval", "--gt", "{tmp}"], "--pred"),
    "eval-malformed-gt": (["eval", "--gt", "{bad_json}", "--pred", "{bad_json}"], "bad.json"),
    "synth-out-under-a-file": (
        ["synth", "--out", "{text}/sub", "--videos", "1", "--frames", "1"],
        "notes.txt",
    ),
    "synth-bad-size": (["synth", "--out", "{tmp}/s", "--size", "big"], "--size"),
    "synth-zero-size": (["synth", "--out", "{tmp}/s", "--size", "0x240"], "--size"),
    "bench-unknown-section": (["bench", "--smoke", "--only", "nosuch"], "nosuch"),
    "info-missing-config": (["info", "--config", "{tmp}/missing.json"], "missing.json"),
    "info-malformed-config": (["info", "--config", "{bad_json}"], "bad.json"),
    "info-unknown-preset": (["info", "--preset", "nosuch"], "nosuch"),
    "info-bad-threads": (["info", "--threads", "0"], "--threads"),
    "info-bad-repeats": (["info", "--repeats", "0"], "--repeats"),
    "import-official-missing": (
        ["import-official", "{tmp}/missing.pth", "--out", "{tmp}/o"],
        "missing.pth",
    ),
    "import-official-bad-size": (
        ["import-official", "{tmp}/x.pth", "--out", "{tmp}/o", "--input-size", "big"],
        "--input-size",
    ),
    "doctor-missing-model": (["doctor", "--model", "{tmp}/no-model"], "no-model"),
}


@pytest.fixture
def paths(tmp_path: Path) -> dict[str, str]:
    """Inputs for the placeholders: an image folder, a text file, malformed configs."""
    import cv2
    import numpy as np

    images = tmp_path / "images"
    images.mkdir()
    cv2.imwrite(str(images / "000.png"), np.zeros((32, 32, 3), np.uint8))
    text = tmp_path / "notes.txt"
    text.write_text("not a video, a checkpoint or a folder\n")
    bad_json = tmp_path / "bad.json"
    bad_json.write_text("{bad")
    bad_toml = tmp_path / "bad.toml"
    bad_toml.write_text(SMOKE.read_text() + "\n[nosuch]\nkey = 1\n")
    return {
        "tmp": str(tmp_path), "images": str(images), "text": str(text),
        "bad_json": str(bad_json), "bad_toml": str(bad_toml),
    }  # fmt: skip


def error_line(stderr: str) -> str:
    """The one error line of ``stderr``; fails on a traceback or several error lines."""
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if ERROR_LINE.match(line)]
    assert len(lines) == 1, stderr
    return lines[0]


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_bad_input_is_one_error_line(case: str, paths, capsys, monkeypatch) -> None:
    argv, names = CASES[case]
    monkeypatch.chdir(paths["tmp"])  # anything a command writes by default lands here
    code = cli.main([arg.format(**paths) for arg in argv])
    line = error_line(capsys.readouterr().err)
    assert code == 2, line
    assert names in line
    assert not Path(paths["tmp"], "pkg").exists() and not Path(paths["tmp"], "o").exists()


@pytest.mark.parametrize("command", sorted(cli.COMMANDS))
def test_argument_errors_are_one_error_line(command: str, capsys) -> None:
    """An unknown option (or, first, a missing required argument): no usage block."""
    code = cli.main([command, "--no-such-option"])
    stderr = capsys.readouterr().err
    assert code == 2
    assert stderr.splitlines() == [error_line(stderr)]
    assert stderr.startswith(f"pavenet {command}: error: ")
    assert stderr.endswith(f" (see 'pavenet {command} --help')\n")


def test_unknown_option_names_its_command(capsys) -> None:
    assert cli.main(["doctor", "--no-such-option"]) == 2
    assert capsys.readouterr().err.startswith(
        "pavenet doctor: error: unrecognized arguments: --no-such-option"
    )


def test_missing_or_unknown_command(capsys) -> None:
    assert cli.main([]) == 2
    assert "required: COMMAND" in error_line(capsys.readouterr().err)
    assert cli.main(["nosuch"]) == 2
    assert "invalid choice: 'nosuch'" in error_line(capsys.readouterr().err)


def test_help_and_version_still_exit_zero(capsys) -> None:
    for argv in (["--help"], ["--version"], ["doctor", "--help"]):
        with pytest.raises(SystemExit) as exit_info:
            cli.main(argv)
        assert exit_info.value.code == 0
    assert capsys.readouterr().err == ""


def _raising(exc: BaseException):
    def command_main(args) -> int:
        raise exc

    return command_main


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (cli.UsageError("--window must be odd"), "--window must be odd"),
        (FileNotFoundError(2, "No such file or directory", "clip.mp4"),
         "clip.mp4: No such file or directory"),
        (PermissionError(13, "Permission denied", "/out"), "/out: Permission denied"),
        (IsADirectoryError("runs/ is a folder, give a file"), "runs/ is a folder, give a file"),
        (SystemExit("error: --threads must be >= 1"), "--threads must be >= 1"),
    ],
)  # fmt: skip
def test_input_errors_become_one_line(exc, expected, monkeypatch, capsys) -> None:
    monkeypatch.setattr(doctor, "main", _raising(exc))
    assert cli.main(["doctor"]) == 2
    assert capsys.readouterr().err == f"pavenet doctor: error: {expected}\n"


PACKAGE_INPUT_ERRORS = (
    ("pavenet_sdk.manifest", "PackageError"),
    ("pavenet_sdk.runtime.package", "PackageError"),
    ("pavenet_sdk.official.importer", "OfficialImportError"),
    ("pavenet_sdk.model.movenet_weights", "MoveNetFormatError"),
    ("pavenet_sdk.teachers.base", "TeacherError"),
    ("pavenet_sdk.teachers.labeller", "LabelError"),
)


@pytest.mark.parametrize(
    ("module", "name"), PACKAGE_INPUT_ERRORS, ids=[n for _, n in PACKAGE_INPUT_ERRORS]
)
def test_package_errors_are_input_errors(module, name, monkeypatch, capsys) -> None:
    error_class = getattr(pytest.importorskip(module), name)
    assert issubclass(error_class, InputError)
    exc = error_class.__new__(error_class)  # constructors differ; the message is what counts
    exc.args = ("m/manifest.json: no 'T'",)
    monkeypatch.setattr(doctor, "main", _raising(exc))
    assert cli.main(["doctor"]) == 2
    assert capsys.readouterr().err == "pavenet doctor: error: m/manifest.json: no 'T'\n"


def test_details_follow_the_error_line(monkeypatch, capsys) -> None:
    monkeypatch.setattr(doctor, "main", _raising(cli.UsageError("3 problems:\n  a\n  b")))
    assert cli.main(["doctor"]) == 2
    assert capsys.readouterr().err == "pavenet doctor: error: 3 problems:\n  a\n  b\n"


def test_user_input_block_marks_value_errors(monkeypatch, capsys) -> None:
    def command_main(args) -> int:
        with cli.user_input():
            int("seven")
        return 0

    monkeypatch.setattr(doctor, "main", command_main)
    assert cli.main(["doctor"]) == 2
    assert "invalid literal for int() with base 10: 'seven'" in error_line(capsys.readouterr().err)
    with pytest.raises(cli.UsageError), cli.user_input(KeyError):
        {}["key"]
    with pytest.raises(TypeError), cli.user_input():
        raise TypeError("not listed: still a bug")


@pytest.mark.parametrize(
    "exc", [ValueError("a bug"), TypeError("a bug"), KeyError("a bug"), RuntimeError("a bug")]
)
def test_bugs_keep_their_traceback(exc, monkeypatch) -> None:
    monkeypatch.setattr(doctor, "main", _raising(exc))
    with pytest.raises(type(exc), match="a bug"):
        cli.main(["doctor"])


def test_a_bug_while_evaluating_keeps_its_traceback(monkeypatch, tmp_path) -> None:
    """Only reading the files and pairing them are bad input; what follows is the command's."""
    import pavenet_sdk.data.annotations as annotations
    import pavenet_sdk.eval as evaluation
    from pavenet_sdk.layouts import POSETRACK_15

    monkeypatch.setattr(annotations, "read_annotations", lambda path, layout: ([], POSETRACK_15))
    monkeypatch.setattr(evaluation, "evaluate_sequences", lambda *a, **k: {"mean": 1.0})
    gt = tmp_path / "gt.json"
    gt.write_text("{}")
    with pytest.raises(KeyError, match="num_frames"):
        cli.main(["eval", "--gt", str(gt), "--pred", str(gt)])


def test_predictions_that_do_not_pair_are_one_error_line(monkeypatch, tmp_path, capsys) -> None:
    import pavenet_sdk.data.annotations as annotations
    from pavenet_sdk.data.types import Sequence
    from pavenet_sdk.layouts import POSETRACK_15

    def read(path, layout):
        return [Sequence(name=Path(path).stem, frames=[])], POSETRACK_15

    monkeypatch.setattr(annotations, "read_annotations", read)
    gt, pred = tmp_path / "gt.json", tmp_path / "pred.json"
    for path in (gt, pred):
        path.write_text("{}")
    assert cli.main(["eval", "--gt", str(gt), "--pred", str(pred)]) == 2
    assert "no prediction sequence named 'gt'" in error_line(capsys.readouterr().err)


def test_exit_codes_pass_through(monkeypatch) -> None:
    monkeypatch.setattr(doctor, "main", _raising(SystemExit(3)))
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["doctor"])
    assert exit_info.value.code == 3
    monkeypatch.setattr(doctor, "main", lambda args: 4)
    assert cli.main(["doctor"]) == 4


def test_debug_shows_the_traceback_of_input_errors(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("PAVENET_DEBUG", "1")
    with pytest.raises(FileNotFoundError, match="missing.pt"):
        cli.main(["export", str(tmp_path / "missing.pt")])


def test_ctrl_c_exits_130(monkeypatch, capsys) -> None:
    monkeypatch.setattr(doctor, "main", _raising(KeyboardInterrupt()))
    assert cli.main(["doctor"]) == 130
    assert capsys.readouterr().err == "pavenet doctor: interrupted\n"


def test_module_entry_point_prints_only_the_error_line(tmp_path: Path) -> None:
    missing = tmp_path / "missing.pt"
    proc = subprocess.run(
        [sys.executable, "-m", "pavenet_sdk.cli", "export", str(missing)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == f"pavenet export: error: checkpoint not found: {missing}\n"
    assert proc.stdout == ""
