"""Held-out evaluation during and after training: synthetic clips -> model -> PoseTrack mAP.

Clips come from seeds >= ``EvalSection.seed_start`` (never used for training). Every frame is
letterboxed and encoded once; each frame's window (boundary frames replicated) is decoded from
the cached memories, the top-k people are mapped back to frame pixels and scored with the
PoseTrack evaluator (``pavenet_sdk.eval.evaluate_sequences``). A model of another joint layout
than the clips' ``posetrack-15`` is scored on the joints the two share, by name (the others
count as missed).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from pavenet_sdk.data.types import Frame, Person, Sequence

# joint confidence p = 0.7 (1 - exp(-0.2 / sigma_x)) (1 - exp(-0.2 / sigma_y)) (model spec 4)
_CONF_SCALE, _CONF_MAX = 0.2, 0.7


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
        seq = clip.sequence
        clips.append(HeldOutClip(list(clip.frames), Sequence(f"{preset}-{seed_start + i}",
                                                             seq.frames)))
    return clips


def decode_predictions(
    poses: torch.Tensor, logits: torch.Tensor, sigmas: torch.Tensor, top_k: int,
    scale: float, in_size: tuple[int, int], frame_size: tuple[int, int],
) -> list[Person]:
    """Top-k people of one window -> :class:`Person` predictions in frame pixels.

    poses (M, K, 2) in [0, 1] of the model input; logits (M,); sigmas (M, K, 2) normalised.
    scale: letterbox scale (input px per frame px); in_size (h, w); frame_size (w, h).
    """
    in_h, in_w = in_size
    scores = torch.sigmoid(logits.float())
    k = min(top_k, scores.numel())
    top = torch.topk(scores, k).indices
    persons = []
    for rank, q in enumerate(top.tolist()):
        xy = poses[q].float().clone()
        xy[:, 0] = xy[:, 0].clamp(0, 1) * in_w / scale
        xy[:, 1] = xy[:, 1].clamp(0, 1) * in_h / scale
        xy[:, 0] = xy[:, 0].clamp(0, frame_size[0] - 1)
        xy[:, 1] = xy[:, 1].clamp(0, frame_size[1] - 1)
        sig = sigmas[q].float().clamp_min(1e-6)
        conf = _CONF_MAX * (1 - torch.exp(-_CONF_SCALE / sig[:, 0])) * (
            1 - torch.exp(-_CONF_SCALE / sig[:, 1]))
        person_score = float(scores[q])
        kps = np.concatenate([xy.numpy(), np.ones((xy.shape[0], 1), np.float32)], axis=1)
        persons.append(Person(track_id=rank, keypoints=kps.astype(np.float32),
                              scores=(conf * person_score).numpy().astype(np.float32),
                              score=person_score))  # fmt: skip
    return persons


@torch.no_grad()
def predict_clip(model: nn.Module, clip: HeldOutClip, top_k: int, device: torch.device,
                 static: bool = False) -> Sequence:  # fmt: skip
    """Run the model over every frame of ``clip`` (memories cached per frame).

    static: feed every window slot the centre frame (a temporal model without temporal input).
    """
    from pavenet_sdk.data.transforms import letterbox_tensor
    from pavenet_sdk.data.windows import window_indices

    cfg = model.cfg
    memories, scales = [], []
    for image in clip.frames:
        tensor, scale = letterbox_tensor(image, cfg.input_size)
        memories.append(model.encode_frame(tensor[None].to(device)))
        scales.append(scale)
    h, w = clip.frames[0].shape[:2]
    frames = []
    for t, gt in enumerate(clip.sequence.frames):
        idx = [t] * cfg.num_frames if static else window_indices(len(clip.frames), t, cfg.T)
        window = torch.stack([memories[i][0] for i in idx])[None]  # (1, F, N, D)
        out = model.decode_window(window)
        persons = decode_predictions(out["poses"][0], out["logits"][0], out["sigmas"][0],
                                     top_k, scales[t], cfg.input_size, (w, h))  # fmt: skip
        frames.append(Frame(index=gt.index, image_path=gt.image_path, is_labeled=gt.is_labeled,
                            persons=persons, image_id=gt.image_id))  # fmt: skip
    return Sequence(clip.sequence.name, frames)


def evaluate_clips(
    model: nn.Module, clips: list[HeldOutClip], top_k: int = 20,
    device: torch.device | str = "cpu", static: bool = False,
) -> dict:
    """PoseTrack AP table (percent: head .. ankle, mean) of ``model`` on ``clips``
    (``static``: see :func:`predict_clip`)."""
    from pavenet_sdk.eval import evaluate_sequences

    if not clips:
        raise ValueError("no evaluation clips")
    device = torch.device(device)
    was_training = model.training
    model.eval()
    try:
        preds = [predict_clip(model, c, top_k, device, static) for c in clips]
    finally:
        model.train(was_training)
    return evaluate_sequences([c.sequence for c in clips], preds, pred_layout=model.cfg.layout)


def evaluate_checkpoints(
    checkpoints: dict[str, str | tuple[str, bool]],
    presets: tuple[str, ...] = ("occlusion", "mixed"),
    videos: int = 20, frames: int = 8, seed_start: int | None = None,
    frame_size: tuple[int, int] = (320, 240), top_k: int = 20,
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
        results[label] = {p: evaluate_clips(model, c, top_k, static=static)
                          for p, c in clips.items()}  # fmt: skip
    return results
