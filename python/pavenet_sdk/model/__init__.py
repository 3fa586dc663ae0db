"""PAVE-Net in PyTorch (needs the ``torch`` extra).

Public API:
    ModelConfig, get_preset, PRESETS       configuration (``config.py`` and ``presets.py``
                                           import no torch)
    build_training(cfg | preset) -> (model, criterion)  for training: both share one matcher
    build_model(cfg | preset) -> PAVENet   the model (``encode_frame`` / ``decode_window``)
    SetCriterion(cfg, matcher)(outputs, targets)  training losses (holds the RLE flows)
    HungarianMatcher, build_matcher        prediction-to-target assignment
    oks                                    object keypoint similarity (torch)

Names are imported lazily, so ``pavenet_sdk.model.config`` and ``.presets`` stay usable
without torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "PRESETS": "presets",
    "ModelConfig": "config",
    "get_preset": "presets",
    "build_training": "build",
    "build_model": "build",
    "build_matcher": "build",
    "PAVENet": "pavenet",
    "SetCriterion": "losses",
    "HungarianMatcher": "matcher",
    "oks": "matcher",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
