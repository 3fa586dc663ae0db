"""The Swin backbone (``paper-swinl``) and importing the official Swin-L layout."""

from __future__ import annotations

import io
import warnings

import pytest
import torch

from pavenet_sdk.model import ModelConfig, build_model, get_preset
from pavenet_sdk.model.config import BackboneConfig
from pavenet_sdk.model.swin import PatchMerging, ShiftWindowMSA, relative_position_index
from pavenet_sdk.official.importer import import_state_dict, key_map_for


def _small_swin(**overrides):
    """paper-swinl's structure at toy size (64x64 input, embed 16, 2 blocks per stage)."""
    base = {
        "input_size": (64, 64),
        "backbone.embed_dim": 16,
        "backbone.stage_depths": (2, 2, 2, 2),
        "backbone.stage_heads": (1, 2, 4, 8),
        "d_model": 32,
        "num_heads": 4,
        "neck.gn_groups": 8,
        "encoder.num_layers": 1,
        "encoder.ffn_dim": 32,
        "pose_decoder.num_queries": 10,
        "pose_decoder.ffn_dim": 32,
        "pose_decoder.mlp_hidden": 32,
        "joint_decoder.ffn_dim": 32,
        "top_k": 5,
    }
    base.update(overrides)
    return get_preset("paper-swinl").replace(**base)


@pytest.fixture(scope="module")
def swinl_meta():
    with torch.device("meta"):
        return build_model("paper-swinl")


def test_preset_and_config_round_trip():
    cfg = get_preset("paper-swinl")
    assert cfg.backbone.type == "swin" and cfg.backbone.out_channels == (384, 768, 1536)
    d = cfg.to_dict()
    assert d["backbone"]["stage_depths"] == [2, 2, 18, 2]
    assert ModelConfig.from_dict(d) == cfg
    # ResNet configs keep the dict layout they had before Swin existed
    assert set(get_preset("paper-r50").to_dict()["backbone"]) == {
        "depth",
        "width",
        "frozen_stages",
        "norm",
    }
    switched = get_preset("paper-r50").replace(**{"backbone.type": "swin", "name": "x"})
    assert switched.backbone == BackboneConfig(type="swin", frozen_stages=1)
    with pytest.raises(ValueError, match="backbone.type must be one of"):
        get_preset("paper-r50").replace(**{"backbone.type": "vit"})
    with pytest.raises(ValueError, match="divisible"):
        _small_swin(**{"backbone.stage_heads": (3, 2, 4, 8)})


def test_swinl_state_dict_equals_the_official_inventory(swinl_meta, swinl_rows):
    ours = {k: tuple(v.shape) for k, v in swinl_meta.state_dict().items()}
    official = {k: s for k, s, c in swinl_rows if c in ("backbone", "neck")}
    assert len(official) == 367
    mine = {k: s for k, s in ours.items() if k.startswith(("backbone.", "neck."))}
    assert mine == official
    params = sum(
        v.numel()
        for k, v in swinl_meta.state_dict().items()
        if k.startswith("backbone.") and not k.endswith("relative_position_index")
    )
    assert params == 194_997_780  # official-checkpoint.md section 4


def test_swinl_import_plan_is_clean(swinl_meta, swinl_rows, make_synthetic):
    official = make_synthetic(swinl_rows, device="meta")
    report = import_state_dict(swinl_meta, official)
    assert report.ok, report.format()
    assert (
        report.mapped == len(swinl_meta.state_dict()) == 690 - (318 - 53) - 12 + 367
    )  # R50 trunk out, Swin-L in
    assert report.dropped == 0 and sum(report.skipped.values()) == 221


def test_swin_import_copies_tensors_and_checks_the_index():
    # the real-value path on a Swin model whose key layout follows the official one
    cfg = _small_swin()
    model = build_model(cfg)
    key_map, _ = key_map_for(model)
    official = {}
    for i, (ours, theirs) in enumerate(key_map.items()):
        value = model.state_dict()[ours]
        official[theirs] = value.clone() if not value.is_floating_point() else (
            torch.full_like(value, float(i))
        )  # fmt: skip
    report = import_state_dict(model, official)
    assert report.ok
    state = model.state_dict()
    assert all(torch.equal(state[o], official[t]) for o, t in key_map.items())
    # a relative_position_index from another window size is a different model
    key = "backbone.stages.0.blocks.1.attn.w_msa.relative_position_index"
    official[key] = official[key].flip(0)
    with pytest.raises(ValueError, match="relative_position_index: differs"):
        import_state_dict(model, official)


