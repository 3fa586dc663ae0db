"""PAVE-Net in PyTorch (needs the ``torch`` extra).

Public API:
    ModelConfig, get_preset, PRESETS       configuration (``config.py`` imports no torch)
    build_model(cfg | preset) -> PAVENet   the model (``encode_frame`` / ``decode_window``)
    SetCriterion(cfg)(outputs, targets)    training losses (holds the RLE flows)
    HungarianMatcher                       prediction-to-target assignment
"""

from .build import build_matcher, build_model
from .config import PRESETS, ModelConfig, get_preset
from .losses import SetCriterion
from .matcher import HungarianMatcher
from .pavenet import PAVENet

__all__ = [
    "PRESETS",
    "HungarianMatcher",
    "ModelConfig",
    "PAVENet",
    "SetCriterion",
    "build_matcher",
    "build_model",
    "get_preset",
]
