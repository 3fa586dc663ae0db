"""``pavenet run``'s outputs: results become PoseTrack JSON through the one writer, in the
model's joint layout, and an interrupted run leaves valid files of the frames done."""

from __future__ import annotations

import inspect
import json

import cv2
import numpy as np
import pytest

from pavenet_sdk.cli import main as cli_main
from pavenet_sdk.data.posetrack import load_posetrack
from pavenet_sdk.layouts import COCO_17, POSETRACK18_JOINTS, POSETRACK_15
from pavenet_sdk.runtime import sources
from pavenet_sdk.runtime.results import FrameResult
from pavenet_sdk.runtime.writers import (
    PoseTrackJsonWriter,
    VideoWriter,
    result_to_frame,
    results_to_sequence,
)


def _result(layout=POSETRACK_15, n: int = 2, index: int = 4) -> FrameResult:
    rng = np.random.default_rng(index)
    k = layout.num_joints
    keypoints = rng.uniform(10, 90, (n, k, 2)).astype(np.float32)
    return FrameResult(
        frame_index=index,
        timestamp=index / 25,
        keypoints=keypoints,
        keypoint_scores=rng.uniform(0.2, 1, (n, k)).astype(np.float32),
        scores=np.sort(rng.uniform(0.3, 1, n))[::-1].astype(np.float32),
        boxes=np.concatenate([keypoints.min(1), keypoints.max(1)], 1),
        track_ids=np.arange(7, 7 + n, dtype=np.int64),
        image_size=(100, 80),
        layout=layout,
    )


def test_results_become_frames_in_their_layout():
    result = _result(COCO_17)
    frame = result_to_frame(result)
    assert (frame.index, frame.image_id, frame.image_size) == (4, 4, (100, 80))
    assert frame.timestamp == pytest.approx(4 / 25)
    p = frame.persons[1]
    assert p.keypoints.shape == (17, 3) and (p.keypoints[:, 2] == 1).all()
    np.testing.assert_array_equal(p.keypoints[:, :2], result.keypoints[1])
    np.testing.assert_array_equal(p.scores, result.keypoint_scores[1])
    assert p.score == pytest.approx(float(result.scores[1])) and p.track_id == 8
    assert p.box == tuple(float(v) for v in result.boxes[1])
    seq = results_to_sequence("v", [_result(index=0), _result(index=1)])
    assert seq.name == "v" and [f.index for f in seq.frames] == [0, 1]


@pytest.mark.parametrize("layout", [POSETRACK_15, COCO_17])
def test_json_writer_maps_the_layout_into_17_slots(tmp_path, layout):
    path = tmp_path / "out.json"
    results = [_result(layout, index=i) for i in range(3)]
    with PoseTrackJsonWriter(path, video_name="v") as writer:
        for r in results:
            writer.add(r)
    data = json.loads(path.read_text())
    assert [img["id"] for img in data["images"]] == [0, 1, 2]
    assert data["images"][0]["file_name"] == "v/000000.jpg"
    assert data["categories"][0]["keypoints"] == list(POSETRACK18_JOINTS)
    ann = data["annotations"][0]
    kps = np.array(ann["keypoints"]).reshape(17, 3)
    empty = [s for s, name in enumerate(POSETRACK18_JOINTS) if name not in layout.joints]
    assert empty == ([3, 4] if layout is POSETRACK_15 else [1, 2])  # ears / head joints
    assert (kps[empty] == 0).all() and [ann["scores"][s] for s in empty] == [0, 0]
    r0 = results[0]
    for name in ("nose", "left_shoulder", "right_ankle"):
        j, s = layout.joints.index(name), POSETRACK18_JOINTS.index(name)
        np.testing.assert_allclose(kps[s, :2], r0.keypoints[0, j], atol=0.005)
        assert ann["scores"][s] == pytest.approx(r0.keypoint_scores[0, j], abs=1e-5)
    (seq,) = load_posetrack(path, layout=layout)
    assert len(seq.frames) == 3 and len(seq.frames[0].persons) == 2


def test_json_writer_refuses_a_second_layout_and_writes_empty_videos(tmp_path):
    with pytest.raises(ValueError, match="layout"):
        with PoseTrackJsonWriter(tmp_path / "mixed.json", "v") as writer:
            writer.add(_result(POSETRACK_15))
            writer.add(_result(COCO_17))
    assert len(json.loads((tmp_path / "mixed.json").read_text())["images"]) == 1
    with PoseTrackJsonWriter(tmp_path / "empty.json", "v"):
        pass
    assert json.loads((tmp_path / "empty.json").read_text())["images"] == []


