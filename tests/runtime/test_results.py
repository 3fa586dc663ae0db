"""FrameResult: indexing, serialisation, joint layouts, drawing, and the PoseTrack writer."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pavenet_sdk.layouts import COCO_17, POSETRACK_15, get_layout
from pavenet_sdk.runtime.results import FrameResult
from pavenet_sdk.runtime.viz import draw_poses
from pavenet_sdk.runtime.writers import PoseTrackJsonWriter


def _result(n=3, layout=POSETRACK_15, image=None):
    rng = np.random.default_rng(0)
    k = get_layout(layout).num_joints
    keypoints = rng.uniform(10, 90, (n, k, 2)).astype(np.float32)
    return FrameResult(
        frame_index=4,
        timestamp=0.5,
        keypoints=keypoints,
        keypoint_scores=rng.uniform(0.2, 1, (n, k)).astype(np.float32),
        scores=np.sort(rng.uniform(0.3, 1, n))[::-1].astype(np.float32),
        boxes=np.concatenate([keypoints.min(1), keypoints.max(1)], 1),
        track_ids=np.arange(7, 7 + n, dtype=np.int64),
        image_size=(100, 100),
        timings={"encode": 1.0},
        image=image,
        layout=layout,
    )


def test_indexing_applies_to_every_field():
    result = _result()
    assert len(result) == 3
    mask = np.array([True, False, True])
    picked = result[mask]
    assert len(picked) == 2 and picked.track_ids.tolist() == [7, 9]
    assert picked.keypoints.shape == (2, 15, 2) and picked.boxes.shape == (2, 4)
    assert len(result[1]) == 1 and result[1].track_ids.tolist() == [8]
    assert len(result[:0]) == 0
    coco = _result(layout=COCO_17)
    assert coco[1:].layout is COCO_17 and coco[1:].keypoints.shape == (2, 17, 2)


def test_to_dict_is_json_ready():
    data = json.loads(json.dumps(_result().to_dict()))
    assert data["frame_index"] == 4 and len(data["keypoints"]) == 3 and "image" not in data
    assert data["layout"] == "posetrack-15" and data["joint_names"] == list(POSETRACK_15.joints)
    coco = json.loads(json.dumps(_result(layout=COCO_17).to_dict()))
    assert coco["joint_names"][1] == "left_eye" and len(coco["keypoints"][0]) == 17


def test_results_carry_their_joint_names():
    assert _result().joint_names == POSETRACK_15.joints
    assert _result(layout=COCO_17).joint_names == COCO_17.joints
    by_name = _result(layout="coco-17")  # a registered name works too
    assert by_name.layout is COCO_17
    with pytest.raises(ValueError, match=r"keypoints must be \(N, 15, 2\) for layout"):
        FrameResult(**{**_fields(_result(layout=COCO_17)), "layout": POSETRACK_15})
    with pytest.raises(ValueError, match="unknown joint layout"):
        FrameResult(**{**_fields(_result()), "layout": "mpii-16"})


def _fields(result: FrameResult) -> dict:
    return {name: getattr(result, name) for name in result.__dataclass_fields__}


def test_plot_draws_without_touching_the_input():
    image = np.zeros((100, 100, 3), np.uint8)
    drawn = _result().plot(image)
    assert image.sum() == 0 and drawn.sum() > 0 and drawn.shape == image.shape
    with pytest.raises(ValueError, match="uint8 HxWx3"):
        _result().plot(np.zeros((100, 100), np.uint8))


def test_plot_without_an_argument_draws_on_the_results_own_frame():
    frame = np.full((100, 100, 3), 40, np.uint8)
    result = _result(image=frame)
    np.testing.assert_array_equal(result.plot(), result.plot(frame))
    assert (frame == 40).all()  # drawn on a copy
    with pytest.raises(ValueError, match=r"carries no image.*result.plot\(frame\)"):
        _result().plot()


@pytest.mark.parametrize("layout", [POSETRACK_15, COCO_17], ids=lambda lay: lay.name)
def test_drawing_follows_the_layouts_skeleton(layout):
    """Each limb of the layout is drawn; a limb whose joints are hidden is not."""
    result = _result(n=1, layout=layout)
    canvas = np.zeros((100, 100, 3), np.uint8)
    a, b = layout.skeleton[0]
    scores = np.zeros((1, layout.num_joints), np.float32)
    scores[0, [a, b]] = 1.0
    keypoints = np.zeros((1, layout.num_joints, 2), np.float32)
    keypoints[0, a], keypoints[0, b] = (20, 50), (80, 50)
    one_limb = FrameResult(**{**_fields(result), "keypoints": keypoints, "keypoint_scores": scores})
    drawn = draw_poses(canvas, one_limb, show_ids=False)
    assert drawn[50, 50].any()  # the middle of the limb a-b
    hidden = FrameResult(**{**_fields(one_limb), "keypoint_scores": np.zeros_like(scores)})
    assert not draw_poses(canvas, hidden, show_ids=False).any()


def test_posetrack_json_uses_17_slots_by_joint_name(tmp_path):
    result = _result(n=1)
    with PoseTrackJsonWriter(tmp_path / "out.json", video_name="v") as writer:
        writer.add(result)
    payload = json.loads((tmp_path / "out.json").read_text())
    assert payload["images"][0]["id"] == 4 and len(payload["annotations"]) == 1
    assert len(payload["categories"][0]["keypoints"]) == 17
    kps = np.array(payload["annotations"][0]["keypoints"]).reshape(17, 3)
    assert (kps[3:5] == 0).all()  # PoseTrack's ear slots: posetrack-15 has no ears
    np.testing.assert_allclose(kps[0, :2], result.keypoints[0, 0], atol=0.01)
    np.testing.assert_allclose(kps[16, :2], result.keypoints[0, 14], atol=0.01)
