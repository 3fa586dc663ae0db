"""Spatial encoder (SE, pavenet-model.md section 1, step 3) and the STE baseline's encoder.

Post-norm layers: deformable self-attention -> norm1 -> FFN -> norm2. The SE runs on each
frame alone (its output, the "memory", is cached by the runtime); the spatiotemporal encoder
(STE, paper Table 3) lets every token attend to all F frames of the window.
Letters: B batch, F frames, N tokens per frame, D width.
"""

from __future__ import annotations

import torch
from torch import nn

from .attention import DeformableAttention
from .layers import FFN


class EncoderLayer(nn.Module):
    """One post-norm deformable self-attention layer over F frames (F = 1 for the SE)."""

    def __init__(
        self,
        d_model: int,
        num_heads: int,
        num_levels: int,
        num_points: int,
        ffn_dim: int,
        dropout: float,
        num_frames: int = 1,
    ) -> None:
        super().__init__()
        self.self_attn = DeformableAttention(d_model, num_heads, num_levels, num_points, num_frames)
        self.norm1 = nn.LayerNorm(d_model)
        self.ffn = FFN(d_model, ffn_dim, dropout)
        self.norm2 = nn.LayerNorm(d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(
        self,
        src: torch.Tensor,
        pos: torch.Tensor,
        reference: torch.Tensor,
        spatial_shapes: torch.Tensor,
        level_start_index: torch.Tensor,
    ) -> torch.Tensor:
        """src (B, S, D), pos (B or 1, S, D), reference (1, S, F, 2) -> (B, S, D)."""
        # deformable self-attention: queries and value are the same tokens
        attn = self.self_attn(src, pos, src, spatial_shapes, level_start_index, reference)
        src = self.norm1(src + self.dropout(attn))
        # ffn
        return self.norm2(src + self.ffn(src))


class SpatialEncoder(nn.Module):
    """The SE: ``num_layers`` layers over one frame's N tokens."""

    def __init__(self, layers: list[EncoderLayer]) -> None:
        super().__init__()
        self.layers = nn.ModuleList(layers)

    def forward(
        self,
        tokens: torch.Tensor,
        pos: torch.Tensor,
        centres: torch.Tensor,
        spatial_shapes: torch.Tensor,
        level_start_index: torch.Tensor,
    ) -> torch.Tensor:
        """tokens (B, N, D), pos (N, D), centres (N, 2) in [0, 1] -> memory (B, N, D)."""
        reference = centres[None, :, None, :]  # 1, N, 1 frame, 2
        pos = pos[None]
        for layer in self.layers:
            tokens = layer(tokens, pos, reference, spatial_shapes, level_start_index)
        return tokens


class SpatiotemporalEncoder(nn.Module):
    """The STE baseline: every token of every frame attends to all F frames.

    Each token's reference in frame f is its own cell centre. A learnable ``frame_embeds``
    (F, D) is added to the position encoding so a token knows its frame.
    """

    def __init__(self, layers: list[EncoderLayer], num_frames: int, d_model: int) -> None:
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.frame_embeds = nn.Parameter(torch.zeros(num_frames, d_model))
        nn.init.normal_(self.frame_embeds, std=0.02)

    def forward(
        self,
        tokens: torch.Tensor,
        pos: torch.Tensor,
        centres: torch.Tensor,
        spatial_shapes: torch.Tensor,
        level_start_index: torch.Tensor,
    ) -> torch.Tensor:
        """tokens (B, F, N, D), pos (N, D), centres (N, 2); spatial_shapes for F*L levels
        -> memory (B, F, N, D)."""
        B, F, N, D = tokens.shape
        # F, N, D -> 1, F*N, D
        pos = (pos[None] + self.frame_embeds[:, None]).reshape(1, F * N, D)
        # N, 2 -> 1, F*N, F, 2 (the same centre in every frame)
        reference = centres[None, None, :, None, :].expand(1, F, N, F, 2).reshape(1, F * N, F, 2)
        x = tokens.reshape(B, F * N, D)
        for layer in self.layers:
            x = layer(x, pos, reference, spatial_shapes, level_start_index)
        return x.view(B, F, N, D)
