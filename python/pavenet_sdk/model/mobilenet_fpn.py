"""MobileNetV2 + FPN trunk: MoveNet's COCO-trained person feature extractor, in PyTorch.

The layout is the one of TF Object Detection's CenterNet ``MobileNetV2 FPN`` extractor that
MoveNet uses (batch norm folded into the convolutions, so every convolution has a bias except
the FPN depthwise ones):

- input: RGB normalised to [-1, 1], i.e. mean 127.5 and std 127.5 in 0-255 terms
  (:data:`INPUT_MEAN`, :data:`INPUT_STD`);
- MobileNetV2 with width multiplier ``alpha`` (MoveNet MultiPose Lightning: 1.5, SinglePose
  Thunder: 1.75), ReLU6, TF ``SAME`` padding (stride-2 convolutions pad one more pixel at the
  bottom/right on even sizes), a fixed 1280-channel last 1x1 convolution;
- a top-down FPN: 1x1 laterals on ``block_5`` (stride 8), ``block_9`` (stride 16) and the last
  convolution (stride 32); the coarser map is upsampled 2x (bilinear, half-pixel centres),
  added to the lateral, then a separable 3x3 convolution and ReLU.

Returns the FPN maps P8 (24 channels), P16 (32) and the stride-32 top lateral (64), the levels
the PAVE-Net neck takes. MoveNet's own stride-4 level (which feeds its heads) is not built.
Weights: :mod:`.movenet_weights` reads them from a MoveNet ONNX file.
"""

from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F
from torch import nn

from .backbone import Trunk, register_input_norm

INPUT_MEAN = (127.5, 127.5, 127.5)
"""Per-channel mean (RGB, 0-255) of the input normalisation the pretrained weights expect."""
INPUT_STD = (127.5, 127.5, 127.5)
"""Per-channel std (RGB, 0-255) of the input normalisation the pretrained weights expect."""

# MobileNetV2 inverted residual settings: (expansion t, base channels c, repeats n, stride s)
_SETTINGS = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)
_STEM_CHANNELS = 32
_LAST_CHANNELS = 1280
# blocks whose outputs feed the FPN laterals at strides 8 and 16 (block_5_add, block_9_add)
TAP_BLOCKS = (5, 9)
# FPN widths: laterals at strides 32, 16, 8 and the separable convs' outputs at 16 and 8
_LATERAL_CHANNELS = (64, 64, 32)
_SMOOTH_CHANNELS = (32, 24)
# last block of each stride stage; frozen_stages k freezes the stem and stages 1..k
_STAGE_ENDS = (2, 5, 12, 16)


def make_divisible(value: float, divisor: int = 8) -> int:
    """Keras MobileNetV2 channel rounding: nearest multiple of ``divisor``, at most 10 % down."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


def _size(x: torch.Tensor) -> tuple[int, int]:
    """(H, W) of ``x``; constants while tracing (exports fix the input size), so the exported
    graph has static pads and slices instead of shape arithmetic."""
    if torch.jit.is_tracing():
        return _traced_size(x)
    return x.shape[-2], x.shape[-1]


@torch.jit.unused
def _traced_size(x):
    # type: (torch.Tensor) -> tuple[int, int]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        return int(x.shape[-2]), int(x.shape[-1])


class SameConv2d(nn.Conv2d):
    """Conv2d with TensorFlow ``SAME`` padding for odd kernels (output size ceil(in / stride)).

    Stride 1, or stride 2 on an odd size, pads k // 2 on both sides (the convolution's own
    padding); stride 2 on an even size pads k // 2 - 1 before and k // 2 after, as TF does.
    """

    def __init__(
        self, c_in: int, c_out: int, k: int, stride: int = 1, groups: int = 1, bias: bool = True
    ) -> None:
        super().__init__(c_in, c_out, k, stride=stride, groups=groups, bias=bias)
        if k % 2 != 1 or stride not in (1, 2):
            raise ValueError(f"SameConv2d takes odd kernels and stride 1 or 2, got {k}, {stride}")
        self._half = k // 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        half = self._half
        if self.stride[0] == 2:
            h, w = _size(x)
            if h % 2 == 0 or w % 2 == 0:  # the extra pixel after, on the even axes
                x = F.pad(x, (half - 1 + w % 2, half, half - 1 + h % 2, half))
                return F.conv2d(x, self.weight, self.bias, self.stride, 0, 1, self.groups)
        return F.conv2d(x, self.weight, self.bias, self.stride, half, 1, self.groups)


class InvertedResidual(nn.Module):
    """1x1 expand + ReLU6 (absent when t = 1), 3x3 depthwise + ReLU6, linear 1x1 project,
    identity shortcut when the stride is 1 and the width is kept."""

    def __init__(self, c_in: int, c_out: int, stride: int, expansion: int) -> None:
        super().__init__()
        hidden = c_in * expansion
        self.expand = nn.Conv2d(c_in, hidden, 1) if expansion != 1 else None
        self.depthwise = SameConv2d(hidden, hidden, 3, stride, groups=hidden)
        self.project = nn.Conv2d(hidden, c_out, 1)
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = x
        if self.expand is not None:
            out = F.relu6(self.expand(out))
        out = self.project(F.relu6(self.depthwise(out)))
        return x + out if self.residual else out


class SeparableConvReLU(nn.Module):
    """FPN smoothing: 3x3 depthwise (no bias), 1x1 pointwise with bias, ReLU."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.depthwise = SameConv2d(c_in, c_in, 3, groups=c_in, bias=False)
        self.pointwise = nn.Conv2d(c_in, c_out, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.pointwise(self.depthwise(x)))


