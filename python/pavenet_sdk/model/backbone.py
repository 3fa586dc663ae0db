"""ResNet-18/34/50 trunks with torchvision-compatible state-dict keys (no ``fc``).

Keys: ``conv1``, ``bn1``, ``layer{1..4}.{block}.{conv1,bn1,conv2,bn2[,conv3,bn3]}`` and
``downsample.0`` (conv) / ``downsample.1`` (norm), so a local torchvision or mmdet ImageNet
checkpoint loads with strict key checks (``num_batches_tracked`` entries are accepted).
The stride of a bottleneck sits on ``conv2`` (torchvision / "pytorch" style).
Returns C3, C4, C5 (strides 8, 16, 32).
"""

from __future__ import annotations

import torch
from torch import nn

from .config import BackboneConfig


class FrozenBatchNorm2d(nn.Module):
    """BatchNorm2d in inference mode whose affine parameters and statistics never change.

    All four tensors are buffers (``weight``, ``bias``, ``running_mean``, ``running_var``),
    eps 1e-5. A ``num_batches_tracked`` entry in a loaded state dict is dropped.
    """

    def __init__(self, num_features: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps
        self.register_buffer("weight", torch.ones(num_features))
        self.register_buffer("bias", torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))

    def _load_from_state_dict(
        self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
    ) -> None:  # noqa: D401 - torch hook signature
        # BatchNorm2d checkpoints carry a step counter that a frozen norm has no use for
        state_dict.pop(prefix + "num_batches_tracked", None)
        super()._load_from_state_dict(
            state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = self.weight * (self.running_var + self.eps).rsqrt()
        shift = self.bias - self.running_mean * scale
        return x * scale[None, :, None, None] + shift[None, :, None, None]

    def extra_repr(self) -> str:
        return f"{self.weight.shape[0]}, eps={self.eps}"


class Trunk(nn.Module):
    """Base of the backbones: ``frozen_stages`` freezes the modules ``_frozen_modules()``
    lists (no gradients, and eval mode under ``train()`` so batch-norm statistics stay)."""

    def _frozen_modules(self) -> list[nn.Module]:
        raise NotImplementedError

    def _init_weights(self) -> None:
        """He-normal convolutions (fan out), zero biases."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def _freeze(self) -> None:
        for m in self._frozen_modules():
            for p in m.parameters():
                p.requires_grad_(False)

    def train(self, mode: bool = True) -> Trunk:
        super().train(mode)
        for m in self._frozen_modules():
            m.eval()
        return self


def register_input_norm(
    module: nn.Module,
    input_norm: tuple[tuple[float, ...], tuple[float, ...]] | None,
    mean: tuple[float, ...],
    std: tuple[float, ...],
) -> None:
    """Buffers ``_in_scale`` / ``_in_shift`` (1, 3, 1, 1) mapping input normalised with
    ``input_norm`` = (mean, std) (0-255 RGB terms; None: already ``mean``/``std``) onto the
    ``mean``/``std`` normalisation a trunk's weights expect: ``x * _in_scale + _in_shift``.
    The buffers are not saved, so the weights load as they are."""
    scale, shift = torch.ones(3), torch.zeros(3)
    if input_norm is not None:
        mean_in, std_in = (torch.tensor(v, dtype=torch.float32) for v in input_norm)
        ref_mean, ref_std = torch.tensor(mean), torch.tensor(std)
        scale, shift = std_in / ref_std, (mean_in - ref_mean) / ref_std
    module.register_buffer("_in_scale", scale.view(1, 3, 1, 1), persistent=False)
    module.register_buffer("_in_shift", shift.view(1, 3, 1, 1), persistent=False)


def _norm(kind: str, channels: int) -> nn.Module:
    return FrozenBatchNorm2d(channels) if kind == "frozen_bn" else nn.BatchNorm2d(channels)


def _conv(c_in: int, c_out: int, k: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(c_in, c_out, k, stride=stride, padding=k // 2, bias=False)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, c_in: int, planes: int, stride: int, norm: str) -> None:
        super().__init__()
        self.conv1 = _conv(c_in, planes, 3, stride)
        self.bn1 = _norm(norm, planes)
        self.conv2 = _conv(planes, planes, 3)
        self.bn2 = _norm(norm, planes)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = _downsample(c_in, planes * self.expansion, stride, norm)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + identity)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, c_in: int, planes: int, stride: int, norm: str) -> None:
        super().__init__()
        self.conv1 = _conv(c_in, planes, 1)
        self.bn1 = _norm(norm, planes)
        self.conv2 = _conv(planes, planes, 3, stride)
        self.bn2 = _norm(norm, planes)
        self.conv3 = _conv(planes, planes * self.expansion, 1)
        self.bn3 = _norm(norm, planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = _downsample(c_in, planes * self.expansion, stride, norm)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        return self.relu(self.bn3(self.conv3(out)) + identity)


def _downsample(c_in: int, c_out: int, stride: int, norm: str) -> nn.Sequential | None:
    if stride == 1 and c_in == c_out:
        return None
    return nn.Sequential(_conv(c_in, c_out, 1, stride), _norm(norm, c_out))


_BLOCKS = {
    18: (BasicBlock, (2, 2, 2, 2)),
    34: (BasicBlock, (3, 4, 6, 3)),
    50: (Bottleneck, (3, 4, 6, 3)),
}


class ResNet(Trunk):
    """ResNet trunk: images (B, 3, H, W) -> (C3, C4, C5) at strides 8, 16, 32.

    ``frozen_stages`` = 1 freezes the stem and layer1 (requires_grad False and, for trainable
    BN, eval-mode statistics), as in the paper.
    """

    def __init__(self, cfg: BackboneConfig) -> None:
        super().__init__()
        block, counts = _BLOCKS[cfg.depth]
        self.frozen_stages = cfg.frozen_stages
        w = cfg.width
        self.conv1 = nn.Conv2d(3, w, 7, stride=2, padding=3, bias=False)
        self.bn1 = _norm(cfg.norm, w)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        c_in = w
        for i, count in enumerate(counts):
            planes = w * 2**i
            blocks = []
            for j in range(count):
                stride = 2 if (i > 0 and j == 0) else 1
                blocks.append(block(c_in, planes, stride, cfg.norm))
                c_in = planes * block.expansion
            self.add_module(f"layer{i + 1}", nn.Sequential(*blocks))
        self.out_channels = cfg.out_channels
        self._init_weights()
        self._freeze()

    def _init_weights(self) -> None:
        super()._init_weights()
        # zero-init the last norm of each residual branch: blocks start as identities,
        # which helps training from scratch (no effect once ImageNet weights are loaded)
        for m in self.modules():
            last = getattr(m, "bn3", None) if isinstance(m, Bottleneck) else None
            if isinstance(m, BasicBlock):
                last = m.bn2
            if isinstance(last, nn.BatchNorm2d):
                nn.init.zeros_(last.weight)

    def _frozen_modules(self) -> list[nn.Module]:
        if self.frozen_stages < 1:
            return []
        mods: list[nn.Module] = [self.conv1, self.bn1]
        mods += [getattr(self, f"layer{i}") for i in range(1, self.frozen_stages + 1)]
        return mods

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        c2 = self.layer1(x)
        c3 = self.layer2(c2)
        c4 = self.layer3(c3)
        c5 = self.layer4(c4)
        return c3, c4, c5
