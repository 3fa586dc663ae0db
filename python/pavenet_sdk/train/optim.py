"""AdamW parameter groups with per-part learning-rate multipliers, and the LR schedule.

The schedule is a pure function of (step, run progress), so resuming needs only the step and
the elapsed training time, both stored in checkpoints.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch
from torch import nn

from pavenet_sdk.train.config import OptimSection

# Parameter-name fragments of the parts trained at a reduced learning rate (pavenet-model.md 3).
BACKBONE_KEYS = ("backbone.",)
OFFSET_KEYS = ("sampling_offsets",)
REFERENCE_KEYS = ("reference_points", "ref_point", "pose_head", "pose_mlp", "joint_mlp",
                  "kpt_branch", "joint_branch", "refine")  # fmt: skip
NO_DECAY_KEYS = ("norm", "bias", "level_embed", "query_embed", "joint_embed", "pos_embed")


def _matches(name: str, keys: Iterable[str]) -> bool:
    return any(k in name for k in keys)


def param_groups(model: nn.Module, cfg: OptimSection) -> list[dict]:
    """Split trainable parameters into groups: (part, decay) -> {"params", "lr_mult", "name"}.

    Parts: backbone (x ``backbone_lr_mult``), sampling offsets (x ``offsets_lr_mult``), reference
    heads (x ``reference_lr_mult``) and the rest (x1). Norms, biases and embeddings get no weight
    decay. Empty groups are dropped.
    """
    groups: dict[tuple[str, bool], list[nn.Parameter]] = {}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        if _matches(name, BACKBONE_KEYS):
            part = "backbone"
        elif _matches(name, OFFSET_KEYS):
            part = "offsets"
        elif _matches(name, REFERENCE_KEYS):
            part = "reference"
        else:
            part = "main"
        decay = p.ndim > 1 and not _matches(name, NO_DECAY_KEYS)
        groups.setdefault((part, decay), []).append(p)
    mults = {"backbone": cfg.backbone_lr_mult, "offsets": cfg.offsets_lr_mult,
             "reference": cfg.reference_lr_mult, "main": 1.0}  # fmt: skip
    return [
        {
            "params": params,
            "lr_mult": mults[part],
            "name": f"{part}{'' if decay else '_nodecay'}",
            "weight_decay": cfg.weight_decay if decay else 0.0,
            "lr": cfg.lr * mults[part],
        }
        for (part, decay), params in sorted(groups.items())
    ]


def build_optimizer(model: nn.Module, cfg: OptimSection) -> torch.optim.AdamW:
    """AdamW over :func:`param_groups` (``lr`` is rewritten every step by :func:`set_lr`)."""
    groups = param_groups(model, cfg)
    if not groups:
        raise ValueError("the model has no trainable parameters")
    return torch.optim.AdamW(groups, lr=cfg.lr, weight_decay=cfg.weight_decay)


def lr_factor(cfg: OptimSection, step: int, progress: float) -> float:
    """Multiplier of the base LR at optimiser ``step`` (0-based) and run ``progress`` in [0, 1].

    Linear warm-up over ``warmup_steps``, then cosine to ``min_lr_ratio``, step decay at the
    ``step_milestones`` fractions, or constant.
    """
    warm = min(1.0, (step + 1) / cfg.warmup_steps) if cfg.warmup_steps else 1.0
    progress = min(max(progress, 0.0), 1.0)
    if cfg.schedule == "cosine":
        decay = cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress))
    elif cfg.schedule == "step":
        decay = cfg.step_gamma ** sum(progress >= m for m in cfg.step_milestones)
    else:
        decay = 1.0
    return warm * decay


def set_lr(optimizer: torch.optim.Optimizer, cfg: OptimSection, factor: float) -> float:
    """Apply ``cfg.lr * factor * group lr_mult`` to every group; return the base LR used."""
    base = cfg.lr * factor
    for group in optimizer.param_groups:
        group["lr"] = base * group.get("lr_mult", 1.0)
    return base
