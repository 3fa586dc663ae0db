"""``pavenet info`` and the complexity helpers."""

from __future__ import annotations

import argparse
import json

import pytest

from pavenet_sdk.commands import info
from pavenet_sdk.model import build_model
from pavenet_sdk.model.complexity import decoder_flops, frame_latency, sampling_flops


def _args(**kw):
    parser = argparse.ArgumentParser()
    info.add_arguments(parser)
    args = parser.parse_args([])
    for k, v in kw.items():
        setattr(args, k, v)
    return args


def test_info_prints_components_flops_and_writes_json(tmp_path, capsys, make_config):
    cfg_path = tmp_path / "cfg.json"
    cfg_path.write_text(json.dumps(make_config().to_dict()))
    out_json = tmp_path / "info.json"
    assert info.main(_args(config=cfg_path, json=out_json)) == 0
    text = capsys.readouterr().out
    for label in ("backbone", "STPD layers", "STJD heads", "total", "GFLOPs", "sampling"):
        assert label in text
    assert "official R50" not in text  # only R50 builds are compared with the official one
    report = json.loads(out_json.read_text())
    params = report["params"]["ours"]
    model = build_model(make_config())
    weights = model.state_dict()
    expected = sum(
        v.numel() for k, v in weights.items() if "running_" not in k and "num_b" not in k
    )
    assert sum(params.values()) == expected
    assert report["complexity"]["flops"]["stpd"]["total"] > 0


def test_decoder_flops_and_latency(make_config):
    model = build_model(make_config(**{"backbone.frozen_stages": 1})).train()
    flags = [p.requires_grad for p in model.parameters()]
    assert not all(flags)
    flops = decoder_flops(model)
    cfg = model.cfg
    # the value projection of each STPD layer covers all F * N memory tokens
    tokens = cfg.num_frames * cfg.num_tokens
    assert flops["stpd"]["value_proj"] == cfg.pose_decoder.num_layers * 2 * tokens * cfg.d_model**2
    assert flops["stpd"]["sampling"] == sampling_flops(model)["stpd"] > 0
    assert flops["stjd"]["total"] == flops["stjd"]["dense"] + flops["stjd"]["sampling"]
    assert [p.requires_grad for p in model.parameters()] == flags  # restored
    latency = frame_latency(model, repeats=2)
    assert latency["per_frame_min"] == pytest.approx(latency["encode_min"] + latency["decode_min"])
    assert model.training  # restored


def test_info_compares_paper_r50_with_the_official_inventory(capsys):
    from pavenet_sdk.official.inventory import official_inventory_path

    if official_inventory_path() is None:
        pytest.skip("official inventory not available")
    assert info.main(_args(preset="paper-r50", no_flops=True)) == 0
    text = capsys.readouterr().out
    total = next(line for line in text.splitlines() if line.startswith("total"))
    assert total.split()[1:] == ["50,785,944", "50,785,944", "0"]