def test_relative_position_index_matches_the_double_step_form():
    # mmdet writes it as seq[a] + seq[b] flipped, with seq = row * (2w - 1) + col
    w = 7
    seq = (torch.arange(w)[:, None] * (2 * w - 1) + torch.arange(w)[None]).reshape(-1)
    expected = (seq[:, None] + seq[None, :]).flip(1)
    assert torch.equal(relative_position_index(w), expected)


def test_patch_merging_uses_unfold_channel_order():
    torch.manual_seed(0)
    merge = PatchMerging(3)
    x = torch.randn(2, 3, 6, 4)
    tokens = x.flatten(2).transpose(1, 2)
    out, hw = merge(tokens, (6, 4))
    unfolded = torch.nn.functional.unfold(x, 2, stride=2).transpose(1, 2)  # B, 12, 4C
    assert hw == (3, 2)
    torch.testing.assert_close(out, merge.reduction(merge.norm(unfolded)))


def test_odd_sizes_are_padded_at_the_corner():
    merge = PatchMerging(2)
    x = torch.randn(1, 2, 5, 3)
    out, hw = merge(x.flatten(2).transpose(1, 2), (5, 3))
    padded = torch.nn.functional.pad(x, (0, 1, 0, 1))
    expected = torch.nn.functional.unfold(padded, 2, stride=2).transpose(1, 2)
    assert hw == (3, 2)
    torch.testing.assert_close(out, merge.reduction(merge.norm(expected)))


@pytest.mark.parametrize("shift", [0, 3])
def test_shifted_windows_only_mix_contiguous_regions(shift):
    # 14 x 14 map, window 7: plain windows are rows/cols [0, 7), [7, 14); shifted by 3 they are
    # [0, 3), [3, 10), [10, 14) (the wrapped-around part is masked off)
    torch.manual_seed(0)
    attn = ShiftWindowMSA(8, 2, 7, shift).eval()
    x = torch.randn(1, 14 * 14, 8)
    groups = [0, 7, 14] if shift == 0 else [0, 3, 10, 14]

    def group(i):
        return max(g for g in range(len(groups) - 1) if groups[g] <= i)

    base = attn(x, (14, 14))
    for r, c in [(0, 0), (2, 9), (5, 5), (12, 13), (9, 2)]:
        y = x.clone()
        y[0, r * 14 + c] += 5.0
        changed = (attn(y, (14, 14)) - base).abs().amax(-1).view(14, 14) > 1e-6
        expected = torch.zeros(14, 14, dtype=torch.bool)
        for i in range(14):
            for j in range(14):
                expected[i, j] = group(i) == group(r) and group(j) == group(c)
        assert torch.equal(changed, expected), (r, c)


def test_small_swin_model_runs_and_exports_to_onnx():
    ort = pytest.importorskip("onnxruntime")
    torch.manual_seed(0)
    model = build_model(_small_swin()).eval()
    c3, c4, c5 = model.backbone(torch.zeros(1, 3, 64, 64))
    assert c3.shape == (1, 32, 8, 8) and c4.shape == (1, 64, 4, 4) and c5.shape == (1, 128, 2, 2)
    # odd input sizes round up like ResNet, so the level shapes stay the config's
    odd = build_model(_small_swin(input_size=(70, 90))).eval()
    with torch.no_grad():
        assert odd.encode_frame(torch.zeros(1, 3, 70, 90)).shape[1] == odd.cfg.num_tokens
    window = torch.randn(1, 3, 3, 64, 64)
    with torch.no_grad():
        result = model(window)
    assert result["poses"].shape == (1, 5, 15, 2) and torch.isfinite(result["poses"]).all()

    class Encode(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, image):
            return self.m.encode_frame(image)

    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Encode(model).eval(), (window[0, :1],), buf, dynamo=False, opset_version=17,
            input_names=["image"], output_names=["memory"],
        )  # fmt: skip
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(buf.getvalue(), options, providers=["CPUExecutionProvider"])
    onnx_memory = session.run(None, {"image": window[0, :1].numpy()})[0]
    with torch.no_grad():
        eager = model.encode_frame(window[0, :1])
    torch.testing.assert_close(torch.from_numpy(onnx_memory), eager, rtol=1e-4, atol=1e-4)
