"""PoseTrack readers (2017 / 2018 / merged) and the PoseTrack 2018 writer."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from pavenet_sdk.data.posetrack import MIN_SCORE, load_posetrack, write_posetrack18
from pavenet_sdk.data.types import Frame, Person, Sequence
from pavenet_sdk.layouts import POSETRACK18_JOINTS, POSETRACK_15
from shared_data import POSETRACK_MINI


def _shared() -> Path:
    return POSETRACK_MINI


MINI = _shared()
needs_mini = pytest.mark.skipif(not MINI.is_dir(), reason="shared PoseTrack sample not found")
J = POSETRACK_15.joints.index


@needs_mini
def test_real_per_video_files():
    seqs = load_posetrack(MINI / "annotations" / "val")
    assert [s.name for s in seqs] == ["003418_mpii_test", "009473_mpii_test", "012834_mpii_test"]
    assert [len(s.frames) for s in seqs] == [1, 1, 1]
    assert [len(s.frames[0].persons) for s in seqs] == [1, 2, 11]
    assert [len(s.frames[0].ignore_regions) for s in seqs] == [9, 2, 4]
    frame = seqs[0].frames[0]
    assert frame.is_labeled and frame.image_id == 10034180000
    assert Path(frame.image_path).is_file()
    assert Path(frame.image_path) == (MINI / "images/val/003418_mpii_test/000000.jpg").resolve()
    p = frame.persons[0]
    assert p.keypoints.shape == (15, 3) and p.keypoints.dtype == np.float32
    np.testing.assert_allclose(p.keypoints[J("nose")], [621, 471, 1])
    np.testing.assert_allclose(p.keypoints[J("left_shoulder")], [371, 737, 1])  # after the ears
    np.testing.assert_allclose(p.keypoints[J("left_hip")], [968, 833, 1])
    np.testing.assert_allclose(p.keypoints[J("left_ankle")], [0, 0, 0])  # not annotated
    assert int(p.keypoints[:, 2].sum()) == 11  # num_keypoints in the file
    assert p.head_box == (346.0, 337.0, 642.0, 574.0)  # xywh [346, 337, 296, 237] -> corners
    assert p.track_id == 0 and p.scores is None
    region = frame.ignore_regions[1]
    assert region.shape == (13, 2)
    np.testing.assert_allclose(region[0], [341, 94])
    assert [q.track_id for q in seqs[2].frames[0].persons] == list(range(11))


@needs_mini
def test_real_merged_file_matches_per_video_files():
    merged = {s.name: s for s in load_posetrack(MINI / "annotations" / "test_posetrack18_val.json")}
    per_video = {s.name: s for s in load_posetrack(MINI / "annotations" / "val")}
    assert merged.keys() == per_video.keys()
    for name, seq in per_video.items():
        a, b = seq.frames[0], merged[name].frames[0]
        assert a.image_path == b.image_path and Path(b.image_path).is_file()
        for pa, pb in zip(a.persons, b.persons, strict=True):
            np.testing.assert_array_equal(pa.keypoints, pb.keypoints)
            assert pa.head_box == pb.head_box


@needs_mini
def test_real_round_trip_through_writer(tmp_path):
    src = MINI / "annotations" / "val" / "012834_mpii_test.json"
    (seq,) = load_posetrack(src)
    out = write_posetrack18(seq, tmp_path / "annotations" / "x.json", image_root=MINI)
    original, written = json.loads(src.read_text()), json.loads(out.read_text())
    assert written["images"][0]["file_name"] == original["images"][0]["file_name"]
    assert written["images"][0]["ignore_regions_x"] == original["images"][0]["ignore_regions_x"]
    for a, b in zip(original["annotations"], written["annotations"], strict=True):
        assert b["track_id"] == a["track_id"] and b["scores"] == []
        np.testing.assert_allclose(b["keypoints"], a["keypoints"], rtol=1e-6)  # float32 storage
        np.testing.assert_allclose(b["bbox_head"], a["bbox_head"])
    (again,) = load_posetrack(out, image_root=MINI)
    assert again.frames[0].image_path == seq.frames[0].image_path
    for pa, pb in zip(seq.frames[0].persons, again.frames[0].persons, strict=True):
        np.testing.assert_array_equal(pa.keypoints, pb.keypoints)
        assert pa.head_box == pb.head_box


def _pred_person(track_id: int, score: float, missing: tuple[int, ...] = ()) -> Person:
    kps = np.c_[np.arange(15) * 10.0 + 5, np.arange(15) * 3.0 + 1, np.ones(15)].astype(np.float32)
    kps[list(missing)] = 0
    return Person(track_id, kps, scores=np.linspace(0.1, 0.9, 15, dtype=np.float32), score=score)


def test_prediction_writer_format(tmp_path):
    nose = (J("nose"),)
    persons = [_pred_person(3, 0.2, missing=nose), _pred_person(3, 0.9), _pred_person(-1, 0.5)]
    seq = Sequence("000001_bonn_test", [Frame(0, "", True, persons), Frame(1, "", False, [])])
    data = json.loads(write_posetrack18(seq, tmp_path / "p.json").read_text())
    assert [img["file_name"] for img in data["images"]] == [
        "images/val/000001_bonn_test/000000.jpg",
        "images/val/000001_bonn_test/000001.jpg",
    ]
    anns = data["annotations"]
    assert [a["score"] for a in anns] == pytest.approx([0.9, 0.5, 0.2])  # sorted by score
    ids = [a["track_id"] for a in anns]
    assert len(set(ids)) == 3 and all(0 <= t < 10000 for t in ids)
    assert ids[0] == 3  # the first holder of a valid id keeps it
    kps = np.array(anns[2]["keypoints"]).reshape(17, 3)
    assert kps[POSETRACK18_JOINTS.index("nose")].tolist() == [0, 0, 0]  # absent -> 0,0,0
    assert kps[3].tolist() == [0, 0, 0] and kps[4].tolist() == [0, 0, 0]  # ears
    assert kps[POSETRACK18_JOINTS.index("left_shoulder")].tolist() == [35, 10, 1]
    scores = np.array(anns[0]["scores"])
    assert len(scores) == 17 and scores[3] == 0 and scores[4] == 0
    assert scores[POSETRACK18_JOINTS.index("right_ankle")] == pytest.approx(0.9)
    (back,) = load_posetrack(tmp_path / "p.json")
    np.testing.assert_allclose(back.frames[0].persons[0].scores, persons[1].scores)


def test_writer_requires_scores_for_predictions(tmp_path):
    gt_like = Person(0, np.zeros((15, 3), np.float32))
    seq = Sequence("000001_bonn_test", [Frame(0, "", True, [gt_like])])
    with pytest.raises(ValueError, match="scores"):
        write_posetrack18(seq, tmp_path / "p.json", scores=True)


def test_posetrack17_annolist(tmp_path):
    point = {"id": [13], "x": [10.5], "y": [20.0], "is_visible": [1], "score": [0.7]}
    rects = [
        {"x1": [1], "y1": [2], "x2": [11], "y2": [22], "track_id": [4],
         "annopoints": [{"point": [point, {"id": [0], "x": [5], "y": [6]},
                                   {"id": [0], "x": [50], "y": [60]}]}]},  # 2nd id 0 ignored
        {"x1": [0], "y1": [0], "x2": [1], "y2": [1], "track_id": [5]},  # no annopoints
    ]  # fmt: skip
    region = {"point": [{"x": [0], "y": [0]}, {"x": [9], "y": [0]}, {"x": [9], "y": [9]}]}
    data = {"annolist": [
        {"image": [{"name": "images/bonn_5sec/000342_mpii/00000001.jpg"}], "imgnum": [1],
         "is_labeled": [1], "annorect": rects, "ignore_regions": [region]},
        {"image": {"name": "images/bonn_5sec/000342_mpii/00000002.jpg"}, "annorect": []},
    ]}  # fmt: skip
    path = tmp_path / "000342.json"
    path.write_text(json.dumps(data))
    (seq,) = load_posetrack(path, image_root=tmp_path)
    assert seq.name == "000342_mpii" and len(seq.frames) == 2
    f0, f1 = seq.frames
    assert f0.is_labeled and not f1.is_labeled
    assert f1.image_path == str((tmp_path / "images/bonn_5sec/000342_mpii/00000002.jpg").resolve())
    a, b = f0.persons
    np.testing.assert_allclose(a.keypoints[J("nose")], [10.5, 20, 1])  # poseval id 13
    np.testing.assert_allclose(a.keypoints[J("right_ankle")], [5, 6, 1])  # poseval id 0
    assert a.keypoints[:, 2].sum() == 2
    assert a.scores[J("nose")] == pytest.approx(0.7) and a.scores[J("right_ankle")] == MIN_SCORE
    assert a.head_box == (1, 2, 11, 22) and a.track_id == 4
    assert b.keypoints[:, 2].sum() == 0 and b.track_id == 5
    np.testing.assert_allclose(f0.ignore_regions[0], [[0, 0], [9, 0], [9, 9]])


def _pt18(kps17: list[float], **extra) -> dict:
    ann = {"id": 1, "image_id": 7, "track_id": 0, "keypoints": kps17, **extra}
    category = {"name": "person", "keypoints": list(POSETRACK18_JOINTS)}
    image = {"id": 7, "file_name": "images/val/000001_bonn_test/000000.jpg"}
    return {"images": [image], "annotations": [ann], "categories": [category]}


def test_presence_rules(tmp_path):
    kps = [0.0] * 51
    kps[0:3] = [0, 0, 0.9]  # nose at the origin with a non-zero third value
    kps[15:18] = [-3, 40, 1]  # left shoulder at a negative x
    path = tmp_path / "a.json"
    path.write_text(json.dumps(_pt18(kps)))
    poseval = load_posetrack(path)[0].frames[0].persons[0].keypoints
    pt21 = load_posetrack(path, presence="pt21")[0].frames[0].persons[0].keypoints
    assert poseval[J("nose"), 2] == 1 and poseval[J("left_shoulder"), 2] == 1
    assert pt21[J("nose"), 2] == 0 and pt21[J("left_shoulder"), 2] == 0
    assert pt21[J("left_shoulder"), 0] == 0  # absent joints are stored as 0,0,0
    with pytest.raises(ValueError, match="presence"):
        load_posetrack(path, presence="coco")


def test_reader_errors(tmp_path):
    path = tmp_path / "a.json"
    path.write_text(json.dumps(_pt18([0.0] * 50)))
    with pytest.raises(ValueError, match="keypoint values"):
        load_posetrack(path)
    data = _pt18([0.0] * 51)
    del data["categories"]
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="category"):
        load_posetrack(path)
    data = _pt18([0.0] * 51)
    del data["annotations"][0]["track_id"]
    path.write_text(json.dumps(data))
    assert load_posetrack(path)[0].frames[0].persons[0].track_id == -1
    with pytest.raises(ValueError, match="track_id"):
        load_posetrack(path, require_track_ids=True)
    path.write_text(json.dumps({"foo": 1}))
    with pytest.raises(ValueError, match="annolist"):
        load_posetrack(path)
    with pytest.raises(FileNotFoundError):
        load_posetrack(tmp_path / "empty_dir_missing")


@needs_mini
def test_split_layout(tmp_path):
    seqs = load_posetrack(MINI, split="val")
    assert len(seqs) == 3 and Path(seqs[0].frames[0].image_path).is_file()
    with pytest.raises(FileNotFoundError, match="split"):
        load_posetrack(MINI, split="train")


def test_synthetic_dataset_reads_and_evaluates(tmp_path):
    from pavenet_sdk.data.synth import write_dataset
    from pavenet_sdk.eval import evaluate_posetrack

    write_dataset(tmp_path, preset="easy", seed=3, videos=2, frames=3, split="val")
    seqs = load_posetrack(tmp_path, split="val")
    assert len(seqs) == 2 and all(len(s.frames) == 3 for s in seqs)
    assert all(Path(f.image_path).is_file() for s in seqs for f in s.frames)
    assert sum(len(f.persons) for s in seqs for f in s.frames) > 0
    gt_dir = tmp_path / "annotations" / "val"
    result = evaluate_posetrack(gt_dir, gt_dir)  # poseval naming rules hold, GT scores 100
    assert result["mean"] == 100.0
