"""FrameResult indexing, serialisation, drawing, and the PoseTrack 2018 writer."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pavenet_sdk.runtime.results import FrameResult
from pavenet_sdk.runtime.writers import PoseTrackJsonWriter, result_to_posetrack18


def _result(n=3, k=15):
    rng = np.random.default_rng(0)
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


def test_to_dict_is_json_ready():
    data = json.loads(json.dumps(_result().to_dict()))
    assert data["frame_index"] == 4 and len(data["keypoints"]) == 3 and "image" not in data


def test_plot_draws_without_touching_the_input():
    image = np.zeros((100, 100, 3), np.uint8)
    drawn = _result().plot(image)
    assert image.sum() == 0 and drawn.sum() > 0 and drawn.shape == image.shape
    with pytest.raises(ValueError, match="uint8 HxWx3"):
        _result().plot(np.zeros((100, 100), np.uint8))


def test_posetrack18_annotations_use_17_slots_with_empty_ears(tmp_path):
    result = _result(n=1)
    (ann,) = result_to_posetrack18(result, image_id=11)
    kps = np.array(ann["keypoints"]).reshape(17, 3)
    assert (kps[3:5] == 0).all() and ann["scores"][3:5] == [0, 0]
    np.testing.assert_allclose(kps[0, :2], result.keypoints[0, 0], atol=0.01)
    np.testing.assert_allclose(kps[16, :2], result.keypoints[0, 14], atol=0.01)
    writer = PoseTrackJsonWriter(tmp_path / "out.json", video_name="v")
    writer.add(result)
    writer.close()
    payload = json.loads((tmp_path / "out.json").read_text())
    assert payload["images"][0]["id"] == 4 and len(payload["annotations"]) == 1
    assert len(payload["categories"][0]["keypoints"]) == 17
