"""End-to-end runs of ``pavenet train`` on the micro config (seconds each)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("scipy")

from pavenet_sdk.cli import main as cli_main  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_PARENT = Path(cli_main.__code__.co_filename).resolve().parents[1]  # installed or source
SMOKE = ROOT / "configs" / "ci-smoke.toml"


def _steps(run: Path, kind: str) -> list[int]:
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    return [r["step"] for r in rows if r["kind"] == kind]


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("train") / "smoke"
    args = ["train", str(SMOKE), "--out", str(out), "--no-progress", "--threads", "1"]
    assert cli_main(args) == 0
    return out


def test_smoke_run_writes_outputs(smoke_run: Path) -> None:
    for name in (
        "config.json",
        "metrics.jsonl",
        "metrics.csv",
        "training_curve.png",
        "last.pt",
        "best.pt",
    ):
        assert (smoke_run / name).is_file(), name
    assert _steps(smoke_run, "train") == [2, 4]
    assert _steps(smoke_run, "eval") == [2, 4]
    from pavenet_sdk.checkpoint import load_model, read_checkpoint

    payload = read_checkpoint(smoke_run / "last.pt")
    assert payload["step"] == 4 and payload["run_config"]["run"]["name"] == "ci-smoke"
    assert set(payload["optimizer"]) == {"state", "param_groups"}
    model = load_model(smoke_run / "last.pt")
    assert model.cfg.input_size == (64, 64) and model.cfg.T == 1


def test_resume_continues_the_step_count(smoke_run: Path, tmp_path: Path) -> None:
    run = tmp_path / "resumed"
    run.mkdir()
    for name in ("last.pt", "metrics.jsonl"):
        (run / name).write_bytes((smoke_run / name).read_bytes())
    code = cli_main(["train", str(SMOKE), "--out", str(run), "--resume", str(run / "last.pt"),
                     "--max-steps", "6", "--no-progress"])  # fmt: skip
    assert code == 0
    from pavenet_sdk.checkpoint import read_checkpoint

    assert read_checkpoint(run / "last.pt")["step"] == 6
    assert _steps(run, "train") == [2, 4, 6]


def test_resume_with_another_model_config_fails_clearly(
    smoke_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "other.toml"
    other.write_text(SMOKE.read_text().replace("T = 1", "T = 2"))
    code = cli_main(["train", str(other), "--out", str(tmp_path / "x"),
                     "--resume", str(smoke_run / "last.pt"), "--no-progress"])  # fmt: skip
    assert code == 2
    assert re.search("different model config.*T: checkpoint 1 vs config 2", capsys.readouterr().err)


def test_init_from_image_model_fills_every_frame(smoke_run: Path, tmp_path: Path) -> None:
    from pavenet_sdk.checkpoint import read_checkpoint
    from pavenet_sdk.model import build_model
    from pavenet_sdk.train.config import load_config
    from pavenet_sdk.train.state import load_matching_weights

    cfg = load_config(SMOKE).model_config().replace(T=2)  # 5 frames from a 3-frame checkpoint
    model = build_model(cfg)
    copied, total = load_matching_weights(model, smoke_run / "last.pt")
    assert copied == total
    src = read_checkpoint(smoke_run / "last.pt")["model"]
    state = model.state_dict()
    name = next(k for k in src if "pose_decoder.pose_heads.1.0." in k)  # centre of 3
    assert torch.equal(state[name.replace("pose_heads.1.", "pose_heads.2.")], src[name])
    edge = next(k for k in src if "pose_decoder.pose_heads.0.0." in k)  # first of 3
    assert torch.equal(state[edge], src[edge])  # 5-frame 0 clamps to 3-frame 0
    assert torch.equal(state[edge.replace("heads.0.", "heads.1.")], src[edge])  # offset -1


def test_coco_17_model_trains_and_evaluates(tmp_path: Path) -> None:
    out = tmp_path / "coco"
    code = cli_main(["train", str(SMOKE), "--out", str(out), "--max-steps", "1", "--no-progress",
                     "--threads", "1", "--set", "model.overrides.layout=coco-17"])  # fmt: skip
    assert code == 0
    from pavenet_sdk.checkpoint import load_model, read_checkpoint

    model = load_model(out / "last.pt")
    assert model.cfg.layout == "coco-17" and model.cfg.num_joints == 17
    assert read_checkpoint(out / "last.pt")["config"]["layout"] == "coco-17"
    assert _steps(out, "eval") == [1]  # scored on the joints it shares with PoseTrack-15


def test_bad_cli_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["train", str(tmp_path / "missing.toml")]) == 2
    assert "missing.toml" in capsys.readouterr().err
    assert cli_main(["train", str(SMOKE), "--threads", "0"]) == 2
    assert "--threads" in capsys.readouterr().err
    assert cli_main(["train", str(SMOKE), "--set", "run.threads=0"]) == 2
    assert "threads must be >= 1" in capsys.readouterr().err


def test_a_bug_in_the_training_loop_keeps_its_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pavenet_sdk.train.loop import Trainer

    def broken_step(self, batches):
        raise ValueError("a bug in a training step")

    monkeypatch.setattr(Trainer, "_train_step", broken_step)
    with pytest.raises(ValueError, match="a bug in a training step"):
        cli_main(["train", str(SMOKE), "--out", str(tmp_path / "run"), "--no-progress",
                  "--threads", "1", "--set", "eval.videos=0"])  # fmt: skip


@pytest.mark.slow
def test_torchrun_two_cpu_processes(tmp_path: Path) -> None:
    out = tmp_path / "ddp"
    env = {**os.environ, "PYTHONPATH": str(PACKAGE_PARENT), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "pavenet_sdk.cli", "train", str(SMOKE), "--out", str(out), "--max-steps", "2",
           "--no-progress", "--device", "cpu", "--set", "eval.videos=0"]  # fmt: skip
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert _steps(out, "train") == [2]  # rank 0 alone writes the log
    from pavenet_sdk.checkpoint import read_checkpoint

    assert read_checkpoint(out / "last.pt")["step"] == 2
    assert proc.stdout.count("trained 2 steps") == 1


def test_init_from_keeps_the_trained_flows(smoke_run: Path) -> None:
    from pavenet_sdk.checkpoint import read_checkpoint
    from pavenet_sdk.model import SetCriterion, get_preset
    from pavenet_sdk.train.state import load_criterion

    saved = read_checkpoint(smoke_run / "last.pt")["criterion"]
    criterion = SetCriterion(get_preset("tiny"))  # flows do not depend on the model size
    assert load_criterion(criterion, saved) == len(saved) > 0
    for name, tensor in criterion.state_dict().items():
        assert torch.equal(tensor, saved[name])
