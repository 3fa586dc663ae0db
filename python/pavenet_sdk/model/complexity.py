"""Decoder FLOPs and per-frame latency of a built model.

FLOPs: dense operations (matmuls) are counted by ``torch.utils.flop_counter.FlopCounterMode``
on one inference ``decode_window`` at the configured input size; the deformable sampling op
is not a matmul, so it is counted analytically: for every (query, head, level, point)
bilinear interpolation reads 4 corners (4 multiply-adds per channel) and the attention
weight adds one more, i.e. 10 * Dh FLOPs (a multiply-add = 2 FLOPs).
"""

from __future__ import annotations

import statistics
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

from .pavenet import PAVENet

# the paper's reported complexity (pavenet-model.md section 6): (parameters, FLOPs)
PAPER_STPD = (12.34e6, 7.31e9)
PAPER_STJD = (5.43e6, 9.72e9)


def sampling_flops(model: PAVENet) -> dict[str, int]:
    """Analytic FLOPs of the STPD's and STJD's deformable sampling at inference."""
    cfg = model.cfg
    dh = cfg.d_model // cfg.num_heads
    levels = cfg.decoder_frames * cfg.num_levels
    per_point = 10 * dh * cfg.num_heads * levels
    stpd = cfg.pose_decoder.num_layers * cfg.pose_decoder.num_queries * cfg.num_joints
    persons = min(cfg.top_k, cfg.pose_decoder.num_queries)
    jd = cfg.joint_decoder
    stjd = jd.num_layers * persons * cfg.num_joints * jd.num_points
    return {"stpd": stpd * per_point, "stjd": stjd * per_point}


def decoder_flops(model: PAVENet) -> dict[str, dict[str, int]]:
    """FLOPs of one inference decode: {"stpd"|"stjd": {"dense", "value_proj", "sampling",
    "total"}}; ``value_proj`` (part of ``dense``) is the value projection of every layer over
    all F * N memory tokens."""
    cfg = model.cfg
    was_training = model.training
    flags = [p.requires_grad for p in model.parameters()]
    # FlopCounterMode's module tracker needs no autograd graph: freeze instead of no_grad
    model.eval().requires_grad_(False)
    memories = torch.zeros(1, cfg.num_frames, cfg.num_tokens, cfg.d_model)
    try:
        with FlopCounterMode(display=False) as counter:
            model.decode_window(memories)
    finally:
        for p, flag in zip(model.parameters(), flags, strict=True):
            p.requires_grad_(flag)
        model.train(was_training)
    counts = {name: sum(ops.values()) for name, ops in counter.get_flop_counts().items()}
    analytic = sampling_flops(model)
    out = {}
    for key, root in (("stpd", "PoseDecoder"), ("stjd", "JointDecoder")):
        dense = counts.get(root, 0)
        value = sum(
            v for k, v in counts.items() if k.startswith(root + ".") and k.endswith("value_proj")
        )
        out[key] = {
            "dense": dense,
            "value_proj": value,
            "sampling": analytic[key],
            "total": dense + analytic[key],
        }
    return out


def _times(fn, repeats: int) -> list[float]:
    fn()  # warm-up
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1e3)
    return out


@torch.inference_mode()
def frame_latency(model: PAVENet, repeats: int = 20) -> dict[str, float]:
    """Per-frame eager latency (ms) at batch 1: one ``encode_frame`` + one ``decode_window``.

    Uses the current threads and attention path. Returns min and median of each stage and
    ``per_frame_min`` / ``per_frame_median`` (their sums): a new frame costs one encode and
    one decode, whatever the number of people.
    """
    cfg = model.cfg
    was_training = model.training
    model.eval()
    try:
        image = torch.randn(1, 3, *cfg.input_size)
        memory = model.encode_frame(image)
        window = memory[:, None].expand(1, cfg.num_frames, *memory.shape[1:]).contiguous()
        enc = _times(lambda: model.encode_frame(image), repeats)
        dec = _times(lambda: model.decode_window(window), repeats)
    finally:
        model.train(was_training)
    result = {
        "encode_min": min(enc),
        "encode_median": statistics.median(enc),
        "decode_min": min(dec),
        "decode_median": statistics.median(dec),
    }
    result["per_frame_min"] = result["encode_min"] + result["decode_min"]
    result["per_frame_median"] = result["encode_median"] + result["decode_median"]
    return result
