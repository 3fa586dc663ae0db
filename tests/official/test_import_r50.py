"""Importing an official-format ResNet-50 checkpoint (synthetic, built from the inventory)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pavenet_sdk.model import build_model, get_preset
from pavenet_sdk.official.importer import (
    OfficialImportError,
    extract_state_dict,
    import_official,
    import_state_dict,
    key_map_for,
    load_official_state_dict,
)

N_FLOW, N_FC_HM, N_BN = 219, 2, 53


@pytest.fixture(scope="module")
def rows(r50_rows):
    return r50_rows


@pytest.fixture(scope="module")
def official(rows, make_synthetic):
    return make_synthetic(rows)


@pytest.fixture(scope="module")
def checkpoint_file(official, tmp_path_factory):
    """The synthetic weights saved like a DDP-trained mmcv checkpoint: ``module.`` prefixes,
    numpy scalars in ``meta`` and an optimizer entry."""
    path = tmp_path_factory.mktemp("official") / "pave_r50.pth"
    payload = {
        "state_dict": {"module." + k: v for k, v in official.items()},
        "meta": {"epoch": np.int64(24), "best_score": np.float64(0.8), "CLASSES": ("person",)},
        "optimizer": {"state": {}, "param_groups": [{"lr": 2e-4, "params": [0]}]},
    }
    torch.save(payload, path)
    return path


@pytest.fixture(scope="module")
def imported(checkpoint_file):
    """(model, report) of importing the file into paper-r50 at a small input size."""
    cfg = get_preset("paper-r50").replace(input_size=(128, 128))
    return import_official(checkpoint_file, cfg)


@pytest.fixture(scope="module")
def meta_model():
    with torch.device("meta"):
        return build_model("paper-r50")


def test_inventory_has_the_documented_size(rows):
    assert len(rows) == 964
    assert sum(c == "flow" for _, _, c in rows) == N_FLOW


def test_clean_import_uses_every_inference_tensor_once(imported, official):
    model, report = imported
    assert report.ok, report.format()
    assert not (report.missing or report.unexpected or report.shape_mismatch)
    assert report.mapped == len(official) - N_FLOW - N_FC_HM - N_BN == 690
    assert report.mapped == len(model.state_dict())
    assert report.skipped == {"RLE flow (training only)": N_FLOW, "unused heatmap head": N_FC_HM}
    assert report.dropped == N_BN
    assert report.parameters == 50_785_944 + 53_120  # weights + BN running statistics


def test_each_tensor_holds_exactly_its_official_tensor(imported, official):
    model, _ = imported
    key_map, unmapped = key_map_for(model)
    assert not unmapped
    assert len(set(key_map.values())) == len(key_map)  # injective: no tensor used twice
    state = model.state_dict()
    for ours, theirs in key_map.items():
        assert torch.equal(state[ours], official[theirs]), (ours, theirs)


@pytest.mark.parametrize(
    "ours, theirs",
    [
        ("backbone.layer3.5.bn2.running_var", "backbone.layer3.5.bn2.running_var"),
        ("neck.extra_convs.0.conv.weight", "neck.extra_convs.0.conv.weight"),
        ("position.level_embeds", "bbox_head.transformer.level_embeds"),
        (
            "encoder.layers.5.ffn.linear2.weight",
            "bbox_head.transformer.encoder.layers.5.ffns.0.layers.1.weight",
        ),
        ("encoder.layers.2.norm2.bias", "bbox_head.transformer.encoder.layers.2.norms.1.bias"),
        ("proposals.cls.weight", "bbox_head.cls_branches.3.weight"),
        ("proposals.pose.6.bias", "bbox_head.kpt_branches.3.6.bias"),
        ("proposals.sigma.2.weight", "bbox_head.dec_fc_sigma_branches.3.2.linear.weight"),
        ("proposals.enc_output_norm.weight", "bbox_head.transformer.enc_output_norm.weight"),
        ("pose_decoder.query_embedding.weight", "bbox_head.query_embedding.weight"),
        (
            "pose_decoder.layers.1.self_attn.in_proj_weight",
            "bbox_head.transformer.decoder.layers.1.attentions.0.attn.in_proj_weight",
        ),
        (
            "pose_decoder.layers.1.cross_attn.sampling_offsets.0.weight",
            "bbox_head.transformer.decoder.layers.1.attentions.1.pre_sampling_offsets.weight",
        ),
        (
            "pose_decoder.layers.2.cross_attn.attention_weights.2.bias",
            "bbox_head.transformer.decoder.layers.2.attentions.1.next_attention_weights.bias",
        ),
        (
            "pose_decoder.layers.0.cross_attn.sampling_offsets.1.bias",
            "bbox_head.transformer.decoder.layers.0.attentions.1.sampling_offsets.bias",
        ),
        (
            "pose_decoder.layers.2.norm3.weight",
            "bbox_head.transformer.decoder.layers.2.norms.2.weight",
        ),
        ("pose_decoder.pose_heads.0.2.4.weight", "bbox_head.pre_kpt_branches.2.4.weight"),
        ("pose_decoder.pose_heads.1.0.0.bias", "bbox_head.kpt_branches.0.0.bias"),
        ("pose_decoder.pose_heads.2.1.6.bias", "bbox_head.next_kpt_branches.1.6.bias"),
        ("pose_decoder.cls_heads.2.bias", "bbox_head.cls_branches.2.bias"),
        ("pose_decoder.sigma_heads.1.1.weight", "bbox_head.dec_fc_sigma_branches.1.1.weight"),
        (
            "joint_decoder.query_embedding.weight",
            "bbox_head.transformer.refine_query_embedding.weight",
        ),
        (
            "joint_decoder.layers.1.cross_attn.sampling_offsets.2.weight",
            "bbox_head.transformer.refine_decoder.layers.1.attentions.1.next_sampling_offsets.weight",
        ),
        (
            "joint_decoder.layers.0.self_attn.out_proj.bias",
            "bbox_head.transformer.refine_decoder.layers.0.attentions.0.attn.out_proj.bias",
        ),
        ("joint_decoder.pose_heads.0.1.4.bias", "bbox_head.pre_refine_kpt_branches.1.4.bias"),
        ("joint_decoder.pose_heads.1.0.2.weight", "bbox_head.refine_kpt_branches.0.2.weight"),
        (
            "joint_decoder.sigma_heads.1.2.bias",
            "bbox_head.refine_fc_sigma_branches.1.2.linear.bias",
        ),
    ],
)  # fmt: skip
def test_spot_checks_written_out_by_hand(imported, official, ours, theirs):
    assert torch.equal(imported[0].state_dict()[ours], official[theirs])


def test_query_embeddings_split_position_then_content(imported, official):
    model, _ = imported
    table = official["bbox_head.query_embedding.weight"]
    query, query_pos, _ = model.pose_decoder.initial_queries(1, None)
    assert torch.equal(query_pos[0], table[:, :256]) and torch.equal(query[0], table[:, 256:])


def test_mha_packing_matches_torch_multihead_attention():
    # the official self-attention is a torch nn.MultiheadAttention inside mmcv's wrapper:
    # loading its tensors unchanged into ours must give the same function
    torch.manual_seed(0)
    official = torch.nn.MultiheadAttention(256, 8).eval()
    ours = build_model(get_preset("paper-r50").replace(input_size=(128, 128)))
    attn = ours.pose_decoder.layers[0].self_attn.eval()
    attn.load_state_dict(official.state_dict())
    x, pos = torch.randn(2, 7, 256), torch.randn(2, 7, 256)
    q = (x + pos).transpose(0, 1)  # sequence-first, as mmcv calls it; value without pos
    expected = official(q, q, x.transpose(0, 1), need_weights=False)[0].transpose(0, 1)
    torch.testing.assert_close(attn(x, pos), expected, rtol=1e-5, atol=1e-5)


def test_frozen_bn_matches_batchnorm_in_eval_mode(imported, official):
    model = imported[0]
    bn = torch.nn.BatchNorm2d(64).eval()
    bn.load_state_dict({k[len("backbone.bn1.") :]: v for k, v in official.items()
                        if k.startswith("backbone.bn1.")})  # fmt: skip
    bn.running_var.abs_()  # keep the synthetic variances valid
    model.backbone.bn1.running_var.copy_(bn.running_var)
    x = torch.randn(1, 64, 5, 5)
    torch.testing.assert_close(model.backbone.bn1(x), bn(x))


def test_bare_state_dict_and_prefix_handling(official):
    bare = extract_state_dict({"module." + k: v for k, v in list(official.items())[:3]})
    assert list(bare) == list(official)[:3]
    with pytest.raises(ValueError, match="not a tensor"):
        extract_state_dict({"state_dict": {"a": 1}})
    with pytest.raises(ValueError, match="already a pavenet-sdk"):
        extract_state_dict({"format": "pavenet-checkpoint/1", "model": {}})


@pytest.fixture
def meta_official(rows, make_synthetic):
    """A fresh shapes-only (meta device) official state dict."""
    return make_synthetic(rows, device="meta")


def test_missing_key_is_reported_by_name(meta_official, meta_model):
    state = meta_official
    del state["bbox_head.transformer.decoder.layers.1.attentions.1.next_sampling_offsets.bias"]
    with pytest.raises(OfficialImportError) as err:
        import_state_dict(meta_model, state)
    report = err.value.report
    assert report.missing == [
        (
            "pose_decoder.layers.1.cross_attn.sampling_offsets.2.bias",
            "bbox_head.transformer.decoder.layers.1.attentions.1.next_sampling_offsets.bias",
        )
    ]
    assert not report.unexpected and not report.shape_mismatch
    assert "1 missing from the checkpoint" in str(err.value)
    assert "next_sampling_offsets.bias" in str(err.value)


def test_wrong_shape_is_reported_by_name(meta_official, meta_model):
    state = meta_official
    key = "bbox_head.refine_kpt_branches.1.4.weight"
    state[key] = torch.empty(3, 256, device="meta")
    with pytest.raises(OfficialImportError, match="refine_kpt_branches.1.4.weight") as err:
        import_state_dict(meta_model, state)
    assert err.value.report.shape_mismatch == [
        (key, (3, 256), "joint_decoder.pose_heads.1.1.4.weight", (2, 256))
    ]


def test_extra_key_is_reported_by_name(meta_official, meta_model):
    state = meta_official
    state["bbox_head.transformer.decoder.layers.3.norms.0.weight"] = torch.empty(256, device="meta")
    with pytest.raises(OfficialImportError, match="decoder.layers.3.norms.0.weight") as err:
        import_state_dict(meta_model, state)
    assert err.value.report.unexpected == ["bbox_head.transformer.decoder.layers.3.norms.0.weight"]


def test_many_problems_are_listed_with_counts(meta_official, meta_model):
    state = meta_official
    for key in [k for k in state if k.startswith("neck.")]:
        del state[key]
    with pytest.raises(OfficialImportError) as err:
        import_state_dict(meta_model, state)
    text = err.value.report.format(max_items=3)
    assert "12 missing from the checkpoint" in text and "... and 9 more" in text


def test_hm_encoder_keys_are_skipped(meta_official, meta_model):
    state = meta_official
    state["bbox_head.transformer.hm_encoder.layers.0.norms.0.weight"] = torch.empty(256)
    report = import_state_dict(meta_model, state)
    assert report.skipped["unused heatmap encoder"] == 1


def test_other_model_configs_are_refused():
    cfg = get_preset("paper-r50").replace(T=2)
    with torch.device("meta"):
        model = build_model(cfg)
    with pytest.raises(ValueError, match="3-frame"):
        key_map_for(model)


def test_pickled_code_is_refused(tmp_path):
    sentinel = tmp_path / "executed"

    class Evil:
        def __reduce__(self):
            return (open, (str(sentinel), "w"))

    path = tmp_path / "evil.pth"
    torch.save({"state_dict": {"a": torch.zeros(1)}, "meta": {"x": Evil()}}, path)
    with pytest.raises(ValueError, match="not a readable plain tensor checkpoint"):
        load_official_state_dict(path)
    assert not sentinel.exists()


def test_missing_file_is_reported(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_official_state_dict(tmp_path / "nope.pth")
