"""Run-config parsing and validation (no torch needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pavenet_sdk.train.config import HELD_OUT_SEED_START, TrainConfig, load_config

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def _write(tmp_path: Path, text: str, name: str = "run.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("*.toml")), ids=lambda p: p.name)
def test_shipped_configs_parse(path: Path) -> None:
    cfg = load_config(path)
    assert cfg.run.name == path.stem
    assert cfg.data.seed_range[1] <= cfg.eval.seed_start
    # the model part must resolve to a valid ModelConfig too
    assert cfg.model_config().num_joints == 15


def test_defaults_and_overrides(tmp_path: Path) -> None:
    path = _write(tmp_path, """
[run]
name = "x"
[model.overrides]
T = 2
encoder = { num_layers = 1 }
[train]
max_steps = 7
""")
    cfg = load_config(path, overrides={"data": {"batch_size": 3}})
    assert cfg.run.name == "x" and cfg.train.max_steps == 7 and cfg.data.batch_size == 3
    assert cfg.model.overrides == {"T": 2, "encoder.num_layers": 1}
    mc = cfg.model_config()
    assert mc.T == 2 and mc.encoder.num_layers == 1
    assert cfg.eval.seed_start == HELD_OUT_SEED_START
    # round trip through the plain dict stored in checkpoints
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg


def test_yaml_config(tmp_path: Path) -> None:
    pytest.importorskip("yaml")
    path = _write(tmp_path, "train:\n  max_steps: 3\ndata:\n  batch_size: 2\n", "run.yaml")
    cfg = load_config(path)
    assert cfg.train.max_steps == 3 and cfg.data.batch_size == 2 and cfg.run.name == "run"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[trian]\nmax_steps = 1", "unknown config section"),
        ("[train]\nmax_step = 1", "unknown key"),
        ("[train]\nmax_steps = 'ten'", "must be an integer"),
        ("[train]\nmax_steps = 0", "set train.max_steps"),
        ("[train]\nmax_steps = 5\n[optim]\nlr = -1.0", "optim.lr must be > 0"),
        ("[train]\nmax_steps = 5\n[optim]\nschedule = 'linear'", "optim.schedule"),
        ("[train]\nmax_steps = 5\n[data]\nseed_range = [0, 2000000000]", "held-out"),
        ("[train]\nmax_steps = 5\n[data]\nkind = 'posetrack'", "data.root"),
        ("[train]\nepochs = 2", "finite dataset"),
        ("[train]\nmax_steps = 5\n[run]\ndevice = 'tpu'", "run.device"),
        ("[train]\nmax_steps = 5\n[augment]\nenabled = 1", "true or false"),
        ("[train]\nmax_steps = 5\n[data]\npersons = [3, 1]", "data.persons"),
        ("[train\nmax_steps = 5", "invalid TOML"),
    ],
)
def test_invalid_configs(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load_config(_write(tmp_path, text))


def test_unknown_model_override_is_rejected(tmp_path: Path) -> None:
    cfg = load_config(_write(tmp_path, "[train]\nmax_steps = 1\n[model.overrides]\ndepth = 3\n"))
    with pytest.raises(ValueError, match="unknown config field"):
        cfg.model_config()


def test_missing_file_and_suffix(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_config(tmp_path / "nope.toml")
    with pytest.raises(ValueError, match="unsupported config type"):
        load_config(_write(tmp_path, "{}", "run.json"))


def test_replace_section() -> None:
    cfg = TrainConfig.from_dict({"train": {"max_steps": 3}})
    assert cfg.replace("train", max_steps=9).train.max_steps == 9
    with pytest.raises(ValueError, match="unknown config section"):
        cfg.replace("nope", x=1)


def test_command_line_assignments(tmp_path: Path) -> None:
    from pavenet_sdk.train.config import deep_update, parse_assignment

    assert parse_assignment("optim.lr=1e-4") == {"optim": {"lr": 1e-4}}
    assert parse_assignment("model.overrides.T=2") == {"model": {"overrides": {"T": 2}}}
    assert parse_assignment("model.init_from=runs/a/last.pt") == {
        "model": {"init_from": "runs/a/last.pt"}}  # unquoted text stays a string
    assert parse_assignment("eval.presets=['easy']") == {"eval": {"presets": ["easy"]}}
    for bad in ("lr=1", "optim.lr", ".lr=1"):
        with pytest.raises(ValueError, match="SECTION.KEY=VALUE"):
            parse_assignment(bad)
    overrides: dict = {}
    deep_update(overrides, parse_assignment("model.overrides.T=2"))
    deep_update(overrides, parse_assignment("model.overrides.temporal=image"))
    cfg = load_config(_write(tmp_path, "[train]\nmax_steps = 1\n[model.overrides]\nT = 1\n"),
                      overrides)  # fmt: skip
    assert cfg.model.overrides == {"T": 2, "temporal": "image"}
