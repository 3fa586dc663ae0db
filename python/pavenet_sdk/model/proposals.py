"""Two-stage pose proposals from the centre frame's memory (pavenet-model.md section 1, step 4).

``out = LayerNorm(Linear(memory))``; per token a class logit and K joints predicted as offsets
from the token's own cell centre in inverse-sigmoid space. The top-M tokens by class logit
become the STPD's queries; their poses (sigmoid, detached) are the reference poses.
Tokens whose centre lies outside (0.01, 0.99) get a +inf centre logit and zeroed memory, as in
two-stage Deformable-DETR (their poses saturate to 1).
Letters: B batch, N tokens, M proposals kept, K joints, D width.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from .layers import MLP, SigmaHead, focal_bias_init


class ProposalOutput(NamedTuple):
    """Per-token predictions of the centre frame (supervised over all N tokens)."""

    logits: torch.Tensor  # (B, N) class logits
    poses: torch.Tensor  # (B, N, K, 2) (x, y) in [0, 1]
    sigmas: torch.Tensor  # (B, N, K, 2) RLE scales in [0, 1] units
    features: torch.Tensor  # (B, N, D) LayerNorm(Linear(memory))


class ProposalSelection(NamedTuple):
    """The top-M tokens: the STPD's initial queries and reference poses (both detached)."""

    indices: torch.Tensor  # (B, M) token index
    features: torch.Tensor  # (B, M, D)
    poses: torch.Tensor  # (B, M, K, 2)


class ProposalHead(nn.Module):
    """Class, pose and sigma heads on the encoder memory; ``select`` keeps the top M.

    The heads correspond to the official checkpoints' ``cls_branches.{L}``,
    ``kpt_branches.{L}`` and ``dec_fc_sigma_branches.{L}`` (L = number of STPD layers).
    """

    def __init__(
        self, d_model: int, num_joints: int, mlp_hidden: int, centres: torch.Tensor
    ) -> None:
        super().__init__()
        self.num_joints = num_joints
        self.enc_output = nn.Linear(d_model, d_model)
        self.enc_output_norm = nn.LayerNorm(d_model)
        self.cls = nn.Linear(d_model, 1)
        self.pose = MLP([d_model, mlp_hidden, mlp_hidden, mlp_hidden, 2 * num_joints])
        self.sigma = SigmaHead(d_model, 2 * num_joints)
        nn.init.constant_(self.cls.bias, focal_bias_init())
        nn.init.zeros_(self.pose.last.weight)  # poses start at the token centres
        nn.init.zeros_(self.pose.last.bias)
        valid = ((centres > 0.01) & (centres < 0.99)).all(-1)
        # plain logit of the centre (no clamp); +inf marks tokens too close to the border
        anchors = torch.log(centres / (1 - centres)).masked_fill(~valid[:, None], float("inf"))
        self.register_buffer("anchors", anchors, persistent=False)  # N, 2
        self.register_buffer("valid", valid, persistent=False)  # N

    def _features(self, memory: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """memory (B, N, D) -> (features (B, N, D), class logits (B, N))."""
        memory = memory.masked_fill(~self.valid[None, :, None], 0.0)
        out = self.enc_output_norm(self.enc_output(memory))
        return out, self.cls(out).squeeze(-1)

    def forward(self, memory: torch.Tensor) -> ProposalOutput:
        """memory (B, N, D) of the centre frame -> per-token predictions."""
        B, N, _ = memory.shape
        K = self.num_joints
        out, logits = self._features(memory)
        # B, N, 2K -> B, N, K, 2 (interleaved x0, y0, x1, y1, ...) + the token's centre logit
        poses = (self.pose(out).view(B, N, K, 2) + self.anchors[None, :, None, :]).sigmoid()
        sigmas = self.sigma(out).sigmoid().view(B, N, K, 2)
        return ProposalOutput(logits, poses, sigmas, out)

    @staticmethod
    def select(output: ProposalOutput, num_queries: int) -> ProposalSelection:
        """Top ``num_queries`` tokens by class logit, no NMS; features and poses detached."""
        B, N, D = output.features.shape
        indices = output.logits.topk(num_queries, dim=1).indices  # B, M
        features = output.features.gather(1, indices[..., None].expand(B, num_queries, D))
        K = output.poses.shape[2]
        poses = output.poses.gather(1, indices[:, :, None, None].expand(B, num_queries, K, 2))
        return ProposalSelection(indices, features.detach(), poses.detach())

    def select_top(self, memory: torch.Tensor, num_queries: int) -> ProposalSelection:
        """Inference shortcut with the same result as ``select(self(memory), num_queries)``:
        the pose head runs only on the M kept tokens and the sigma head not at all."""
        out, logits = self._features(memory)
        B, N, D = out.shape
        indices = logits.topk(num_queries, dim=1).indices  # B, M
        features = out.gather(1, indices[..., None].expand(B, num_queries, D))
        anchors = self.anchors[indices]  # B, M, 2
        delta = self.pose(features).view(B, num_queries, self.num_joints, 2)
        poses = (delta + anchors[:, :, None, :]).sigmoid()
        return ProposalSelection(indices, features.detach(), poses.detach())
