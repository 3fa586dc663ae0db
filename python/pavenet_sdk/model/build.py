"""Builders: a :class:`ModelConfig` (or preset name) -> the model, its matcher, its losses.

``build_training(cfg)`` returns ``(model, criterion)`` sharing one :class:`HungarianMatcher`
(as DETR's ``build()``): the model matches its last STPD layer to choose the STJD's persons
and the criterion reuses those matches. ``build_model(cfg)`` is the model alone (inference, export).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pavenet_sdk.manifest import IMAGENET_MEAN, IMAGENET_STD

from .backbone import ResNet
from .config import ModelConfig
from .efficientnet_lite import EfficientNetLite0
from .encoder import EncoderLayer, SpatialEncoder, SpatiotemporalEncoder
from .joint_decoder import JointDecoder, JointDecoderLayer
from .matcher import HungarianMatcher
from .mobilenet_fpn import MobileNetV2FPN
from .neck import ChannelMapper
from .pavenet import PAVENet
from .pose_decoder import PoseDecoder, PoseDecoderLayer
from .position import LevelEmbedding, token_centres
from .presets import get_preset
from .proposals import ProposalHead
from .swin import SwinTransformer

if TYPE_CHECKING:
    from .losses import SetCriterion


def _config(cfg: ModelConfig | str) -> ModelConfig:
    if isinstance(cfg, str):
        cfg = get_preset(cfg)
    if not isinstance(cfg, ModelConfig):
        raise TypeError(f"expected a ModelConfig or preset name, got {type(cfg).__name__}")
    return cfg


def build_backbone(cfg: ModelConfig):
    """The trunk of ``cfg.backbone.type``; every trunk takes ImageNet-normalised RGB."""
    b = cfg.backbone
    if b.type == "swin":
        return SwinTransformer(b)
    if b.type == "movenet":
        return MobileNetV2FPN(b.width_multiplier, b.frozen_stages,
                              input_norm=(IMAGENET_MEAN, IMAGENET_STD))  # fmt: skip
    if b.type == "efficientnet-lite0":
        return EfficientNetLite0(b.frozen_stages, b.norm, input_norm=(IMAGENET_MEAN, IMAGENET_STD))
    return ResNet(b)


def build_matcher(cfg: ModelConfig) -> HungarianMatcher:
    """The Hungarian matcher with ``cfg.loss``'s costs and ``cfg.layout``'s OKS sigmas."""
    loss = cfg.loss
    return HungarianMatcher(
        loss.match_cls, loss.match_kpt, loss.match_oks, loss.focal_alpha, loss.focal_gamma,
        layout=cfg.joint_layout,
    )  # fmt: skip


def build_training(cfg: ModelConfig | str) -> tuple[PAVENet, SetCriterion]:
    """The model and its training criterion, sharing one matcher (needs scipy)."""
    from .losses import SetCriterion

    cfg = _config(cfg)
    matcher = build_matcher(cfg)
    return build_model(cfg, matcher), SetCriterion(cfg, matcher)


def build_model(cfg: ModelConfig | str, matcher: HungarianMatcher | None = None) -> PAVENet:
    """Build PAVE-Net from a config or a preset name (``paper-r50``, ``paper-swinl``, ``tiny``,
    ``micro``). ``matcher``: the one to share with a criterion (default: a new one)."""
    cfg = _config(cfg)
    if matcher is not None and matcher.layout != cfg.joint_layout:
        raise ValueError(
            f"the matcher's layout {matcher.layout.name!r} is not the config's {cfg.layout!r}"
        )
    D, H, L, K = cfg.d_model, cfg.num_heads, cfg.num_levels, cfg.num_joints
    Fd = cfg.decoder_frames
    backbone = build_backbone(cfg)
    neck = ChannelMapper(backbone.out_channels, D, cfg.neck.num_extra_levels, cfg.gn_groups)
    position = LevelEmbedding(cfg.level_shapes, D)

    enc = cfg.encoder
    spatiotemporal = cfg.encoder_type == "spatiotemporal"
    enc_frames = cfg.num_frames if spatiotemporal else 1
    enc_layers = [
        EncoderLayer(D, H, L, enc.num_points, enc.ffn_dim, enc.dropout, enc_frames)
        for _ in range(enc.num_layers)
    ]
    if spatiotemporal:
        encoder = SpatiotemporalEncoder(enc_layers, cfg.num_frames, D)
    else:
        encoder = SpatialEncoder(enc_layers)

    pd = cfg.pose_decoder
    if pd.num_queries > cfg.num_tokens and cfg.references == "pose_aware":
        raise ValueError(
            f"pose_decoder.num_queries ({pd.num_queries}) exceeds the {cfg.num_tokens} tokens "
            f"of a {cfg.input_size} input"
        )
    proposals = None
    if cfg.references == "pose_aware":
        proposals = ProposalHead(D, K, pd.mlp_hidden, token_centres(cfg.level_shapes))
    pose_layers = [
        PoseDecoderLayer(D, H, L, K, Fd, pd.ffn_dim, pd.dropout) for _ in range(pd.num_layers)
    ]
    pose_decoder = PoseDecoder(
        pose_layers, D, K, Fd, pd.num_queries, pd.mlp_hidden, cfg.references == "random"
    )

    jd = cfg.joint_decoder
    joint_layers = [
        JointDecoderLayer(D, H, L, jd.num_points, Fd, jd.ffn_dim, jd.dropout)
        for _ in range(jd.num_layers)
    ]
    joint_decoder = JointDecoder(joint_layers, D, K, Fd)
    return PAVENet(
        cfg, backbone, neck, position, encoder, proposals, pose_decoder, joint_decoder,
        build_matcher(cfg) if matcher is None else matcher,
    )  # fmt: skip
