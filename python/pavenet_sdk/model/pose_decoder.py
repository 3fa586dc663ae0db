"""Spatiotemporal Pose Decoder (STPD, pavenet-model.md section 1, step 5).

Each layer: self-attention among the M person queries -> norm -> pose-aware cross-attention
over all F frames -> norm -> FFN -> norm. After each layer a per-frame MLP refines that
frame's pose in inverse-sigmoid space, ``P_f <- sigmoid(delta_f + logit(P_f))`` (not detached
between layers); class and sigma heads predict the centre frame's score and RLE scales.
Letters: B batch, M queries, F frames, K joints, D width.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from .attention import PoseAwareAttention
from .layers import FFN, MLP, MultiheadSelfAttention, SigmaHead, focal_bias_init, inverse_sigmoid


class PoseLayerOutput(NamedTuple):
    """One STPD layer's predictions."""

    logits: torch.Tensor | None  # (B, M) class logits (centre frame)
    frame_poses: torch.Tensor  # (B, M, F, K, 2) refined poses of every frame, in [0, 1]
    sigmas: torch.Tensor | None  # (B, M, K, 2) centre-frame RLE scales in [0, 1] units


class PoseDecoderLayer(nn.Module):
    def __init__(
        self,
        d_model: int,
        num_heads: int,
        num_levels: int,
        num_joints: int,
        num_frames: int,
        ffn_dim: int,
        dropout: float,
    ) -> None:
        super().__init__()
        self.self_attn = MultiheadSelfAttention(d_model, num_heads, dropout)
        self.norm1 = nn.LayerNorm(d_model)
        self.cross_attn = PoseAwareAttention(d_model, num_heads, num_levels, num_joints, num_frames)
        self.norm2 = nn.LayerNorm(d_model)
        self.ffn = FFN(d_model, ffn_dim, dropout)
        self.norm3 = nn.LayerNorm(d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(
        self,
        query: torch.Tensor,
        query_pos: torch.Tensor,
        reference_poses: torch.Tensor,
        value: torch.Tensor,
        spatial_shapes: torch.Tensor,
        level_start_index: torch.Tensor,
    ) -> torch.Tensor:
        """query, query_pos (B, M, D); reference_poses (B, M, F, K, 2); value (B, F*N, D)."""
        # self-attention among the person queries
        query = self.norm1(query + self.dropout(self.self_attn(query, query_pos)))
        # pose-aware cross-attention over every frame of the window
        attn = self.cross_attn(
            query, query_pos, value, spatial_shapes, level_start_index, reference_poses
        )
        query = self.norm2(query + self.dropout(attn))
        # ffn
        return self.norm3(query + self.ffn(query))


class PoseDecoder(nn.Module):
    """STPD layers plus their heads and the person query embedding.

    query_embedding (M, 2D): [:, :D] = query position, [:, D:] = content (added to the
    selected proposal features). pose_heads[f][l]: frame f's refinement MLP after layer l
    (frames in time order). With ``references="random"`` a ``reference_points`` Linear maps
    the query position to a learnable reference pose (PETR's one-stage form).
    """

    def __init__(
        self,
        layers: list[PoseDecoderLayer],
        d_model: int,
        num_joints: int,
        num_frames: int,
        num_queries: int,
        mlp_hidden: int,
        random_references: bool = False,
    ) -> None:
        super().__init__()
        self.d_model, self.num_joints, self.num_frames = d_model, num_joints, num_frames
        self.layers = nn.ModuleList(layers)
        n = len(layers)
        self.query_embedding = nn.Embedding(num_queries, 2 * d_model)
        self.pose_heads = nn.ModuleList(
            nn.ModuleList(
                MLP([d_model, mlp_hidden, mlp_hidden, mlp_hidden, 2 * num_joints]) for _ in range(n)
            )
            for _ in range(num_frames)
        )
        self.cls_heads = nn.ModuleList(nn.Linear(d_model, 1) for _ in range(n))
        self.sigma_heads = nn.ModuleList(SigmaHead(d_model, 2 * num_joints) for _ in range(n))
        self.reference_points = nn.Linear(d_model, 2 * num_joints) if random_references else None
        for head in self.cls_heads:
            nn.init.constant_(head.bias, focal_bias_init())
        for frame_heads in self.pose_heads:
            for mlp in frame_heads:
                # refinement starts as the identity: layer outputs begin at the references
                nn.init.zeros_(mlp.last.weight)
                nn.init.zeros_(mlp.last.bias)

    def initial_queries(
        self, batch: int, proposal_features: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """(query (B, M, D), query_pos (B, M, D), learnable reference poses (B, M, K, 2) or None).

        proposal_features: (B, M, D) detached selected proposals (two-stage) or None.
        """
        pos, content = self.query_embedding.weight.split(self.d_model, dim=1)
        query_pos = pos[None].expand(batch, -1, -1)
        query = content[None].expand(batch, -1, -1)
        if proposal_features is not None:
            query = query + proposal_features
        references = None
        if self.reference_points is not None:
            M = pos.shape[0]
            references = self.reference_points(query_pos).sigmoid().view(batch, M, -1, 2)
        return query, query_pos, references

    def forward(
        self,
        query: torch.Tensor,
        query_pos: torch.Tensor,
        reference_poses: torch.Tensor,
        value: torch.Tensor,
        spatial_shapes: torch.Tensor,
        level_start_index: torch.Tensor,
        all_outputs: bool = True,
    ) -> list[PoseLayerOutput]:
        """reference_poses (B, M, K, 2), copied to every frame; value (B, F*N, D) frame-major.

        Returns one :class:`PoseLayerOutput` per layer. With ``all_outputs`` False (inference)
        only what inference reads is computed: the last layer's logits, no sigmas (those
        fields are None).
        """
        B, M, K, _ = reference_poses.shape
        F = self.num_frames
        ref = reference_poses[:, :, None].expand(B, M, F, K, 2)
        outputs = []
        for l, layer in enumerate(self.layers):
            query = layer(query, query_pos, ref, value, spatial_shapes, level_start_index)
            # per-frame refinement in inverse-sigmoid space: F x (B, M, K, 2) -> B, M, F, K, 2
            ref = torch.stack(
                [
                    (
                        self.pose_heads[f][l](query).view(B, M, K, 2)
                        + inverse_sigmoid(ref[:, :, f])
                    ).sigmoid()
                    for f in range(F)
                ],
                dim=2,
            )
            last = l == len(self.layers) - 1
            logits = sigmas = None
            if all_outputs or last:
                logits = self.cls_heads[l](query).squeeze(-1)
            if all_outputs:
                sigmas = self.sigma_heads[l](query).sigmoid().view(B, M, K, 2)
            outputs.append(PoseLayerOutput(logits, ref, sigmas))
        return outputs
