"""Hungarian matching of predicted poses to ground-truth persons (pavenet-model.md section 3).

The targets hold no "no person" entries, so the matching is one-to-one between the
predictions and the (fewer) real persons; unmatched predictions are negatives for the class
loss. Cost = 2.0 x focal class cost + 70.0 x L1 over visible joints / (2 x #visible)
+ 7.0 x (-OKS).

Targets (one dict per sample, torch tensors, coordinates in [0, 1] of the model input):
    keypoints   (N, K, 2) float (x, y)
    visibility  (N, K) bool
    areas       (N,) float, person area in the same normalised units (for OKS)
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment

from ..data.types import OKS_SIGMAS

TARGET_KEYS = ("keypoints", "visibility", "areas")


def check_targets(targets: list[dict], batch: int, num_joints: int) -> None:
    """Raise ``TypeError``/``ValueError`` unless ``targets`` follows the documented layout."""
    if not isinstance(targets, (list, tuple)):
        raise TypeError(f"targets must be a list of dicts, got {type(targets).__name__}")
    if len(targets) != batch:
        raise ValueError(f"expected {batch} target dicts (one per sample), got {len(targets)}")
    for i, t in enumerate(targets):
        missing = [k for k in TARGET_KEYS if k not in t]
        if missing:
            raise ValueError(f"targets[{i}] lacks {missing}")
        if not all(isinstance(t[k], torch.Tensor) for k in TARGET_KEYS):
            raise TypeError(f"targets[{i}] values must be torch tensors")
        n = t["keypoints"].shape[0]
        if t["keypoints"].shape != (n, num_joints, 2):
            raise ValueError(
                f"targets[{i}]['keypoints'] must be (N, {num_joints}, 2), "
                f"got {tuple(t['keypoints'].shape)}"
            )
        if t["visibility"].shape != (n, num_joints) or t["visibility"].dtype != torch.bool:
            raise ValueError(f"targets[{i}]['visibility'] must be a bool (N, {num_joints}) tensor")
        if t["areas"].shape != (n,):
            raise ValueError(f"targets[{i}]['areas'] must be (N,), got {tuple(t['areas'].shape)}")


def oks_sigmas(num_joints: int, device: torch.device | None = None) -> torch.Tensor:
    """Per-joint OKS sigmas: PoseTrack's for K = 15, else a uniform 0.079 (COCO's average)."""
    sigmas = OKS_SIGMAS if num_joints == len(OKS_SIGMAS) else np.full(num_joints, 0.079)
    return torch.as_tensor(sigmas, dtype=torch.float32, device=device)


def pairwise_oks(
    pred: torch.Tensor,
    gt: torch.Tensor,
    visibility: torch.Tensor,
    areas: torch.Tensor,
    sigmas: torch.Tensor,
) -> torch.Tensor:
    """OKS of every prediction against every target, COCO formula over visible joints.

    pred (Q, K, 2), gt (N, K, 2), visibility (N, K) bool, areas (N,), sigmas (K,) -> (Q, N).
    A target with no visible joint scores 0.
    """
    d2 = (pred[:, None] - gt[None]).pow(2).sum(-1)  # Q, N, K
    variances = (2 * sigmas) ** 2
    e = d2 / (2 * variances * (areas[:, None] + 1e-9))[None]
    vis = visibility.to(pred.dtype)[None]
    return (torch.exp(-e) * vis).sum(-1) / vis.sum(-1).clamp(min=1)


def pairwise_oks_aligned(
    pred: torch.Tensor,
    gt: torch.Tensor,
    visibility: torch.Tensor,
    areas: torch.Tensor,
    sigmas: torch.Tensor,
) -> torch.Tensor:
    """OKS of pred[i] against gt[i]: pred, gt (n, K, 2), visibility (n, K) -> (n,)."""
    d2 = (pred - gt).pow(2).sum(-1)
    e = d2 / (2 * (2 * sigmas) ** 2 * (areas[:, None] + 1e-9))
    vis = visibility.to(pred.dtype)
    return (torch.exp(-e) * vis).sum(-1) / vis.sum(-1).clamp(min=1)


class HungarianMatcher:
    """One-to-one assignment of predictions to targets per sample (scipy's Hungarian solver)."""

    def __init__(
        self,
        cost_class: float = 2.0,
        cost_kpt: float = 70.0,
        cost_oks: float = 7.0,
        focal_alpha: float = 0.25,
        focal_gamma: float = 2.0,
    ) -> None:
        self.cost_class, self.cost_kpt, self.cost_oks = cost_class, cost_kpt, cost_oks
        self.alpha, self.gamma = focal_alpha, focal_gamma

    @torch.no_grad()
    def __call__(
        self, logits: torch.Tensor, poses: torch.Tensor, targets: list[dict]
    ) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """logits (B, Q), poses (B, Q, K, 2) in [0, 1] -> per sample (pred_idx, target_idx),
        both int64 of length min(Q, N_b), pred_idx ascending."""
        B, Q, K, _ = poses.shape
        check_targets(targets, B, K)
        sigmas = oks_sigmas(K, poses.device)
        prob = logits.float().sigmoid()
        # focal cost: the focal loss of calling the prediction positive minus that of negative
        neg = (1 - self.alpha) * prob**self.gamma * -(1 - prob + 1e-8).log()
        pos = self.alpha * (1 - prob) ** self.gamma * -(prob + 1e-8).log()
        class_cost = pos - neg  # B, Q
        out = []
        for b, t in enumerate(targets):
            gt = t["keypoints"].to(poses)
            n = gt.shape[0]
            if n == 0:
                empty = torch.zeros(0, dtype=torch.long)
                out.append((empty, empty.clone()))
                continue
            vis = t["visibility"].to(poses.device)
            pred = poses[b].float()
            # L1 over visible coordinates, normalised by the number of visible coordinates
            l1 = ((pred[:, None] - gt[None]).abs() * vis[None, :, :, None]).sum((-1, -2))
            l1 = l1 / (2 * vis.sum(-1)).clamp(min=1)[None]
            oks = pairwise_oks(pred, gt, vis, t["areas"].to(poses), sigmas)
            cost = (
                self.cost_class * class_cost[b][:, None]
                + self.cost_kpt * l1
                - self.cost_oks * oks
            )
            rows, cols = linear_sum_assignment(cost.cpu().numpy())
            out.append(
                (torch.as_tensor(rows, dtype=torch.long), torch.as_tensor(cols, dtype=torch.long))
            )
        return out
