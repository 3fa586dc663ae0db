"""Model checkpoints: config + weights in one file, loaded without executing pickled code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from pavenet_sdk.model import ModelConfig, PAVENet, build_model
from pavenet_sdk.torch_io import load_tensors

CHECKPOINT_FORMAT = "pavenet-checkpoint/1"


def save_checkpoint(path: str | Path, model: PAVENet, **extra: Any) -> None:
    """Write ``model`` (config + state dict) and any plain-data ``extra`` entries."""
    payload = {
        "format": CHECKPOINT_FORMAT,
        "config": model.config.to_dict(),
        "model": model.state_dict(),
        **extra,
    }
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    torch.save(payload, path)


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load a checkpoint dict with ``weights_only=True`` (tensors and plain data only)."""
    payload = load_tensors(path, "checkpoint")
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        found = payload.get("format") if isinstance(payload, dict) else type(payload).__name__
        raise ValueError(
            f"{path} is not a pavenet-sdk checkpoint (format {found!r}, expected "
            f"{CHECKPOINT_FORMAT!r}); for the authors' weights use `pavenet import-official`"
        )
    return payload


def load_model(path: str | Path, config: ModelConfig | None = None) -> PAVENet:
    """Rebuild the model a checkpoint was saved from and load its weights strictly.

    With ``config`` given, the checkpoint must have been trained with that same config.
    """
    payload = read_checkpoint(path)
    saved = ModelConfig.from_dict(payload["config"])
    if config is not None and config != saved:
        raise ValueError(f"{path} was saved from a different model config than the one requested")
    model = build_model(saved)
    missing, unexpected = model.load_state_dict(payload["model"], strict=False)
    if missing or unexpected:
        raise ValueError(
            f"{path} does not match its own config: missing {missing[:5]}, "
            f"unexpected {unexpected[:5]}"
        )
    return model.eval()
