"""Tiny synthetic MoveNet graphs with the real ones' I/O, built with ``onnx.helper``, and
where the real teachers and labelled images are (``PAVENET_SHARED``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from shared_data import SHARED

REAL_TEACHERS = SHARED / "teachers"
REAL_GT = SHARED / "data" / "real-gt-dev" / "person_keypoints.json"

# Synthetic MultiPose: six candidates with fixed normalised keypoints. Candidate 0's person
# score is the largest red value of the input / 255 (so a test sees the colour order), the
# others have fixed scores.
MP_SCORES = (None, 0.6, 0.01, 0.01, 0.01, 0.01)
MP_JOINT_Y = 0.2 + 0.03 * np.arange(17)
MP_JOINT_X = 0.3 + 0.01 * np.arange(17)
MP_JOINT_CONF = np.r_[0.1, np.full(16, 0.9)]  # the nose is unsure
MP_BOX = (0.15, 0.25, 0.75, 0.5)  # ymin, xmin, ymax, xmax of candidate 0
# Synthetic Thunder: fixed keypoints in the crop, every joint's confidence = mean red / 255.
TH_JOINT_Y = 0.1 + 0.05 * np.arange(17)
TH_JOINT_X = np.full(17, 0.5)


def multipose_output() -> np.ndarray:
    """(1, 6, 56) float32 constant part of the synthetic MultiPose output."""
    out = np.zeros((1, 6, 56), np.float32)
    for c in range(6):
        joints = np.stack([MP_JOINT_Y, MP_JOINT_X + 0.05 * c, MP_JOINT_CONF], axis=1)
        out[0, c, :51] = joints.ravel()
        out[0, c, 51:55] = MP_BOX
        out[0, c, 55] = MP_SCORES[c] or 0.0
    return out


def _save(graph, path: Path) -> Path:
    import onnx
    from onnx import helper

    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def _red(scalar_op: str) -> list:
    """Nodes: ``red`` = ``scalar_op`` (ReduceMax / ReduceMean) of channel 0 of input:0 / 255."""
    from onnx import helper

    return [
        helper.make_node("Cast", ["input:0"], ["xf"], to=1),
        helper.make_node("Slice", ["xf", "starts", "ends", "axes"], ["r"]),
        helper.make_node(scalar_op, ["r"], ["rmax"], keepdims=0),
        helper.make_node("Div", ["rmax", "c255"], ["red"]),
    ]


def _red_inits() -> list:
    from onnx import numpy_helper as nh

    return [
        nh.from_array(np.array([0], np.int64), "starts"),
        nh.from_array(np.array([1], np.int64), "ends"),
        nh.from_array(np.array([3], np.int64), "axes"),
        nh.from_array(np.array(255.0, np.float32), "c255"),
    ]


def build_multipose(path: Path) -> Path:
    from onnx import TensorProto, helper
    from onnx import numpy_helper as nh

    mask = np.zeros((1, 6, 56), np.float32)
    mask[0, 0, 55] = 1.0
    nodes = _red("ReduceMax") + [
        helper.make_node("Mul", ["mask", "red"], ["scored"]),
        helper.make_node("Add", ["base", "scored"], ["Identity:0"]),
    ]
    graph = helper.make_graph(
        nodes, "multipose",
        [helper.make_tensor_value_info("input:0", TensorProto.INT32, [1, "h", "w", 3])],
        [helper.make_tensor_value_info("Identity:0", TensorProto.FLOAT, [1, 6, 56])],
        _red_inits() + [nh.from_array(multipose_output(), "base"), nh.from_array(mask, "mask")],
    )  # fmt: skip
    return _save(graph, path)


def build_thunder(path: Path) -> Path:
    from onnx import TensorProto, helper
    from onnx import numpy_helper as nh

    base = np.zeros((1, 1, 17, 3), np.float32)
    base[0, 0, :, 0], base[0, 0, :, 1] = TH_JOINT_Y, TH_JOINT_X
    mask = np.zeros((1, 1, 17, 3), np.float32)
    mask[..., 2] = 1.0
    nodes = _red("ReduceMean") + [
        helper.make_node("Mul", ["mask", "red"], ["scored"]),
        helper.make_node("Add", ["base", "scored"], ["Identity:0"]),
    ]
    graph = helper.make_graph(
        nodes, "thunder",
        [helper.make_tensor_value_info("input:0", TensorProto.INT32, [1, 256, 256, 3])],
        [helper.make_tensor_value_info("Identity:0", TensorProto.FLOAT, [1, 1, 17, 3])],
        _red_inits() + [nh.from_array(base, "base"), nh.from_array(mask, "mask")],
    )  # fmt: skip
    return _save(graph, path)