def test_video_writer_is_released_on_error(tmp_path):
    path = tmp_path / "v.mp4"
    frame = np.full((64, 96, 3), 120, np.uint8)
    with pytest.raises(RuntimeError):
        with VideoWriter(path) as video:
            for _ in range(3):
                video.write(frame, 10.0)
            raise RuntimeError("stop")
    cap = cv2.VideoCapture(str(path))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 3
    cap.release()


def _stopping_source(frames: list[np.ndarray], stop: BaseException):
    """An ``open_source`` whose frames run out with ``stop`` (a crash or Ctrl-C)."""

    def open_source(source, fps=None):
        def gen():
            for i, frame in enumerate(frames):
                yield frame, i / 10
            raise stop

        return gen(), sources.SourceInfo(10.0, len(frames) + 1)

    return open_source


@pytest.mark.parametrize("stop", [RuntimeError("camera lost"), KeyboardInterrupt()])
def test_interrupted_run_leaves_valid_outputs(tmp_path, monkeypatch, stop):
    from pavenet_sdk.data.synth import generate_clip

    frames = generate_clip("easy", seed=1, num_frames=4, size=(160, 120)).frames
    monkeypatch.setattr(sources, "open_source", _stopping_source(frames, stop))
    out, poses = tmp_path / "a.mp4", tmp_path / "p.json"
    argv = ["run", "cam", "--model", "pavenet-tiny", "--out", str(out), "--json", str(poses)]
    if isinstance(stop, KeyboardInterrupt):
        assert cli_main(argv) == 130  # the CLI's code for Ctrl-C
    else:
        with pytest.raises(RuntimeError, match="camera lost"):
            cli_main(argv)
    # T = 1: results lag one frame, so 3 of the 4 pushed frames were done
    data = json.loads(poses.read_text())
    assert [img["id"] for img in data["images"]] == [0, 1, 2]
    cap = cv2.VideoCapture(str(out))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 3
    cap.release()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_nms_oks_reaches_the_estimator(tmp_path, monkeypatch, capsys):
    from pavenet_sdk.runtime import estimator as estimator_module

    if "nms_oks" not in inspect.signature(estimator_module.Estimator).parameters:
        pytest.skip("Estimator has no nms_oks yet")
    from pavenet_sdk.data.synth import generate_clip

    folder = tmp_path / "frames"
    folder.mkdir()
    for i, frame in enumerate(generate_clip("easy", seed=2, num_frames=3, size=(160, 120)).frames):
        cv2.imwrite(str(folder / f"{i:03d}.png"), frame)
    seen = {}
    real = estimator_module.Estimator

    def spy(*args, **kwargs):
        seen.update(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(estimator_module, "Estimator", spy)
    poses = tmp_path / "p.json"
    assert cli_main(["run", str(folder), "--nms-oks", "0.45", "--json", str(poses)]) == 0
    assert seen["nms_oks"] == 0.45
    assert len(json.loads(poses.read_text())["images"]) == 3
    seen.clear()
    assert cli_main(["run", str(folder)]) == 0
    assert "nms_oks" not in seen  # off unless asked
    capsys.readouterr()
    assert cli_main(["run", str(folder), "--nms-oks", "1.5"]) == 2
    assert "--nms-oks" in capsys.readouterr().err


def test_coco_json_writer_keeps_the_layout_and_the_frames_done(tmp_path):
    from pavenet_sdk.data.coco import read_coco_keypoints
    from pavenet_sdk.runtime.writers import CocoJsonWriter

    path = tmp_path / "out.json"
    with pytest.raises(KeyboardInterrupt), CocoJsonWriter(path, "clip") as writer:
        writer.add(_result(COCO_17, index=0))
        writer.add(_result(COCO_17, index=1))
        raise KeyboardInterrupt
    (seq,) = read_coco_keypoints(path, layout=COCO_17)
    assert seq.name == "clip" and [f.index for f in seq.frames] == [0, 1]
    np.testing.assert_allclose(
        seq.frames[1].persons[0].keypoints[:, :2], _result(COCO_17, index=1).keypoints[0], atol=0.01
    )
    with pytest.raises(ValueError, match="layout"), CocoJsonWriter(tmp_path / "b.json", "c") as w:
        w.add(_result(COCO_17))
        w.add(_result(POSETRACK_15))


@pytest.mark.parametrize("demo", ["real", "synthetic"])
def test_demo_writes_an_annotated_video_and_poses(tmp_path, demo, capsys):
    out, poses = tmp_path / "demo.mp4", tmp_path / "demo.json"
    argv = ["run", "--demo", demo, "--out", str(out), "--json", str(poses)]
    assert cli_main([*argv, "--json-format", "coco"]) == 0
    text = capsys.readouterr().out
    assert ("AP" in text) == (demo == "synthetic")  # only the synthetic clip has ground truth
    capture = cv2.VideoCapture(str(out))
    frames = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    capture.release()
    data = json.loads(poses.read_text())
    assert frames == len(data["images"]) > 0
