"""A minimal valid package manifest for tests of manifest validation (one definition)."""

from __future__ import annotations

from typing import Any

from pavenet_sdk.layouts import JointLayout
from pavenet_sdk.manifest import FORMAT_VERSION

TWO_JOINTS = JointLayout("two", ("a", "b"), (), ((0, 1),), (0.05, 0.05))


def valid_manifest(**overrides: Any) -> dict[str, Any]:
    """A small two-joint manifest that validates; ``overrides`` replace fields."""
    manifest = {
        "format_version": FORMAT_VERSION,
        "name": "m",
        "input_size": [64, 64],
        "mean": [1.0, 2.0, 3.0],
        "std": [4.0, 5.0, 6.0],
        "color": "rgb",
        "T": 1,
        "num_joints": 2,
        "joint_names": ["a", "b"],
        "skeleton": [[0, 1]],
        "layout": TWO_JOINTS.to_dict(),
        "level_shapes": [[8, 8], [4, 4]],
        "num_tokens": 80,
        "d_model": 16,
        "top_k": 5,
        "formats": ["onnx"],
        "model_config": {},
    }
    manifest.update(overrides)
    return manifest
