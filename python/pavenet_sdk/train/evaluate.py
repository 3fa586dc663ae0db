"""Held-out evaluation during and after training, through the runtime users run.

Predictions come from :meth:`pavenet_sdk.Estimator.from_model`, which streams every clip
through :class:`pavenet_sdk.runtime.estimator.Stream` (native letterbox, encoder cache,
window, ``decode_poses`` with the model's top-k, no score threshold). Two kinds of clips:

- synthetic (:func:`held_out_clips`): seeds >= ``EvalSection.seed_start`` (never used for
  training), scored by the PoseTrack evaluator (``pavenet_sdk.eval.evaluate_sequences``). A
  model of another joint layout than the clips' ``posetrack-15`` is scored on the joints the
  two share, by name (the others count as missed);
- real labelled clips (:func:`real_clips`, e.g. teacher pseudo-labels of held-out videos),
  scored by COCO OKS AP over the limb joints (:func:`evaluate_real`); the labels' joints
  count as ground truth, their scores are ignored.
"""

from __future__ import annotations

from collections.abc import Iterator
from collections.abc import Sequence as Seq
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from torch import nn

from pavenet_sdk.data.types import Frame, Sequence
from pavenet_sdk.layouts import LIMB_JOINTS, JointLayout, get_layout


class ImageFiles(Seq):
    """A clip's frames read from disk on access (BGR uint8), so that long held-out clips of
    large frames are not kept in memory between evaluations."""

    def __init__(self, paths: list[str]) -> None:
        self.paths = list(paths)

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index):  # int -> image; slice -> ImageFiles
        if isinstance(index, slice):
            return ImageFiles(self.paths[index])
        image = cv2.imread(self.paths[index], cv2.IMREAD_COLOR)
        if image is None:
            raise FileNotFoundError(f"cannot read evaluation frame {self.paths[index]!r}")
        return image

    def __iter__(self) -> Iterator[np.ndarray]:
        return (self[i] for i in range(len(self)))


@dataclass(frozen=True)
class HeldOutClip:
    """One evaluation video: BGR frames (a list, or :class:`ImageFiles`) and its ground-truth
    sequence (pixels of the frames)."""

    frames: Seq[np.ndarray]
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
        results = [estimator.predict_image(image) for image in clip.frames]
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


def _predict(model: nn.Module, clips: list[HeldOutClip], static: bool) -> list[Sequence]:
    """The runtime's predictions on ``clips`` (no score threshold, no tracking), on torch's
    current thread count (the caller's setting is kept)."""
    from pavenet_sdk.runtime.estimator import Estimator

    if not clips:
        raise ValueError("no evaluation clips")
    estimator = Estimator.from_model(model, threads=torch.get_num_threads(),
                                     score_threshold=0.0, track=False)  # fmt: skip
    return [predict_clip(estimator, c, static) for c in clips]


def evaluate_clips(model: nn.Module, clips: list[HeldOutClip], static: bool = False) -> dict:
    """PoseTrack AP table (percent: head .. ankle, mean) of ``model`` on ``clips``, through
    the runtime (``static``: see :func:`predict_clip`). The model's training mode is kept."""
    from pavenet_sdk.eval import evaluate_sequences

    preds = _predict(model, clips, static)
    return evaluate_sequences([c.sequence for c in clips], preds, pred_layout=model.cfg.layout)


def real_clips(
    labels: str | Path,
    sequences: Seq[str] = (),
    frames_per_clip: int = 20,
    layout: str | JointLayout = "coco-17",
) -> list[HeldOutClip]:
    """Held-out real clips from COCO keypoints labels (a file or a folder of them).

    Args:
        labels: e.g. ``pavenet label`` output; joints labelled there are the ground truth.
        sequences: names of the clips to use (default: all); an unknown name raises
            ``ValueError`` naming it. Whole clips, never a subset of a clip's frames.
        frames_per_clip: at most this many consecutive frames from the middle of each clip
            (0 = all); unlabelled frames among them are streamed but not scored.
        layout: joint layout to read the labels into (the model's).

    Returns:
        clips whose frames are read from disk when evaluated (:class:`ImageFiles`).
    """
    from pavenet_sdk.data.coco import read_coco_keypoints

    if frames_per_clip < 0:
        raise ValueError(f"frames_per_clip must be >= 0, got {frames_per_clip}")
    found = read_coco_keypoints(labels, get_layout(layout))
    by_name = {s.name: s for s in found}
    unknown = [n for n in sequences if n not in by_name]
    if unknown:
        raise ValueError(f"eval.sequences: no sequence named {unknown} in {labels}; it has "
                         f"{sorted(by_name)[:30]}")  # fmt: skip
    clips = []
    for seq in [by_name[n] for n in sequences] if sequences else found:
        frames = seq.frames
        if frames_per_clip and len(frames) > frames_per_clip:
            start = (len(frames) - frames_per_clip) // 2
            frames = frames[start : start + frames_per_clip]
        paths = [f.image_path for f in frames]
        clips.append(HeldOutClip(ImageFiles(paths), Sequence(seq.name, list(frames))))
    return clips


def evaluate_real(model: nn.Module, clips: list[HeldOutClip], per_clip: bool = False) -> dict:
    """COCO OKS AP/AR (fractions, :func:`pavenet_sdk.eval.coco_ap.evaluate_coco`) of ``model``
    on real labelled ``clips`` over ``layouts.LIMB_JOINTS``, through the runtime; the clips'
    labels (in the model's layout, see :func:`real_clips`) are the ground truth. With
    ``per_clip``, ``"per_clip"`` maps each clip's name to its own scores, from the same
    predictions."""
    from pavenet_sdk.eval.coco_ap import evaluate_coco

    preds = _predict(model, clips, static=False)
    layout = model.cfg.layout

    def score(pairs: list[tuple[HeldOutClip, Sequence]]) -> dict:
        return evaluate_coco([c.sequence for c, _ in pairs], [p for _, p in pairs],
                             gt_layout=layout, pred_layout=layout, joints=LIMB_JOINTS)  # fmt: skip

    pairs = list(zip(clips, preds, strict=True))
    result = score(pairs)
    if per_clip:
        result["per_clip"] = {c.sequence.name: score([(c, p)]) for c, p in pairs}
    return result


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