def _upsample_add(coarse: torch.Tensor, lateral: torch.Tensor) -> torch.Tensor:
    """2x bilinear (half-pixel) upsampling of ``coarse``, cropped to ``lateral``, plus it.

    The crop is a no-op for inputs that are multiples of 32 (MoveNet's own sizes); for other
    sizes it keeps the 2x sampling grid aligned with the finer level.
    """
    up = F.interpolate(coarse, scale_factor=2.0, mode="bilinear", align_corners=False)
    (hc, wc), (h, w) = _size(coarse), _size(lateral)
    if 2 * hc != h or 2 * wc != w:
        up = up[:, :, :h, :w]
    return up + lateral


class MobileNetV2FPN(Trunk):
    """MoveNet's MobileNetV2-FPN: images (B, 3, H, W) -> (P8, P16, P32) at strides 8, 16, 32.

    Input normalised with :data:`INPUT_MEAN` / :data:`INPUT_STD` (RGB), or with ``input_norm``
    = (mean, std) in 0-255 RGB terms when given (PAVE-Net passes ImageNet's, like every other
    trunk, and the module maps it onto its own). Any H, W >= 32; level
    sizes are ceil(H / s), ceil(W / s) as for the ResNet trunk.
    ``width_multiplier``: MobileNetV2 alpha (1.5 for MoveNet MultiPose Lightning, 1.75 for
    SinglePose Thunder). ``frozen_stages``: 0 = nothing frozen; k >= 1 freezes the stem and
    the first k stride stages (stage 1 ends at stride 4, stage 4 at 32); the FPN never freezes.
    """

    strides = (8, 16, 32)

    def __init__(
        self,
        width_multiplier: float = 1.5,
        frozen_stages: int = 0,
        input_norm: tuple[tuple[float, ...], tuple[float, ...]] | None = None,
    ) -> None:
        super().__init__()
        if not width_multiplier > 0:
            raise ValueError(f"width_multiplier must be > 0, got {width_multiplier!r}")
        if not 0 <= frozen_stages <= 4:
            raise ValueError(f"frozen_stages must be in [0, 4], got {frozen_stages!r}")
        self.width_multiplier = float(width_multiplier)
        self.frozen_stages = frozen_stages
        c_in = make_divisible(_STEM_CHANNELS * width_multiplier)
        self.stem = SameConv2d(3, c_in, 3, stride=2)
        blocks = []
        for t, c, n, s in _SETTINGS:
            c_out = make_divisible(c * width_multiplier)
            for i in range(n):
                blocks.append(InvertedResidual(c_in, c_out, s if i == 0 else 1, t))
                c_in = c_out
        self.blocks = nn.ModuleList(blocks)
        self._tap8, self._tap16 = TAP_BLOCKS  # plain ints: TorchScript reads them
        self.last = nn.Conv2d(c_in, _LAST_CHANNELS, 1)
        tap_channels = [blocks[i].project.out_channels for i in TAP_BLOCKS]
        l32, l16, l8 = _LATERAL_CHANNELS
        self.lateral32 = nn.Conv2d(_LAST_CHANNELS, l32, 1)
        self.lateral16 = nn.Conv2d(tap_channels[1], l16, 1)
        self.lateral8 = nn.Conv2d(tap_channels[0], l8, 1)
        self.smooth16 = SeparableConvReLU(l16, _SMOOTH_CHANNELS[0])
        self.smooth8 = SeparableConvReLU(l8, _SMOOTH_CHANNELS[1])
        self.out_channels = (_SMOOTH_CHANNELS[1], _SMOOTH_CHANNELS[0], l32)
        register_input_norm(self, input_norm, INPUT_MEAN, INPUT_STD)
        self._init_weights()
        self._freeze()

    def _frozen_modules(self) -> list[nn.Module]:
        if self.frozen_stages < 1:
            return []
        end = _STAGE_ENDS[self.frozen_stages - 1]
        mods: list[nn.Module] = [self.stem, *self.blocks[: end + 1]]
        if self.frozen_stages == 4:
            mods.append(self.last)
        return mods

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x = F.relu6(self.stem(x * self._in_scale + self._in_shift))
        c3, c4 = x, x
        for i, block in enumerate(self.blocks):
            x = block(x)
            if i == self._tap8:
                c3 = x
            elif i == self._tap16:
                c4 = x
        p32 = self.lateral32(F.relu6(self.last(x)))
        p16 = self.smooth16(_upsample_add(p32, self.lateral16(c4)))
        p8 = self.smooth8(_upsample_add(p16, self.lateral8(c3)))
        return p8, p16, p32
