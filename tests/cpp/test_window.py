"""FrameWindow: temporal order, edge replication, flush, bounded state, per-stream isolation."""

from __future__ import annotations

import numpy as np
import pytest

from pavenet_sdk import native

N, D = 6, 4


def frame(k: int) -> np.ndarray:
    """A memory whose every value is the frame number (so slots are easy to read back)."""
    return np.full((N, D), float(k), dtype=np.float32)


def slots(window) -> list[int]:
    return [int(m[0, 0]) for m in window.memories]


def run_stream(T: int, n: int):
    win = native.FrameWindow(T)
    out = []
    for k in range(n):
        ready = win.push(frame(k), 100 + k, k / 30)
        assert len(ready) <= 1
        out += ready
    return out, win.flush(), win


@pytest.mark.parametrize("T", [0, 1, 2])
@pytest.mark.parametrize("n", [1, 2, 3, 7])
def test_every_frame_gets_one_window_with_replicated_edges(T: int, n: int) -> None:
    live, flushed, win = run_stream(T, n)
    windows = live + flushed
    assert [w.frame_index for w in windows] == [100 + k for k in range(n)]
    assert len(live) == max(0, n - T)
    for t, w in enumerate(windows):
        want = [min(max(k, 0), n - 1) for k in range(t - T, t + T + 1)]
        assert slots(w) == want
        assert w.memories.shape == (2 * T + 1, N, D) and w.memories.dtype == np.float32
        assert w.frame_indices.tolist() == [100 + k for k in want]
        assert w.timestamp == pytest.approx(t / 30)
    assert win.pending == 0 and win.frames_seen == 0  # flush ends the stream


def test_short_stream_flush_repeats_the_only_frame() -> None:
    win = native.FrameWindow(2)
    assert win.push(frame(9), 0, 0.0) == []
    (w,) = win.flush()
    assert slots(w) == [9] * 5 and w.frame_indices.tolist() == [0] * 5


def test_windows_are_copies_and_survive_later_pushes() -> None:
    win = native.FrameWindow(1)
    win.push(frame(0), 0, 0.0)
    (first,) = win.push(frame(1), 1, 0.1)
    for k in range(2, 6):
        win.push(frame(k), k, k / 10)
    assert slots(first) == [0, 0, 1]
    first.memories[...] = -1  # writing into a window does not touch the stream
    (w,) = win.push(frame(6), 6, 0.6)
    assert slots(w) == [4, 5, 6]


def test_strided_memory_is_accepted() -> None:
    win = native.FrameWindow(0)
    base = np.arange(N * D * 2, dtype=np.float32).reshape(N, 2 * D)
    (w,) = win.push(base[:, ::2], 0, 0.0)
    np.testing.assert_array_equal(w.memories[0], base[:, ::2])
    (w,) = win.push(np.asfortranarray(base[:, :D]), 1, 0.1)
    np.testing.assert_array_equal(w.memories[0], base[:, :D])


def test_size_change_needs_reset() -> None:
    win = native.FrameWindow(1)
    win.push(frame(0), 0, 0.0)
    with pytest.raises(ValueError, match=r"\(7, 4\).*\(6, 4\).*reset"):
        win.push(np.zeros((7, D), np.float32), 1, 0.1)
    win.reset()
    assert win.pending == 0
    win.push(np.zeros((7, D), np.float32), 0, 0.0)
    (w,) = win.push(np.ones((7, D), np.float32), 1, 0.1)
    assert w.memories.shape == (3, 7, D)


def test_streams_are_independent() -> None:
    a, b = native.FrameWindow(1), native.FrameWindow(1)
    a.push(frame(1), 0, 0.0)
    b.push(frame(5), 0, 0.0)
    (wa,) = a.push(frame(2), 1, 0.1)
    (wb,) = b.push(frame(6), 1, 0.1)
    assert slots(wa) == [1, 1, 2] and slots(wb) == [5, 5, 6]
    assert a.T == 1 and a.window_size == 3


def test_the_window_holds_memories_only() -> None:
    """Per-frame state other than the memory stays with the caller (no ``meta`` slot)."""
    win = native.FrameWindow(0)
    with pytest.raises(TypeError):
        win.push(frame(0), 0, 0.0, [1.0])
    (w,) = win.push(frame(0), 0, 0.0)
    assert not hasattr(w, "meta")
