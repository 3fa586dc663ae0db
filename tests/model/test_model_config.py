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
        "from pavenet_sdk.model.config import get_preset\n"
        "from pavenet_sdk.model.inventory import COMPONENTS\n"
        "assert get_preset('tiny').num_tokens == 765\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
