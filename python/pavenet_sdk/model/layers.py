"""Small building blocks shared by the encoder and both decoders.

Shapes: B batch, Q queries, D model width.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

INVERSE_SIGMOID_EPS = 1e-5


def inverse_sigmoid(x: torch.Tensor, eps: float = INVERSE_SIGMOID_EPS) -> torch.Tensor:
    """logit(x) with x clamped to [0, 1] and both sides to >= eps (mmdet's convention)."""
    x = x.clamp(0.0, 1.0)
    return torch.log(x.clamp(min=eps) / (1.0 - x).clamp(min=eps))


class FFN(nn.Module):
    """linear1 -> ReLU -> dropout -> linear2 -> dropout (the residual is added by the layer)."""

    def __init__(self, d_model: int, hidden: int, dropout: float) -> None:
        super().__init__()
        self.linear1 = nn.Linear(d_model, hidden)
        self.linear2 = nn.Linear(hidden, d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.linear2(self.dropout(F.relu(self.linear1(x)))))


class MultiheadSelfAttention(nn.Module):
    """Self-attention with ``torch.nn.MultiheadAttention``'s parameter layout.

    ``in_proj_weight`` (3D, D) packs rows [q; k; v]. The position embedding is added to q and k,
    not to v. Written out (instead of ``nn.MultiheadAttention``) so tracing and ONNX export
    never take PyTorch's fused fast path.
    """

    def __init__(self, d_model: int, num_heads: int, dropout: float) -> None:
        super().__init__()
        if d_model % num_heads:
            raise ValueError(f"d_model ({d_model}) must be divisible by num_heads ({num_heads})")
        self.num_heads = num_heads
        self.scale = 1.0 / math.sqrt(d_model // num_heads)
        self.in_proj_weight = nn.Parameter(torch.empty(3 * d_model, d_model))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * d_model))
        self.out_proj = nn.Linear(d_model, d_model)
        self.attn_dropout = nn.Dropout(dropout)
        nn.init.xavier_uniform_(self.in_proj_weight)
        nn.init.zeros_(self.out_proj.bias)

    def forward(self, x: torch.Tensor, pos: torch.Tensor | None) -> torch.Tensor:
        """x, pos: (B, Q, D) -> (B, Q, D), without the residual."""
        B, Q, D = x.shape
        H = self.num_heads
        qk_in = x if pos is None else x + pos
        w_q, w_k, w_v = self.in_proj_weight.chunk(3)
        b_q, b_k, b_v = self.in_proj_bias.chunk(3)
        # B, Q, D -> B, Q, H, Dh -> B, H, Q, Dh
        q = F.linear(qk_in, w_q, b_q).view(B, Q, H, D // H).transpose(1, 2)
        k = F.linear(qk_in, w_k, b_k).view(B, Q, H, D // H).transpose(1, 2)
        v = F.linear(x, w_v, b_v).view(B, Q, H, D // H).transpose(1, 2)
        attn = torch.softmax((q * self.scale) @ k.transpose(-1, -2), dim=-1)
        # B, H, Q, Dh -> B, Q, H, Dh -> B, Q, D
        out = (self.attn_dropout(attn) @ v).transpose(1, 2).reshape(B, Q, D)
        return self.out_proj(out)


class MLP(nn.Sequential):
    """Linear layers with ReLU between them (none after the last); Sequential indices 0, 2, 4..
    hold the Linears, like the official checkpoints' ``kpt_branches``."""

    def __init__(self, dims: list[int]) -> None:
        layers: list[nn.Module] = []
        for i, (d_in, d_out) in enumerate(zip(dims[:-1], dims[1:], strict=True)):
            if i:
                layers.append(nn.ReLU())
            layers.append(nn.Linear(d_in, d_out))
        super().__init__(*layers)

    @property
    def last(self) -> nn.Linear:
        return self[-1]  # type: ignore[return-value]


class SigmaHead(nn.Sequential):
    """Linear(D, D) -> Linear(D, D) -> Linear(D, out): RLE scale logits, no activations in
    between (as in the official head). sigmoid(output) is sigma in [0, 1] image units."""

    def __init__(self, d_model: int, out_dim: int) -> None:
        super().__init__(
            nn.Linear(d_model, d_model), nn.Linear(d_model, d_model), nn.Linear(d_model, out_dim)
        )
        for layer in self:
            nn.init.xavier_uniform_(layer.weight, gain=0.01)  # RLE's init: sigma starts near 0.5
            nn.init.zeros_(layer.bias)


def focal_bias_init(prior: float = 0.01) -> float:
    """Bias giving sigmoid(bias) = prior, so focal-loss training starts stable."""
    return -math.log((1.0 - prior) / prior)
