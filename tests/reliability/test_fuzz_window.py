"""``native.FrameWindow`` against a small pure-Python model, under random operation sequences.

The model: frames of a stream are kept in push order; the window of frame t (F = 2T + 1
slots t-T..t+T) is emitted as soon as frame t+T arrives, with missing past frames replaced by
the first frame; ``flush()`` emits the remaining windows with missing future frames replaced
by the last one and starts a new stream; ``reset()`` forgets the stream. Only 2T + 1 frames
are ever needed, but the model keeps all of them: it is the spec, not an implementation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pavenet_sdk import native


@dataclass
class WindowModel:
    T: int
    frames: list[tuple[np.ndarray, int, float]] = field(default_factory=list)
    emitted: int = 0

    def _window(self, centre: int, last: int) -> dict:
        slots = [min(max(k, 0), last) for k in range(centre - self.T, centre + self.T + 1)]
        _, index, timestamp = self.frames[centre]
        return {
            "memories": np.stack([self.frames[s][0] for s in slots]),
            "frame_indices": np.array([self.frames[s][1] for s in slots], np.int64),
            "frame_index": index,
            "timestamp": timestamp,
        }

    def push(self, memory, index, timestamp) -> list[dict]:
        self.frames.append((memory.copy(), index, timestamp))
        f = len(self.frames) - 1
        if f - self.T < 0:
            return []
        self.emitted += 1
        return [self._window(f - self.T, f)]

    def flush(self) -> list[dict]:
        last = len(self.frames) - 1
        out = [self._window(c, last) for c in range(self.emitted, last + 1)]
        self.reset()
        return out

    def reset(self) -> None:
        self.frames, self.emitted = [], 0


def _assert_same(got: list, want: list[dict]) -> None:
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert g.memories.dtype == np.float32 and g.memories.flags.c_contiguous
        np.testing.assert_array_equal(g.memories, w["memories"])
        np.testing.assert_array_equal(g.frame_indices, w["frame_indices"])
        assert g.frame_index == w["frame_index"] and g.timestamp == w["timestamp"]


# pushes dominate so streams get long enough to wrap the ring several times
OPS = st.lists(
    st.tuples(
        st.sampled_from(["push"] * 16 + ["push_bad_shape", "push_bad_dtype", "flush", "reset"]),
        st.integers(0, 2**31),
    ),
    min_size=4,
    max_size=80,
)


@settings(max_examples=120, deadline=None)
@given(T=st.integers(0, 3), tokens=st.integers(1, 5), dim=st.integers(1, 4), ops=OPS)
def test_window_matches_model(T, tokens, dim, ops):
    window, model = native.FrameWindow(T), WindowModel(T)
    assert window.window_size == 2 * T + 1 and window.T == T
    returned = []  # every window handed out, with what it must still hold at the end
    index = 0
    for op, seed in ops:
        rng = np.random.default_rng(seed)
        if op == "push":
            memory = rng.standard_normal((tokens, dim)).astype(np.float32)
            timestamp = index / 7
            got = window.push(memory, index, timestamp)
            want = model.push(memory, index, timestamp)
            memory[:] = np.nan  # the window copied it: scribbling must not show anywhere
            index += 1
        elif op == "push_bad_shape":
            bad = np.zeros((tokens + 1, dim), np.float32)
            if model.frames:  # another size mid-stream is refused, state untouched
                with pytest.raises(ValueError, match="reset"):
                    window.push(bad, -1, 0.0)
            continue
        elif op == "push_bad_dtype":
            with pytest.raises(TypeError, match="float32"):
                window.push(np.zeros((tokens, dim), np.float64), -1, 0.0)
            continue
        elif op == "flush":
            got, want = window.flush(), model.flush()
        else:
            window.reset()
            model.reset()
            continue
        _assert_same(got, want)
        returned.extend(zip(got, want, strict=True))
        assert window.frames_seen == len(model.frames)
        assert window.pending == len(model.frames) - model.emitted
    _assert_same([g for g, _ in returned], [w for _, w in returned])  # nothing was aliased


def test_window_rejects_bad_construction_and_memory():
    for T in (-1, 1001):
        with pytest.raises(ValueError, match="T must be"):
            native.FrameWindow(T)
    with pytest.raises(TypeError):
        native.FrameWindow(2**70)
    with pytest.raises(TypeError):
        native.FrameWindow("2")
    window = native.FrameWindow(1)
    for bad, error in [
        (np.zeros((0, 4), np.float32), ValueError),
        (np.zeros((4, 0), np.float32), ValueError),
        (np.zeros((4,), np.float32), ValueError),
        (np.zeros((2, 2, 2), np.float32), ValueError),
        ([[0.0]], TypeError),
        (None, TypeError),
    ]:
        with pytest.raises(error):
            window.push(bad, 0, 0.0)
    with pytest.raises(TypeError):  # the window holds memories only: no per-frame meta
        window.push(np.zeros((2, 2), np.float32), 0, 0.0, meta=np.zeros(2))
    assert window.frames_seen == 0 and window.flush() == []


def test_window_accepts_strided_memory():
    window = native.FrameWindow(0)
    base = np.arange(24, dtype=np.float32).reshape(4, 6)
    (w,) = window.push(base[::2, ::-3], 0, 0.0)
    np.testing.assert_array_equal(w.memories[0], base[::2, ::-3])
