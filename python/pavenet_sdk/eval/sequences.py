"""Ground truth and predictions as sequences, paired by video name (shared by the evaluators)."""

from __future__ import annotations

from collections.abc import Sequence as SequenceABC
from pathlib import Path

import numpy as np

from pavenet_sdk.data.posetrack import load_posetrack
from pavenet_sdk.data.types import Sequence
from pavenet_sdk.layouts import JointLayout


def as_sequences(x: object, role: str, layout: JointLayout) -> list[Sequence]:
    """A PoseTrack file/folder path, one :class:`Sequence` or a list of them -> a list."""
    if isinstance(x, (str, Path)):
        root = Path(x) if Path(x).is_dir() else Path(x).parent
        return load_posetrack(x, root, dtype=np.float64, layout=layout)
    if isinstance(x, Sequence):
        return [x]
    if isinstance(x, SequenceABC) and all(isinstance(s, Sequence) for s in x):
        return list(x)
    raise TypeError(f"{role} must be a directory/file path or a list of Sequence, got {type(x)}")


def pair_by_name(gt: list[Sequence], pred: list[Sequence]) -> list[tuple[Sequence, Sequence]]:
    """(ground truth, prediction) per ground-truth sequence, matched by ``Sequence.name``.

    Raises:
        ValueError: two prediction sequences share a name, a ground-truth sequence has no
            prediction, or a pair differs in frame count (frames pair by position).
    """
    by_name: dict[str, Sequence] = {}
    for s in pred:
        if s.name in by_name:
            raise ValueError(f"two prediction sequences are named {s.name!r}")
        by_name[s.name] = s
    pairs = []
    for s in gt:
        if s.name not in by_name:
            raise ValueError(f"no prediction sequence named {s.name!r}")
        check_frame_count(s, by_name[s.name], s.name)
        pairs.append((s, by_name[s.name]))
    return pairs


def check_frame_count(gt: Sequence, pred: Sequence, where: str) -> None:
    """Frames pair by position (as poseval does): both sides need the same number."""
    if len(pred.frames) != len(gt.frames):
        raise ValueError(
            f"{where}: # prediction frames {len(pred.frames)} <> # GT frames {len(gt.frames)}"
            " (frames pair by position: write every GT frame, in GT order)"
        )
