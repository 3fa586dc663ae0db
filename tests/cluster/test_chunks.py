"""Chunk planning and the joining of track ids at seams (pure Python: no Ray)."""

from __future__ import annotations

import numpy as np
import pytest

from pavenet_sdk.cluster.chunks import IdJoiner, lead_in_frames, plan_chunks
from pavenet_sdk.runtime.results import FrameResult

K = 15


def _result(index: int, ids: list[int], xs: list[float]) -> FrameResult:
    """A frame whose person n stands at x = xs[n] with track id ids[n]."""
    n = len(ids)
    keypoints = np.zeros((n, K, 2), np.float32)
    keypoints[..., 0] = np.asarray(xs, np.float32)[:, None]
    keypoints[..., 1] = np.arange(K, dtype=np.float32)
    return FrameResult(
        frame_index=index,
        timestamp=index / 25,
        keypoints=keypoints,
        keypoint_scores=np.ones((n, K), np.float32),
        scores=np.linspace(0.9, 0.5, n, dtype=np.float32),
        boxes=np.zeros((n, 4), np.float32),
        track_ids=np.asarray(ids, np.int64),
        image_size=(100, 100),
    )


@pytest.mark.parametrize(("frames", "size", "radius", "lead"), [(40, 8, 1, 4), (41, 10, 2, 13)])
def test_chunks_own_every_frame_once_and_read_each_window(frames, size, radius, lead):
    chunks = plan_chunks(frames, size, radius, lead)
    assert len(chunks) == -(-frames // size)
    owners = [sum(c.start <= t < (c.stop or frames) for c in chunks) for t in range(frames)]
    assert owners == [1] * frames
    for c in chunks:
        stop = c.stop or frames
        assert stop - c.start <= size
        read_stop = frames if c.read_stop is None else min(c.read_stop, frames)
        # the window t-T..t+T of every owned and lead-in frame is read (or off the source)
        for t in range(c.lead_start, stop):
            assert c.read_start <= max(0, t - radius) and min(frames, t + radius + 1) <= read_stop
        assert c.lead_start == max(0, c.start - lead)
    assert chunks[-1].stop is None and chunks[-1].read_stop is None  # an estimate loses nothing


def test_one_chunk_when_short_unknown_or_not_split():
    for frames, size in ((10, 10), (None, 5), (100, None)):
        (whole,) = plan_chunks(frames, size, 1, 4)
        assert (whole.start, whole.stop, whole.read_start, whole.read_stop) == (0, None, 0, None)
    with pytest.raises(ValueError, match="chunk_frames"):
        plan_chunks(10, 0, 1, 4)


def test_lead_in_covers_the_tracker_memory():
    assert lead_in_frames(1.0, 25.0) == 26
    assert lead_in_frames(0.0, 30.0) == 1
    with pytest.raises(ValueError):
        lead_in_frames(1.0, 0.0)


def test_ids_continue_across_a_seam_and_new_people_get_new_ids():
    joiner = IdJoiner(history=10)
    first = [_result(0, [1, 2], [10, 50]), _result(1, [1, 2], [11, 51])]
    assert [r.track_ids.tolist() for r in joiner.segment().feed(first)] == [[1, 2], [1, 2]]
    # the next tracker re-saw frame 1 (lead-in) and numbered the same people 2 and 1
    second = [
        _result(1, [2, 1], [11, 51]),
        _result(2, [2, 1, 3], [12, 52, 90]),
        _result(3, [1, 3], [53, 91]),
    ]
    joined = list(joiner.segment().feed(second))
    assert [r.frame_index for r in joined] == [2, 3]
    assert [r.track_ids.tolist() for r in joined] == [[1, 2, 3], [2, 3]]
    np.testing.assert_array_equal(joined[0].keypoints, second[1].keypoints)


def test_an_id_met_twice_goes_to_the_later_meeting_and_weak_ids_stay():
    joiner = IdJoiner(history=10)
    joiner.join([[_result(0, [1], [10]), _result(1, [1], [30])]])
    # own ids 5 and 6 both meet joined id 1 (frames 0 and 1): the later one keeps it
    segment = [_result(0, [5], [10]), _result(1, [6], [30]), _result(2, [6, 5, -1], [31, 70, 3])]
    (joined,) = joiner.join([segment])
    assert joined.track_ids.tolist() == [1, 2, -1]


def test_untracked_runs_are_numbered_consecutively():
    joiner = IdJoiner(tracked=False)
    a = [_result(0, [0, 1], [1, 2]), _result(1, [2], [1])]
    b = [_result(1, [0], [1]), _result(2, [0, 1], [1, 2])]  # frame 1 again: lead-in
    assert [r.track_ids.tolist() for r in joiner.join([a, b])] == [[0, 1], [2], [3, 4]]


def test_a_segment_must_be_in_frame_order():
    joiner = IdJoiner()
    joiner.join([[_result(0, [1], [10]), _result(1, [1], [10])]])
    segment = joiner.segment()
    segment.add(_result(2, [1], [10]))
    with pytest.raises(ValueError, match="frame order"):
        segment.add(_result(1, [1], [10]))
