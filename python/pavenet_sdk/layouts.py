"""Joint layouts as data: one home for each layout's joints, flips, skeleton and OKS sigmas.

A model is trained for one layout; its config carries the layout's name and its package's
manifest declares the layout in full, so the runtime, writers, drawing and evaluators read it
from there. Built in:

- ``posetrack-15``: the 15 PoseTrack joints PAVE-Net's paper models use (nose, head bottom,
  head top, shoulders, elbows, wrists, hips, knees, ankles).
- ``coco-17``: COCO's 17 keypoints (nose, eyes, ears, shoulders, elbows, wrists, hips, knees,
  ankles) with COCO's OKS sigmas; what most pose models and datasets speak.

PoseTrack 2018 annotation files have 17 slots (``POSETRACK18_JOINTS``); each layout states
which slot each of its joints fills (``posetrack_slots``, None where PoseTrack has no such
joint), so any layout reads and writes PoseTrack JSON by name.

numpy only: the runtime imports this without torch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

# The 17 keypoint slots of PoseTrack 2018 annotation files, in file order.
POSETRACK18_JOINTS: tuple[str, ...] = (
    "nose", "head_bottom", "head_top", "left_ear", "right_ear",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
)  # fmt: skip

# The 12 limb joints shared by every built-in layout (what cross-layout comparisons score).
LIMB_JOINTS: tuple[str, ...] = (
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
)  # fmt: skip


@dataclass(frozen=True)
class JointLayout:
    """One joint layout.

    Attributes:
        name: registry name, e.g. ``"coco-17"``.
        joints: joint names in model output order (snake_case, ``left_``/``right_`` prefixes).
        flip_pairs: (left, right) index pairs swapped by a horizontal flip.
        skeleton: (a, b) index pairs drawn as limbs.
        sigmas: per-joint OKS sigmas (COCO convention: the constant kappa, not 2 kappa).
    """

    name: str
    joints: tuple[str, ...]
    flip_pairs: tuple[tuple[int, int], ...]
    skeleton: tuple[tuple[int, int], ...]
    sigmas: tuple[float, ...]

    def __post_init__(self) -> None:
        k = len(self.joints)
        if k < 1 or len(set(self.joints)) != k:
            raise ValueError(f"layout {self.name!r}: joint names must be unique and non-empty")
        if len(self.sigmas) != k or not all(s > 0 for s in self.sigmas):
            raise ValueError(f"layout {self.name!r}: need {k} positive OKS sigmas")
        for what, pairs in (("flip_pairs", self.flip_pairs), ("skeleton", self.skeleton)):
            for pair in pairs:
                if len(pair) != 2 or not all(0 <= int(i) < k for i in pair):
                    raise ValueError(f"layout {self.name!r}: {what} entry {pair} out of range")
        flipped = [i for pair in self.flip_pairs for i in pair]
        if len(set(flipped)) != len(flipped):
            raise ValueError(f"layout {self.name!r}: a joint appears in two flip pairs")

    @property
    def num_joints(self) -> int:
        return len(self.joints)

    @cached_property
    def flip_index(self) -> np.ndarray:
        """(K,) int64 permutation: ``keypoints[..., flip_index, :]`` after mirroring x."""
        perm = np.arange(self.num_joints, dtype=np.int64)
        for a, b in self.flip_pairs:
            perm[a], perm[b] = b, a
        return perm

    @cached_property
    def sigmas_array(self) -> np.ndarray:
        """(K,) float32 OKS sigmas."""
        return np.asarray(self.sigmas, dtype=np.float32)

    @cached_property
    def posetrack_slots(self) -> tuple[int | None, ...]:
        """For each joint, its PoseTrack 2018 slot index, or None if PoseTrack lacks it."""
        slot = {name: i for i, name in enumerate(POSETRACK18_JOINTS)}
        return tuple(slot.get(name) for name in self.joints)

    def index(self, names: tuple[str, ...] | list[str]) -> np.ndarray:
        """Indices of ``names`` in this layout (KeyError naming the first missing joint)."""
        where = {name: i for i, name in enumerate(self.joints)}
        missing = [n for n in names if n not in where]
        if missing:
            raise KeyError(f"layout {self.name!r} has no joint {missing[0]!r}")
        return np.asarray([where[n] for n in names], dtype=np.int64)

    def to_dict(self) -> dict[str, Any]:
        """JSON form, as a manifest stores it."""
        return {
            "name": self.name,
            "joints": list(self.joints),
            "flip_pairs": [list(p) for p in self.flip_pairs],
            "skeleton": [list(p) for p in self.skeleton],
            "sigmas": [float(s) for s in self.sigmas],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> JointLayout:
        """Inverse of :meth:`to_dict`; raises ValueError on a missing or malformed field."""
        try:
            return cls(
                name=str(data["name"]),
                joints=tuple(str(j) for j in data["joints"]),
                flip_pairs=tuple((int(a), int(b)) for a, b in data["flip_pairs"]),
                skeleton=tuple((int(a), int(b)) for a, b in data["skeleton"]),
                sigmas=tuple(float(s) for s in data["sigmas"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"malformed joint layout {dict(data)!r}: {exc}") from None


POSETRACK_15 = JointLayout(
    name="posetrack-15",
    joints=(
        "nose", "head_bottom", "head_top",
        "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
        "left_wrist", "right_wrist", "left_hip", "right_hip",
        "left_knee", "right_knee", "left_ankle", "right_ankle",
    ),
    flip_pairs=((3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14)),
    skeleton=(
        (0, 1), (1, 2), (1, 3), (1, 4), (3, 5), (5, 7), (4, 6), (6, 8),
        (3, 9), (4, 10), (9, 10), (9, 11), (11, 13), (10, 12), (12, 14),
    ),
    # pavenet-model.md section 2
    sigmas=(
        0.026, 0.079, 0.079, 0.079, 0.079, 0.072, 0.072, 0.062, 0.062,
        0.107, 0.107, 0.087, 0.087, 0.089, 0.089,
    ),
)  # fmt: skip

COCO_17 = JointLayout(
    name="coco-17",
    joints=(
        "nose", "left_eye", "right_eye", "left_ear", "right_ear",
        "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
        "left_wrist", "right_wrist", "left_hip", "right_hip",
        "left_knee", "right_knee", "left_ankle", "right_ankle",
    ),
    flip_pairs=((1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16)),
    # COCO's person skeleton (0-based)
    skeleton=(
        (15, 13), (13, 11), (16, 14), (14, 12), (11, 12), (5, 11), (6, 12), (5, 6),
        (5, 7), (6, 8), (7, 9), (8, 10), (1, 2), (0, 1), (0, 2), (1, 3), (2, 4), (3, 5), (4, 6),
    ),
    # COCO keypoint evaluation sigmas (pycocotools)
    sigmas=(
        0.026, 0.025, 0.025, 0.035, 0.035, 0.079, 0.079, 0.072, 0.072,
        0.062, 0.062, 0.107, 0.107, 0.087, 0.087, 0.089, 0.089,
    ),
)  # fmt: skip

LAYOUTS: dict[str, JointLayout] = {layout.name: layout for layout in (POSETRACK_15, COCO_17)}
DEFAULT_LAYOUT = POSETRACK_15.name


def get_layout(layout: str | JointLayout | Mapping[str, Any]) -> JointLayout:
    """A layout from its registry name, its dict form (manifests) or itself."""
    if isinstance(layout, JointLayout):
        return layout
    if isinstance(layout, Mapping):
        return JointLayout.from_dict(layout)
    if isinstance(layout, str) and layout in LAYOUTS:
        return LAYOUTS[layout]
    raise ValueError(f"unknown joint layout {layout!r}; built in: {', '.join(LAYOUTS)}")
