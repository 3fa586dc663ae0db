"""Multi-frame deformable attention: the encoder's, the STJD's and the STPD's pose-aware form.

Letters: B batch, Q queries, D width, H heads, Dh = D / H, F frames attended, L levels per
frame, P points per level (K = joints for the pose-aware form), S = F * N value tokens.

Frames are stacked as extra levels (F * L "levels", frame-major) so one op,
``msda.ms_deform_attn``, serves every attention. Each frame has its own offset and weight
Linear (``sampling_offsets[f]``, ``attention_weights[f]``, frames in time order: for T = 1
index 0 = t-1, 1 = t, 2 = t+1); the value and output projections are shared. The weights are
**one softmax over F * L * P logits per head**.

Offset channels are laid out ((h * L + l) * P + p) * 2 + c (c: 0 = x, 1 = y), weight channels
(h * L + l) * P + p, as in the official checkpoints.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .msda import ms_deform_attn


class _MultiFrameAttention(nn.Module):
    """Per-frame offset/weight Linears + shared value/output projections (no residual)."""

    def __init__(
        self, d_model: int, num_heads: int, num_levels: int, num_points: int, num_frames: int
    ) -> None:
        super().__init__()
        if d_model % num_heads:
            raise ValueError(f"d_model ({d_model}) must be divisible by num_heads ({num_heads})")
        self.num_heads, self.num_levels = num_heads, num_levels
        self.num_points, self.num_frames = num_points, num_frames
        hlp = num_heads * num_levels * num_points
        frames = range(num_frames)
        self.sampling_offsets = nn.ModuleList(nn.Linear(d_model, hlp * 2) for _ in frames)
        self.attention_weights = nn.ModuleList(nn.Linear(d_model, hlp) for _ in frames)
        self.value_proj = nn.Linear(d_model, d_model)
        self.output_proj = nn.Linear(d_model, d_model)
        self.fused = False  # inference-only native op, see PAVENet.set_fused_attention
        for proj in (self.value_proj, self.output_proj):
            nn.init.xavier_uniform_(proj.weight)
            nn.init.zeros_(proj.bias)
        for lin in self.attention_weights:
            # zero weights: every point starts with the same attention weight
            nn.init.zeros_(lin.weight)
            nn.init.zeros_(lin.bias)

    def _offsets_and_weights(
        self, q: torch.Tensor, offset_scale: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """q (B, Q, D) -> offsets (B, Q, H, F, L, P, 2), weights (B, Q, H, F * L, P).

        offset_scale: optional (H*L*P*2,) factor per offset channel (every frame), folded
        into the Linear weights, which is cheaper than scaling the outputs.
        """
        B, Q, _ = q.shape
        H, L, P, F = self.num_heads, self.num_levels, self.num_points, self.num_frames
        # every frame's offset and weight Linear in one matmul (F * 3 * H*L*P outputs)
        linears = [*self.sampling_offsets, *self.attention_weights]
        weight = torch.cat([m.weight for m in linears])
        bias = torch.cat([m.bias for m in linears])
        if offset_scale is not None:
            scale = torch.cat([offset_scale.repeat(F), offset_scale.new_ones(F * H * L * P)])
            weight, bias = weight * scale[:, None], bias * scale
        out = nn.functional.linear(q, weight, bias)
        split = F * H * L * P * 2
        # B, Q, F*H*L*P*2 -> B, Q, F, H, L, P, 2 -> B, Q, H, F, L, P, 2
        offsets = out[..., :split].reshape(B, Q, F, H, L, P, 2).transpose(2, 3)
        # B, Q, F*H*L*P -> B, Q, F, H, L*P -> B, Q, H, F, L*P
        logits = out[..., split:].reshape(B, Q, F, H, L * P).transpose(2, 3)
        # one softmax per head across frames, levels and points; torch.softmax subtracts the
        # max first, so large logits cannot overflow (the upstream code could)
        weights = logits.flatten(3).softmax(-1).view(B, Q, H, F * L, P)
        return offsets, weights

    def _attend(
        self,
        value: torch.Tensor,
        spatial_shapes: torch.Tensor,
        level_start_index: torch.Tensor,
        locations: torch.Tensor,
        weights: torch.Tensor,
    ) -> torch.Tensor:
        """value (B, S, D), locations (B, Q, H, F*L, P, 2) -> (B, Q, D)."""
        B, S, D = value.shape
        v = self.value_proj(value).view(B, S, self.num_heads, D // self.num_heads)
        out = ms_deform_attn(v, spatial_shapes, level_start_index, locations, weights, self.fused)
        return self.output_proj(out)

    def _check(self, spatial_shapes: torch.Tensor) -> None:
        expected = self.num_frames * self.num_levels
        if spatial_shapes.shape[0] != expected:
            raise ValueError(
                f"{type(self).__name__} expects {expected} stacked levels (F={self.num_frames} x "
                f"L={self.num_levels}), got spatial_shapes of shape {tuple(spatial_shapes.shape)}"
            )


class DeformableAttention(_MultiFrameAttention):
    """Deformable-DETR attention over F frames: ``loc = ref_f + offset / (W_l, H_l)``.

    Offsets start on an 8-direction grid (point p at distance p + 1 cells along head h's
    direction), so the initial sampling pattern already covers a neighbourhood.
    """

    def __init__(
        self,
        d_model: int,
        num_heads: int,
        num_levels: int,
        num_points: int,
        num_frames: int = 1,
    ) -> None:
        super().__init__(d_model, num_heads, num_levels, num_points, num_frames)
        H, L, P = num_heads, num_levels, num_points
        thetas = torch.arange(H, dtype=torch.float32) * (2.0 * math.pi / H)
        grid = torch.stack([thetas.cos(), thetas.sin()], -1)
        grid = (grid / grid.abs().max(-1, keepdim=True)[0]).view(H, 1, 1, 2).repeat(1, L, P, 1)
        grid *= torch.arange(1, P + 1, dtype=torch.float32).view(1, 1, P, 1)
        for lin in self.sampling_offsets:
            nn.init.zeros_(lin.weight)
            with torch.no_grad():
                lin.bias.copy_(grid.flatten())

    def forward(
        self,
        query: torch.Tensor,
        query_pos: torch.Tensor | None,
        value: torch.Tensor,
        spatial_shapes: torch.Tensor,
        level_start_index: torch.Tensor,
        reference: torch.Tensor,
    ) -> torch.Tensor:
        """Attention output (B, Q, D), without the residual.

        query, query_pos: (B, Q, D); offsets and weights come from query + query_pos.
        value: (B, S, D) tokens of the F frames, frame-major, no position encoding.
        spatial_shapes: (F*L, 2) int64 (H_l, W_l); level_start_index: (F*L,) int64.
        reference: (B or 1, Q, F, 2) (x, y) in [0, 1] of the whole input, one point per frame.
        """
        self._check(spatial_shapes)
        q = query if query_pos is None else query + query_pos
        H, L, P = self.num_heads, self.num_levels, self.num_points
        # offsets are measured in cells of their level: scale channel (h, l, p, c) by
        # 1 / (W_l, H_l)[c]; (L, 2) -> H, L, P, 2 -> H*L*P*2
        cells = 1.0 / spatial_shapes[:L].flip(-1).to(q.dtype)
        scale = cells[None, :, None, :].expand(H, L, P, 2).reshape(-1)
        offsets, weights = self._offsets_and_weights(q, scale)
        # B,Q,1,F,1,1,2 + B,Q,H,F,L,P,2 -> B,Q,H,F*L,P,2
        loc = reference[:, :, None, :, None, None, :] + offsets
        return self._attend(value, spatial_shapes, level_start_index, loc.flatten(3, 4), weights)


class PoseAwareAttention(_MultiFrameAttention):
    """The STPD's pose-aware cross-attention (the paper's key mechanism).

    One sampling point per joint per head per level per frame:
    ``loc = P_f[k] + offset_f[h, l, k] * 0.5 * (w_f, h_f)``, where (w_f, h_f) is the extent of
    the query's reference pose in frame f (clamped >= 1e-4). Offsets and weights start at zero,
    so sampling begins exactly at the joints with uniform weights.
    """

    def __init__(
        self, d_model: int, num_heads: int, num_levels: int, num_joints: int, num_frames: int
    ) -> None:
        super().__init__(d_model, num_heads, num_levels, num_joints, num_frames)
        for lin in self.sampling_offsets:
            nn.init.zeros_(lin.weight)
            nn.init.zeros_(lin.bias)

    def forward(
        self,
        query: torch.Tensor,
        query_pos: torch.Tensor | None,
        value: torch.Tensor,
        spatial_shapes: torch.Tensor,
        level_start_index: torch.Tensor,
        reference_poses: torch.Tensor,
    ) -> torch.Tensor:
        """Attention output (B, Q, D), without the residual.

        reference_poses: (B, Q, F, K, 2) (x, y) in [0, 1], the query's pose in every frame.
        Other arguments as in :meth:`DeformableAttention.forward`.
        """
        self._check(spatial_shapes)
        q = query if query_pos is None else query + query_pos
        offsets, weights = self._offsets_and_weights(q)
        extent = (reference_poses.amax(-2) - reference_poses.amin(-2)).clamp(min=1e-4)
        # B,Q,1,F,1,K,2 + B,Q,H,F,L,K,2 * B,Q,1,F,1,1,2 -> B,Q,H,F*L,K,2
        loc = reference_poses[:, :, None, :, None] + offsets * (
            0.5 * extent[:, :, None, :, None, None, :]
        )
        return self._attend(value, spatial_shapes, level_start_index, loc.flatten(3, 4), weights)


def attention_modules(module: nn.Module) -> list[_MultiFrameAttention]:
    """Every deformable attention inside ``module``."""
    return [m for m in module.modules() if isinstance(m, _MultiFrameAttention)]
