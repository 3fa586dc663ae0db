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

from collections.abc import Mapping
from typing import Any

import torch
from scipy.optimize import linear_sum_assignment

from pavenet_sdk.layouts import DEFAULT_LAYOUT, JointLayout, get_layout

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


def oks(
    pred: torch.Tensor,
    gt: torch.Tensor,
    visibility: torch.Tensor,
    areas: torch.Tensor,
    sigmas: torch.Tensor,
) -> torch.Tensor:
    """Object keypoint similarity (COCO's formula over the visible joints), broadcasting.

    pred (..., K, 2), gt (..., K, 2), visibility (..., K) bool, areas (...), sigmas (K,) ->
    (...), the leading dimensions broadcast. Pairs: ``oks(pred, gt, vis, areas, sigmas)`` with
    pred, gt (n, K, 2) -> (n,); every prediction against every target:
    ``oks(pred[:, None], gt[None], vis[None], areas[None], sigmas)`` -> (Q, N). A target with
    no visible joint scores 0.
    """
    d2 = (pred - gt).pow(2).sum(-1)  # ..., K
    e = d2 / (2 * (2 * sigmas) ** 2 * (areas[..., None] + 1e-9))
    vis = visibility.to(pred.dtype)
    return (torch.exp(-e) * vis).sum(-1) / vis.sum(-1).clamp(min=1)


class HungarianMatcher:
    """One-to-one assignment of predictions to targets per sample (scipy's Hungarian solver).

    layout: the joint layout of the poses (K and the OKS sigmas of the cost). Built once per
    model (:func:`pavenet_sdk.model.build_training`) and shared by the model, which matches the last
    STPD layer to pick the STJD's persons, and the criterion, which reuses those matches.
    """

    def __init__(
        self,
        cost_class: float = 2.0,
        cost_kpt: float = 70.0,
        cost_oks: float = 7.0,
        focal_alpha: float = 0.25,
        focal_gamma: float = 2.0,
        layout: str | JointLayout | Mapping[str, Any] = DEFAULT_LAYOUT,
    ) -> None:
        self.cost_class, self.cost_kpt, self.cost_oks = cost_class, cost_kpt, cost_oks
        self.alpha, self.gamma = focal_alpha, focal_gamma
        self.layout = get_layout(layout)
        self._sigmas = torch.as_tensor(self.layout.sigmas_array)

    @property
    def num_joints(self) -> int:
        """K of the layout."""
        return self.layout.num_joints

    @torch.no_grad()
    def __call__(
        self, logits: torch.Tensor, poses: torch.Tensor, targets: list[dict]
    ) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """logits (B, Q), poses (B, Q, K, 2) in [0, 1] -> per sample (pred_idx, target_idx),
        both int64 of length min(Q, N_b), pred_idx ascending."""
        B, Q, K, _ = poses.shape
        if K != self.num_joints:
            raise ValueError(
                f"poses have {K} joints but the matcher's layout {self.layout.name!r} has "
                f"{self.num_joints}"
            )
        check_targets(targets, B, K)
        sigmas = self._sigmas.to(poses.device)
        prob = logits.float().sigmoid()
        # focal cost: the focal loss of calling the prediction positive minus that of negative
        neg = (1 - self.alpha) * prob**self.gamma * -(1 - prob + 1e-8).log()
        pos = self.alpha * (1 - prob) ** self.gamma * -(prob + 1e-8).log()
        class_cost = pos - neg  # B, Q
        out = []
        for b, t in enumerate(targets):
            # float32 whatever the autocast dtype of poses: the same matches as in the losses
            gt = t["keypoints"].to(device=poses.device, dtype=torch.float32)
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
            areas = t["areas"].to(device=poses.device, dtype=torch.float32)
            similarity = oks(pred[:, None], gt[None], vis[None], areas[None], sigmas)
            cost = (
                self.cost_class * class_cost[b][:, None]
                + self.cost_kpt * l1
                - self.cost_oks * similarity
            )
            rows, cols = linear_sum_assignment(cost.cpu().numpy())
            out.append(
                (torch.as_tensor(rows, dtype=torch.long), torch.as_tensor(cols, dtype=torch.long))
            )
        return out
