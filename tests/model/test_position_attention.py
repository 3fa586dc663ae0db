"""Position encoding and the deformable attentions (sampling locations, one softmax)."""

from __future__ import annotations

import math

import pytest
import torch

import pavenet_sdk.model.attention as attention_module
from pavenet_sdk.model.attention import DeformableAttention, PoseAwareAttention
from pavenet_sdk.model.layers import inverse_sigmoid
from pavenet_sdk.model.position import sine_embedding, token_centres


def test_sine_embedding_layout():
    h, w, feats = 3, 5, 8
    pos = sine_embedding(h, w, feats).view(h, w, 2 * feats)
    i, j = 2, 3
    y = (i + 0.5) / (h + 1e-6) * 2 * math.pi
    x = (j + 0.5) / (w + 1e-6) * 2 * math.pi
    for c in range(feats):
        freq = 10000 ** (2 * (c // 2) / feats)
        fn = math.sin if c % 2 == 0 else math.cos  # even sin, odd cos, same frequency
        assert pos[i, j, c].item() == pytest.approx(fn(y / freq), abs=1e-5)  # y part first
        assert pos[i, j, feats + c].item() == pytest.approx(fn(x / freq), abs=1e-5)


def test_token_centres():
    c = token_centres([(2, 4), (1, 1)])
    assert c.shape == (9, 2)
    torch.testing.assert_close(c[1], torch.tensor([0.375, 0.25]))  # row 0, column 1: (x, y)
    torch.testing.assert_close(c[4], torch.tensor([0.125, 0.75]))
    torch.testing.assert_close(c[8], torch.tensor([0.5, 0.5]))


def test_inverse_sigmoid_clamps():
    x = torch.tensor([-1.0, 0.0, 0.25, 1.0, 2.0])
    y = inverse_sigmoid(x)
    assert torch.isfinite(y).all()
    assert y[2].item() == pytest.approx(math.log(0.25 / 0.75))
    assert y[0] == y[1] and y[3] == y[4] and y[3].item() == pytest.approx(math.log(1 / 1e-5))


class _Recorder:
    """Stands in for the sampling op and records its inputs."""

    def __call__(self, value, shapes, starts, locations, weights, fused=False):
        self.locations, self.weights, self.shapes = locations, weights, shapes
        B, Q, H = locations.shape[:3]
        return value.new_zeros(B, Q, H * value.shape[-1])


def _layout(level_shapes, frames):
    shapes = torch.tensor(level_shapes * frames)
    sizes = shapes.prod(1)
    return shapes, torch.cat([sizes.new_zeros(1), sizes.cumsum(0)[:-1]])


def test_pose_aware_attention_starts_at_the_joints(monkeypatch):
    rec = _Recorder()
    monkeypatch.setattr(attention_module, "ms_deform_attn", rec)
    B, Q, F, K, L, H, D = 2, 3, 3, 15, 2, 4, 16
    attn = PoseAwareAttention(D, H, L, K, F)
    shapes, starts = _layout([(4, 4), (2, 2)], F)
    value = torch.randn(B, F * 20, D)
    poses = torch.rand(B, Q, F, K, 2)
    attn(torch.randn(B, Q, D), torch.randn(B, Q, D), value, shapes, starts, poses)
    assert rec.locations.shape == (B, Q, H, F * L, K, 2)
    # zero-initialised offsets: frame f, any head/level, samples joint k of frame f
    expected = poses[:, :, None, :, None].expand(B, Q, H, F, L, K, 2).flatten(3, 4)
    torch.testing.assert_close(rec.locations, expected)
    torch.testing.assert_close(rec.weights, torch.full_like(rec.weights, 1 / (F * L * K)))


def test_pose_aware_offsets_scale_with_each_frames_pose_extent(monkeypatch):
    rec = _Recorder()
    monkeypatch.setattr(attention_module, "ms_deform_attn", rec)
    B, Q, F, K, L, H, D = 1, 1, 2, 3, 1, 1, 8
    attn = PoseAwareAttention(D, H, L, K, F)
    with torch.no_grad():
        attn.sampling_offsets[1].bias.fill_(1.0)  # frame 1: offset (+1, +1) for every joint
    poses = torch.tensor([[[[0.1, 0.1], [0.2, 0.5], [0.3, 0.2]], [[0.5, 0.5]] * 3]])[None]
    shapes, starts = _layout([(4, 4)], F)
    attn(torch.zeros(B, Q, D), None, torch.zeros(B, 32, D), shapes, starts, poses)
    loc = rec.locations[0, 0, 0]  # F*L, K, 2
    torch.testing.assert_close(loc[0], poses[0, 0, 0])  # frame 0 unchanged
    # frame 1's pose has zero extent: clamped to 1e-4, so the shift is 0.5e-4
    torch.testing.assert_close(loc[1], poses[0, 0, 1] + 0.5e-4)


def test_deformable_attention_grid_and_one_softmax_over_frames(monkeypatch):
    rec = _Recorder()
    monkeypatch.setattr(attention_module, "ms_deform_attn", rec)
    B, Q, F, L, P, H, D = 1, 2, 3, 2, 4, 8, 16
    attn = DeformableAttention(D, H, L, P, F)
    shapes, starts = _layout([(4, 8), (2, 4)], F)
    ref = torch.rand(B, Q, F, 2)
    attn(torch.randn(B, Q, D), None, torch.randn(B, F * 40, D), shapes, starts, ref)
    loc = rec.locations.view(B, Q, H, F, L, P, 2)
    # head 0 looks along +x: point p at (p + 1) cells of its level, in every frame
    for f in range(F):
        for level, w in enumerate((8, 4)):
            dx = loc[0, 0, 0, f, level, :, 0] - ref[0, 0, f, 0]
            torch.testing.assert_close(dx, torch.arange(1.0, P + 1) / w)
    # now make frame 0's logits dominant: the single softmax moves weight across frames
    with torch.no_grad():
        attn.attention_weights[0].bias.fill_(1e4)  # huge logits must not overflow
    attn(torch.randn(B, Q, D), None, torch.randn(B, F * 40, D), shapes, starts, ref)
    w = rec.weights.view(B, Q, H, F, L * P)
    assert torch.isfinite(w).all()
    torch.testing.assert_close(w.sum((-1, -2)), torch.ones(B, Q, H))
    torch.testing.assert_close(w[:, :, :, 0].sum(-1), torch.ones(B, Q, H))


def test_attention_rejects_wrong_level_count():
    attn = DeformableAttention(16, 4, 2, 4, num_frames=3)
    shapes, starts = _layout([(4, 4), (2, 2)], 1)
    with pytest.raises(ValueError, match="stacked levels"):
        attn(
            torch.zeros(1, 2, 16),
            None,
            torch.zeros(1, 20, 16),
            shapes,
            starts,
            torch.zeros(1, 2, 3, 2),
        )
    with pytest.raises(ValueError, match="divisible"):
        DeformableAttention(10, 4, 2, 4)
