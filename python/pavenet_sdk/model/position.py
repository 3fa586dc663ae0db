"""Position information for the flattened multi-level tokens.

- ``sine_embedding``: mmdet's normalised 2-D sine encoding (offset -0.5, scale 2*pi, eps 1e-6,
  temperature 10000), channels [y-part | x-part], sin/cos interleaved within each part.
- ``token_centres``: every token's cell centre in [0, 1] input coordinates, the reference point
  of the encoder and the anchor of the two-stage proposals.
- ``LevelEmbedding``: the learnable per-level vector added to the sine encoding.

Level shapes are static for a configured input size, so the fixed parts are computed once.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def sine_embedding(
    height: int, width: int, num_feats: int, temperature: float = 10000.0
) -> torch.Tensor:
    """(height * width, 2 * num_feats) float32, row-major tokens, channels [y | x]."""
    eps, scale, offset = 1e-6, 2 * math.pi, -0.5
    # cumulative sums of an all-valid mask are 1..H and 1..W
    y = (torch.arange(1, height + 1, dtype=torch.float32) + offset) / (height + eps) * scale
    x = (torch.arange(1, width + 1, dtype=torch.float32) + offset) / (width + eps) * scale
    dim_t = torch.arange(num_feats, dtype=torch.float32)
    dim_t = temperature ** (2 * torch.div(dim_t, 2, rounding_mode="floor") / num_feats)

    def encode(v: torch.Tensor) -> torch.Tensor:
        # n -> n, num_feats, then interleave sin (even channels) and cos (odd channels)
        p = v[:, None] / dim_t
        return torch.stack((p[:, 0::2].sin(), p[:, 1::2].cos()), dim=2).flatten(1)

    pos_y = encode(y)[:, None, :].expand(height, width, num_feats)
    pos_x = encode(x)[None, :, :].expand(height, width, num_feats)
    return torch.cat((pos_y, pos_x), dim=2).reshape(height * width, 2 * num_feats)


def level_sine_embedding(level_shapes: list[tuple[int, int]], d_model: int) -> torch.Tensor:
    """(N, D): the sine encoding of every level, levels concatenated in order."""
    return torch.cat([sine_embedding(h, w, d_model // 2) for h, w in level_shapes])


def token_centres(level_shapes: list[tuple[int, int]]) -> torch.Tensor:
    """(N, 2) cell centres (x, y) in [0, 1]: ((j + 0.5) / W_l, (i + 0.5) / H_l)."""
    centres = []
    for h, w in level_shapes:
        ys = (torch.arange(h, dtype=torch.float32) + 0.5) / h
        xs = (torch.arange(w, dtype=torch.float32) + 0.5) / w
        grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")
        centres.append(torch.stack((grid_x, grid_y), dim=-1).reshape(-1, 2))
    return torch.cat(centres)


def level_index(level_shapes: list[tuple[int, int]]) -> torch.Tensor:
    """(N,) int64: the level of every token."""
    return torch.cat(
        [torch.full((h * w,), i, dtype=torch.long) for i, (h, w) in enumerate(level_shapes)]
    )


class LevelEmbedding(nn.Module):
    """Sine encoding + learnable ``level_embeds[l]`` for every token of a frame.

    The sine part and the level of each token are non-persistent buffers (derived from the
    input size), so the state dict holds only ``level_embeds`` (L, D).
    """

    def __init__(self, level_shapes: list[tuple[int, int]], d_model: int) -> None:
        super().__init__()
        self.level_embeds = nn.Parameter(torch.empty(len(level_shapes), d_model))
        nn.init.normal_(self.level_embeds)
        self.register_buffer("sine", level_sine_embedding(level_shapes, d_model), persistent=False)
        self.register_buffer("levels", level_index(level_shapes), persistent=False)

    def forward(self) -> torch.Tensor:
        """(N, D) position embedding of every token."""
        return self.sine + self.level_embeds[self.levels]
