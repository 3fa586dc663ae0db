"""ModelConfig presets, validation, (de)serialisation and derived level shapes."""

from __future__ import annotations

import json

import pytest
import torch

from pavenet_sdk.model import PRESETS, ModelConfig, build_model, get_preset


def test_paper_preset_matches_the_spec():
    cfg = get_preset("paper-r50")
    assert (cfg.d_model, cfg.num_heads, cfg.num_levels, cfg.num_joints) == (256, 8, 4, 15)
    assert (cfg.encoder.num_layers, cfg.encoder.num_points, cfg.encoder.ffn_dim) == (6, 4, 1024)
    assert (cfg.pose_decoder.num_layers, cfg.pose_decoder.num_queries) == (3, 300)
    assert (cfg.joint_decoder.num_layers, cfg.joint_decoder.num_points) == (2, 4)
    assert (cfg.top_k, cfg.T, cfg.num_frames, cfg.input_size) == (20, 1, 3, (800, 1333))
    assert cfg.backbone.depth == 50 and cfg.backbone.frozen_stages == 1
    # 800x1333 gives the 22,223 tokens per frame of the paper configuration
    assert cfg.level_shapes == [(100, 167), (50, 84), (25, 42), (13, 21)]
    assert cfg.num_tokens == 22223


def test_tiny_preset_is_small():
    cfg = get_preset("tiny")
    assert cfg.input_size == (192, 192) and cfg.d_model == 64 and cfg.num_heads == 4
    assert cfg.backbone.depth == 18 and cfg.backbone.width == 32
    assert 30 <= cfg.pose_decoder.num_queries <= 50 and cfg.top_k == 20


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_dict_round_trip_through_json(name):
    cfg = get_preset(name).replace(**{"encoder.num_layers": 3, "T": 2})
    again = ModelConfig.from_dict(json.loads(json.dumps(cfg.to_dict())))
    assert again == cfg and again.input_size == cfg.input_size


def test_replace_with_dotted_keys():
    cfg = get_preset("tiny").replace(input_size=(96, 128), **{"backbone.depth": 34})
    assert cfg.input_size == (96, 128) and cfg.backbone.depth == 34
    assert get_preset("tiny").backbone.depth == 18  # presets are fresh, frozen objects
    with pytest.raises(ValueError, match="unknown config field"):
        cfg.replace(**{"encoder.nope": 1})
    with pytest.raises(ValueError, match="unknown config field"):
        cfg.replace(colour="red")


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"temporal": "video"}, "temporal"),
        ({"encoder_type": "global"}, "encoder_type"),
        ({"references": "fixed"}, "references"),
        ({"num_heads": 3}, "divisible"),
        ({"T": -1}, "T must be"),
        ({"input_size": (16, 16)}, "input_size"),
        ({"backbone.depth": 101}, "depth"),
        ({"loss.reg": "mse"}, "loss.reg"),
        ({"neck.gn_groups": 7}, "gn_groups"),
    ],
)
def test_invalid_values_raise(changes, message):
    with pytest.raises(ValueError, match=message):
        get_preset("tiny").replace(**changes)


def test_from_dict_rejects_unknown_and_wrong_types():
    d = get_preset("tiny").to_dict()
    with pytest.raises(ValueError, match="unknown"):
        ModelConfig.from_dict({**d, "extra": 1})
    with pytest.raises(TypeError):
        ModelConfig.from_dict([1, 2])
    with pytest.raises(ValueError, match="unknown preset"):
        get_preset("huge")


@pytest.mark.parametrize(
    "size, extra", [((64, 64), 1), ((70, 90), 1), ((65, 97), 0), ((64, 64), 2)]
)
def test_level_shapes_match_the_network(make_config, size, extra):
    cfg = make_config(input_size=size, **{"neck.num_extra_levels": extra})
    model = build_model(cfg).eval()
    with torch.no_grad():
        maps = model.neck(model.backbone(torch.zeros(1, 3, *size)))
    assert [tuple(m.shape[-2:]) for m in maps] == cfg.level_shapes
    assert model.level_shapes == cfg.level_shapes
    assert model.num_tokens == sum(h * w for h, w in cfg.level_shapes)


def test_config_and_inventory_import_without_torch():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from pavenet_sdk.model.presets import get_preset\n"
        "from pavenet_sdk.official.inventory import COMPONENTS\n"
        "assert get_preset('tiny').num_tokens == 765\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_preset_layouts(name):
    """The paper's presets (and tiny/micro) stay PoseTrack-15; ``small`` speaks COCO-17."""
    expected, k = ("coco-17", 17) if name == "small" else ("posetrack-15", 15)
    cfg = get_preset(name)
    assert cfg.layout == expected and cfg.num_joints == k
    assert cfg.joint_layout.name == expected
    assert cfg.to_dict()["layout"] == expected


def test_layout_sets_k():
    cfg = get_preset("tiny").replace(layout="coco-17")
    assert cfg.num_joints == 17 and cfg.joint_layout.sigmas[1] == pytest.approx(0.025)
    again = ModelConfig.from_dict(json.loads(json.dumps(cfg.to_dict())))
    assert again == cfg
    with pytest.raises(ValueError, match="layout must be one of"):
        get_preset("tiny").replace(layout="mpii-16")
    with pytest.raises(ValueError, match="unknown config field 'num_joints'"):
        get_preset("tiny").replace(num_joints=17)  # K follows the layout, it is not set


def test_dicts_from_before_layouts_load_as_posetrack_15():
    old = get_preset("tiny").to_dict()
    del old["layout"]
    old["num_joints"] = 15  # what checkpoints and packages stored before
    cfg = ModelConfig.from_dict(old)
    assert cfg == get_preset("tiny") and cfg.layout == "posetrack-15"
    with pytest.raises(ValueError, match="num_joints 17 contradicts layout 'posetrack-15'"):
        ModelConfig.from_dict({**old, "num_joints": 17})
    with pytest.raises(ValueError, match="contradicts layout 'coco-17'"):
        ModelConfig.from_dict({**old, "layout": "coco-17"})  # num_joints 15
    both = ModelConfig.from_dict({**old, "layout": "coco-17", "num_joints": 17})
    assert both.num_joints == 17


def test_from_dict_checks_types_and_names_nested_keys():
    d = get_preset("tiny").to_dict()
    with pytest.raises(TypeError, match="T must be an integer"):
        ModelConfig.from_dict({**d, "T": "2"})
    with pytest.raises(ValueError, match="unknown config field 'encoder.depth'"):
        ModelConfig.from_dict({**d, "encoder": {**d["encoder"], "depth": 3}})
    with pytest.raises(TypeError, match="encoder must be a table"):
        ModelConfig.from_dict({**d, "encoder": 3})
    cfg = ModelConfig.from_dict({**d, "input_size": [96, 128], "loss": {"cls_weight": 1}})
    assert cfg.input_size == (96, 128) and cfg.loss.cls_weight == 1.0
    assert isinstance(cfg.loss.cls_weight, float)


def test_coco_17_model_shapes(make_config):
    cfg = make_config(layout="coco-17")
    model = build_model(cfg).eval()
    assert model.state_dict()["joint_decoder.query_embedding.weight"].shape[0] == 17
    with torch.no_grad():
        out = model(torch.randn(2, cfg.num_frames, 3, *cfg.input_size))
    P = cfg.top_k
    assert out["poses"].shape == (2, P, 17, 2) and out["sigmas"].shape == (2, P, 17, 2)
    assert out["logits"].shape == (2, P)
