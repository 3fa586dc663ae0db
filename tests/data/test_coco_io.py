"""COCO keypoints reader and writer: round trip, mapping by name, grouping into sequences,
the real labelled file, malformed files, atomic writes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from pavenet_sdk.data.coco import read_coco_keypoints, write_coco_keypoints
from pavenet_sdk.data.types import Frame, Person, Sequence
from pavenet_sdk.layouts import COCO_17, POSETRACK_15
from shared_data import SHARED

REAL_GT = SHARED / "data" / "real-gt-dev" / "person_keypoints.json"


def _person(rng, k: int, scores: bool, track_id: int = -1) -> Person:
    kps = np.zeros((k, 3), np.float32)
    kps[:, :2] = np.round(rng.uniform(5, 300, (k, 2)), 2)
    kps[:, 2] = rng.choice([0, 1, 2], k)
    kps[kps[:, 2] == 0] = 0.0
    conf = np.round(rng.uniform(0, 1, k), 4).astype(np.float32) if scores else None
    return Person(track_id, kps, scores=conf, score=0.75 if scores else None,
                  box=(1.5, 2.0, 301.0, 290.25), area=1234.5)  # fmt: skip


def _sequences(tmp_path: Path, k: int = 17) -> list[Sequence]:
    rng = np.random.default_rng(0)
    video = Sequence("clip-a", [
        Frame(i, str(tmp_path / "clip-a" / f"{i:06d}.jpg"), i != 1,
              [_person(rng, k, True, t) for t in range(2)] if i != 1 else [],
              image_id=10 + i, image_size=(320, 240))
        for i in range(3)
    ])  # fmt: skip
    crowd = np.array([[0, 0], [50, 0], [50, 40], [0, 40]], np.float32)
    still = Sequence("photo", [Frame(0, str(tmp_path / "photos" / "photo.png"), True,
                                     [_person(rng, k, False)], [crowd], image_id=99)])  # fmt: skip
    return [video, still]


def _assert_same(read: list[Sequence], written: list[Sequence]) -> None:
    assert [s.name for s in read] == [s.name for s in written]
    for rs, ws in zip(read, written, strict=True):
        assert len(rs.frames) == len(ws.frames)
        for rf, wf in zip(rs.frames, ws.frames, strict=True):
            assert (rf.index, rf.image_path, rf.is_labeled, rf.image_id, rf.image_size) == (
                wf.index, wf.image_path, wf.is_labeled, wf.image_id, wf.image_size,
            )  # fmt: skip
            assert len(rf.ignore_regions) == len(wf.ignore_regions)
            for a, b in zip(rf.ignore_regions, wf.ignore_regions, strict=True):
                np.testing.assert_allclose(a, b)
            assert len(rf.persons) == len(wf.persons)
            for rp, wp in zip(rf.persons, wf.persons, strict=True):
                np.testing.assert_allclose(rp.keypoints, wp.keypoints, atol=1e-5)
                assert rp.track_id == wp.track_id and rp.score == wp.score
                assert (rp.scores is None) == (wp.scores is None)
                if wp.scores is not None:
                    np.testing.assert_allclose(rp.scores, wp.scores, atol=1e-6)
                np.testing.assert_allclose(rp.box, wp.box)
                assert rp.area == wp.area


def test_round_trip(tmp_path):
    written = _sequences(tmp_path)
    path = write_coco_keypoints(tmp_path / "labels.json", written, COCO_17,
                                info={"teacher": "t"})  # fmt: skip
    _assert_same(read_coco_keypoints(path), written)
    data = json.loads(path.read_text())
    assert data["info"] == {"teacher": "t"}
    assert data["images"][0] == {"id": 10, "file_name": "clip-a/000000.jpg", "width": 320,
                                 "height": 240, "video_id": 1, "frame_id": 0}  # fmt: skip
    assert data["images"][1]["is_labeled"] is False
    assert data["videos"] == [{"id": 1, "name": "clip-a"}, {"id": 2, "name": "photo"}]
    (cat,) = data["categories"]
    assert cat["keypoints"] == list(COCO_17.joints)
    assert cat["skeleton"] == [[a + 1, b + 1] for a, b in COCO_17.skeleton]
    ann = data["annotations"][0]
    assert ann["bbox"] == [1.5, 2.0, 299.5, 288.25] and ann["area"] == 1234.5
    assert ann["num_keypoints"] == int((written[0].frames[0].persons[0].keypoints[:, 2] > 0).sum())
    assert len(ann["keypoint_scores"]) == 17 and ann["score"] == 0.75 and ann["track_id"] == 0
    crowd = data["annotations"][-1]
    assert crowd["iscrowd"] == 1 and crowd["num_keypoints"] == 0


def test_round_trip_plain_images_and_another_layout(tmp_path):
    written = _sequences(tmp_path, k=POSETRACK_15.num_joints)
    stills = [Sequence(Path(f.image_path).stem, [Frame(0, f.image_path, True, f.persons,
                       f.ignore_regions, f.image_id, f.image_size)])
              for s in written for f in s.frames]  # fmt: skip
    path = write_coco_keypoints(tmp_path / "stills.json", stills, POSETRACK_15, videos=False)
    assert "videos" not in json.loads(path.read_text())
    _assert_same(read_coco_keypoints(path, POSETRACK_15), stills)


def test_default_boxes_come_from_labelled_joints(tmp_path):
    kps = np.array([[10, 20, 2], [0, 0, 0], [30, 60, 1]] + [[0, 0, 0]] * 14, np.float32)
    seq = Sequence("s", [Frame(0, "a.jpg", True, [Person(-1, kps)])])
    data = json.loads(write_coco_keypoints(tmp_path / "x.json", [seq], COCO_17).read_text())
    ann = data["annotations"][0]
    assert ann["bbox"] == [10.0, 20.0, 20.0, 40.0] and ann["area"] == pytest.approx(0.53 * 800)
    assert data["images"][0]["file_name"] == "a.jpg" and ann["num_keypoints"] == 2
    assert "keypoint_scores" not in ann and "score" not in ann and "track_id" not in ann


def _coco_file(tmp_path: Path, names: list[str], anns: list[dict], images=None, **extra) -> Path:
    data = {
        "images": images or [{"id": 1, "file_name": "img/a.jpg"}],
        "annotations": anns,
        "categories": [{"id": 3, "name": "person", "keypoints": names}],
        **extra,
    }
    path = tmp_path / "file.json"
    path.write_text(json.dumps(data))
    return path


def test_keypoints_are_mapped_by_name(tmp_path):
    names = ["right_ankle", "nose", "head_top", "left_wrist", "tail"]
    raw = [1, 2, 2, 3, 4, 2, 5, 6, 1, 7, 8, 2, 9, 9, 2]
    ann = {"id": 1, "image_id": 1, "category_id": 3, "keypoints": raw,
           "keypoint_scores": [0.1, 0.2, 0.3, 0.4, 0.5]}  # fmt: skip
    path = _coco_file(tmp_path, names, [ann])
    (coco,) = read_coco_keypoints(path, COCO_17)
    (person,) = coco.frames[0].persons
    expected = np.zeros((17, 3), np.float32)
    expected[COCO_17.index(["right_ankle", "nose", "left_wrist"])] = [[1, 2, 2], [3, 4, 2],
                                                                       [7, 8, 2]]  # fmt: skip
    np.testing.assert_array_equal(person.keypoints, expected)  # head_top, tail: not coco-17
    np.testing.assert_allclose(person.scores[COCO_17.index(["nose", "left_wrist"])], [0.2, 0.4])
    (pt,) = read_coco_keypoints(path, "posetrack-15")
    kps = pt.frames[0].persons[0].keypoints
    np.testing.assert_array_equal(kps[POSETRACK_15.index(["head_top"])], [[5, 6, 1]])
    assert kps[POSETRACK_15.index(["head_bottom"]), 2] == 0  # not in the file
    assert pt.frames[0].image_path == str((tmp_path / "img" / "a.jpg").resolve())
    other = tmp_path / "elsewhere"
    (rooted,) = read_coco_keypoints(path, image_root=other)
    assert rooted.frames[0].image_path == str(other.resolve() / "img" / "a.jpg")


def test_unlabelled_joints_are_zeroed(tmp_path):
    ann = {"id": 1, "image_id": 1, "keypoints": [5, 6, 0, 7, 8, 2]}
    (seq,) = read_coco_keypoints(_coco_file(tmp_path, ["nose", "left_eye"], [ann]))
    np.testing.assert_array_equal(seq.frames[0].persons[0].keypoints[:2], [[0, 0, 0], [7, 8, 2]])


def test_video_frames_group_by_video_and_order_by_frame_id(tmp_path):
    images = [
        {"id": 5, "file_name": "v1/2.jpg", "video_id": 1, "frame_id": 2},
        {"id": 6, "file_name": "still.jpg"},
        {"id": 3, "file_name": "v1/0.jpg", "video_id": 1, "frame_id": 0},
        {"id": 9, "file_name": "pt/1.jpg", "vid_id": "000342", "frame_id": 10003420001,
         "is_labeled": False},
        {"id": 4, "file_name": "v1/1.jpg", "video_id": 1, "frame_id": 1},
        {"id": 8, "file_name": "pt/0.jpg", "vid_id": "000342", "frame_id": 10003420000},
    ]  # fmt: skip
    anns = [{"id": 1, "image_id": 4, "keypoints": [1, 1, 2], "track_id": 7}]
    path = _coco_file(tmp_path, ["nose"], anns, images, videos=[{"id": 1, "name": "walk"}])
    seqs = read_coco_keypoints(path)
    assert [s.name for s in seqs] == ["walk", "still", "000342"]
    assert [f.image_id for f in seqs[0].frames] == [3, 4, 5]
    assert [f.index for f in seqs[0].frames] == [0, 1, 2]
    assert seqs[0].frames[1].persons[0].track_id == 7
    assert [f.image_id for f in seqs[2].frames] == [8, 9]
    assert seqs[2].labeled_indices == [0]


def test_the_real_labelled_file():
    if not REAL_GT.is_file():
        pytest.skip(f"{REAL_GT} not found")
    raw = json.loads(REAL_GT.read_text())
    seqs = read_coco_keypoints(REAL_GT)
    assert len(seqs) == 8 and all(len(s.frames) == 1 for s in seqs)
    frames = {f.image_id: f for s in seqs for f in s.frames}
    assert sum(len(f.persons) for f in frames.values()) == 21
    for img in raw["images"]:
        frame = frames[img["id"]]
        assert Path(frame.image_path).is_file() and frame.image_size == (img["width"],
                                                                         img["height"])  # fmt: skip
    seen = {img_id: 0 for img_id in frames}
    for ann in raw["annotations"]:
        person = frames[ann["image_id"]].persons[seen[ann["image_id"]]]
        seen[ann["image_id"]] += 1
        np.testing.assert_allclose(person.keypoints.ravel(), ann["keypoints"], atol=1e-3)
        x, y, w, h = ann["bbox"]
        np.testing.assert_allclose(person.box, (x, y, x + w, y + h), atol=1e-3)
        assert person.area == pytest.approx(ann["area"])
        assert person.scores is None and person.score is None


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{not json", "not valid JSON"),
        ("[]", "expected a JSON object"),
        ('{"images": [], "categories": []}', "no 'annotations' list"),
        ('{"images": [{"id": 1}], "annotations": [], "categories": [{"name": "person", '
         '"keypoints": ["nose"]}]}', "image entry 0 needs an 'id' and a 'file_name'"),
        ('{"images": [], "annotations": [], "categories": [{"name": "car"}]}',
         "expected one category with 'keypoints'"),
        ('{"images": [], "annotations": [], "categories": [{"name": "person", '
         '"keypoints": ["wing", "beak"]}]}', "is a joint of layout 'coco-17'"),
    ],
)  # fmt: skip
def test_malformed_files_name_the_file_and_the_problem(tmp_path, content, problem):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ValueError) as exc:
        read_coco_keypoints(path)
    message = str(exc.value)
    assert message.startswith(f"{path}: ") and problem in message and "\n" not in message


@pytest.mark.parametrize(
    ("ann", "problem"),
    [
        ({"id": 4, "image_id": 1, "keypoints": [1, 2]}, "annotation 4: 'keypoints' must be 6"),
        ({"id": 4, "image_id": 1, "keypoints": [1, 2, 2, 1, "x", 2]}, "must be 6 finite numbers"),
        ({"id": 4, "image_id": 2, "keypoints": [0] * 6}, "refers to unknown image id 2"),
        ({"id": 4, "image_id": 1, "keypoints": [0] * 6, "score": "high"}, "'score' must be"),
        ({"id": 4, "image_id": 1, "keypoints": [0] * 6, "keypoint_scores": [1]},
         "'keypoint_scores' must be 2 finite numbers, got 1"),
    ],
)  # fmt: skip
def test_malformed_annotations(tmp_path, ann, problem):
    path = _coco_file(tmp_path, ["nose", "left_eye"], [ann])
    with pytest.raises(ValueError, match=problem) as exc:
        read_coco_keypoints(path)
    assert str(exc.value).startswith(str(path))


def test_video_image_without_frame_id(tmp_path):
    images = [{"id": 1, "file_name": "a.jpg", "video_id": 3}]
    with pytest.raises(ValueError, match="image 1 has a video id but no numeric 'frame_id'"):
        read_coco_keypoints(_coco_file(tmp_path, ["nose"], [], images))


def test_missing_file():
    with pytest.raises(FileNotFoundError, match="nowhere.json"):
        read_coco_keypoints("nowhere.json")


def test_a_folder_reads_every_file_in_name_order(tmp_path):
    a, b = _sequences(tmp_path)
    write_coco_keypoints(tmp_path / "b.json", [a], COCO_17)
    write_coco_keypoints(tmp_path / "a.json", [b], COCO_17)
    (tmp_path / ".a.json.tmp").write_text("partial")  # an unfinished write is not read
    assert [s.name for s in read_coco_keypoints(tmp_path)] == ["photo", "clip-a"]
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no \\*.json files"):
        read_coco_keypoints(tmp_path / "empty")


def test_writes_are_atomic(tmp_path):
    path = write_coco_keypoints(tmp_path / "labels.json", _sequences(tmp_path), COCO_17)
    before = path.read_bytes()
    bad = Sequence("bad", [Frame(0, "x.jpg", True, [Person(-1, np.zeros((5, 3)))])])
    with pytest.raises(ValueError, match=r"must be finite \(17, 3\)"):
        write_coco_keypoints(path, _sequences(tmp_path) + [bad], COCO_17)
    assert path.read_bytes() == before  # the old file is untouched
    nan = Sequence("nan", [Frame(0, "x.jpg", True, [Person(-1, np.full((17, 3), np.nan))])])
    with pytest.raises(ValueError):
        write_coco_keypoints(tmp_path / "new.json", [nan], COCO_17)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["labels.json"]  # no temp files
