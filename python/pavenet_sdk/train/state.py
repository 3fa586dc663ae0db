"""Checkpoint contents of a training run: resume, ``init_from`` and the config check."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import torch
from torch import nn

from pavenet_sdk.checkpoint import read_checkpoint, save_checkpoint


def git_revision(cwd: str | Path | None = None) -> str | None:
    """``git rev-parse HEAD`` of the source tree, or None outside a repository."""
    here = Path(cwd) if cwd else Path(__file__).resolve().parent
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True,
                             text=True, timeout=10, check=False)  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    return out.stdout.strip() or None


def _diff(a: Any, b: Any, prefix: str = "") -> list[str]:
    """Dotted keys where two nested config dicts differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[str] = []
        for k in sorted(set(a) | set(b)):
            out += _diff(a.get(k), b.get(k), f"{prefix}{k}.")
        return out
    return [] if a == b else [f"{prefix[:-1]}: checkpoint {a!r} vs config {b!r}"]


def check_same_model(
    payload: dict[str, Any], model_config: dict[str, Any], path: str | Path
) -> None:
    """Raise ``ValueError`` naming the differing fields if a checkpoint was trained with another
    model config (resuming it would silently mix two models). The saved config is read through
    ``ModelConfig`` first, so configs saved by older versions (no ``layout``) compare equal."""
    from pavenet_sdk.model.config import ModelConfig

    saved = payload.get("config", {})
    try:
        saved = ModelConfig.from_dict(saved).to_dict()
    except (TypeError, ValueError):
        pass  # not a readable model config: the raw diff names what differs
    diffs = _diff(saved, model_config)
    if diffs:
        shown = "; ".join(diffs[:6]) + (" ..." if len(diffs) > 6 else "")
        raise ValueError(
            f"cannot resume from {path}: it was trained with a different model config ({shown}). "
            "Use the run's own config, or start a new run with [model] init_from to reuse weights."
        )


def save_training_state(
    path: str | Path,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler | None,
    step: int,
    elapsed_s: float,
    best_map: float | None,
    run_config: dict[str, Any],
    **extra: Any,
) -> None:
    """Write a resumable checkpoint (model + optimiser + schedule position + run config)."""
    save_checkpoint(
        path, model,
        optimizer=optimizer.state_dict(),
        scaler=scaler.state_dict() if scaler is not None else None,
        scheduler={"step": int(step), "elapsed_s": float(elapsed_s)},
        step=int(step),
        best_map=best_map,
        run_config=run_config,
        git_rev=git_revision(),
        **extra,
    )  # fmt: skip


# per-frame module lists of the decoders: "<name>.<frame>." in parameter names
_PER_FRAME = re.compile(r"(sampling_offsets|attention_weights|pose_heads)\.(\d+)\.")


def _frames_of(names: list[str]) -> int:
    """Frames of the widest per-frame module list in a state dict (1 for image models)."""
    found = [int(m.group(2)) for n in names if (m := _PER_FRAME.search(n))]
    return max(found) + 1 if found else 1


def _source_key(name: str, target_frames: int, source_frames: int) -> str:
    """Target frame f of F_t maps to the source frame at the same offset from the centre,
    clamped; with a 1-frame source every frame starts from the image model's weights."""
    m = _PER_FRAME.search(name)
    if m is None:
        return name
    f = int(m.group(2)) - target_frames // 2 + source_frames // 2
    f = min(max(f, 0), source_frames - 1)
    return f"{name[: m.start(2)]}{f}{name[m.end(2) :]}"


def load_matching_weights(model: nn.Module, path: str | Path) -> tuple[int, int]:
    """Initialise ``model`` from checkpoint ``path`` by parameter name and shape.

    Per-frame decoder modules (offsets, attention weights, pose heads) are matched by their
    offset from the centre frame, so an image-only model (1 frame) initialises every frame of a
    temporal model with its own weights. Returns (tensors copied, model tensors). Raises
    ``ValueError`` if nothing matches.
    """
    payload = read_checkpoint(path)
    source = payload["model"]
    target = model.state_dict()
    # per-frame lists of every module have 2T+1 or 1 entries; the widest list gives F
    tf, sf = _frames_of(list(target)), _frames_of(list(source))
    matched = {}
    for name, tensor in target.items():
        src = source.get(_source_key(name, tf, sf)) if tf != sf else source.get(name)
        if src is not None and src.shape == tensor.shape:
            matched[name] = src
    if not matched:
        raise ValueError(f"init_from {path}: no tensor matches this model by name and shape")
    model.load_state_dict(matched, strict=False)
    return len(matched), len(target)


def load_criterion(criterion: nn.Module, state: dict[str, torch.Tensor]) -> int:
    """Load the tensors of a saved criterion (RLE flows) that match by name and shape;
    returns how many were copied (0 when the loss types differ)."""
    target = criterion.state_dict()
    matched = {k: v for k, v in state.items() if k in target and target[k].shape == v.shape}
    criterion.load_state_dict(matched, strict=False)
    return len(matched)
