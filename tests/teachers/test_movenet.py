"""MoveNet adapters: input sizes, mapping back to original pixels, colour order, top-down
crops, and the real teachers on a real labelled image (skipped without them)."""

from __future__ import annotations

import numpy as np
import pytest
from movenet_graphs import (
    MP_BOX,
    MP_JOINT_CONF,
    MP_JOINT_X,
    MP_JOINT_Y,
    REAL_GT,
    TH_JOINT_X,
    TH_JOINT_Y,
)

from pavenet_sdk.layouts import COCO_17, LIMB_JOINTS
from pavenet_sdk.teachers.movenet import MoveNetMultiPose, MoveNetThunder
from pavenet_sdk.teachers.registry import MOVENET_FILES, load_teacher

RED = (0, 0, 255)  # BGR


def _image(width: int, height: int, colour=(0, 0, 0)) -> np.ndarray:
    image = np.zeros((height, width, 3), np.uint8)
    image[:] = colour
    return image


@pytest.fixture(scope="module")
def multipose(synthetic_teachers):
    return MoveNetMultiPose(synthetic_teachers / MOVENET_FILES["multipose"])


@pytest.fixture(scope="module")
def thunder(synthetic_teachers, multipose):
    return MoveNetThunder(synthetic_teachers / MOVENET_FILES["thunder"], multipose)


@pytest.mark.parametrize(
    ("size", "hw", "expected"),
    [
        (256, (300, 500), (154, 256, 160, 256)),
        (256, (640, 481), (256, 192, 256, 192)),
        (256, (1080, 1920), (144, 256, 160, 256)),
        (320, (100, 100), (320, 320, 320, 320)),
        (256, (2000, 10), (256, 1, 256, 32)),
    ],
)
def test_multipose_input_is_long_side_size_padded_to_32(synthetic_teachers, size, hw, expected):
    teacher = MoveNetMultiPose(synthetic_teachers / MOVENET_FILES["multipose"], size=size)
    assert teacher.input_shape(*hw) == expected
    teacher(_image(hw[1], hw[0]))  # the graph accepts that input


def test_multipose_maps_outputs_to_original_pixels(multipose):
    persons = multipose(_image(500, 300, RED))
    assert len(persons) == 6 and [p.score for p in persons] == sorted(
        (p.score for p in persons), reverse=True
    )
    first = persons[0]
    assert first.score == pytest.approx(1.0)  # red max 255 -> RGB order reached the graph
    # input 256 x 154 resized, padded to 256 x 160: x spans 256/256 of 500 px, y 160/154 of 300
    to_x, to_y = 500.0, 160 * 300 / 154
    np.testing.assert_allclose(first.keypoints[:, 0], MP_JOINT_X * to_x, rtol=1e-5)
    np.testing.assert_allclose(first.keypoints[:, 1], MP_JOINT_Y * to_y, rtol=1e-5)
    np.testing.assert_allclose(first.keypoints[:, 2], 1.0)
    np.testing.assert_allclose(first.scores, MP_JOINT_CONF, atol=1e-6)
    ymin, xmin, ymax, xmax = MP_BOX
    np.testing.assert_allclose(first.box, (xmin * to_x, ymin * to_y, xmax * to_x, ymax * to_y),
                               rtol=1e-5)  # fmt: skip
    assert persons[1].score == pytest.approx(0.6)
    np.testing.assert_allclose(persons[1].keypoints[:, 0], (MP_JOINT_X + 0.05) * to_x, rtol=1e-5)


def test_multipose_sees_rgb_not_bgr(multipose):
    blue = multipose(_image(320, 240, (255, 0, 0)))
    assert blue[0].score == pytest.approx(0.6)  # candidate 0 scored red = 0: now last but 0.01s
    assert min(p.score for p in blue) == pytest.approx(0.0)


