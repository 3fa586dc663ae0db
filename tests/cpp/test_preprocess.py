"""letterbox: equal to a numpy reference and to OpenCV's bilinear resize, any strides."""

from __future__ import annotations

import numpy as np
import pytest

from pavenet_sdk import native
from shared_data import SHARED

cv2 = pytest.importorskip("cv2")

MEAN = np.array(native.IMAGENET_MEAN, dtype=np.float64)
STD = np.array(native.IMAGENET_STD, dtype=np.float64)


def taps(src: int, dst: int):
    """Half-pixel bilinear taps clamped at the edges (cv2.resize INTER_LINEAR)."""
    pos = (np.arange(dst) + 0.5) * (src / dst) - 0.5
    i0 = np.floor(pos).astype(np.int64)
    w = pos - i0
    w[i0 < 0] = 0.0
    i0 = np.maximum(i0, 0)
    w[i0 >= src - 1] = 0.0
    i0 = np.minimum(i0, src - 1)
    return i0, np.minimum(i0 + 1, src - 1), w


def reference(image: np.ndarray, out_h: int, out_w: int, bgr_to_rgb: bool = True):
    """numpy letterbox: (3, out_h, out_w) float64 and the scale."""
    h, w = image.shape[:2]
    scale = min(out_w / w, out_h / h)
    nw = min(max(round(w * scale), 1), out_w)
    nh = min(max(round(h * scale), 1), out_h)
    img = image[..., ::-1] if bgr_to_rgb else image
    img = img.astype(np.float64)
    x0, x1, wx = taps(w, nw)
    y0, y1, wy = taps(h, nh)
    rows = img[y0] * (1 - wy)[:, None, None] + img[y1] * wy[:, None, None]
    resized = rows[:, x0] * (1 - wx)[None, :, None] + rows[:, x1] * wx[None, :, None]
    out = np.zeros((3, out_h, out_w))
    out[:, :nh, :nw] = ((resized - MEAN) / STD).transpose(2, 0, 1)
    return out, scale, (nw, nh)


@pytest.mark.parametrize(
    "size,out",
    [
        ((48, 64), (32, 32)),
        ((37, 53), (64, 80)),
        ((100, 30), (40, 60)),
        ((1, 1), (5, 7)),
        ((64, 64), (64, 64)),
        ((30, 90), (45, 45)),
    ],
)
def test_matches_numpy_reference_and_opencv(size, out) -> None:
    rng = np.random.default_rng(sum(size))
    image = rng.integers(0, 256, (*size, 3), dtype=np.uint8)
    chw, lb = native.letterbox(image, *out)
    want, scale, (nw, nh) = reference(image, *out)
    assert chw.shape == (3, *out) and chw.dtype == np.float32
    np.testing.assert_allclose(chw, want, atol=1e-4)
    assert (lb.scale, lb.pad_x, lb.pad_y) == (pytest.approx(scale), 0.0, 0.0)
    assert (lb.in_w, lb.in_h, lb.orig_w, lb.orig_h) == (out[1], out[0], size[1], size[0])
    # OpenCV on float input uses the same float maths; on uint8 it rounds (fixed point)
    rgb = np.ascontiguousarray(image[..., ::-1])
    ours = chw[:, :nh, :nw].transpose(1, 2, 0) * STD + MEAN  # back to 0-255
    cv_float = cv2.resize(rgb.astype(np.float32), (nw, nh), interpolation=cv2.INTER_LINEAR)
    np.testing.assert_allclose(ours, cv_float.reshape(ours.shape), atol=2e-3)
    cv_u8 = cv2.resize(rgb, (nw, nh), interpolation=cv2.INTER_LINEAR)
    assert np.abs(ours - cv_u8.reshape(ours.shape)).max() <= 1.0


def test_padding_is_zero_after_normalisation() -> None:
    image = np.full((10, 40, 3), 255, np.uint8)
    chw, lb = native.letterbox(image, 40, 40)
    assert lb.scale == 1.0
    np.testing.assert_array_equal(chw[:, 10:], 0.0)
    want = np.broadcast_to(((255 - MEAN) / STD)[:, None, None], (3, 10, 40))
    np.testing.assert_allclose(chw[:, :10], want, rtol=1e-6)


@pytest.mark.parametrize(
    "view",
    [
        lambda a: a[::-1, ::2],  # negative and doubled strides
        lambda a: np.asfortranarray(a),
        lambda a: np.concatenate([a, a[..., :1]], axis=2)[..., :3],  # 4-channel buffer
        lambda a: a.transpose(1, 0, 2).copy().transpose(1, 0, 2),  # column-major rows
    ],
)
def test_any_strides(view) -> None:
    image = np.random.default_rng(0).integers(0, 256, (30, 40, 3), dtype=np.uint8)
    v = view(image)
    chw, _ = native.letterbox(v, 24, 24)
    np.testing.assert_array_equal(chw, native.letterbox(np.ascontiguousarray(v), 24, 24)[0])


def test_rgb_input_and_custom_normalisation() -> None:
    image = np.random.default_rng(1).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    chw, _ = native.letterbox(image, 16, 16, bgr_to_rgb=False, mean=(0, 0, 0), std=(1, 1, 1))
    np.testing.assert_allclose(chw, image.transpose(2, 0, 1).astype(np.float32))


@pytest.mark.skipif(not (SHARED / "data/posetrack18-mini").is_dir(), reason="no shared data")
def test_real_frame() -> None:
    path = next((SHARED / "data/posetrack18-mini/videos").rglob("*.jpg"))
    image = cv2.imread(str(path))
    chw, lb = native.letterbox(image, 192, 192)
    want, _, _ = reference(image, 192, 192)
    np.testing.assert_allclose(chw, want, atol=1e-4)
    assert (lb.orig_w, lb.orig_h) == (image.shape[1], image.shape[0])
