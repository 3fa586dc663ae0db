"""Named model presets and ``get_preset``, the one lookup of them.

The paper's presets, ``tiny`` and ``micro`` predict the ``posetrack-15`` joint layout (the
paper's), ``small`` predicts ``coco-17``; any other layout is a config change, e.g.
``get_preset("tiny").replace(layout="coco-17")``.

- ``paper-r50``: the paper's PoseTrack ResNet-50 configuration (pavenet-model.md section 2).
- ``paper-swinl``: ``paper-r50`` with the official Swin-L trunk (embed 192, depths 2/2/18/2,
  heads 6/12/24/48, window 7; C3..C5 = 384/768/1536 channels), nothing frozen.
- ``tiny``: the CPU-trainable model: ResNet-18 layout at width 32, 192x192 letterboxed input,
  4 levels (strides 8/16/32/64, 765 tokens), D 64, 4 heads, FFN 256, 2 encoder layers x 4
  points, 40 proposals, 3 STPD layers, 1 STJD layer, top-20, T 1, trainable BatchNorm and no
  frozen stages (it trains from scratch), no dropout.
- ``small``: ``tiny``'s transformer on MoveNet's COCO-trained MobileNetV2-FPN trunk (width 1.5,
  stem and first stage frozen), COCO-17 joints, 256x256 input (4 levels, 1,360 tokens).
"""

from __future__ import annotations

from .config import (
    BackboneConfig,
    EncoderConfig,
    JointDecoderConfig,
    ModelConfig,
    NeckConfig,
    PoseDecoderConfig,
)


def _paper_r50() -> ModelConfig:
    return ModelConfig(name="paper-r50")  # the defaults are the paper's configuration


def _paper_swinl() -> ModelConfig:
    return ModelConfig(
        name="paper-swinl", backbone=BackboneConfig(type="swin", frozen_stages=0)
    )  # the BackboneConfig Swin defaults are Swin-L's


def _tiny() -> ModelConfig:
    return ModelConfig(
        name="tiny",
        input_size=(192, 192),
        d_model=64,
        num_heads=4,
        top_k=20,
        backbone=BackboneConfig(depth=18, width=32, frozen_stages=0, norm="bn"),
        neck=NeckConfig(num_extra_levels=1, gn_groups=16),
        encoder=EncoderConfig(num_layers=2, num_points=4, ffn_dim=256, dropout=0.0),
        pose_decoder=PoseDecoderConfig(
            num_layers=3, ffn_dim=256, dropout=0.0, num_queries=40, mlp_hidden=128
        ),
        joint_decoder=JointDecoderConfig(num_layers=1, num_points=4, ffn_dim=256, dropout=0.0),
    )


def _micro() -> ModelConfig:
    """``tiny`` shrunk to a 64x64 input: every part kept, for tests and smoke benchmarks."""
    return _tiny().replace(
        name="micro",
        input_size=(64, 64),
        top_k=6,
        **{
            "encoder.num_layers": 1,
            "encoder.ffn_dim": 64,
            "pose_decoder.num_layers": 2,
            "pose_decoder.num_queries": 12,
            "pose_decoder.ffn_dim": 64,
            "pose_decoder.mlp_hidden": 32,
            "joint_decoder.ffn_dim": 64,
            "backbone.width": 8,
        },
    )


def _small() -> ModelConfig:
    """``tiny``'s transformer on MoveNet's COCO-trained MobileNetV2-FPN trunk, COCO-17 joints,
    256x256 input: distilled from a teacher on real video (``configs/distill-small.toml``)."""
    return _tiny().replace(
        name="small",
        layout="coco-17",
        input_size=(256, 256),
        backbone=BackboneConfig(type="movenet", width_multiplier=1.5, frozen_stages=1),
    )


PRESETS = {
    "paper-r50": _paper_r50,
    "paper-swinl": _paper_swinl,
    "tiny": _tiny,
    "micro": _micro,
    "small": _small,
}


def get_preset(name: str) -> ModelConfig:
    """A fresh copy of the named model preset (``paper-r50``, ``paper-swinl``, ``tiny``,
    ``micro``, ``small``); ``ValueError`` naming the available ones for any other name."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; available: {sorted(PRESETS)}")
    return PRESETS[name]()
