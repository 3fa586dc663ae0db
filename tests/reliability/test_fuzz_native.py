"""Property-based fuzzing of the native pre-processing and deformable-attention op.

Every input either gives a valid result or raises ValueError/TypeError with a message; the
process never crashes, and a bad call leaves no state behind that changes later results.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from pavenet_sdk import native

FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DTYPES = [np.uint8, np.int8, np.uint16, np.int32, np.float32, np.float64, np.bool_]
MEAN, STD = np.array(native.IMAGENET_MEAN), np.array(native.IMAGENET_STD)


# ---------------------------------------------------------------- letterbox


@st.composite
def image_views(draw):
    """An array of any small shape/dtype, seen through slices, flips, transposes or F-order."""
    ndim = draw(st.sampled_from([0, 1, 2, 3, 3, 3, 3, 4]))
    dims = [draw(st.integers(0, 40)) for _ in range(ndim)]
    if ndim == 3:
        dims[2] = draw(st.sampled_from([3, 3, 3, 0, 1, 2, 4]))
    shape = tuple(dims)
    dtype = draw(st.sampled_from([np.uint8] * 4 + DTYPES))
    seed = draw(st.integers(0, 2**32 - 1))
    base = np.random.default_rng(seed).integers(0, 256, shape).astype(dtype)
    view = base
    if ndim >= 2:
        step_y = draw(st.sampled_from([1, 1, 2, 3, -1, -2]))
        step_x = draw(st.sampled_from([1, 1, 2, -1, -3]))
        view = view[::step_y, ::step_x]
        if draw(st.booleans()):
            view = view.swapaxes(0, 1)
    if ndim == 3 and draw(st.booleans()):
        view = view[..., ::-1]  # negative channel stride
    if draw(st.booleans()):
        view = np.asfortranarray(view)
    return view


def _valid_image(a) -> bool:
    return (
        isinstance(a, np.ndarray)
        and a.dtype == np.uint8
        and a.ndim == 3
        and a.shape[2] == 3
        and a.shape[0] >= 1
        and a.shape[1] >= 1
    )


@FUZZ
@given(image=image_views(), out_h=st.integers(-2, 70), out_w=st.integers(-2, 70), bgr=st.booleans())
@example(image=np.full((3, 6, 3), 200, np.uint8), out_h=3, out_w=5, bgr=False)  # 2.5 rows
def test_letterbox_any_view_gives_result_or_clear_error(image, out_h, out_w, bgr):
    if not _valid_image(image) or out_h < 1 or out_w < 1:
        with pytest.raises((ValueError, TypeError), match=r"image|output size|dtype|shape"):
            native.letterbox(image, out_h, out_w, bgr_to_rgb=bgr)
        return
    chw, lb = native.letterbox(image, out_h, out_w, bgr_to_rgb=bgr)
    h, w = image.shape[:2]
    assert chw.shape == (3, out_h, out_w) and chw.dtype == np.float32
    assert chw.flags.c_contiguous and np.isfinite(chw).all()
    assert lb.scale == pytest.approx(min(out_w / w, out_h / h))
    assert (lb.orig_w, lb.orig_h, lb.in_w, lb.in_h) == (w, h, out_w, out_h)
    # bilinear output is a convex mix of pixels: within the normalised 0..255 range
    lo, hi = ((0 - MEAN) / STD)[:, None, None], ((255 - MEAN) / STD)[:, None, None]
    assert (chw >= lo - 1e-4).all() and (chw <= hi + 1e-4).all()
    # strides are read correctly: same numbers as the contiguous copy
    same, _ = native.letterbox(np.ascontiguousarray(image), out_h, out_w, bgr_to_rgb=bgr)
    np.testing.assert_array_equal(chw, same)
    # padding (right of / below the resized image) is exactly 0
    # resized size: rounded half away from zero (C llround), not Python's half-to-even
    new_w = min(out_w, max(1, math.floor(w * lb.scale + 0.5)))
    new_h = min(out_h, max(1, math.floor(h * lb.scale + 0.5)))
    assert not chw[:, new_h:, :].any() and not chw[:, :, new_w:].any()


@pytest.mark.parametrize(
    "bad",
    [
        None,
        [[[0, 0, 0]]],
        "image",
        b"\x00\x00\x00",
        3,
        np.uint8(3),
        memoryview(b"abc"),
        np.zeros((4, 4, 3), dtype=[("c", "u1")]),
        np.zeros((4, 4, 3), ">u2"),
        np.zeros((4, 4, 3), np.uint8)[None],
        np.zeros((0, 0, 3), np.uint8),
    ],
    ids=lambda b: type(b).__name__,
)
def test_letterbox_non_images_raise(bad):
    with pytest.raises((ValueError, TypeError), match=r"image"):
        native.letterbox(bad, 16, 16)


@pytest.mark.parametrize(
    ("shape", "out"),
    [
        ((1, 4000, 3), (64, 64)),
        ((4000, 1, 3), (64, 64)),
        ((1, 1, 3), (512, 384)),
        ((3, 5, 3), (1, 1)),
        ((2000, 3, 3), (1, 2048)),
    ],
)
def test_letterbox_extreme_aspect_ratios(shape, out):
    image = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    chw, lb = native.letterbox(image, *out)
    assert chw.shape == (3, *out) and np.isfinite(chw).all()
    assert lb.scale > 0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"mean": (float("nan"), 0.0, 0.0)},
        {"std": (1.0, 0.0, 1.0)},
        {"std": (1.0, float("inf"), 1.0)},
        {"mean": (0.0, 1.0)},
        {"std": "abc"},
    ],
)
def test_letterbox_bad_normalisation_raises(kwargs):
    with pytest.raises((ValueError, TypeError)):
        native.letterbox(np.zeros((4, 4, 3), np.uint8), 8, 8, **kwargs)


def test_letterbox_oversized_output_is_refused_not_crashing():
    image = np.zeros((2, 2, 3), np.uint8)
    with pytest.raises((ValueError, MemoryError)):
        native.letterbox(image, 2**40, 2**40)  # > address space: numpy refuses the buffer
    with pytest.raises(TypeError):
        native.letterbox(image, 2**63, 1)  # does not fit int64


# ---------------------------------------------------------------- deformable attention


@st.composite
def msda_problems(draw):
    """A valid random problem: (value, shapes, starts, locations, weights) numpy arrays."""
    levels = draw(st.lists(st.tuples(st.integers(1, 6), st.integers(1, 6)), min_size=1, max_size=3))
    B, Q, H = draw(st.integers(1, 2)), draw(st.integers(0, 6)), draw(st.integers(1, 3))
    Dh = draw(st.sampled_from([1, 2, 3, 4, 5, 8, 9, 16, 17, 32, 33]))
    P = draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    shapes = np.array(levels, dtype=np.int64)
    areas = shapes[:, 0] * shapes[:, 1]
    starts = np.concatenate([[0], np.cumsum(areas)[:-1]]).astype(np.int64)
    L, S = len(levels), int(areas.sum())
    value = rng.standard_normal((B, S, H, Dh), dtype=np.float32)
    loc = rng.uniform(-0.3, 1.3, (B, Q, H, L, P, 2)).astype(np.float32)
    weights = rng.random((B, Q, H, L, P), dtype=np.float32)
    return value, shapes, starts, loc, weights


def _reference(value, shapes, starts, loc, weights) -> np.ndarray:
    torch = pytest.importorskip("torch")
    from pavenet_sdk.model.msda import ms_deform_attn_reference

    with torch.no_grad():
        out = ms_deform_attn_reference(
            *(
                torch.from_numpy(np.ascontiguousarray(a))
                for a in (value, shapes, starts, loc, weights)
            )
        )
    return out.numpy()


def _assert_matches_reference(problem, isa=None):
    got = native.ms_deform_attn(*problem, isa=isa)
    np.testing.assert_allclose(got, _reference(*problem), atol=2e-5, rtol=1e-5)


@FUZZ
@given(problem=msda_problems(), isa=st.sampled_from([None, *native.build_info()["isas_supported"]]))
def test_msda_valid_inputs_match_grid_sample(problem, isa):
    _assert_matches_reference(problem, isa)


def _corrupt(problem, how: str, rng: np.random.Generator):
    """One inconsistency applied to a valid problem (or None when it does not apply)."""
    value, shapes, starts, loc, weights = (a.copy() for a in problem)
    L = len(shapes)
    if how == "value_dtype":
        value = value.astype(np.float64)
    elif how == "shapes_dtype":
        shapes = shapes.astype(np.int32)
    elif how == "weights_dtype":
        weights = weights.astype(np.float16)
    elif how == "loc_list":
        loc = loc.tolist()
    elif how == "shape_negative":
        shapes[rng.integers(L), rng.integers(2)] *= -1
    elif how == "shape_zero":
        shapes[rng.integers(L), rng.integers(2)] = 0
    elif how == "shape_overflow":
        shapes[rng.integers(L)] = [2**62, 2**62]
    elif how == "shape_grows":
        shapes[rng.integers(L), rng.integers(2)] += 1
    elif how == "start_shift":
        if L < 2:
            return None
        starts[rng.integers(1, L)] += int(rng.choice([-1, 1]))
    elif how == "start_huge":
        starts[-1] = 2**63 - 1
    elif how == "value_short":
        if value.shape[1] < 2:
            return None
        value = value[:, :-1]
    elif how == "value_long":
        value = np.concatenate([value, value[:, :1]], axis=1)
    elif how == "extra_level_in_shapes":
        shapes = np.concatenate([shapes, [[1, 1]]]).astype(np.int64)
        starts = np.append(starts, value.shape[1]).astype(np.int64)
    elif how == "loc_batch":
        loc = np.concatenate([loc, loc])
    elif how == "loc_heads":
        loc = np.concatenate([loc, loc], axis=2)
    elif how == "loc_last_axis":
        loc = loc[..., :1]
    elif how == "weights_points":
        weights = np.concatenate([weights, weights], axis=-1)
    elif how == "weights_queries":
        B, Q, H, L, P = weights.shape
        weights = np.zeros((B, Q + 1, H, L, P), np.float32)
    elif how == "starts_2d":
        starts = starts[None]
    elif how == "value_3d":
        value = value[0]
    else:  # pragma: no cover - the strategy lists every case
        raise AssertionError(how)
    return value, shapes, starts, loc, weights


CORRUPTIONS = [
    "value_dtype",
    "shapes_dtype",
    "weights_dtype",
    "loc_list",
    "shape_negative",
    "shape_zero",
    "shape_overflow",
    "shape_grows",
    "start_shift",
    "start_huge",
    "value_short",
    "value_long",
    "extra_level_in_shapes",
    "loc_batch",
    "loc_heads",
    "loc_last_axis",
    "weights_points",
    "weights_queries",
    "starts_2d",
    "value_3d",
]


@FUZZ
@given(problem=msda_problems(), how=st.sampled_from(CORRUPTIONS), seed=st.integers(0, 99))
def test_msda_inconsistent_inputs_raise_then_op_still_exact(problem, how, seed):
    bad = _corrupt(problem, how, np.random.default_rng(seed))
    assume(bad is not None)
    with pytest.raises((ValueError, TypeError)) as info:
        native.ms_deform_attn(*bad)
    assert str(info.value)  # a message, not a bare exception
    _assert_matches_reference(problem)  # no state corrupted by the failed call


@FUZZ
@given(
    problem=msda_problems(),
    seed=st.integers(0, 2**32 - 1),
    bad=st.sampled_from([np.nan, np.inf, -np.inf, 3e38, -3e38]),
)
def test_msda_non_finite_locations_contribute_zero(problem, seed, bad):
    """Policy: a non-finite or far-away location samples nothing (like a point off the map)."""
    value, shapes, starts, loc, weights = problem
    assume(loc.size > 0)
    rng = np.random.default_rng(seed)
    mask = rng.random(loc.shape[:-1]) < 0.3
    poisoned = loc.copy()
    poisoned[mask, rng.integers(2)] = bad
    off_map = loc.copy()
    off_map[mask] = -10.0  # every corner outside the map: contributes 0 in the reference
    got = native.ms_deform_attn(value, shapes, starts, poisoned, weights)
    assert np.isfinite(got).all()
    np.testing.assert_allclose(
        got, _reference(value, shapes, starts, off_map, weights), atol=2e-5, rtol=1e-5
    )


def _touches_map(loc_xy: np.ndarray, h: int, w: int) -> bool:
    """Whether a sample at normalised (x, y) has any bilinear corner inside an h x w map
    (float32 arithmetic, as the kernel does it)."""
    half = np.float32(0.5)
    px, py = loc_xy[0] * np.float32(w) - half, loc_xy[1] * np.float32(h) - half
    return bool(-1 < px < w and -1 < py < h)


@FUZZ
@given(
    problem=msda_problems(),
    seed=st.integers(0, 2**32 - 1),
    where=st.sampled_from(["weights", "value"]),
    bad=st.sampled_from([np.nan, np.inf]),
)
def test_msda_non_finite_weights_or_values_stay_local(problem, seed, where, bad):
    """Policy: NaN/inf in a weight or a value propagates (IEEE) into the output rows that use
    it and nowhere else; a poisoned sample that reaches the map always shows. (A poisoned
    weight of a sample entirely off the map may give 0 or NaN: grid_sample gives NaN.)"""
    value, shapes, starts, loc, weights = (a.copy() for a in problem)
    B, Q, H, L, P = weights.shape
    assume(Q > 0)
    rng = np.random.default_rng(seed)
    b, q, h, lvl, p = (int(rng.integers(n)) for n in (B, Q, H, L, P))
    clean = native.ms_deform_attn(value, shapes, starts, loc, weights).reshape(B, Q, H, -1)
    if where == "weights":
        weights[b, q, h, lvl, p] = bad
    else:
        value[b, int(rng.integers(value.shape[1])), h, 0] = bad
    got = native.ms_deform_attn(value, shapes, starts, loc, weights).reshape(B, Q, H, -1)
    if where == "value":  # rows of other images and heads, and other channels, are untouched
        others = np.ones((B, H), bool)
        others[b, h] = False
        np.testing.assert_array_equal(
            got.transpose(0, 2, 1, 3)[others], clean.transpose(0, 2, 1, 3)[others]
        )
        np.testing.assert_array_equal(got[..., 1:], clean[..., 1:])
        return
    others = np.ones((B, Q, H), bool)
    others[b, q, h] = False
    np.testing.assert_array_equal(got[others], clean[others])
    if _touches_map(loc[b, q, h, lvl, p], *shapes[lvl]):
        assert not np.isfinite(got[b, q, h]).any()
