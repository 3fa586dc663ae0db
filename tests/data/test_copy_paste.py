"""Copy-paste composites: cutouts follow their masks, keypoints move with the pixels."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from pavenet_sdk.data.copy_paste import Cutout, PasteConfig, cutouts_from_masks, paste_people
from pavenet_sdk.data.types import Frame, Person, Sequence
from pavenet_sdk.layouts import COCO_17


def _figure(h: int = 60, w: int = 24) -> Cutout:
    """A solid white rectangle 'person' whose joints sit on marked pixels."""
    image = np.full((h, w, 3), 255, np.uint8)
    mask = np.ones((h, w), np.float32)
    kps = np.zeros((17, 3), np.float32)
    kps[:, 0] = np.linspace(2, w - 3, 17)
    kps[:, 1] = np.linspace(2, h - 3, 17)
    kps[:, 2] = 2
    return Cutout(image, mask, kps)


def test_pasted_keypoints_land_on_pasted_pixels():
    frames = [np.zeros((120, 160, 3), np.uint8) for _ in range(3)]
    rng = np.random.default_rng(0)
    cfg = PasteConfig(count=(2, 2), height=(0.3, 0.6), feather=0)
    out_frames, persons = paste_people(frames, [], [_figure()], COCO_17, rng, cfg)
    assert len(persons) == 2 and all(f.sum() == 0 for f in frames)  # inputs untouched
    centre = out_frames[1]
    for p in persons:
        vis = p.keypoints[:, 2] > 0
        x = np.round(p.keypoints[vis, 0]).astype(int)
        y = np.round(p.keypoints[vis, 1]).astype(int)
        inside = (x >= 0) & (x < 160) & (y >= 0) & (y < 120)
        assert inside.any()
        assert (centre[y[inside], x[inside]] == 255).all()


def test_flip_swaps_left_and_right():
    cut = _figure()
    rng = np.random.default_rng(3)
    flips = 0
    for _ in range(20):
        _, (p,) = paste_people(
            [np.zeros((100, 100, 3), np.uint8)],
            [],
            [cut],
            COCO_17,
            rng,
            PasteConfig(count=(1, 1), height=(0.5, 0.5), feather=0),
        )
        # unflipped: joint x grows with index; a mirror reverses x and swaps left/right, so
        # the nose moves to the other side of the shoulders while left stays left of right
        k = p.keypoints
        assert k[5, 0] < k[6, 0] and k[15, 0] < k[16, 0]
        flips += bool(k[0, 0] > k[5, 0])
    assert 0 < flips < 20


def test_occluded_joints_lose_visibility():
    frame = np.zeros((100, 100, 3), np.uint8)
    kps = np.zeros((17, 3), np.float32)
    kps[:, :2] = 50
    kps[:, 2] = 2
    big = Cutout(
        np.full((100, 100, 3), 200, np.uint8),
        np.ones((100, 100), np.float32),
        np.zeros((17, 3), np.float32),
    )
    cfg = PasteConfig(count=(1, 1), height=(3.0, 3.0), max_drift=0.0, feather=0)
    _, persons = paste_people(
        [frame], [Person(1, kps)], [big], COCO_17, np.random.default_rng(0), cfg
    )
    assert persons[0].keypoints[:, 2].sum() == 0  # the frame is covered entirely


def test_cutouts_from_masks(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    image = np.zeros((80, 80, 3), np.uint8)
    image[10:70, 20:40] = 255
    masks = np.zeros((80, 80), np.uint8)
    masks[10:70, 20:40] = 1
    masks[10:70, 50:60] = 2  # an instance nobody labelled
    cv2.imwrite(str(tmp_path / "images" / "a.jpg"), image)
    cv2.imwrite(str(tmp_path / "masks" / "a_mask.png"), masks)
    kps = np.zeros((17, 3), np.float32)
    kps[:, 0], kps[:, 1], kps[:, 2] = 30, np.linspace(12, 68, 17), 2
    seq = Sequence("pf", [Frame(0, str(tmp_path / "images" / "a.jpg"), True, [Person(1, kps)])])
    (cut,) = cutouts_from_masks([seq])
    assert cut.image.shape == (60, 20, 3) and cut.mask.min() == 1.0
    np.testing.assert_allclose(cut.keypoints[:, 0], 10)
    np.testing.assert_allclose(cut.keypoints[:, 1], np.linspace(2, 58, 17))


def test_bad_config():
    with pytest.raises(ValueError):
        PasteConfig(count=(3, 1))
