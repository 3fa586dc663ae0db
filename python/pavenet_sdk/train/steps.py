"""The differentiable part of a training step: window -> model outputs -> weighted losses.

:class:`TrainingForward` wraps the model and its criterion in one module so DDP sees every
parameter use inside ``forward``. With ``freeze_neighbor_encoder`` the backbone and encoder of
the non-centre frames run without gradients (about 2.4x instead of 3.3x the cost of one image
per 3-frame window on CPU); only the centre frame's encoding is trained, the decoders still
attend to all frames.
"""

from __future__ import annotations

import torch
from torch import nn


def amp_dtype(mode: str, device: torch.device) -> torch.dtype | None:
    """Autocast dtype for ``run.amp``: CUDA only ("auto" = bf16 if supported, else fp16)."""
    if device.type != "cuda" or mode == "none":
        return None
    if mode == "bf16" or (mode == "auto" and torch.cuda.is_bf16_supported()):
        return torch.bfloat16
    return torch.float16


class TrainingForward(nn.Module):
    """(window (B, F, 3, H, W), targets) -> {"loss": scalar, "loss_<term>": scalar, ...}.

    criterion: the model's (``pavenet_sdk.model.build_training`` returns both); None makes one that
    shares the model's matcher.
    """

    def __init__(self, model: nn.Module, freeze_neighbor_encoder: bool = True,
                 criterion: nn.Module | None = None) -> None:  # fmt: skip
        super().__init__()
        from pavenet_sdk.model.losses import SetCriterion

        self.model = model
        self.criterion = SetCriterion(model.cfg, model.matcher) if criterion is None else criterion
        self.freeze_neighbor_encoder = bool(freeze_neighbor_encoder)

    def encode_window(self, window: torch.Tensor) -> torch.Tensor:
        """window (B, F, 3, H, W) -> memories (B, F, N, D)."""
        model, cfg = self.model, self.model.cfg
        B, F = window.shape[:2]
        T = F // 2
        if F == 1 or not (self.freeze_neighbor_encoder or cfg.decoder_frames == 1):
            memories = model.encode_frame(window.flatten(0, 1))
            return memories.view(B, F, *memories.shape[1:])
        centre = model.encode_frame(window[:, T])  # B, N, D with gradients
        if cfg.decoder_frames == 1:
            # image-only decoders never read the neighbours: skip their encoding
            return centre[:, None].expand(B, F, *centre.shape[1:])
        others = [f for f in range(F) if f != T]
        with torch.no_grad():
            side = model.encode_frame(window[:, others].flatten(0, 1))
        side = side.view(B, F - 1, *side.shape[1:])
        return torch.cat([side[:, :T], centre[:, None], side[:, T:]], dim=1)

    def forward(self, window: torch.Tensor, targets: list[dict]) -> dict[str, torch.Tensor]:
        if window.dim() != 5:
            raise ValueError(f"window must be (B, F, 3, H, W), got {tuple(window.shape)}")
        outputs = self.model.decode_window(self.encode_window(window), targets)
        # losses in float32 even under autocast (log-densities and focal terms need the range)
        with torch.autocast(device_type=window.device.type, enabled=False):
            return self.criterion(_float32(outputs), targets)


def _float32(value):
    """Nested dicts/lists of tensors with floating tensors cast to float32."""
    if isinstance(value, torch.Tensor):
        return value.float() if value.is_floating_point() else value
    if isinstance(value, dict):
        return {k: _float32(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_float32(v) for v in value)
    return value
