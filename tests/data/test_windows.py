"""Window sampling and the multi-frame augmentation."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from pavenet_sdk.data.transforms import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    AugmentConfig,
    letterbox,
    sample_affine,
)
from pavenet_sdk.data.types import Frame, Person, Sequence
from pavenet_sdk.data.windows import (
    MIN_AREA,
    SequenceWindows,
    collate_windows,
    make_window,
    window_indices,
)
from pavenet_sdk.layouts import COCO_17, POSETRACK_15
from shared_data import POSETRACK_MINI

GEOMETRY_ONLY = dict(photometric=False)
J = POSETRACK_15.joints.index


def _shared() -> Path:
    return POSETRACK_MINI


def _person(xy: np.ndarray, track_id: int = 0) -> Person:
    return Person(track_id, np.c_[xy, np.ones(len(xy))].astype(np.float32))


def _brightness(chw: np.ndarray) -> np.ndarray:
    """(3, H, W) normalised -> (H, W) mean grey level 0-255 (padding reads as the mean)."""
    rgb = chw.transpose(1, 2, 0) * IMAGENET_STD + IMAGENET_MEAN
    return rgb.mean(axis=2)


def test_window_indices_replicate_the_ends():
    assert window_indices(5, 0, 2) == [0, 0, 0, 1, 2]
    assert window_indices(5, 4, 2) == [2, 3, 4, 4, 4]
    assert window_indices(1, 0, 1) == [0, 0, 0]
    assert window_indices(9, 4, 0) == [4]
    with pytest.raises(ValueError):
        window_indices(3, 3, 1)


def test_dataset_boundary_replication_and_labelled_items():
    # frame k is a flat image of grey level 20 k; frame 2 is unlabelled
    frames = [Frame(k, f"f{k}", k != 2, []) for k in range(4)]
    seq = Sequence("000001_bonn_test", frames)

    def load(frame: Frame) -> np.ndarray:
        return np.full((30, 40, 3), 20 * frame.index, np.uint8)

    ds = SequenceWindows([seq], T=2, input_size=(24, 32), augment=None, image_loader=load)
    assert len(ds) == 3  # labelled frames 0, 1, 3
    levels = [[round(float(_brightness(img)[0, 0])) for img in ds[i].images] for i in range(3)]
    assert levels == [[0, 0, 0, 20, 40], [0, 0, 20, 40, 60], [20, 40, 60, 60, 60]]
    with pytest.raises(IndexError):
        ds[3]


def test_composite_edits_the_window_before_the_transform():
    """The hook sees every frame of the window and the centre persons once, before the one
    transform of the window; its edits reach every frame and the targets."""
    seq = Sequence("clip", [Frame(k, "", True, [_person(np.full((15, 2), 10.0 + k))])
                            for k in range(3)])  # fmt: skip
    calls = []

    def add_square(frames, persons, rng):
        calls.append((len(frames), [p.keypoints[0, 0] for p in persons]))
        out = [f.copy() for f in frames]
        for f in out:
            f[20:30, 20:30] = 255
        return out, [*persons, _person(np.full((15, 2), 25.0), track_id=9)]

    black = np.zeros((40, 40, 3), np.uint8)
    ds = SequenceWindows([seq], 1, 40, AugmentConfig(flip=0.0, **GEOMETRY_ONLY), seed=3,
                         image_loader=lambda f: black, composite=add_square)  # fmt: skip
    s = ds[1]
    assert calls == [(3, [11.0])]  # 3 frames, the centre frame's person
    assert s.track_ids.tolist() == [0, 9]
    for f in range(3):  # one transform: the square lands on the same pixels in every frame
        np.testing.assert_array_equal(s.images[f], s.images[1])
    bright = _brightness(s.images[1]) > 128
    x, y = np.round(s.keypoints[1, 0] * 40 - 0.5).astype(int)
    assert bright.any() and bright[y, x]  # the added person's joint follows the warp
    again = ds[1]  # the same draws: the hook and the transform share the window's rng
    np.testing.assert_array_equal(again.images, s.images)


def test_letterbox_is_the_runtime_convention():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, size=(90, 160, 3), dtype=np.uint8)
    chw, scale = letterbox(image, (64, 96))
    assert scale == pytest.approx(0.6)  # min(96 / 160, 64 / 90)
    # reference: resize to round(W s) x round(H s), RGB, (v - mean) / std, top-left, pad 0
    ref = np.zeros((3, 64, 96), np.float32)
    resized = cv2.resize(image, (96, 54), interpolation=cv2.INTER_LINEAR)[..., ::-1]
    ref[:, :54, :] = ((resized - IMAGENET_MEAN) / IMAGENET_STD).transpose(2, 0, 1)
    np.testing.assert_allclose(chw, ref, atol=1.01 / 57.12)  # within one grey level
    assert (chw[:, 54:] == 0).all()
    sample = make_window([image], [_person(np.array([[100.0, 50.0]] * 15))], (64, 96))
    np.testing.assert_array_equal(sample.images[0], chw)
    # original px = (x_norm * in_w - pad) / scale, pad = 0
    np.testing.assert_allclose(sample.keypoints[0, 0] * (96, 64) / scale, [100, 50], rtol=1e-5)


def _marker_frames(num: int, seed: int) -> list[np.ndarray]:
    """Different dark noise per frame, the same white square at (60..70, 40..50)."""
    rng = np.random.default_rng(seed)
    frames = []
    for _ in range(num):
        f = rng.integers(0, 40, size=(120, 160, 3), dtype=np.uint8)
        f[40:50, 60:70] = 255
        frames.append(f)
    return frames


def _centroid(chw: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(_brightness(chw) > 150)
    return np.array([xs.mean() + 0.5, ys.mean() + 0.5])


@pytest.mark.parametrize("seed", range(6))
def test_same_transform_for_every_frame(seed):
    cfg = AugmentConfig(rotate_prob=1.0, scale=0.2, translate=0.1, flip=0.5, **GEOMETRY_ONLY)
    sample = make_window(_marker_frames(5, seed), [], (96, 128), cfg, np.random.default_rng(seed))
    cents = np.array([_centroid(img) for img in sample.images])
    assert np.abs(cents - cents[0]).max() < 0.35  # the marker moved identically in all frames
    expected = sample.matrix[:, :2] @ (65.0, 45.0) + sample.matrix[:, 2]  # its centre, warped
    np.testing.assert_allclose(cents[0], expected, atol=0.6)


def test_photometric_is_shared_and_effective():
    frame = np.random.default_rng(3).integers(0, 256, size=(60, 80, 3), dtype=np.uint8)
    cfg = AugmentConfig(photometric_prob=1.0, flip=0.0, rotate_prob=0.0, scale=0.0, translate=0.0)
    sample = make_window([frame] * 3, [], 64, cfg, np.random.default_rng(0))
    np.testing.assert_array_equal(sample.images[0], sample.images[1])
    np.testing.assert_array_equal(sample.images[1], sample.images[2])
    plain = make_window([frame] * 3, [], 64, AugmentConfig(flip=0.0, rotate_prob=0.0, scale=0.0,
                        translate=0.0, photometric=False), np.random.default_rng(0))  # fmt: skip
    visible = slice(None), slice(0, 48), slice(None)  # not the padding
    assert np.abs(sample.images[0][visible] - plain.images[0][visible]).mean() > 0.05
    assert (sample.images[0][:, 49:] == 0).all()  # padding stays 0


def test_flip_swaps_left_and_right_joints():
    image = np.zeros((100, 200, 3), np.uint8)
    image[:, :100] = 200  # left half bright
    xy = np.tile([[50.0, 50.0]], (15, 1))
    xy[J("left_shoulder")] = (30, 40)
    xy[J("right_shoulder")] = (170, 40)
    cfg = AugmentConfig(flip=1.0, rotate_prob=0.0, scale=0.0, translate=0.0, **GEOMETRY_ONLY)
    s = make_window([image], [_person(xy)], (100, 200), cfg, np.random.default_rng(0))
    assert s.flipped
    # the old right shoulder (x=170) is mirrored to x=30 and is now the left shoulder
    px = s.keypoints[0] * (200, 100)
    np.testing.assert_allclose(px[J("left_shoulder")], [30, 40], atol=1e-4)
    np.testing.assert_allclose(px[J("right_shoulder")], [170, 40], atol=1e-4)
    grey = _brightness(s.images[0])
    assert grey[:, 110:].mean() > 150 and grey[:, :90].mean() < 50  # the image is mirrored too


@pytest.mark.parametrize("seed", range(8))
def test_keypoints_follow_the_warp(seed):
    rng = np.random.default_rng(100 + seed)
    h, w = 240, 320
    xy = np.c_[rng.uniform(20, w - 20, 15), rng.uniform(20, h - 20, 15)]
    image = np.zeros((h, w, 3), np.uint8)
    for x, y in xy:
        cv2.circle(image, (int(x), int(y)), 4, (255, 255, 255), -1)
    cfg = AugmentConfig(rotate_prob=1.0, flip=0.5, **GEOMETRY_ONLY)
    s = make_window([image], [_person(xy + 0.5)], (160, 192), cfg, rng)  # dot centres, px edges
    grey = _brightness(s.images[0])
    assert s.visibility.sum() >= 5
    for x, y in s.keypoints[0][s.visibility[0]] * (192, 160):
        patch = grey[max(int(y) - 1, 0) : int(y) + 2, max(int(x) - 1, 0) : int(x) + 2]
        assert patch.max() > 150, (x, y)  # a rendered dot lies under the transformed keypoint


def test_joints_leaving_the_image_become_invisible_and_empty_persons_drop():
    image = np.zeros((100, 100, 3), np.uint8)
    inside = np.full((15, 2), 50.0)
    inside[0] = (150, 50)  # outside the source image
    outside = np.full((15, 2), 150.0)
    unlabelled = Person(7, np.zeros((15, 3), np.float32))
    persons = [_person(inside, 1), _person(outside, 2), unlabelled]
    s = make_window([image], persons, 64, None)
    assert s.track_ids.tolist() == [1]
    assert not s.visibility[0, 0] and s.visibility[0, 1:].all()
    assert (s.keypoints[0, 0] == 0).all()
    cfg = AugmentConfig(flip=0.0, rotate_prob=0.0, scale=0.0, translate=0.0, **GEOMETRY_ONLY)
    xy = np.full((15, 2), 50.0)
    xy[0] = (99, 99)
    s = make_window([image], [_person(xy)], (64, 64), cfg, np.random.default_rng(0))
    assert s.visibility.all()  # no change: still inside
    z = AugmentConfig(flip=0.0, rotate_prob=0.0, scale=0.2, translate=0.0, **GEOMETRY_ONLY)
    for seed in range(20):  # zooming in pushes the corner joint out of the input
        rng = np.random.default_rng(seed)
        s = make_window([image], [_person(xy)], (64, 64), z, rng)
        zoom = s.matrix[0, 0] / 0.64
        assert s.visibility[0, 0] == (zoom <= 64 / 99 / 0.64 * 0.999999)


def test_targets_shapes_and_areas():
    xy = np.c_[np.linspace(10, 50, 15), np.linspace(20, 100, 15)]
    s = make_window([np.zeros((200, 100, 3), np.uint8)], [_person(xy, 4)], (100, 50), None)
    assert s.images.shape == (1, 3, 100, 50) and s.images.dtype == np.float32
    assert s.keypoints.shape == (1, 15, 2) and s.keypoints.dtype == np.float32
    assert s.visibility.dtype == bool and s.track_ids.dtype == np.int64
    # scale 0.5: box 20 x 40 input px -> 0.4 x 0.4 normalised, area 0.53 * 0.16
    assert s.areas[0] == pytest.approx(0.53 * 0.4 * 0.4, rel=1e-5)
    one = np.zeros((15, 3), np.float32)
    one[0] = (10, 10, 1)
    s = make_window([np.zeros((20, 20, 3), np.uint8)], [Person(0, one)], 32, None)
    assert s.areas[0] == pytest.approx(MIN_AREA)


def test_augmentation_is_reproducible_per_epoch():
    seq = Sequence("000001_bonn_test", [Frame(k, "", True, [_person(np.full((15, 2), 40.0))])
                                        for k in range(3)])  # fmt: skip
    frame = np.random.default_rng(0).integers(0, 256, size=(80, 80, 3), dtype=np.uint8)
    ds = SequenceWindows([seq], 1, 64, AugmentConfig(), seed=5, image_loader=lambda f: frame)
    a, b = ds[1], ds[1]
    np.testing.assert_array_equal(a.images, b.images)
    ds.set_epoch(1)
    assert not np.array_equal(ds[1].images, a.images)


@pytest.mark.parametrize("seed", range(6))
def test_person_zoom_centres_and_scales_one_person(seed):
    rng = np.random.default_rng(seed)
    h, w = 240, 320
    small = np.c_[np.linspace(40, 60, 15), np.linspace(30, 70, 15)]  # 20 x 40 px person
    other = np.c_[np.linspace(250, 262, 15), np.linspace(150, 180, 15)]
    image = np.zeros((h, w, 3), np.uint8)
    for x, y in np.r_[small, other]:
        cv2.circle(image, (int(x), int(y)), 2, (255, 255, 255), -1)
    cfg = AugmentConfig(zoom=1.0, zoom_height=(0.5, 0.9), zoom_max_upscale=10.0, rotate_prob=0.0,
                        translate=0.0, flip=0.5, **GEOMETRY_ONLY)  # fmt: skip
    persons = [_person(small + 0.5, 1), _person(other + 0.5, 2)]
    s = make_window([image], persons, (128, 160), cfg, rng)
    px = s.keypoints[0] * (160, 128)
    box = np.r_[px.min(axis=0), px.max(axis=0)]
    fraction = max((box[2] - box[0]) / 160, (box[3] - box[1]) / 128)
    assert 0.5 - 1e-6 <= fraction <= 0.9 + 1e-6  # the larger side, relative to the input's
    np.testing.assert_allclose((box[:2] + box[2:]) / 2, (80, 64), atol=1e-6)  # at the centre
    assert s.visibility.all() and s.track_ids.tolist() in ([1], [2])  # the other one left
    if s.track_ids[0] == 1:
        grey = _brightness(s.images[0])
        for x, y in px:  # the rendered dots moved with the joints
            assert grey[int(y) - 1 : int(y) + 2, int(x) - 1 : int(x) + 2].max() > 150
    # the cap: a 2 px person is enlarged at most zoom_max_upscale times
    tiny = np.c_[np.linspace(100, 101, 15), np.linspace(100, 102, 15)]
    capped = AugmentConfig(zoom=1.0, zoom_max_upscale=3.0, rotate_prob=0.0, translate=0.0)
    s = make_window([image], [_person(tiny)], (128, 160), capped, rng)
    np.testing.assert_allclose(np.abs(s.matrix[:, :2]).max(), 3.0)
    # without labelled people, or with zoom 0, the letterbox path draws as before
    plain = AugmentConfig(zoom=0.0)
    for people in ([], persons):
        a = make_window([image], people, 96, plain, np.random.default_rng(7))
        b = make_window([image], [], 96, AugmentConfig(zoom=1.0), np.random.default_rng(7))
        np.testing.assert_array_equal(a.matrix, b.matrix)
    with pytest.raises(ValueError, match="zoom_height"):
        AugmentConfig(zoom_height=(0.9, 0.5))


@pytest.mark.parametrize("seed", range(6))
def test_background_crop_shows_no_labelled_person(seed):
    h, w = 240, 320
    image = np.zeros((h, w, 3), np.uint8)
    image[:, 160:] = 200  # the right half is bright: a crop there has no dark pixels
    left = np.c_[np.linspace(5, 150, 15), np.linspace(30, 220, 15)]  # the dark half: a person
    cfg = AugmentConfig(background=1.0, background_height=(0.3, 0.5), background_margin=0.1,
                        rotate_prob=0.0, flip=0.5, **GEOMETRY_ONLY)  # fmt: skip
    s = make_window([image], [_person(left, 1)], (96, 128), cfg, np.random.default_rng(seed))
    assert len(s.track_ids) == 0  # the person stayed out of the input
    scale = s.matrix[1, 1]
    assert 96 / (0.5 * h) - 1e-9 <= scale <= 96 / (0.3 * h) + 1e-9
    assert _brightness(s.images[0]).min() > 150  # filled with the clear (bright) region only
    # a frame with no room left for a crop falls back to the plain transform
    wide = _person(np.c_[np.linspace(0, 319, 15), np.linspace(0, 239, 15)], 2)
    s = make_window([image], [wide], (96, 128), cfg, np.random.default_rng(seed))
    assert s.track_ids.tolist() == [2]
    # probability 0 draws exactly as before the option existed
    a = make_window([image], [wide], 96, AugmentConfig(), np.random.default_rng(seed))
    b = make_window([image], [wide], 96, AugmentConfig(background=0.0), np.random.default_rng(seed))
    np.testing.assert_array_equal(a.matrix, b.matrix)
    with pytest.raises(ValueError, match="background_height"):
        AugmentConfig(background_height=(0.5, 1.5))
    with pytest.raises(ValueError, match="background must be"):
        AugmentConfig(background=2.0)


def test_collate_and_config_validation():
    img = np.zeros((40, 40, 3), np.uint8)
    samples = [make_window([img] * 3, [_person(np.full((15, 2), 10.0))] * n, 32, None)
               for n in (0, 2)]  # fmt: skip
    images, targets = collate_windows(samples)
    assert images.shape == (2, 3, 3, 32, 32)
    assert [t["keypoints"].shape for t in targets] == [(0, 15, 2), (2, 15, 2)]
    assert set(targets[0]) == {"keypoints", "visibility", "areas", "track_ids"}
    trainer_style = {"flip": 0.5, "rotate": 30.0, "scale": 0.25, "translate": 0.1,
                     "photometric": True}  # fmt: skip
    assert AugmentConfig.coerce(trainer_style) == AugmentConfig(**trainer_style)
    with pytest.raises(ValueError, match="unknown"):
        AugmentConfig.coerce({"mosaic": 1})
    with pytest.raises(ValueError, match="flip"):
        AugmentConfig(flip=1.5)
    with pytest.raises(ValueError, match="scale"):
        AugmentConfig(scale=1.0)
    with pytest.raises(ValueError, match="2T"):
        make_window([img] * 2, [], 32)
    with pytest.raises(ValueError, match="one size"):
        make_window([img, np.zeros((41, 40, 3), np.uint8), img], [], 32)
    with pytest.raises(TypeError, match="uint8"):
        make_window([img.astype(np.float32)], [], 32)
    with pytest.raises(ValueError, match="rng"):
        make_window([img], [], 32, AugmentConfig())
    with pytest.raises(ValueError):
        collate_windows([])
    m, flipped = sample_affine(np.random.default_rng(0), AugmentConfig(), 40, 40, 32)
    assert m.shape == (2, 3) and isinstance(flipped, bool)


@pytest.mark.skipif(not _shared().is_dir(), reason="shared PoseTrack sample not found")
def test_real_posetrack_windows():
    from pavenet_sdk.data.posetrack import load_posetrack

    seqs = load_posetrack(_shared() / "annotations" / "val")
    ds = SequenceWindows(seqs, T=1, input_size=(192, 256), augment=None)
    s = ds[2]  # 012834: 11 people in a 1920x1080 frame
    assert s.images.shape == (3, 3, 192, 256)
    np.testing.assert_array_equal(s.images[0], s.images[2])  # single-frame clip: replicated
    kps = np.stack([p.keypoints for p in seqs[2].frames[0].persons])
    inside = (kps[..., 0] >= 0) & (kps[..., 1] >= 0) & (kps[..., 0] <= 1920) & (kps[..., 1] <= 1080)
    assert int((kps[..., 2] > 0).sum()) == 142  # one annotated joint lies above the frame (y < 0)
    np.testing.assert_array_equal(s.visibility, (kps[..., 2] > 0) & inside)
    assert len(s.track_ids) == 11
    assert (s.keypoints >= 0).all() and (s.keypoints[..., 1] <= 144 / 192).all()
    aug = SequenceWindows(seqs, T=1, input_size=(192, 256), augment=AugmentConfig(), seed=0)
    assert aug[2].images.shape == (3, 3, 192, 256)


@pytest.mark.parametrize("layout", ["posetrack-15", "coco-17"])
def test_synthetic_clip_window(layout):
    from pavenet_sdk.data.synth import generate_clip

    clip = generate_clip("easy", seed=11, num_frames=3, layout=layout)
    persons = clip.sequence.frames[1].persons
    s = make_window(clip.frames, persons, (96, 128), AugmentConfig(), np.random.default_rng(0),
                    layout)  # fmt: skip
    assert s.images.shape == (3, 3, 96, 128)
    assert s.keypoints.shape[0] == len(s.track_ids) <= len(persons)
    assert s.keypoints.shape[1] == len(persons[0].keypoints)
    assert ((s.keypoints >= 0) & (s.keypoints <= 1)).all()


def test_flip_uses_the_layout_flip_pairs():
    image = np.zeros((100, 200, 3), np.uint8)
    rng = np.random.default_rng(0)
    xy = np.c_[rng.uniform(10, 190, 17), rng.uniform(10, 90, 17)]
    cfg = AugmentConfig(flip=1.0, rotate_prob=0.0, scale=0.0, translate=0.0, **GEOMETRY_ONLY)
    s = make_window([image], [_person(xy)], (100, 200), cfg, np.random.default_rng(0), COCO_17)
    assert s.flipped and s.keypoints.shape == (1, 17, 2)
    px = s.keypoints[0] * (200, 100)
    mirrored = np.c_[200 - xy[:, 0], xy[:, 1]]
    for name in COCO_17.joints:  # each joint is the mirror of its partner (or of itself)
        partner = name.replace("left_", "@").replace("right_", "left_").replace("@", "right_")
        np.testing.assert_allclose(px[COCO_17.joints.index(name)],
                                   mirrored[COCO_17.joints.index(partner)], atol=1e-4)  # fmt: skip
    with pytest.raises(ValueError, match=r"\(17, 3\) for layout 'coco-17'"):
        make_window([image], [_person(xy[:15])], (100, 200), None, layout="coco-17")
    with pytest.raises(ValueError, match="unknown joint layout"):
        make_window([image], [], (100, 200), None, layout="mpii")


def test_letterbox_targets_scale_each_axis_by_its_rounded_size():
    # 3x7 -> (8, 8): scale 8/7, resized 8 x round(3.43) = 8 x 3: y scale 1 != x scale 8/7
    image = np.zeros((3, 7, 3), np.uint8)
    xy = np.tile([[7.0, 3.0]], (15, 1))  # the bottom-right corner of the image
    xy[1] = (3.5, 1.5)  # the centre
    s = make_window([image], [_person(xy)], (8, 8), None)
    chw, _ = letterbox(image, (8, 8))
    assert (chw[:, 3:] == 0).all() and not (chw[:, :3] == 0).all()  # 3 rows of image
    np.testing.assert_allclose(s.matrix[:, :2], [[8 / 7, 0], [0, 1.0]])
    assert not s.visibility[0, 0]  # x = 8 is outside [0, 8)
    np.testing.assert_allclose(s.keypoints[0, 1] * 8, [4.0, 1.5], atol=1e-5)
