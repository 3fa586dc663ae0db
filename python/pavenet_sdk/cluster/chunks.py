"""Long videos in overlapping chunks, and track ids joined where chunks meet.

A chunk *owns* frames ``[start, stop)``: its results for them are the ones kept. To give each
owned frame exactly the decoder window of a serial run (frames t-T..t+T), the chunk also reads
T frames after ``stop`` and T frames before its lead-in. The *lead-in* ``[lead_start, start)``
is read as well so the tracker, which starts empty in every chunk, has seen every person that
a serial run's tracker could still hold at ``start`` (a track lives ``max_age`` seconds without
a match): the lead-in is ``ceil(max_age * fps) + 1`` frames. Results of lead-in frames are
returned too, and :class:`IdJoiner` uses them to map the chunk's own track ids onto the ids
already given to the same people in those frames.

Poses of owned frames equal a serial run's exactly (same frames, same windows). Track ids equal
a serial run's when the trackers take the same decisions, which holds whenever a decision in
the lead-in does not depend on tracks older than it (otherwise a track can go on under another
id after a seam, as with any two trackers started at different frames). One-Euro smoothing
(``smooth=True``) has no finite memory: its state restarts in each chunk and converges over
the lead-in.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from pavenet_sdk.runtime.results import FrameResult


@dataclass(frozen=True)
class Chunk:
    """Frames of one source processed by one task (indices in the source's frame order).

    Attributes:
        index: position of the chunk in its source (0-based).
        start, stop: the frames it owns; ``stop`` None: to the end of the source.
        lead_start: first frame whose result it returns for the seam join (``<= start``).
        read_start, read_stop: the frames it reads (``read_stop`` None: to the end).
    """

    index: int
    start: int
    stop: int | None
    lead_start: int
    read_start: int
    read_stop: int | None

    def keeps(self, frame_index: int) -> bool:
        """Whether the result of this frame is returned (lead-in or owned)."""
        return frame_index >= self.lead_start and (self.stop is None or frame_index < self.stop)


WHOLE = Chunk(index=0, start=0, stop=None, lead_start=0, read_start=0, read_stop=None)


def lead_in_frames(max_age: float, fps: float) -> int:
    """Frames a fresh tracker must see before a seam to hold every track a serial one holds."""
    if not (max_age >= 0 and fps > 0):
        raise ValueError(f"need max_age >= 0 and fps > 0, got {max_age} and {fps}")
    return math.ceil(max_age * fps) + 1


def plan_chunks(
    num_frames: int | None, chunk_frames: int | None, radius: int, lead_in: int
) -> list[Chunk]:
    """Split ``num_frames`` frames into chunks of at most about ``chunk_frames`` frames.

    Chunks have equal sizes (the last one reads to the end of the source, so a frame count
    that is an estimate loses nothing). ``radius`` is the model's T; ``lead_in`` the frames of
    tracker warm-up (:func:`lead_in_frames`). One chunk, the whole source, when the length is
    unknown, ``chunk_frames`` is None or the source is not longer than it.
    """
    if chunk_frames is not None and chunk_frames < 1:
        raise ValueError(f"chunk_frames must be >= 1 or None, got {chunk_frames}")
    if radius < 0 or lead_in < 0:
        raise ValueError(f"radius and lead_in must be >= 0, got {radius} and {lead_in}")
    if num_frames is None or chunk_frames is None or num_frames <= chunk_frames:
        return [WHOLE]
    count = math.ceil(num_frames / chunk_frames)
    size = math.ceil(num_frames / count)
    chunks = []
    for index in range(count):
        start = index * size
        last = index == count - 1
        stop = None if last else start + size
        lead_start = max(0, start - lead_in)
        chunks.append(
            Chunk(
                index=index,
                start=start,
                stop=stop,
                lead_start=lead_start,
                read_start=max(0, lead_start - radius),
                read_stop=None if stop is None else stop + radius,
            )
        )
    return chunks


class IdJoiner:
    """Relabels the track ids of consecutive segments of one video as one run's ids.

    A segment is the output of one tracker (a chunk, or a stream restarted on another worker),
    in frame order. Its results for frames already joined (its lead-in) are matched person by
    person with the joined results of those frames (same pose within ``tolerance_px``); each of
    its ids then continues the id it met last, and ids never met get new numbers in order of
    first appearance, as a tracker numbers new tracks. Ids < 0 (detections too weak to start
    a track) stay as they are. With ``tracked=False`` ids are renumbered consecutively over the
    whole run, as the runtime numbers untracked detections.

    Args:
        tracked: whether the results carry tracker ids.
        history: joined frames remembered for matching (at least the lead-in length).
        tolerance_px: largest mean joint distance of the same person in two segments.
    """

    def __init__(self, tracked: bool = True, history: int = 256, tolerance_px: float = 1.0):
        self.tracked = tracked
        self.history = max(1, history)
        self.tolerance_px = tolerance_px
        self._recent: dict[int, FrameResult] = {}
        self._next_id = 1 if tracked else 0
        self._last_index = -1

    @property
    def last_index(self) -> int:
        """Frame index of the last joined result (-1 before the first)."""
        return self._last_index

    def join(self, segments: Iterable[Iterable[FrameResult]]) -> list[FrameResult]:
        """Join whole segments, in order; returns the joined results."""
        return [r for segment in segments for r in self.segment().feed(segment)]

    def segment(self) -> Segment:
        """Start the next segment (its results must follow every result joined so far)."""
        return Segment(self)

    def _remember(self, result: FrameResult) -> None:
        self._recent[result.frame_index] = result
        self._last_index = result.frame_index
        for index in [i for i in self._recent if i <= self._last_index - self.history]:
            del self._recent[index]

    def _new_ids(self, count: int) -> np.ndarray:
        ids = np.arange(self._next_id, self._next_id + count, dtype=np.int64)
        self._next_id += count
        return ids


class Segment:
    """The results of one tracker, fed in frame order; see :class:`IdJoiner`."""

    def __init__(self, joiner: IdJoiner) -> None:
        self._joiner = joiner
        self._met: dict[int, tuple[int, int]] = {}  # own id -> (frame index, joined id)
        self._ids: dict[int, int] | None = None  # own id -> joined id, fixed after the lead-in

    def feed(self, results: Iterable[FrameResult]) -> Iterator[FrameResult]:
        """Yield the joined results of ``results`` (lead-in frames are consumed silently)."""
        for result in results:
            joined = self.add(result)
            if joined is not None:
                yield joined

    def add(self, result: FrameResult) -> FrameResult | None:
        """The joined result of ``result``, or None for a frame joined before (lead-in)."""
        joiner = self._joiner
        if result.frame_index <= joiner.last_index:
            if self._ids is not None:
                raise ValueError(
                    f"frame {result.frame_index} arrived after frame {joiner.last_index}: "
                    "a segment's results must be in frame order"
                )
            before = joiner._recent.get(result.frame_index)
            if before is not None and joiner.tracked:
                self._meet(before, result)
            return None
        if not joiner.tracked:
            ids = joiner._new_ids(len(result))
        else:
            if self._ids is None:
                self._ids = self._resolve()
            ids = np.array([self._id(int(i)) for i in result.track_ids], dtype=np.int64)
        joined = dataclasses.replace(result, track_ids=ids)
        joiner._remember(joined)
        return joined

    def _meet(self, before: FrameResult, now: FrameResult) -> None:
        """Record which own id shows the same person as which joined id in one frame."""
        for own, joined in _pairs(before, now, self._joiner.tolerance_px):
            if own >= 0 and joined >= 0:
                self._met[own] = (now.frame_index, joined)

    def _resolve(self) -> dict[int, int]:
        """Own id -> joined id; a joined id met by two own ids goes to the later meeting."""
        best: dict[int, tuple[int, int]] = {}  # joined id -> (frame index, own id)
        for own, (frame, joined) in self._met.items():
            if joined not in best or frame > best[joined][0]:
                best[joined] = (frame, own)
        return {own: joined for joined, (_, own) in best.items()}

    def _id(self, own: int) -> int:
        if own < 0:
            return own
        assert self._ids is not None
        if own not in self._ids:
            self._ids[own] = int(self._joiner._new_ids(1)[0])
        return self._ids[own]


def _pairs(before: FrameResult, now: FrameResult, tolerance: float) -> list[tuple[int, int]]:
    """(own id, joined id) of persons found at the same pose in both results of one frame.

    The same frame decoded from the same window gives the same persons in the same order:
    then they pair by position, which also pairs exact duplicates. Otherwise (a window that
    differs, e.g. at a live restart) each person pairs with its mutual nearest.
    """
    if len(before) == 0 or len(now) == 0:
        return []
    if len(before) == len(now) and np.allclose(now.keypoints, before.keypoints, atol=tolerance):
        return list(zip(now.track_ids.tolist(), before.track_ids.tolist(), strict=True))
    a = np.asarray(now.keypoints, np.float64)[:, None]  # (N, 1, K, 2)
    b = np.asarray(before.keypoints, np.float64)[None]  # (1, M, K, 2)
    distance = np.linalg.norm(a - b, axis=-1).mean(axis=-1)  # (N, M)
    nearest, back = distance.argmin(axis=1), distance.argmin(axis=0)
    return [
        (int(now.track_ids[i]), int(before.track_ids[j]))
        for i, j in enumerate(nearest)
        if back[j] == i and distance[i, j] <= tolerance
    ]
