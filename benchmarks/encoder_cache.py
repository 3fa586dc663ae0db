"""Section 1: what caching each frame's encoder memory buys in streaming.

Per new frame, one process, interleaved:
- ``ours_torch``: ``Estimator.push_frame`` with the eager torch backend (fused op): the frame
  is encoded once, its memory cached, the window decoded (plus letterbox, post-processing,
  tracking of all top-k people: score threshold 0).
- ``ours_best``: the same with ``backend="auto"`` (the fastest installed engine).
- ``ours_in_memory``: ``Estimator.from_model`` on the in-memory torch model (the same
  ``Stream`` path without a package), torch eager, fused op.
- ``recompute``: what a video demo without a cache does: the same model runs ``forward`` on
  the whole window (encode_frame on all 2T + 1 frames, then decode) for every new frame.
- ``ste``: the STE baseline variant (encoder over all frames' tokens, decoder on the centre
  frame), with its per-frame backbone + neck output cached (its best case).
"""

from __future__ import annotations

from collections import deque

from . import models
from .common import Case, Mode, environment, interleave, load1, log, ratio

TARGET = 2.5  # recompute / ours_torch at T = 1


def _window_step(model, cfg, frames, recompute: bool):
    """A baseline's per-frame step without our runtime: letterbox -> model -> decode_poses.

    ``recompute``: the whole window through ``forward`` for every frame (no cache); else the
    STE variant with its per-frame backbone + neck output cached (its best case).
    """
    import torch

    from pavenet_sdk import native

    in_h, in_w = cfg.input_size
    F = cfg.num_frames
    window: deque = deque(maxlen=F)

    def step():
        tensor, lb = native.letterbox(frames(), in_h, in_w)
        with torch.inference_mode():
            x = torch.from_numpy(tensor)[None]
            window.append(x[0] if recompute else model.encode_frame(x)[0])
            while len(window) < F:  # stream start: replicate the first frame
                window.append(window[-1])
            stacked = torch.stack(list(window))[None]
            out = model(stacked) if recompute else model.decode_window(stacked)
        native.decode_poses(
            out["poses"][0].numpy(), out["logits"][0].numpy(), out["sigmas"][0].numpy(), lb,
            top_k=cfg.top_k, layout=cfg.layout,
        )  # fmt: skip

    return step


def measure(name: str, cfg, mode: Mode) -> dict:
    from pavenet_sdk.runtime.estimator import Estimator

    model = models.build(cfg)
    pkg = models.package(model, models.formats(mode, models.STREAMING), name)
    model.set_fused_attention(True)
    ste = models.build(cfg.replace(encoder_type="spatiotemporal"))
    ste.set_fused_attention(True)
    ours_torch = Estimator(pkg, backend="torch", score_threshold=0.0)
    ours_best = Estimator(pkg, backend="auto", score_threshold=0.0)
    frames = models.clip_frames(3, 8, mode.frame_size)
    F = cfg.num_frames
    ours_mem = Estimator.from_model(model, score_threshold=0.0)
    cycles = models.Cycle(frames), models.Cycle(frames), models.Cycle(frames)
    cases = [
        Case("ours_torch", lambda: ours_torch.push_frame(cycles[0]()), F + 1),
        Case("ours_best", lambda: ours_best.push_frame(cycles[1]()), F + 1),
        Case("ours_in_memory", lambda: ours_mem.push_frame(cycles[2]()), F + 1),
        Case("recompute", _window_step(model, cfg, models.Cycle(frames), True), 1),
        Case("ste", _window_step(ste, cfg, models.Cycle(frames), False), 2),
    ]
    before = load1()
    stats = interleave(cases, mode.repeats)
    row = {
        "model": name,
        "T": cfg.T,
        "frames_per_window": F,
        "input_size": list(cfg.input_size),
        "tokens_per_frame": cfg.num_tokens,
        "best_backend": f"{ours_best.backend_name} ({ours_best.backend.precision})",
        "load1_before": before,
        "load1_after": load1(),
        "stats": stats,
        "ratios": {
            "recompute_over_ours_torch": ratio(stats, "recompute", "ours_torch"),
            "recompute_over_ours_best": ratio(stats, "recompute", "ours_best"),
            "recompute_over_ours_in_memory": ratio(stats, "recompute", "ours_in_memory"),
            "ste_over_ours_torch": ratio(stats, "ste", "ours_torch"),
            "ours_torch_over_ours_best": ratio(stats, "ours_torch", "ours_best"),
        },
    }
    log(
        f"encoder_cache {name} T={cfg.T}: "
        + ", ".join(f"{k} {v['median_ms']:.1f} ms" for k, v in stats.items())
        + f"; recompute/ours_torch x{row['ratios']['recompute_over_ours_torch']}"
    )
    return row


def run(mode: Mode) -> dict:
    rows = []
    for name, base in models.configs(mode).items():
        for T in mode.r50_radii if name == "paper-r50" else mode.temporal_radii:
            rows.append(measure(name, base.replace(T=T), mode))
    targets = [
        {
            "what": f"recompute / ours_torch at T = 1 ({r['model']})",
            "target": f">= {TARGET}",
            "measured": r["ratios"]["recompute_over_ours_torch"],
            "met": r["ratios"]["recompute_over_ours_torch"] >= TARGET,
        }
        for r in rows
        if r["T"] == 1
    ]
    return {
        "section": "encoder_cache",
        "unit": "ms per new frame (median over interleaved rounds)",
        "environment": environment(mode, threads=1),
        "runs": rows,
        "targets": targets,
    }
