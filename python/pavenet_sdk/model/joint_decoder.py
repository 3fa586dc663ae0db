"""Spatiotemporal Joint Decoder (STJD, pavenet-model.md section 1, step 6).

Each selected person gets the K shared learnable joint queries. A layer: self-attention among
one person's K joints -> norm -> multi-frame deformable cross-attention (frame f's reference
for joint k = that person's STPD joint k in frame f) -> norm -> FFN -> norm. Per-frame MLPs
refine each joint in inverse-sigmoid space; only the centre frame is output and supervised.
The input references are detached; later layers see the refined (not detached) ones.
Letters: B batch, P persons per sample, F frames, K joints, D width.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from .attention import DeformableAttention
from .layers import FFN, MLP, MultiheadSelfAttention, SigmaHead, inverse_sigmoid


class JointLayerOutput(NamedTuple):
    """One STJD layer's predictions."""

    poses: torch.Tensor  # (B, P, K, 2) centre-frame joints in [0, 1]
    sigmas: torch.Tensor  # (B, P, K, 2) centre-frame RLE scales in [0, 1] units
    frame_poses: torch.Tensor | None  # (B, P, F, K, 2) refined joints of every frame


class JointDecoderLayer(nn.Module):
    def __init__(
        self,
        d_model: int,
        num_heads: int,
        num_levels: int,
        num_points: int,
        num_frames: int,
        ffn_dim: int,
        dropout: float,
    ) -> None:
        super().__init__()
        self.self_attn = MultiheadSelfAttention(d_model, num_heads, dropout)
        self.norm1 = nn.LayerNorm(d_model)
        self.cross_attn = DeformableAttention(
            d_model, num_heads, num_levels, num_points, num_frames
        )
        self.norm2 = nn.LayerNorm(d_model)
        self.ffn = FFN(d_model, ffn_dim, dropout)
        self.norm3 = nn.LayerNorm(d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(
        self,
        query: torch.Tensor,
        query_pos: torch.Tensor,
        reference: torch.Tensor,
        value: torch.Tensor,
        spatial_shapes: torch.Tensor,
        level_start_index: torch.Tensor,
    ) -> torch.Tensor:
        """query (B, P, K, D), query_pos (K, D), reference (B, P, F, K, 2), value (B, F*N, D)."""
        B, P, K, D = query.shape
        F = reference.shape[2]
        pos = query_pos[None, None].expand(B, P, K, D)
        # self-attention among one person's joints: B, P, K, D -> B*P, K, D
        x = query.reshape(B * P, K, D)
        x = self.norm1(x + self.dropout(self.self_attn(x, pos.reshape(B * P, K, D))))
        # multi-frame deformable cross-attention; all P*K joints of a sample share its value
        x = x.view(B, P * K, D)
        # B, P, F, K, 2 -> B, P, K, F, 2 -> B, P*K, F, 2
        ref = reference.transpose(2, 3).reshape(B, P * K, F, 2)
        attn = self.cross_attn(
            x, pos.reshape(B, P * K, D), value, spatial_shapes, level_start_index, ref
        )
        x = self.norm2(x + self.dropout(attn))
        # ffn
        x = self.norm3(x + self.ffn(x))
        return x.view(B, P, K, D)


class JointDecoder(nn.Module):
    """STJD layers, the joint query embedding and the per-layer heads.

    query_embedding (K, 2D): [:, :D] = position, [:, D:] = content.
    pose_heads[f][l]: frame f's joint refinement MLP (D -> D -> D -> 2) after layer l.
    sigma_heads[l]: centre-frame RLE scale head (D -> D -> D -> 2).
    """

    def __init__(
        self, layers: list[JointDecoderLayer], d_model: int, num_joints: int, num_frames: int
    ) -> None:
        super().__init__()
        self.d_model, self.num_frames = d_model, num_frames
        self.query_embedding = nn.Embedding(num_joints, 2 * d_model)
        self.layers = nn.ModuleList(layers)
        n = len(layers)
        self.pose_heads = nn.ModuleList(
            nn.ModuleList(MLP([d_model, d_model, d_model, 2]) for _ in range(n))
            for _ in range(num_frames)
        )
        self.sigma_heads = nn.ModuleList(SigmaHead(d_model, 2) for _ in range(n))
        for frame_heads in self.pose_heads:
            for mlp in frame_heads:
                # refinement starts as the identity: joints begin at the STPD poses
                nn.init.zeros_(mlp.last.weight)
                nn.init.zeros_(mlp.last.bias)

    def forward(
        self,
        reference_poses: torch.Tensor,
        value: torch.Tensor,
        spatial_shapes: torch.Tensor,
        level_start_index: torch.Tensor,
        all_outputs: bool = True,
    ) -> list[JointLayerOutput]:
        """reference_poses (B, P, F, K, 2) final STPD poses of the selected persons (detached
        here); value (B, F*N, D). Returns one :class:`JointLayerOutput` per layer. With
        ``all_outputs`` False (inference) the last layer refines only the centre frame and
        its ``frame_poses`` is None."""
        B, P, F, K, _ = reference_poses.shape
        centre = F // 2
        ref = reference_poses.detach()
        pos, content = self.query_embedding.weight.split(self.d_model, dim=1)
        query = content[None, None].expand(B, P, K, self.d_model)
        outputs = []
        for l, layer in enumerate(self.layers):
            query = layer(query, pos, ref, value, spatial_shapes, level_start_index)
            sigmas = self.sigma_heads[l](query).sigmoid()
            if not all_outputs and l == len(self.layers) - 1:
                # nothing reads the last layer's neighbour frames at inference
                poses = self._refine(query, ref[:, :, centre], centre, l)
                outputs.append(JointLayerOutput(poses, sigmas, None))
                break
            # per-frame refinement: F x (B, P, K, 2) -> B, P, F, K, 2
            ref = torch.stack([self._refine(query, ref[:, :, f], f, l) for f in range(F)], dim=2)
            outputs.append(JointLayerOutput(ref[:, :, centre], sigmas, ref))
        return outputs

    def _refine(self, query: torch.Tensor, ref: torch.Tensor, frame: int, layer: int):
        """query (B, P, K, D), ref (B, P, K, 2) -> refined joints (B, P, K, 2) of ``frame``."""
        return (self.pose_heads[frame][layer](query) + inverse_sigmoid(ref)).sigmoid()
