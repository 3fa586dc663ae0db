"""``Stream.push_frame`` under garbage frames and timestamps.

Every bad call raises TypeError/ValueError with a message and changes nothing: a stream fed
good frames mixed with garbage gives exactly the results of a clean stream fed only the
good frames (same engine, same process: bit-identical).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pavenet_sdk.runtime.estimator import Estimator

SIZES = [(48, 80), (64, 64), (30, 90), (97, 41)]
BAD_FRAMES = [
    None,
    [[[0, 0, 0]]],
    "frame",
    b"\x00" * 12,
    3,
    np.uint8(7),
    np.zeros((32, 32), np.uint8),
    np.zeros((32, 32, 4), np.uint8),
    np.zeros((32, 32, 1), np.uint8),
    np.zeros((32, 32, 3), np.float32),
    np.zeros((32, 32, 3), np.float64),
    np.zeros((32, 32, 3), np.int16),
    np.zeros((32, 32, 3), np.bool_),
    np.zeros((0, 32, 3), np.uint8),
    np.zeros((32, 0, 3), np.uint8),
    np.zeros((1, 32, 32, 3), np.uint8),
    np.zeros((3,), np.uint8),
    np.zeros((8, 8, 3), object),
]
BAD_TIMESTAMPS = [
    math.nan,
    math.inf,
    -math.inf,
    np.float32("nan"),
    "1.0",
    b"1",
    True,
    False,
    np.True_,
    [1.0],
    {},
    object(),
    np.datetime64(1, "s"),
]


def _frames(seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (*SIZES[i % len(SIZES)], 3), dtype=np.uint8) for i in range(6)]


FRAMES = _frames()


def _strided(frame: np.ndarray, variant: int) -> np.ndarray:
    """The same pixels as ``frame`` in another memory layout."""
    if variant == 1:
        return np.asfortranarray(frame)
    if variant == 2:  # every other column of a wider buffer
        wide = np.zeros((frame.shape[0], 2 * frame.shape[1], 3), np.uint8)
        wide[:, ::2] = frame
        return wide[:, ::2]
    if variant == 3:  # upside-down buffer read bottom-up (negative row stride)
        return np.ascontiguousarray(frame[::-1])[::-1]
    return frame


@pytest.fixture(scope="module")
def estimator(micro_model):
    _, package = micro_model
    return Estimator(package, backend="onnx", score_threshold=0.0, smooth=True)


def _as_tuples(results) -> list[tuple]:
    return [
        (
            r.frame_index,
            r.timestamp,
            r.image_size,
            r.keypoints.tobytes(),
            r.keypoint_scores.tobytes(),
            r.scores.tobytes(),
            r.boxes.tobytes(),
            r.track_ids.tobytes(),
        )
        for r in results
    ]


# an operation: ("push", frame, time step or None, layout) | ("bad_frame", i) | ("bad_ts", i)
OPS = st.lists(
    st.one_of(
        st.tuples(
            st.just("push"),
            st.integers(0, len(FRAMES) - 1),
            st.sampled_from([None, 0.0, 1 / 30, 0.5]),
            st.integers(0, 3),
        ),
        st.tuples(st.just("bad_frame"), st.integers(0, len(BAD_FRAMES) - 1)),
        st.tuples(st.just("bad_ts"), st.integers(-1, len(BAD_TIMESTAMPS) - 1)),
    ),
    min_size=1,
    max_size=14,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(ops=OPS)
def test_garbage_leaves_no_trace(estimator, ops):
    fuzzed, clean = estimator.stream(), estimator.stream()
    got, want = [], []
    t = 0.0
    pushed = 0
    for op in ops:
        if op[0] == "push":
            _, i, step, layout = op
            if step is None:
                timestamp = None
                t = 0.0 if pushed == 0 else t + 1 / 30
            else:
                t += step
                timestamp = t
            got += fuzzed.push_frame(_strided(FRAMES[i], layout), timestamp)
            want += clean.push_frame(FRAMES[i], timestamp)
            pushed += 1
        elif op[0] == "bad_frame":
            with pytest.raises((TypeError, ValueError), match=r"\w"):
                fuzzed.push_frame(BAD_FRAMES[op[1]], t + 1.0)
        else:
            # -1: a timestamp earlier than the last one (only "bad" once a frame exists)
            if op[1] == -1 and pushed == 0:
                continue
            bad = t - 0.25 if op[1] == -1 else BAD_TIMESTAMPS[op[1]]
            with pytest.raises((TypeError, ValueError), match=r"timestamp"):
                fuzzed.push_frame(FRAMES[0], bad)
    got += fuzzed.flush()
    want += clean.flush()
    assert [r.frame_index for r in got] == list(range(pushed))
    assert _as_tuples(got) == _as_tuples(want)


@pytest.mark.parametrize("bad", BAD_FRAMES, ids=lambda b: f"{type(b).__name__}")
def test_bad_frame_message_names_the_problem(estimator, bad):
    with pytest.raises((TypeError, ValueError)) as info:
        estimator.stream().push_frame(bad)
    assert "image" in str(info.value) or "frame" in str(info.value)


def test_results_continue_after_a_failed_first_frame(estimator):
    """A stream whose very first push was garbage starts cleanly with the next frame."""
    stream = estimator.stream()
    with pytest.raises(TypeError):
        stream.push_frame(np.zeros((8, 8, 3), np.float32), timestamp=5.0)
    with pytest.raises(ValueError):
        stream.push_frame(FRAMES[0], timestamp=math.nan)
    results = stream.push_frame(FRAMES[0], timestamp=0.0) + stream.flush()
    assert [r.frame_index for r in results] == [0]


def test_huge_integer_timestamp_is_a_value_error(estimator):
    stream = estimator.stream()
    with pytest.raises(ValueError, match="timestamp"):
        stream.push_frame(FRAMES[0], 10**400)


def test_complex_timestamp_is_refused(estimator):
    stream = estimator.stream()
    with pytest.raises(TypeError, match="timestamp"):
        stream.push_frame(FRAMES[0], np.complex128(1 + 2j))
