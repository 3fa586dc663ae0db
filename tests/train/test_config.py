"""Run-config parsing and validation (no torch needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pavenet_sdk.train.config import (
    HELD_OUT_SEED_START,
    AugmentSection,
    TrainConfig,
    load_config,
)

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
    from pavenet_sdk.layouts import get_layout

    mc = cfg.model_config()
    assert mc.num_joints == get_layout(mc.layout).num_joints


def test_defaults_and_overrides(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
[run]
name = "x"
[model.overrides]
T = 2
encoder = { num_layers = 1 }
[train]
max_steps = 7
""",
    )
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
        ("[trian]\nmax_steps = 1", "unknown config field 'trian'"),
        ("[train]\nmax_step = 1", "unknown config field 'train.max_step'"),
        ("[train]\nmax_steps = 'ten'", "must be an integer"),
        ("[train]\nmax_steps = 0", "set train.max_steps"),
        ("[train]\nmax_steps = 5\n[optim]\nlr = -1.0", "optim.lr must be > 0"),
        ("[train]\nmax_steps = 5\n[optim]\nschedule = 'linear'", "optim.schedule"),
        ("[train]\nmax_steps = 5\n[data]\nseed_range = [0, 2000000000]", "held-out"),
        ("[train]\nmax_steps = 5\n[data]\nkind = 'posetrack'", "data.root"),
        ("[train]\nepochs = 2", "finite dataset"),
        ("[train]\nmax_steps = 5\n[run]\ndevice = 'tpu'", "run.device"),
        ("[train]\nmax_steps = 5\n[augment]\nenabled = 1", "augment.enabled must be true or false"),
        ("[train]\nmax_steps = 5\n[augment]\nhue = -1", "augment.hue must be >= 0"),
        ("[train]\nmax_steps = 5\n[augment]\nrotate_prob = 2", "augment.rotate_prob"),
        ("[train]\nmax_steps = 5\n[data]\nkind = 'coco'", "data.root"),
        ("[train]\nmax_steps = 5\n[data]\nframe_size = [1, 2, 3]", "data.frame_size"),
        ("[train]\nmax_steps = 5\n[data]\npersons = [3, 1]", "data.persons"),
        ("[train\nmax_steps = 5", "invalid TOML"),
        ("[train]\nmax_steps = 5\n[data]\nholdout = ['a']", "data.holdout needs a file dataset"),
        (
            "[train]\nmax_steps = 5\n[data]\nkind = 'coco'\nroot = 'x'\nholdout = ['a', 'a']",
            r"data.holdout lists \['a'\] more than once",
        ),
        (
            "[train]\nmax_steps = 5\n[data]\nkind = 'coco'\nroot = 'x'\nsynthetic_share = 1.0",
            r"data.synthetic_share must be in \[0, 1\)",
        ),
        (
            "[train]\nmax_steps = 5\n[data]\nkind = 'coco'\nroot = 'x'\nsynthetic_preset = 'x'",
            "data.synthetic_preset must be one of",
        ),
        ("[train]\nmax_steps = 5\n[data]\nsynthetic_share = 0.1", "needs a file dataset"),
        ("[train]\nmax_steps = 5\n[data.paste]\nlabels = 'p'", "data.paste.labels needs a file"),
        ("[train]\nmax_steps = 5\n[data.paste]\nmasks = 'coco'", "data.paste.masks must be"),
        ("[train]\nmax_steps = 5\n[data.paste]\nprobability = 1.5", "data.paste.probability"),
        ("[train]\nmax_steps = 5\n[data.paste]\ncount = [3, 1]", "data.paste.count must be"),
        (
            "[train]\nmax_steps = 5\n[data.paste]\nlabel = 'p'",
            "unknown config field 'data.paste.label'",
        ),
        ("[train]\nmax_steps = 5\n[eval]\nsequences = ['a']", "eval.sequences needs eval.labels"),
        ("[train]\nmax_steps = 5\n[eval]\nframes_per_clip = -1", "eval.frames_per_clip"),
        (
            "[train]\nmax_steps = 5\n[data]\nkind = 'coco'\nroot = 'l'\n[eval]\nlabels = 'l'",
            "name the held-out clips",
        ),
        (
            "[train]\nmax_steps = 5\n[data]\nkind = 'coco'\nroot = 'l'\nholdout = ['a']\n"
            "[eval]\nlabels = 'l/'\nsequences = ['a', 'b']",
            r"eval.sequences \['b'\] are training clips: add them to data.holdout",
        ),
    ],
)
def test_invalid_configs(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load_config(_write(tmp_path, text))


def test_relative_paths_resolve_against_the_config_folder(tmp_path: Path) -> None:
    folder = tmp_path / "configs"
    folder.mkdir()
    text = """
[train]
max_steps = 1
[model]
init_from = "../runs/a/last.pt"
backbone_init = "/abs/movenet.onnx"
[data]
kind = "coco"
root = "../data/labels"
holdout = ["clip"]
[data.paste]
labels = "~/pennfudan"
[eval]
labels = "../data/labels"
sequences = ["clip"]
"""
    cfg = load_config(_write(folder, text))
    assert cfg.model.init_from == str(tmp_path / "runs" / "a" / "last.pt")
    assert cfg.model.backbone_init == "/abs/movenet.onnx"
    assert cfg.data.root == cfg.eval.labels == str(tmp_path / "data" / "labels")
    assert cfg.data.paste.labels == str(Path("~/pennfudan").expanduser())
    assert cfg.data.image_root == cfg.data.paste.mask_dir == ""  # empty stays empty
    # values given on the command line are relative to the current directory
    cli = load_config(folder / "run.toml", {"model": {"init_from": "runs/b.pt"}})
    assert cli.model.init_from == "runs/b.pt"


def test_paste_section_is_a_paste_config() -> None:
    from pavenet_sdk.data.copy_paste import PasteConfig

    paste = {"labels": "p", "count": [2, 4], "max_drift": 0.0}
    data = {"kind": "coco", "root": "x", "paste": paste}
    cfg = TrainConfig.from_dict({"train": {"max_steps": 1}, "data": data})
    assert cfg.data.paste.paste_config() == PasteConfig(count=(2, 4), max_drift=0.0)
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg


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
    with pytest.raises(ValueError, match="unknown config field 'nope.x'"):
        cfg.replace("nope", x=1)


def test_command_line_assignments(tmp_path: Path) -> None:
    from pavenet_sdk.train.config import deep_update, parse_assignment

    assert parse_assignment("optim.lr=1e-4") == {"optim": {"lr": 1e-4}}
    assert parse_assignment("model.overrides.T=2") == {"model": {"overrides": {"T": 2}}}
    assert parse_assignment("model.init_from=runs/a/last.pt") == {
        "model": {"init_from": "runs/a/last.pt"}
    }  # unquoted text stays a string
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


def test_every_augmentation_knob_is_settable(tmp_path: Path) -> None:
    from dataclasses import fields

    from pavenet_sdk.data.transforms import AugmentConfig

    values = {"flip": 0.25, "rotate": 12.0, "rotate_prob": 0.75, "scale": 0.3, "translate": 0.05,
              "photometric": False, "photometric_prob": 0.2, "brightness": 10.0,
              "contrast": 0.1, "saturation": 0.2, "hue": 5.0, "zoom": 0.5,
              "zoom_height": [0.3, 0.8], "zoom_max_upscale": 2.0, "background": 0.1,
              "background_height": [0.2, 0.5], "background_margin": 0.3}  # fmt: skip
    assert set(values) == {f.name for f in fields(AugmentConfig)}  # a new knob needs a test
    lines = "\n".join(f"{k} = {str(v).lower() if isinstance(v, bool) else v}"
                      for k, v in values.items())  # fmt: skip
    cfg = load_config(_write(tmp_path, f"[train]\nmax_steps = 1\n[augment]\n{lines}\n"))
    assert cfg.augment.augment_config() == AugmentConfig(
        **{**values, "zoom_height": (0.3, 0.8), "background_height": (0.2, 0.5)}
    )
    off = load_config(_write(tmp_path, "[train]\nmax_steps = 1\n[augment]\nenabled = false\n"))
    assert off.augment.augment_config() is None
    # the defaults of the run config are the transform's own defaults
    assert AugmentSection().augment_config() == AugmentConfig()


def test_model_layout_from_the_run_config(tmp_path: Path) -> None:
    path = _write(tmp_path, "[train]\nmax_steps = 1\n[model.overrides]\nlayout = 'coco-17'\n")
    mc = load_config(path).model_config()
    assert mc.layout == "coco-17" and mc.num_joints == 17
    bad = _write(tmp_path, "[train]\nmax_steps = 1\n[model.overrides]\nlayout = 'mpii'\n")
    with pytest.raises(ValueError, match="layout must be one of"):
        load_config(bad).model_config()


def test_shared_dataclass_helper_on_the_run_config() -> None:
    from pavenet_sdk.config import from_dict, replace, to_dict

    cfg = TrainConfig.from_dict({"train": {"max_steps": 3}})
    changed = replace(cfg, "optim.lr", 5e-4)
    assert changed.optim.lr == 5e-4 and cfg.optim.lr == 3e-4  # frozen: a copy
    both = replace(cfg, {"optim.lr": 1e-3, "model.overrides.T": 2, "eval.presets": ["easy"]})
    assert both.optim.lr == 1e-3 and both.model.overrides == {"T": 2}
    assert both.eval.presets == ("easy",)  # lists become tuples
    assert from_dict(TrainConfig, to_dict(both)) == both
    with pytest.raises(ValueError, match="unknown config field 'optim.learning_rate'"):
        replace(cfg, "optim.learning_rate", 1.0)
    with pytest.raises(TypeError, match="optim.lr must be a number"):
        replace(cfg, "optim.lr", "fast")


def test_every_config_key_is_documented() -> None:
    from dataclasses import fields
    from typing import get_type_hints

    from pavenet_sdk.train.config import PasteSection

    doc = (CONFIGS.parent / "docs" / "training.md").read_text()
    sections = [*get_type_hints(TrainConfig).items(), ("data.paste", PasteSection)]
    for section, section_type in sections:
        for key in fields(section_type):
            name = f"{section}.{key.name}"  # "`section.key`" or "`key`" in a grouped row
            assert f"`{name}`" in doc or f"`{key.name}`" in doc, f"{name} is not in training.md"


def test_run_config_imports_without_torch() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from pavenet_sdk.train.config import load_config\n"
        f"cfg = load_config({str(CONFIGS / 'ci-smoke.toml')!r})\n"
        "assert cfg.model_config().num_joints == 15\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
