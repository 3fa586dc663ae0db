"""The one PoseTrack 2018 writer: incremental, always valid JSON, any joint layout by name."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from pavenet_sdk.data.posetrack import PoseTrack18Writer, load_posetrack, write_posetrack18
from pavenet_sdk.data.types import Frame, Person, Sequence
from pavenet_sdk.layouts import COCO_17, POSETRACK18_JOINTS, POSETRACK_15
from shared_data import SHARED

MINI = Path(SHARED) / "data" / "posetrack18-mini"
needs_mini = pytest.mark.skipif(not MINI.is_dir(), reason="shared PoseTrack sample not found")
SLOT = POSETRACK18_JOINTS.index


def _person(layout, track_id: int = 0, score: float = 0.8, seed: int = 0) -> Person:
    rng = np.random.default_rng(seed)
    k = layout.num_joints
    kps = np.c_[rng.uniform(10, 300, (k, 2)), np.ones(k)].astype(np.float32)
    scores = rng.uniform(0.1, 1.0, k).astype(np.float32)
    return Person(track_id, kps, (5.0, 6.0, 25.0, 36.0), scores, score)


def _frames(layout, n: int) -> list[Frame]:
    return [Frame(i, "", True, [_person(layout, 0, seed=i), _person(layout, 1, 0.5, seed=9 + i)])
            for i in range(n)]  # fmt: skip


def _no_leftovers(folder: Path) -> None:
    assert [p.name for p in folder.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize("stop", [RuntimeError("model crashed"), KeyboardInterrupt()])
def test_interrupted_writer_leaves_valid_json_of_the_frames_done(tmp_path, stop):
    path = tmp_path / "out" / "000001_mpii_test.json"
    with pytest.raises(type(stop)):
        with PoseTrack18Writer(path, "000001_mpii_test", scores=True) as out:
            for i, frame in enumerate(_frames(POSETRACK_15, 5)):
                if i == 3:
                    raise stop
                out.write(frame)
    data = json.loads(path.read_text())
    assert [img["id"] for img in data["images"]] == [0, 1, 2]
    assert all(img["nframes"] == 3 for img in data["images"])
    assert [a["image_id"] for a in data["annotations"]] == [0, 0, 1, 1, 2, 2]
    (seq,) = load_posetrack(path)
    assert len(seq.frames) == 3 and all(len(f.persons) == 2 for f in seq.frames)
    _no_leftovers(path.parent)


def test_path_is_replaced_only_when_the_file_is_complete(tmp_path):
    path = tmp_path / "p.json"
    path.write_text("previous")
    out = PoseTrack18Writer(path, "000001_mpii_test")
    for frame in _frames(POSETRACK_15, 2):
        out.write(frame)
    assert path.read_text() == "previous"  # the annotations stream elsewhere meanwhile
    assert out.frames_written == 2
    assert out.close() == path and out.close() == path  # idempotent
    assert len(json.loads(path.read_text())["images"]) == 2
    with pytest.raises(ValueError, match="closed"):
        out.write(_frames(POSETRACK_15, 1)[0])
    _no_leftovers(tmp_path)


def test_a_bad_person_leaves_no_half_written_frame(tmp_path):
    path = tmp_path / "p.json"
    bad = Frame(1, "", True, [_person(POSETRACK_15), Person(3, np.zeros((17, 3), np.float32),
                                                             score=0.1)])  # fmt: skip
    with pytest.raises(ValueError, match=r"\(15, 3\) for layout 'posetrack-15'"):
        with PoseTrack18Writer(path, "000001_mpii_test") as out:
            out.write(_frames(POSETRACK_15, 1)[0])
            out.write(bad)
    data = json.loads(path.read_text())
    assert len(data["images"]) == 1 and len(data["annotations"]) == 2


def test_coco17_persons_fill_posetrack_slots_by_name(tmp_path):
    person = _person(COCO_17, score=0.7)
    person.keypoints[COCO_17.index(["left_wrist"])] = 0  # not predicted
    seq = Sequence("000001_mpii_test", [Frame(0, "", True, [person])])
    path = write_posetrack18(seq, tmp_path / "c.json", layout="coco-17")
    (ann,) = json.loads(path.read_text())["annotations"]
    kps, scores = np.array(ann["keypoints"]).reshape(17, 3), np.array(ann["scores"])
    for name in ("nose", "left_ear", "right_ear", "left_shoulder", "right_ankle"):
        j = COCO_17.joints.index(name)
        np.testing.assert_allclose(kps[SLOT(name)], [*person.keypoints[j, :2], 1], rtol=1e-6)
        assert scores[SLOT(name)] == pytest.approx(person.scores[j])
    for name in ("head_bottom", "head_top", "left_wrist"):  # PoseTrack joints it lacks: absent
        assert kps[SLOT(name)].tolist() == [0, 0, 0] and scores[SLOT(name)] == 0
    assert ann["num_keypoints"] == 14  # 17 - 2 eyes (no slot) - 1 wrist
    # read back by name: into coco-17 the eyes are absent, into posetrack-15 the head joints
    (coco,) = load_posetrack(path, layout="coco-17")
    back = coco.frames[0].persons[0].keypoints
    assert back[COCO_17.index(["left_eye", "right_eye", "left_wrist"]), 2].tolist() == [0, 0, 0]
    np.testing.assert_allclose(
        back[COCO_17.index(["left_ear"]), :2],
        person.keypoints[COCO_17.index(["left_ear"]), :2],
        rtol=1e-6,
    )
    (pt15,) = load_posetrack(path)
    assert pt15.frames[0].persons[0].keypoints.shape == (15, 3)
    assert pt15.frames[0].persons[0].keypoints[POSETRACK_15.index(["head_top"]), 2] == 0


def test_frame_and_person_fields_round_trip(tmp_path):
    person = _person(POSETRACK_15)
    person.box, person.area = (1.0, 2.0, 50.0, 80.0), 1234.0
    frame = Frame(0, "", True, [person], [np.array([[0, 0], [9, 0], [9, 9]], np.float32)],
                  image_id=77, image_size=(640, 480), timestamp=1.25)  # fmt: skip
    path = write_posetrack18(Sequence("000001_mpii_test", [frame]), tmp_path / "r.json",
                             decimals=2)  # fmt: skip
    data = json.loads(path.read_text())
    (img,), (ann,) = data["images"], data["annotations"]
    assert (img["width"], img["height"], img["timestamp"], img["id"]) == (640, 480, 1.25, 77)
    assert ann["bbox"] == [1.0, 2.0, 49.0, 78.0] and ann["bbox_head"] == [5.0, 6.0, 20.0, 30.0]
    assert all(round(v, 2) == v for v in ann["keypoints"])
    assert all(round(v, 5) == v for v in ann["scores"])
    (back,) = load_posetrack(path)
    f = back.frames[0]
    assert (f.image_size, f.timestamp, f.image_id) == ((640, 480), 1.25, 77)
    assert f.persons[0].box == (1.0, 2.0, 50.0, 80.0) and f.persons[0].head_box == person.head_box


@needs_mini
def test_real_file_read_into_coco17():
    pt15 = load_posetrack(MINI / "annotations" / "val")
    coco = load_posetrack(MINI / "annotations" / "val", layout="coco-17")
    shared = [n for n in COCO_17.joints if n in POSETRACK_15.joints]
    for a, b in zip(pt15, coco, strict=True):
        for pa, pb in zip(a.frames[0].persons, b.frames[0].persons, strict=True):
            assert pb.keypoints.shape == (17, 3)
            np.testing.assert_array_equal(pa.keypoints[POSETRACK_15.index(shared)],
                                          pb.keypoints[COCO_17.index(shared)])  # fmt: skip
            eyes_ears = COCO_17.index(["left_eye", "right_eye", "left_ear", "right_ear"])
            assert not pb.keypoints[eyes_ears, 2].any()  # no eyes in PoseTrack; ears never set
            assert pb.box is not None  # the file's bbox


def test_posetrack17_points_map_into_any_layout(tmp_path):
    rect = {
        "x1": [1],
        "y1": [2],
        "x2": [11],
        "y2": [22],
        "track_id": [4],
        "annopoints": [
            {"point": [{"id": [13], "x": [10.5], "y": [20.0]}, {"id": [12], "x": [7], "y": [8]}]}
        ],
    }
    data = {"annolist": [{"image": [{"name": "images/x/000342_mpii/00000001.jpg"}],
                          "annorect": [rect]}]}  # fmt: skip
    path = tmp_path / "000342.json"
    path.write_text(json.dumps(data))
    (seq,) = load_posetrack(path, layout="coco-17", image_root=tmp_path)
    kps = seq.frames[0].persons[0].keypoints
    assert kps.shape == (17, 3) and kps[COCO_17.index(["nose"])[0]].tolist() == [10.5, 20, 1]
    assert kps[:, 2].sum() == 1  # poseval id 12 (head_bottom) has no coco-17 joint
    rect["annopoints"][0]["point"].append({"id": [15], "x": [1], "y": [1]})
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="point id 15"):
        load_posetrack(path)
