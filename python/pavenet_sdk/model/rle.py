"""Residual log-likelihood estimation (RLE): the regression loss of every PAVE-Net stage.

A RealNVP flow (6 affine couplings, s/t nets 2 -> 64 -> 64 -> 2 with LeakyReLU, Tanh on s)
models the density of the normalised residual mu_bar = (pred - gt) / sigma around a standard
normal prior (mean 0). Per visible coordinate (pavenet-model.md section 3):

    loss = log(sigma) - log q(mu_bar)
           + log(sigma * sqrt(2 pi)) + |gt - pred| / (sqrt(2) sigma + 1e-9)

where log q is the flow's 2-D log-density of the joint's (x, y) residual, counted for both
coordinates. The flows exist only in training (they live in the criterion, not the model).
"""

from __future__ import annotations

import math

import torch
from torch import nn


def _coupling_net(hidden: int, tanh: bool) -> nn.Sequential:
    layers: list[nn.Module] = [
        nn.Linear(2, hidden), nn.LeakyReLU(), nn.Linear(hidden, hidden), nn.LeakyReLU(),
        nn.Linear(hidden, 2),
    ]  # fmt: skip
    if tanh:
        layers.append(nn.Tanh())
    return nn.Sequential(*layers)


class RealNVP(nn.Module):
    """2-D RealNVP density: ``log_prob(x (n, 2)) -> (n,)``.

    ``mask`` (couplings, 2) alternates [0, 1] / [1, 0]; coupling i keeps the masked coordinate
    and transforms the other with scale s_i and shift t_i computed from the kept one.
    """

    def __init__(self, num_couplings: int = 6, hidden: int = 64) -> None:
        super().__init__()
        mask = torch.tensor([[0.0, 1.0], [1.0, 0.0]]).repeat(num_couplings // 2 + 1, 1)
        self.register_buffer("mask", mask[:num_couplings].contiguous())
        self.t = nn.ModuleList(_coupling_net(hidden, tanh=False) for _ in range(num_couplings))
        self.s = nn.ModuleList(_coupling_net(hidden, tanh=True) for _ in range(num_couplings))
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight, gain=0.01)  # the flow starts near the identity
                nn.init.zeros_(m.bias)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """Log-density of points x (n, 2) under the flow (inverse pass to the prior)."""
        z, log_det = x, x.new_zeros(x.shape[0])
        for i in reversed(range(len(self.t))):
            keep = self.mask[i]
            z_kept = keep * z
            s = self.s[i](z_kept) * (1 - keep)
            t = self.t[i](z_kept) * (1 - keep)
            z = (1 - keep) * (z - t) * torch.exp(-s) + z_kept
            log_det = log_det - s.sum(1)
        prior = -0.5 * z.pow(2).sum(1) - math.log(2 * math.pi)  # standard normal, 2-D
        return prior + log_det


def rle_loss(
    pred: torch.Tensor,
    sigma: torch.Tensor,
    gt: torch.Tensor,
    visibility: torch.Tensor,
    flow: RealNVP,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Summed RLE loss over visible coordinates and the number of visible coordinates.

    pred, sigma, gt: (n, K, 2) in [0, 1] units (sigma > 0); visibility (n, K) bool.
    Returns (sum, count); the caller normalises (so batches and layers can be pooled).
    """
    vis = visibility.to(pred.dtype)
    count = 2 * vis.sum()
    if pred.numel() == 0:
        return pred.sum() * 0 + sigma.sum() * 0, count
    sigma = sigma + 1e-9
    mu_bar = (pred - gt) / sigma
    n, K, _ = pred.shape
    log_q = flow.log_prob(mu_bar.reshape(n * K, 2)).view(n, K, 1)
    nf = torch.log(sigma) - log_q
    laplace = torch.log(sigma * math.sqrt(2 * math.pi)) + (gt - pred).abs() / (
        math.sqrt(2) * sigma + 1e-9
    )
    return ((nf + laplace) * vis[..., None]).sum(), count
