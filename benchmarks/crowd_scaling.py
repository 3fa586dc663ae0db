"""Section 2: per-frame latency against the number of people in view.

One Estimator (tiny model, fastest backend) with one stream per person count, and the
recompute baseline (eager torch, the whole window encoded per frame) on the same clips; all
cases interleaved frame by frame. A two-stage pipeline (person detector, then one pose model
run per person) grows linearly instead; the reference line 12 + 19 n ms is MediaPipe pose
measured separately on this machine (detector 12 ms, landmark model 19 ms per person).
"""

from __future__ import annotations

import numpy as np

from . import models
from .common import Case, Mode, environment, interleave, load1, log
from .encoder_cache import _window_step

TARGET = 1.10  # t(20 people) / t(1 person)
PP_INNER = 20  # post-processing calls per timed sample (each takes tens of microseconds)
TWO_STAGE_MS = (12.0, 19.0)  # detector + per-person landmark model, MediaPipe on this machine


def postprocess_cost(persons: tuple[int, ...], rounds: int, top_k: int = 20) -> dict:
    """ms per frame of decode_poses + tracking when ``n`` people pass the score threshold.

    The only per-person work of the runtime: with random weights the model reports nobody
    above the threshold, so this is measured on synthetic decoder outputs (K = 15, the top-k
    rows of which the first n score high, jittered a little every frame).
    """
    from pavenet_sdk import native

    rng = np.random.default_rng(0)
    _, lb = native.letterbox(np.zeros((480, 640, 3), np.uint8), 192, 192)
    cases = []
    for n in persons:
        if n > top_k:
            continue
        poses = rng.uniform(0.1, 0.9, (top_k, 15, 2)).astype(np.float32)
        logits = np.where(np.arange(top_k) < n, 4.0, -4.0).astype(np.float32)
        sigmas = np.full((top_k, 15, 2), 0.05, np.float32)
        state = {"tracker": native.Tracker(layout="posetrack-15"), "t": 0.0}

        def step(poses=poses, logits=logits, sigmas=sigmas, state=state):
            for _ in range(PP_INNER):
                state["t"] += 1 / 30
                jitter = rng.normal(0, 1e-3, poses.shape).astype(np.float32)
                d = native.decode_poses(poses + jitter, logits, sigmas, lb, top_k=top_k,
                                        score_threshold=0.3, layout="posetrack-15")  # fmt: skip
                state["tracker"].update(state["t"], d.keypoints, d.scores)

        cases.append(Case(str(n), step))
    stats = interleave(cases, rounds)
    return {n: round(s["median_ms"] / PP_INNER, 4) for n, s in stats.items()}


def run(mode: Mode) -> dict:
    from pavenet_sdk.checkpoint import load_model
    from pavenet_sdk.runtime.estimator import Estimator

    bundled = None if mode.micro else models.bundled_tiny()
    if bundled is not None:
        pkg, weights = bundled, f"trained ({bundled.name})"
        est = Estimator(pkg, backend="auto")
        model = (
            load_model(est.package.graph("torch", "checkpoint")).eval()
            if "torch" in est.package.formats
            else None
        )
    else:
        cfg = models.configs(mode)["tiny"]
        model = models.build(cfg)
        pkg = models.package(model, models.formats(mode, models.STREAMING), "tiny")
        weights = "random"
        est = Estimator(pkg, backend="auto")
    if model is not None:
        model.set_fused_attention(True)
    frames_per_clip = max(8, mode.crowd_rounds // 2)
    people: dict[int, list[int]] = {}
    cases = []
    for n in mode.persons:
        frames = models.clip_frames(n, frames_per_clip, mode.frame_size, seed=n)
        stream, cycle, counts = est.stream(), models.Cycle(frames), people.setdefault(n, [])

        def push(stream=stream, cycle=cycle, counts=counts):
            results = stream.push_frame(cycle())
            counts.extend(len(r) for r in results)

        cases.append(Case(f"ours_{n}", push, warmup=2 * est.package.T + 2))
        if model is not None:
            step = _window_step(model, model.config, models.Cycle(frames), recompute=True)
            cases.append(Case(f"recompute_{n}", step, warmup=1))
    before = load1()
    stats = interleave(cases, mode.crowd_rounds)
    rows = []
    for n in mode.persons:
        row = {
            "persons": n,
            "ours": stats[f"ours_{n}"],
            "people_reported_mean": round(sum(people[n]) / max(1, len(people[n])), 2),
            "two_stage_reference_ms": TWO_STAGE_MS[0] + TWO_STAGE_MS[1] * n,
        }
        if f"recompute_{n}" in stats:
            row["recompute"] = stats[f"recompute_{n}"]
        rows.append(row)
    pp = postprocess_cost(mode.persons, mode.crowd_rounds)
    for row in rows:
        row["postprocess_track_ms"] = pp.get(str(row["persons"]))
    lo, hi = min(mode.persons), max(mode.persons)
    scaling = round(stats[f"ours_{hi}"]["median_ms"] / stats[f"ours_{lo}"]["median_ms"], 3)
    log(
        "crowd_scaling: "
        + ", ".join(f"{r['persons']}p {r['ours']['median_ms']:.1f} ms" for r in rows)
        + f"; t({hi})/t({lo}) = {scaling}"
    )
    return {
        "section": "crowd_scaling",
        "unit": "ms per new frame (Estimator.push_frame, median over interleaved frames)",
        "environment": environment(mode, threads=1),
        "model": {
            "name": "tiny",
            "weights": weights,
            "input_size": list(est.input_resolution)[::-1],  # (h, w) as the other sections
            "backend": f"{est.backend_name} ({est.backend.precision})",
            "score_threshold": est.score_threshold,
            "frame_size_wh": list(mode.frame_size),
        },
        "two_stage_reference": "MediaPipe pose, measured separately: 12 + 19 n ms",
        "load1_before": before,
        "load1_after": load1(),
        "rows": rows,
        "postprocess_track_note": "decode_poses + Tracker.update per frame with n people above "
        "the threshold, synthetic decoder outputs (the model's cost does not depend on n)",
        "targets": [
            {
                "what": f"t({hi} people) / t({lo} person), ours",
                "target": f"<= {TARGET}",
                "measured": scaling,
                "met": scaling <= TARGET,
            }
        ],
    }
