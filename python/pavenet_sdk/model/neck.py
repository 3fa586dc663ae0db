"""ChannelMapper neck: C3..C5 -> L maps of D channels (pavenet-model.md section 1, step 2).

1x1 conv (no bias) + GroupNorm per input level, plus extra 3x3 stride-2 conv + GN levels, the
first on the **raw C5** and each further one on the previous extra level. No activation.
"""

from __future__ import annotations

import torch
from torch import nn


class ConvGN(nn.Module):
    """conv (no bias, a norm follows) -> GroupNorm."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, groups: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False)
        self.gn = nn.GroupNorm(groups, c_out)
        nn.init.xavier_uniform_(self.conv.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.gn(self.conv(x))


class ChannelMapper(nn.Module):
    """(C3, C4, C5) -> list of L tensors (B, D, H_l, W_l), strides 8, 16, 32 [, 64, 128]."""

    def __init__(
        self, in_channels: tuple[int, ...], d_model: int, num_extra_levels: int, gn_groups: int
    ) -> None:
        super().__init__()
        self.convs = nn.ModuleList(ConvGN(c, d_model, 1, 1, gn_groups) for c in in_channels)
        extra_in = [in_channels[-1]] + [d_model] * (num_extra_levels - 1)
        self.extra_convs = nn.ModuleList(
            ConvGN(c, d_model, 3, 2, gn_groups) for c in extra_in[:num_extra_levels]
        )

    def forward(self, feats: tuple[torch.Tensor, ...]) -> list[torch.Tensor]:
        if len(feats) != len(self.convs):
            raise ValueError(f"expected {len(self.convs)} feature maps, got {len(feats)}")
        outs = [conv(f) for conv, f in zip(self.convs, feats, strict=True)]
        x = feats[-1]
        for conv in self.extra_convs:
            x = conv(x)
            outs.append(x)
        return outs