def test_thunder_crops_the_enlarged_square_box_and_maps_back(thunder):
    # 400 x 300 -> MultiPose input 256 x 192 exactly: the box is (100, 45)-(200, 225) px
    assert thunder.crop_window((100.0, 45.0, 200.0, 225.0)) == (38, 22, 225)
    image = _image(400, 300)
    image[45:225, 100:200] = RED  # red exactly inside the person box
    persons = thunder(image)
    assert len(persons) == 2  # candidates 0 (red max -> 1.0) and 1 (0.6); the 0.01s skipped
    for p in persons:
        x0, y0, side = thunder.crop_window(p.box)  # (38, 22 or 23: 22.5 in float32, 225)
        assert abs(x0 - 38) + abs(y0 - 22.5) <= 1 and side == 225
        np.testing.assert_allclose(p.keypoints[:, 0], x0 + TH_JOINT_X * side, rtol=1e-5)
        np.testing.assert_allclose(p.keypoints[:, 1], y0 + TH_JOINT_Y * side, rtol=1e-5)
        # Thunder's confidence = mean red of its crop: the box covers 100 x 180 of 225 x 225
        np.testing.assert_allclose(p.scores, 100 * 180 / 225**2, atol=0.01)
        np.testing.assert_allclose(p.box, (100, 45, 200, 225), atol=1e-3)
    assert [p.score for p in persons] == pytest.approx([1.0, 0.6])  # the detector's scores


def test_thunder_crop_beyond_the_image_is_zero_padded(thunder):
    x0, y0, side = thunder.crop_window((-20.0, -10.0, 60.0, 70.0))
    assert (x0, y0, side) == (-30, -20, 100)
    image = _image(200, 100, RED)
    xy, conf = thunder.refine(image, (-20.0, -10.0, 60.0, 70.0))
    np.testing.assert_allclose(xy[:, 0], x0 + TH_JOINT_X * side, rtol=1e-5)
    # red covers x 0..70 and y 0..80 of the 100 x 100 crop starting at (-30, -20)
    np.testing.assert_allclose(conf, 70 * 80 / 100**2, atol=0.02)


def test_thunder_skips_boxes_below_the_threshold(synthetic_teachers, multipose):
    strict = MoveNetThunder(synthetic_teachers / MOVENET_FILES["thunder"], multipose,
                            box_threshold=0.7)  # fmt: skip
    assert [p.score for p in strict(_image(320, 240, RED))] == pytest.approx([1.0])


def test_bad_arguments(synthetic_teachers, multipose):
    with pytest.raises(ValueError, match="multiple of 32"):
        MoveNetMultiPose(synthetic_teachers / MOVENET_FILES["multipose"], size=250)
    with pytest.raises(TypeError, match="uint8"):
        multipose(np.zeros((10, 10, 3), np.float32))
    with pytest.raises(ValueError, match="H, W, 3"):
        multipose(np.zeros((10, 10), np.uint8))


def _limb_oks(gt, predicted: np.ndarray) -> float:
    limb = COCO_17.index(list(LIMB_JOINTS))
    visible = limb[gt.keypoints[limb, 2] > 0]
    d2 = ((gt.keypoints[visible, :2] - predicted[visible, :2]) ** 2).sum(1)
    var = (2 * COCO_17.sigmas_array[visible]) ** 2
    return float(np.exp(-d2 / (2 * var * gt.area)).mean())


@pytest.mark.parametrize("name", ["movenet-multipose", "movenet-thunder"])
def test_real_teacher_finds_the_person_of_a_real_photo(real_teachers, name):
    import cv2

    from pavenet_sdk.data.coco import read_coco_keypoints

    if not REAL_GT.is_file():
        pytest.skip(f"{REAL_GT} not found")
    frame = read_coco_keypoints(REAL_GT)[0].frames[0]  # one adult, large, 13 joints labelled
    assert len(frame.persons) == 1
    teacher = load_teacher(name, teacher_dir=real_teachers)
    persons = teacher(cv2.imread(frame.image_path))
    assert persons[0].score > 0.3 and all(p.score < 0.1 for p in persons[1:])
    assert _limb_oks(frame.persons[0], persons[0].keypoints) > 0.85
