"""Held-out evaluation during and after training: synthetic clips -> runtime -> PoseTrack mAP.

Clips come from seeds >= ``EvalSection.seed_start`` (never used for training). Predictions
come from the same path users run: :meth:`pavenet_sdk.Estimator.from_model` streams every
clip through :class:`pavenet_sdk.runtime.estimator.Stream` (native letterbox, encoder cache,
window, ``decode_poses`` with the model's top-k, no score threshold), and the PoseTrack
evaluator (``pavenet_sdk.eval.evaluate_sequences``) scores them. A model of another joint
layout than the clips' ``posetrack-15`` is scored on the joints the two share, by name (the
others count as missed).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from torch import nn

from pavenet_sdk.data.types import Frame, Sequence


@dataclass(frozen=True)
class HeldOutClip:
    """One evaluation video: BGR frames and its ground-truth sequence (pixels of the frames)."""

    frames: list[np.ndarray]
    sequence: Sequence


def held_out_clips(
    preset: str, videos: int, frames: int, seed_start: int, frame_size: tuple[int, int]
) -> list[HeldOutClip]:
    """``videos`` clips of ``frames`` frames from seeds ``seed_start + i`` (w, h = frame_size)."""
    from pavenet_sdk.data.synth import generate_clip

    clips = []
    for i in range(videos):
        clip = generate_clip(preset, seed_start + i, frames, size=tuple(frame_size))
        name = f"{preset}-{seed_start + i}"
        clips.append(HeldOutClip(list(clip.frames), Sequence(name, clip.sequence.frames)))
    return clips


def predict_clip(estimator, clip: HeldOutClip, static: bool = False) -> Sequence:
    """The runtime's predictions for every frame of ``clip``.

    estimator: a :class:`pavenet_sdk.Estimator` (e.g. ``Estimator.from_model``).
    static: each frame alone (a one-frame stream: the window repeats the frame), i.e. a
        temporal model without temporal input.
    """
    from pavenet_sdk.runtime.writers import result_to_frame

    if static:
        results = []
        for image in clip.frames:
            stream = estimator.stream()
            results += stream.push_frame(image, 0.0) + stream.flush()
    else:
        stream = estimator.stream()
        timed = ((image, i / 30) for i, image in enumerate(clip.frames))
        results = list(stream.run_frames(timed))
    frames = []
    for result, gt in zip(results, clip.sequence.frames, strict=True):
        predicted = result_to_frame(result, gt.image_path)
        frames.append(Frame(index=gt.index, image_path=gt.image_path, is_labeled=gt.is_labeled,
                            persons=predicted.persons, image_id=gt.image_id))  # fmt: skip
    return Sequence(clip.sequence.name, frames)


def evaluate_clips(model: nn.Module, clips: list[HeldOutClip], static: bool = False) -> dict:
    """PoseTrack AP table (percent: head .. ankle, mean) of ``model`` on ``clips``, through
    the runtime (``static``: see :func:`predict_clip`). The model's training mode is kept."""
    from pavenet_sdk.eval import evaluate_sequences
    from pavenet_sdk.runtime.estimator import Estimator

    if not clips:
        raise ValueError("no evaluation clips")
    estimator = Estimator.from_model(model, score_threshold=0.0, track=False)
    preds = [predict_clip(estimator, c, static) for c in clips]
    return evaluate_sequences([c.sequence for c in clips], preds, pred_layout=model.cfg.layout)


def evaluate_checkpoints(
    checkpoints: dict[str, str | tuple[str, bool]],
    presets: tuple[str, ...] = ("occlusion", "mixed"),
    videos: int = 20,
    frames: int = 8,
    seed_start: int | None = None,
    frame_size: tuple[int, int] = (320, 240),
) -> dict[str, dict[str, dict]]:
    """Score several checkpoints on the same held-out clips: {label: {preset: AP table}}.

    checkpoints: {label: path or (path, static)}. Clips are drawn once (seeds
    ``seed_start + i``, default the held-out range) and shared, so the rows are comparable.
    """
    from pavenet_sdk.checkpoint import load_model
    from pavenet_sdk.train.config import HELD_OUT_SEED_START

    start = HELD_OUT_SEED_START if seed_start is None else int(seed_start)
    clips = {p: held_out_clips(p, videos, frames, start, frame_size) for p in presets}
    results: dict[str, dict[str, dict]] = {}
    for label, spec in checkpoints.items():
        path, static = (spec, False) if isinstance(spec, (str, Path)) else spec
        model = load_model(path)
        results[label] = {p: evaluate_clips(model, c, static=static) for p, c in clips.items()}
    return results
