"""PAVENet outputs for every variant: shapes, the encode/decode split, training outputs."""

from __future__ import annotations

import pytest
import torch

from pavenet_sdk.model import build_model, get_preset

VARIANTS = [
    {"T": 0},
    {"T": 1},
    {"T": 2},
    {"temporal": "image"},
    {"encoder_type": "spatiotemporal"},
    {"references": "random"},
    {"neck.num_extra_levels": 0},
]


def _window(cfg, batch=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(batch, cfg.num_frames, 3, *cfg.input_size, generator=g)


@pytest.mark.parametrize(
    "changes", VARIANTS, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items())
)
def test_inference_shapes_and_split_equality(make_config, changes):
    cfg = make_config(**changes)
    torch.manual_seed(0)
    model = build_model(cfg).eval()
    window = _window(cfg)
    B, F, K, P = 2, cfg.num_frames, cfg.num_joints, cfg.top_k
    with torch.no_grad():
        out = model(window)
        memories = torch.stack([model.encode_frame(window[:, f]) for f in range(F)], dim=1)
        split = model.decode_window(memories)
    assert set(out) == {"poses", "logits", "sigmas"}
    assert out["poses"].shape == (B, P, K, 2) and out["sigmas"].shape == (B, P, K, 2)
    assert out["logits"].shape == (B, P)
    assert memories.shape == (B, F, model.num_tokens, cfg.d_model)
    assert ((out["poses"] >= 0) & (out["poses"] <= 1)).all()
    assert ((out["sigmas"] > 0) & (out["sigmas"] < 1)).all()
    assert (out["logits"][:, :-1] >= out["logits"][:, 1:]).all()  # sorted by score
    for key in out:
        assert torch.equal(out[key], split[key]), key


def test_temporal_model_uses_neighbour_frames_and_image_variant_does_not(make_config):
    for temporal, changes in (("pavenet", True), ("image", False)):
        cfg = make_config(temporal=temporal)
        torch.manual_seed(0)
        model = build_model(cfg).eval()
        with torch.no_grad():
            # give the attention non-trivial weights so neighbour frames can matter
            for p in model.parameters():
                p.add_(torch.randn_like(p) * 0.05)
            mem = model.encode_frame(_window(cfg, 1)[:, 0])
            base = torch.stack([mem, mem, mem], 1)
            other = base.clone()
            other[:, 0] = torch.randn_like(mem)
            a, b = model.decode_window(base), model.decode_window(other)
        assert (not torch.equal(a["poses"], b["poses"])) is changes, temporal


def test_training_outputs(make_config, make_targets):
    cfg = make_config()
    model = build_model(cfg).train()
    targets = make_targets(2, [3, 0])
    out = model(_window(cfg), targets)
    B, M, K, Fd, N = (
        2,
        cfg.pose_decoder.num_queries,
        cfg.num_joints,
        cfg.decoder_frames,
        cfg.num_tokens,
    )
    assert out["proposals"]["logits"].shape == (B, N) and out["proposals"]["poses"].shape == (
        B,
        N,
        K,
        2,
    )
    assert len(out["layers"]) == cfg.pose_decoder.num_layers
    for layer in out["layers"]:
        assert layer["logits"].shape == (B, M) and layer["sigmas"].shape == (B, M, K, 2)
        assert layer["frame_poses"].shape == (B, M, Fd, K, 2)
        assert torch.equal(layer["poses"], layer["frame_poses"][:, :, Fd // 2])
    assert len(out["joint_layers"]) == cfg.joint_decoder.num_layers
    # the STJD ran on the 3 matched persons of sample 0; sample 1 (no persons) is padding
    assert out["joint_queries"].shape == (B, 3) and out["joint_layers"][0]["poses"].shape == (
        B,
        3,
        K,
        2,
    )
    assert sorted(out["joint_targets"][0].tolist()) == [0, 1, 2]
    assert out["joint_targets"][1].tolist() == [-1, -1, -1]
    # without targets the STJD runs on the top-k
    out = model(_window(cfg))
    assert out["joint_queries"].shape == (B, cfg.top_k) and "joint_targets" not in out


def test_bad_inputs_raise(make_config):
    cfg = make_config()
    model = build_model(cfg).eval()
    with pytest.raises(ValueError, match="images must be"):
        model.encode_frame(torch.zeros(1, 3, 32, 32))
    with pytest.raises(ValueError, match="memories must be"):
        model.decode_window(torch.zeros(1, 2, model.num_tokens, cfg.d_model))
    with pytest.raises(ValueError, match="window must be"):
        model(torch.zeros(1, 3, 32, 32))
    model.train()
    with pytest.raises(ValueError, match="keypoints"):
        model(
            _window(cfg, 1),
            [
                {
                    "keypoints": torch.zeros(2, 3),
                    "visibility": torch.zeros(2, 15, dtype=torch.bool),
                    "areas": torch.zeros(2),
                }
            ],
        )


def test_paper_model_runs_at_a_small_input():
    cfg = get_preset("paper-r50").replace(input_size=(128, 128))  # 340 tokens >= 300 queries
    model = build_model(cfg).eval()
    with torch.no_grad():
        out = model(torch.randn(1, 3, 3, 128, 128))
    assert out["poses"].shape == (1, 20, 15, 2)


def test_set_fused_attention_flags_every_attention(make_config):
    from pavenet_sdk.model.attention import attention_modules

    model = build_model(make_config())
    mods = attention_modules(model)
    assert len(mods) == 1 + 2 + 2  # encoder layer, STPD layers, STJD layers
    model.set_fused_attention(True)
    assert all(m.fused for m in mods)
    model.set_fused_attention(False)
    assert not any(m.fused for m in mods)


def test_inference_proposal_shortcut_equals_full_selection(make_config):
    cfg = make_config(input_size=(128, 160))  # also exercises a non-square input
    model = build_model(cfg).eval()
    memory = torch.randn(2, model.num_tokens, cfg.d_model)
    with torch.no_grad():
        for p in model.proposals.parameters():
            p.add_(torch.randn_like(p) * 0.05)
        full = model.proposals.select(model.proposals(memory), cfg.pose_decoder.num_queries)
        fast = model.proposals.select_top(memory, cfg.pose_decoder.num_queries)
    for a, b in zip(full, fast, strict=True):
        torch.testing.assert_close(a, b)


def test_border_tokens_get_infinite_anchors():
    cfg = get_preset("paper-r50")  # 167 columns: the first centre is at x = 0.003 < 0.01
    from pavenet_sdk.model.position import token_centres
    from pavenet_sdk.model.proposals import ProposalHead

    head = ProposalHead(32, 15, 32, token_centres(cfg.level_shapes))
    assert not head.valid[0] and head.valid.sum() < cfg.num_tokens
    assert (
        torch.isinf(head.anchors[~head.valid]).all()
        and torch.isfinite(head.anchors[head.valid]).all()
    )
    with torch.no_grad():
        out = head(torch.randn(1, cfg.num_tokens, 32))
    assert torch.isfinite(out.poses).all() and (out.poses[0, ~head.valid] == 1).all()
