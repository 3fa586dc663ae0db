"""Tests of the synthetic multi-person video generator (pavenet_sdk.data.synth)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from pavenet_sdk.data.synth import (
    PRESETS,
    contact_sheet,
    generate_clip,
    video_seed,
    write_clip_posetrack18,
    write_dataset,
)
from pavenet_sdk.data.synth.clip import _hidden_by_head
from pavenet_sdk.data.synth.render import LEFT_SHADE, limb_table, sample_appearance
from pavenet_sdk.data.synth.scene import Camera
from pavenet_sdk.data.synth.skeleton import (
    L_EAR,
    L_EYE,
    R_EAR,
    R_EYE,
    Pose,
    forward_kinematics,
    sample_body,
)
from pavenet_sdk.layouts import COCO_17, POSETRACK_15, JointLayout

NUM_JOINTS = POSETRACK_15.num_joints

W, H = 320, 240


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_same_seed_same_clip_and_different_seed_differs():
    a = generate_clip("mixed", seed=11, num_frames=4)
    b = generate_clip("mixed", seed=11, num_frames=4)
    c = generate_clip("mixed", seed=12, num_frames=4)
    assert all(np.array_equal(x, y) for x, y in zip(a.frames, b.frames, strict=True))
    for fa, fb in zip(a.sequence.frames, b.sequence.frames, strict=True):
        assert [p.track_id for p in fa.persons] == [p.track_id for p in fb.persons]
        for pa, pb in zip(fa.persons, fb.persons, strict=True):
            assert np.array_equal(pa.keypoints, pb.keypoints) and pa.head_box == pb.head_box
    assert not np.array_equal(a.frames[0], c.frames[0])


def test_written_dataset_is_byte_identical(tmp_path):
    kw = {"preset": "occlusion", "videos": 2, "frames": 3}
    write_dataset(tmp_path / "a", seed=5, **kw)
    write_dataset(tmp_path / "b", seed=5, **kw)
    write_dataset(tmp_path / "c", seed=6, **kw)
    a, b, c = (_files(tmp_path / n) for n in "abc")
    assert len(a) == 2 * 3 + 2 and a == b
    assert a.keys() == c.keys() and a != c


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_person_counts_follow_preset(preset):
    lo, hi = PRESETS[preset].persons
    for seed in range(4):
        clip = generate_clip(preset, seed=seed, num_frames=1)
        assert lo <= clip.num_persons <= hi
        tracks = sorted(p.track_id for p in clip.sequence.frames[0].persons)
        assert tracks == list(range(clip.num_persons))  # everyone starts in view


def test_fixed_person_count_for_benchmarks():
    clip = generate_clip("crowd", seed=3, num_frames=2, num_persons=20)
    assert clip.num_persons == 20
    assert len(clip.sequence.frames[0].persons) == 20


def test_keypoints_inside_image_where_visible_and_absent_as_zeros():
    for preset in ("mixed", "crowd"):
        clip = generate_clip(preset, seed=2, num_frames=6)
        for frame in clip.sequence.frames:
            for p in frame.persons:
                kps = p.keypoints
                assert kps.shape == (NUM_JOINTS, 3) and kps.dtype == np.float32
                on = kps[:, 2] == 1
                assert set(np.unique(kps[:, 2])) <= {0.0, 1.0} and on.sum() >= 6
                assert np.all((kps[on, 0] >= 0) & (kps[on, 0] < W))
                assert np.all((kps[on, 1] >= 0) & (kps[on, 1] < H))
                assert np.all(kps[~on] == 0)


def test_head_boxes_enclose_the_head():
    clip = generate_clip("easy", seed=4, num_frames=5)
    checked = 0
    for frame in clip.sequence.frames:
        for p in frame.persons:
            x1, y1, x2, y2 = p.head_box
            assert x2 > x1 and y2 > y1
            head = p.keypoints[[0, 1, 2]]
            if not np.all(head[:, 2] == 1):
                continue
            span = np.linalg.norm(head[2, :2] - head[1, :2])  # head_top - head_bottom
            assert 0.5 * span <= max(x2 - x1, y2 - y1) <= 2.0 * span
            for x, y, _ in head:
                assert x1 - 1 <= x <= x2 + 1 and y1 - 1 <= y <= y2 + 1
            checked += 1
    assert checked > 0


def test_left_is_image_right_when_facing_camera_and_left_limbs_darker():
    rng = np.random.default_rng(0)
    body = sample_body(rng)
    n = 1
    z2, z1 = np.zeros((n, 2)), np.zeros(n)
    pose = Pose(hip_flex=z2, hip_abd=z2, knee=z2, sh_flex=z2, sh_abd=z2 + 0.2, elbow=z2,
                bend=np.array([[1.0, 0, 0], [1.0, 0, 0]]), lean=z1, twist=z1, bounce=z1,
                head_yaw=z1)  # fmt: skip
    cam = Camera(focal=300, cx=160, cy=100, height=1.2)
    for heading, left_on_right in ((np.pi, True), (0.0, False)):
        world, head_fwd = forward_kinematics(body, pose, z1, z1 + 4.0, z1 + heading)
        pts, depth = cam.project(world[0])
        assert (pts[3, 0] > pts[4, 0]) == left_on_right  # shoulders
        assert (pts[13, 0] > pts[14, 0]) == left_on_right  # ankles
        assert (depth[0] < depth[1]) == left_on_right  # the nose points at the camera
    limbs = limb_table(body, sample_appearance(rng))
    left, right = limbs[:6], limbs[6:]
    assert LEFT_SHADE <= 0.7
    for lo, hi in zip(left, right, strict=True):
        assert np.allclose(np.array(lo[4]), np.array(hi[4]) * LEFT_SHADE)
        assert sum(lo[4]) < sum(hi[4]) or sum(hi[4]) == 0


def test_motion_is_smooth():
    clip = generate_clip("mixed", seed=9, num_frames=8, num_persons=4)
    last: dict[int, np.ndarray] = {}
    for frame in clip.sequence.frames:
        for p in frame.persons:
            if p.track_id in last:
                both = (last[p.track_id][:, 2] > 0) & (p.keypoints[:, 2] > 0)
                step = np.linalg.norm(p.keypoints[both, :2] - last[p.track_id][both, :2], axis=1)
                assert step.max() < 0.25 * H
            last[p.track_id] = p.keypoints


def _sharpness(img: np.ndarray) -> float:
    return float(cv2.Laplacian(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), cv2.CV_64F).var())


def test_occlusion_preset_degrades_some_frames_but_not_all():
    clip = generate_clip("occlusion", seed=0, num_frames=24)
    kinds = [set(i.kinds) for i in clip.info]
    assert any(kinds) and not all(kinds)
    assert {"occluder", "motion_blur", "defocus", "contrast"} <= set().union(*kinds)
    clean = [f for f, k in zip(clip.frames, kinds, strict=True) if not k]
    sharp = np.median([_sharpness(f) for f in clean])
    spread = np.median([f.std() for f in clean])
    for frame, k in zip(clip.frames, kinds, strict=True):
        if k & {"motion_blur", "defocus"}:
            assert _sharpness(frame) < 0.6 * sharp
        if "contrast" in k:
            assert frame.std() < 0.7 * spread
    # occluders pass for a few frames, never for the whole clip, and name their targets
    occluded = [i.occluded_tracks for i in clip.info]
    assert all(t < clip.num_persons for ts in occluded for t in ts)
    easy = generate_clip("easy", seed=0, num_frames=24)
    assert sum(bool(i.kinds) for i in easy.info) < sum(bool(k) for k in kinds)


def test_label_every_k_th_frame():
    clip = generate_clip("easy", seed=1, num_frames=7, label_every=3)
    labeled = [f.is_labeled for f in clip.sequence.frames]
    assert labeled == [True, False, False, True, False, False, True]
    assert all(not f.persons for f in clip.sequence.frames if not f.is_labeled)


def test_posetrack18_json_fields(tmp_path):
    paths = write_dataset(tmp_path, preset="crowd", seed=1, videos=3, frames=3)
    ignore_seen = 0
    for path in paths:
        data = json.loads(path.read_text())
        cat = data["categories"][0]
        assert cat["name"] == "person" and len(cat["keypoints"]) == 17 and cat["skeleton"]
        assert len(data["images"]) == 3
        for t, im in enumerate(data["images"]):
            for key in ("file_name", "id", "frame_id", "vid_id", "is_labeled", "nframes",
                        "ignore_regions_x", "ignore_regions_y"):  # fmt: skip
                assert key in im
            assert (tmp_path / im["file_name"]).is_file()
            assert im["id"] == im["frame_id"] == 10**10 + int(im["vid_id"]) * 10**4 + t
            assert im["file_name"].split("/")[-2].startswith(im["vid_id"] + "_mpii")
            for xs, ys in zip(im["ignore_regions_x"], im["ignore_regions_y"], strict=True):
                assert len(xs) == len(ys) >= 3
                ignore_seen += 1
        ids = set()
        for ann in data["annotations"]:
            assert len(ann["keypoints"]) == 51 and ann["keypoints"][9:15] == [0] * 6  # ears
            assert ann["category_id"] == 1 and ann["scores"] == []
            assert ann["bbox_head"][2] > 0 and ann["bbox_head"][3] > 0 and len(ann["bbox"]) == 4
            assert 0 <= ann["track_id"] < 10000 and ann["id"] // 100 == ann["image_id"]
            ids.add(ann["id"])
        assert len(ids) == len(data["annotations"])
    assert ignore_seen > 0


def test_write_clip_rejects_names_the_evaluator_cannot_parse(tmp_path):
    clip = generate_clip("easy", seed=0, num_frames=1)
    with pytest.raises(ValueError, match="video name"):
        write_clip_posetrack18(clip, tmp_path, "my_video")
    path = write_clip_posetrack18(clip, tmp_path, "000042_bonn_synth", split="val")
    assert path == tmp_path / "annotations" / "val" / "000042_bonn_synth.json"
    assert clip.sequence.name == "000042_bonn_synth"
    assert Path(clip.sequence.frames[0].image_path).is_file()
    assert clip.sequence.frames[0].image_id == 2 * 10**10 + 42 * 10**4


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"preset": "nope"}, ValueError),
        ({"num_frames": 0}, ValueError),
        ({"seed": -1}, ValueError),
        ({"num_persons": 100}, ValueError),
        ({"size": (320,)}, TypeError),
        ({"size": (8, 8)}, ValueError),
        ({"num_frames": 2.5}, TypeError),
    ],
)
def test_invalid_arguments_raise(kwargs, error):
    with pytest.raises(error):
        generate_clip(**kwargs)


def test_round_trip_through_posetrack_reader(tmp_path):
    posetrack = pytest.importorskip("pavenet_sdk.data.posetrack")
    load = getattr(posetrack, "load_posetrack", None)
    if load is None:
        pytest.skip("PoseTrack reader not available")
    clips = [generate_clip("crowd", seed=video_seed(3, i), num_frames=3) for i in range(2)]
    for i, clip in enumerate(clips):
        write_clip_posetrack18(clip, tmp_path, f"{i + 1:06d}_mpii_synth")
    sequences = load(tmp_path, split="train")
    assert [s.name for s in sequences] == [c.sequence.name for c in clips]
    for seq, clip in zip(sequences, clips, strict=True):
        for got, want in zip(seq.frames, clip.sequence.frames, strict=True):
            assert got.is_labeled == want.is_labeled
            assert Path(got.image_path).resolve() == Path(want.image_path).resolve()
            assert [p.track_id for p in got.persons] == [p.track_id for p in want.persons]
            for pg, pw in zip(got.persons, want.persons, strict=True):
                np.testing.assert_allclose(pg.keypoints, pw.keypoints, atol=0.01)
                np.testing.assert_allclose(pg.head_box, pw.head_box, atol=0.02)
            assert len(got.ignore_regions) == len(want.ignore_regions)
            for rg, rw in zip(got.ignore_regions, want.ignore_regions, strict=True):
                np.testing.assert_allclose(rg, rw, atol=0.5)


def test_contact_sheet_and_cli(tmp_path):
    sheet = contact_sheet("occlusion", seed=0, clips=2, frames=3, scale=0.5)
    assert sheet.shape == (2 * 2 * H // 2, 3 * W // 2, 3) and sheet.dtype == np.uint8
    from pavenet_sdk.cli import main

    png = tmp_path / "sheet.png"
    assert main(["synth", "--preview", str(png), "--videos", "1", "--frames", "2"]) == 0
    assert cv2.imread(str(png)).shape == (2 * H, 2 * W, 3)
    out = tmp_path / "ds"
    args = ["synth", "--out", str(out), "--preset", "easy", "--videos", "1", "--frames", "2",
            "--size", "160x120", "--persons", "2"]  # fmt: skip
    assert main(args) == 0
    data = json.loads((out / "annotations/train/000001_mpii_synth.json").read_text())
    assert cv2.imread(str(out / data["images"][1]["file_name"])).shape == (120, 160, 3)
    assert {a["track_id"] for a in data["annotations"]} <= {0, 1}


def test_generation_speed_sanity():
    start = time.perf_counter()
    frames = 0
    for seed in range(4):
        frames += len(generate_clip("mixed", seed=seed, num_frames=5).frames)
    fps = frames / (time.perf_counter() - start)
    print(f"synthetic generation: {fps:.0f} frames/s (mixed, 320x240, 5-frame clips)")
    assert frames == 20


def test_coco17_layout_changes_annotations_only():
    a = generate_clip("mixed", seed=21, num_frames=3)
    b = generate_clip("mixed", seed=21, num_frames=3, layout="coco-17")
    assert b.layout is COCO_17 and a.layout is POSETRACK_15
    assert all(np.array_equal(x, y) for x, y in zip(a.frames, b.frames, strict=True))
    shared = [n for n in COCO_17.joints if n in POSETRACK_15.joints]  # nose and the 12 limbs
    ia, ib = POSETRACK_15.index(shared), COCO_17.index(shared)
    people = 0
    for fa, fb in zip(a.sequence.frames, b.sequence.frames, strict=True):
        assert [p.track_id for p in fa.persons] == [p.track_id for p in fb.persons]
        for pa, pb in zip(fa.persons, fb.persons, strict=True):
            assert pb.keypoints.shape == (17, 3) and pb.keypoints.dtype == np.float32
            np.testing.assert_array_equal(pa.keypoints[ia], pb.keypoints[ib])
            assert pa.head_box == pb.head_box and pa.box == pb.box
            people += 1
        for ra, rb in zip(fa.ignore_regions, fb.ignore_regions, strict=True):
            np.testing.assert_array_equal(ra, rb)
    assert people > 0


def _head_points(heading: float, yaw: float = 0.0):
    """Projected points and head-hidden flags of one standing person at 4 m."""
    body = sample_body(np.random.default_rng(0))
    z2, z1 = np.zeros((1, 2)), np.zeros(1)
    pose = Pose(hip_flex=z2, hip_abd=z2, knee=z2, sh_flex=z2, sh_abd=z2 + 0.2, elbow=z2,
                bend=np.array([[1.0, 0, 0], [1.0, 0, 0]]), lean=z1, twist=z1, bounce=z1,
                head_yaw=z1 + yaw)  # fmt: skip
    cam = Camera(focal=300, cx=160, cy=100, height=1.6)
    world, _ = forward_kinematics(body, pose, z1, z1 + 4.0, z1 + heading)
    pts, _ = cam.project(world[0])
    return pts, _hidden_by_head(world, cam)[0]


def test_eyes_and_ears_follow_the_head():
    # facing the camera: everything shows; the person's left is on the image right
    pts, hidden = _head_points(np.pi)
    assert not hidden[[L_EYE, R_EYE, L_EAR, R_EAR]].any()
    assert pts[L_EYE, 0] > pts[R_EYE, 0] and pts[L_EAR, 0] > pts[R_EAR, 0]
    assert pts[R_EAR, 0] < pts[R_EYE, 0] < pts[L_EYE, 0] < pts[L_EAR, 0]  # ears outside eyes
    assert pts[L_EYE, 1] < pts[0, 1] < pts[1, 1]  # eyes above the nose, above head_bottom
    assert pts[2, 1] < pts[L_EAR, 1] < pts[1, 1]  # ears between head_top and head_bottom
    # from behind: eyes hidden, both ears show (left ear now on the image left)
    pts, hidden = _head_points(0.0)
    assert hidden[[L_EYE, R_EYE]].all() and not hidden[[L_EAR, R_EAR]].any()
    assert pts[L_EAR, 0] < pts[R_EAR, 0]
    # in profile, facing image right: the left side is turned away
    pts, hidden = _head_points(np.pi / 2)
    assert hidden[[L_EYE, L_EAR]].all() and not hidden[[R_EYE, R_EAR]].any()
    # the head's own yaw counts: body to the camera, head turned to its left (to image right)
    # turns the left ear away and the right ear to the camera, as in the profile above
    _, hidden = _head_points(np.pi, yaw=np.pi / 2)
    assert hidden[[L_EYE, L_EAR]].all() and not hidden[[R_EYE, R_EAR]].any()


def test_coco17_hidden_joints_are_absent_and_visible_ones_on_the_head():
    seen = np.zeros(4)
    people = 0
    for seed in range(4):
        clip = generate_clip("mixed", seed=seed, num_frames=3, layout="coco-17")
        for frame in clip.sequence.frames:
            for p in frame.persons:
                people += 1
                face = p.keypoints[1:5]  # eyes, ears
                assert np.all(face[face[:, 2] == 0] == 0)
                seen += face[:, 2]
                x1, y1, x2, y2 = p.head_box
                for x, y, _ in face[face[:, 2] > 0]:
                    assert x1 - 1 <= x <= x2 + 1 and y1 - 1 <= y <= y2 + 1
    frac = seen / people
    assert np.all((frac > 0.2) & (frac < 0.95)), frac  # turned-away heads hide some of them


def test_layout_the_figures_cannot_annotate_is_refused():
    odd = JointLayout("odd", ("nose", "left_pinky"), (), (), (0.1, 0.1))
    with pytest.raises(ValueError, match="left_pinky"):
        generate_clip("easy", seed=0, num_frames=1, layout=odd)


def test_coco17_dataset_is_written_as_coco_and_reads_back(tmp_path):
    from pavenet_sdk.data.coco import read_coco_keypoints
    from pavenet_sdk.data.synth import default_format

    assert default_format("coco-17") == "coco" and default_format("posetrack-15") == "posetrack"
    (path,) = write_dataset(tmp_path, preset="easy", seed=4, videos=2, frames=2, split="val",
                            layout="coco-17")  # fmt: skip
    assert path == tmp_path / "annotations" / "person_keypoints_val.json"
    seqs = read_coco_keypoints(path, layout="coco-17", image_root=tmp_path)
    clips = [generate_clip("easy", seed=video_seed(4, i), num_frames=2, layout="coco-17")
             for i in range(2)]  # fmt: skip
    assert [s.name for s in seqs] == ["000001_mpii_synth", "000002_mpii_synth"]
    for seq, clip in zip(seqs, clips, strict=True):
        for got, want in zip(seq.frames, clip.sequence.frames, strict=True):
            assert Path(got.image_path).is_file() and got.image_size == (W, H)
            for pg, pw in zip(got.persons, want.persons, strict=True):
                np.testing.assert_allclose(pg.keypoints[:, :2], pw.keypoints[:, :2], atol=0.01)
                assert np.array_equal(pg.keypoints[:, 2] > 0, pw.keypoints[:, 2] > 0)
                np.testing.assert_allclose(pg.head_box, pw.head_box, atol=0.01)
    with pytest.raises(ValueError, match="left_eye"):
        write_dataset(tmp_path / "x", videos=1, frames=1, layout="coco-17",
                      annotation_format="posetrack")  # fmt: skip
    # PoseTrack-15 datasets stay PoseTrack files; coco-17 written as PoseTrack on request would
    # lose the eyes, so only the CLI's explicit format can write it
    from pavenet_sdk.cli import main

    out = tmp_path / "cli"
    assert main(["synth", "--out", str(out), "--videos", "1", "--frames", "1",
                 "--layout", "coco-17"]) == 0  # fmt: skip
    data = json.loads((out / "annotations" / "person_keypoints_train.json").read_text())
    assert data["categories"][0]["keypoints"] == list(COCO_17.joints)
