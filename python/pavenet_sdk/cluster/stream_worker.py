"""The worker of a ``StreamPool``: one Ray actor, one ``Estimator``, several live streams.

Each stream is read by a thread of the actor that opens the source itself (a camera, a URL
or a file on the actor's node), so frames never cross the network. Frames wait in a bounded
per-stream queue; one inference thread takes a frame from each stream in turn and pushes it
into that stream's own ``Stream`` (its window and tracker live only here). Results, with
frame indices of the source, wait in an outbox that the driver empties with :meth:`poll`.

Queue policy when inference falls behind: a *live* stream (camera, URL, or a file paced at
its frame rate with ``realtime``) drops its oldest queued frame for each new one (counted as
``dropped``); a file read as fast as possible waits instead, losing nothing.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from pavenet_sdk.cluster.worker import WorkerInfo, describe
from pavenet_sdk.runtime.estimator import Estimator, Stream
from pavenet_sdk.runtime.results import FrameResult
from pavenet_sdk.runtime.sources import is_live, open_source

IDLE_WAIT_S = 0.05


@dataclass(frozen=True)
class StreamSpec:
    """One stream as a worker should open it.

    Attributes:
        name: the stream's name.
        source: camera index, URL, video file or image folder (as the actor's node sees it).
        fps: frame rate of image folders.
        queue_size: frames that may wait for inference.
        realtime: read a file at its own frame rate (it then queues like a camera).
        start: for a file, the first frame to read (a restart re-reads from there).
        resume_after: for a live source restarted, (frame index, timestamp) of the last
            result delivered; the gap to the first new frame is counted as lost frames.
        time_origin: wall-clock time (``time.time()``) of the stream's first start; live
            timestamps are seconds since then, so they keep increasing across restarts.
    """

    name: str
    source: str | int
    fps: float | None = None
    queue_size: int = 8
    realtime: bool = False
    start: int = 0
    resume_after: tuple[int, float] | None = None
    time_origin: float | None = None


@dataclass
class StreamStats:
    """Counters of one stream (on a worker: since it was added; on the driver: in total).

    Attributes:
        read: frames read from the source.
        dropped: frames dropped from a full queue (oldest first; live streams only).
        delivered: results handed out.
        errors: frames the estimator refused (bad frame, timestamp going back).
        lost: frames missed while the stream was restarted after a worker died.
        restarts: times the stream was restarted on another worker.
        fps: the source's frame rate.
        state: "running", "ended" (source exhausted) or "failed".
        error: why it failed (or the reader's last error).
    """

    read: int = 0
    dropped: int = 0
    delivered: int = 0
    errors: int = 0
    lost: int = 0
    restarts: int = 0
    fps: float | None = None
    state: str = "running"
    error: str | None = None


@dataclass
class Poll:
    """What a worker hands the driver: new results and counters per stream."""

    results: dict[str, list[FrameResult]] = field(default_factory=dict)
    stats: dict[str, StreamStats] = field(default_factory=dict)


class _Feed:
    """One stream inside a worker: reader thread, bounded queue, ``Stream`` state."""

    def __init__(self, spec: StreamSpec, stream: Stream, wake: threading.Condition) -> None:
        self.spec, self.stream, self._wake = spec, stream, wake
        self.live = is_live(spec.source) or spec.realtime
        self.stats = StreamStats()
        self._queue: deque[tuple[int, Any, float]] = deque()
        self._room = threading.Condition()
        self._indices: dict[int, int] = {}  # push order -> frame index in the source
        self._pushed = 0
        self.reading = True
        self.closed = False
        self._thread = threading.Thread(target=self._read, name=f"read-{spec.name}", daemon=True)
        self._thread.start()

    # ---- reader thread ----------------------------------------------------------------------
    def _read(self) -> None:
        spec = self.spec
        frames = None
        try:
            frames, info = open_source(spec.source, spec.fps)
            self.stats.fps = info.fps
            offset = 0.0
            if is_live(spec.source) and spec.time_origin is not None:
                offset = time.time() - spec.time_origin
            rereadable = not is_live(spec.source)
            paced = None  # (wall clock, timestamp) of the first frame, for realtime files
            for index, (frame, timestamp) in self._numbered(frames, rereadable, offset, info.fps):
                if self.closed:
                    break
                if spec.realtime:
                    paced = paced or (time.monotonic(), timestamp)
                    time.sleep(max(0.0, paced[0] + timestamp - paced[1] - time.monotonic()))
                self._put((index, frame, timestamp))
        except Exception as exc:  # the stream ends with the reason; the worker carries on
            self.stats.error = f"{type(exc).__name__}: {exc}"
        finally:
            if frames is not None and hasattr(frames, "close"):
                frames.close()
            self.reading = False
            with self._wake:
                self._wake.notify_all()

    def _numbered(
        self, frames: Iterator, rereadable: bool, offset: float, fps: float
    ) -> Iterator[tuple[int, tuple[Any, float]]]:
        """(frame index in the source, (frame, timestamp)) from the first frame to read.

        A file starts at ``spec.start``: the frames before it are decoded and skipped.
        """
        spec = self.spec
        if rereadable:
            yield from enumerate(islice(frames, spec.start, None), start=spec.start)
            return
        index = None
        for frame, timestamp in frames:
            timestamp += offset
            if index is None:
                index = 0
                if spec.resume_after is not None:
                    last, last_time = spec.resume_after
                    gap = max(1, round((timestamp - last_time) * fps))
                    index = last + gap
                    self.stats.lost = gap - 1
            else:
                index += 1
            yield index, (frame, timestamp)

    def _put(self, item: tuple[int, Any, float]) -> None:
        with self._room:
            if self.live:
                if len(self._queue) >= self.spec.queue_size:
                    self._queue.popleft()
                    self.stats.dropped += 1
            else:
                while len(self._queue) >= self.spec.queue_size and not self.closed:
                    self._room.wait(0.1)
            self._queue.append(item)
            self.stats.read += 1
        with self._wake:
            self._wake.notify_all()

    # ---- inference thread -------------------------------------------------------------------
    def take(self) -> tuple[int, Any, float] | None:
        with self._room:
            if not self._queue:
                return None
            item = self._queue.popleft()
            self._room.notify_all()
            return item

    @property
    def exhausted(self) -> bool:
        return not self.reading and not self._queue

    def push(self, item: tuple[int, Any, float]) -> list[FrameResult]:
        index, frame, timestamp = item
        self._indices[self._pushed] = index
        try:
            results = self.stream.push_frame(frame, timestamp)
        except (TypeError, ValueError) as exc:  # the frame is not cached; the stream goes on
            del self._indices[self._pushed]
            self.stats.errors += 1
            self.stats.error = f"{type(exc).__name__}: {exc}"
            return []
        self._pushed += 1
        return self._renumber(results)

    def finish(self) -> list[FrameResult]:
        return self._renumber(self.stream.flush())

    def _renumber(self, results: list[FrameResult]) -> list[FrameResult]:
        out = [
            dataclasses.replace(r, frame_index=self._indices.pop(r.frame_index)) for r in results
        ]
        self.stats.delivered += len(out)
        return out

    def close(self) -> None:
        self.closed = True
        with self._room:
            self._room.notify_all()


class StreamWorker:
    """Serves streams with one estimator; see the module docstring.

    Args:
        model, backend: as for :class:`~pavenet_sdk.runtime.estimator.Estimator`.
        options: further Estimator keyword arguments (``threads`` is always 1).
    """

    def __init__(self, model: str | None, backend: str, options: dict[str, Any]) -> None:
        self._estimator = Estimator(model, backend=backend, threads=1, **options)
        self._wake = threading.Condition()  # new frames, or a reader that ended
        self._ready = threading.Condition()  # new results for poll()
        self._feeds: dict[str, _Feed] = {}
        self._outbox: dict[str, list[FrameResult]] = {}
        self._final: dict[str, StreamStats] = {}
        self._stop = False
        self._thread = threading.Thread(target=self._serve, name="inference", daemon=True)
        self._thread.start()

    def describe(self) -> WorkerInfo:
        return describe(self._estimator)

    def add_stream(self, spec: StreamSpec) -> None:
        """Open ``spec.source`` here and start serving it."""
        with self._wake:
            if spec.name in self._feeds:
                raise ValueError(f"stream {spec.name!r} is already served by this worker")
            self._feeds[spec.name] = _Feed(spec, self._estimator.stream(), self._wake)
            self._wake.notify_all()

    def poll(self, timeout: float = 0.5) -> Poll:
        """New results and the counters of every stream; waits up to ``timeout`` s for news."""
        deadline = time.monotonic() + timeout
        with self._ready:
            while not self._outbox and not self._final and time.monotonic() < deadline:
                self._ready.wait(max(0.0, deadline - time.monotonic()))
            reply = Poll(results=self._outbox, stats=dict(self._final))
            self._outbox, self._final = {}, {}
        with self._wake:
            feeds = dict(self._feeds)
        for name, feed in feeds.items():
            reply.stats.setdefault(name, dataclasses.replace(feed.stats))
        return reply

    def shutdown(self) -> None:
        """Stop every stream and the inference thread."""
        self._stop = True
        with self._wake:
            feeds, self._feeds = list(self._feeds.values()), {}
            self._wake.notify_all()
        for feed in feeds:
            feed.close()
        self._thread.join(timeout=5)

    # ---- inference thread -------------------------------------------------------------------
    def _serve(self) -> None:
        while not self._stop:
            with self._wake:
                feeds = list(self._feeds.items())
            worked = False
            for name, feed in feeds:  # one frame of each stream in turn
                item = feed.take()
                if item is not None:
                    self._deliver(name, feed.push(item))
                    worked = True
                elif feed.exhausted:
                    self._end(name, feed)
                    worked = True
            if not worked:
                with self._wake:
                    self._wake.wait(IDLE_WAIT_S)

    def _deliver(self, name: str, results: list[FrameResult], final: StreamStats | None = None):
        with self._ready:
            if results:
                self._outbox.setdefault(name, []).extend(results)
            if final is not None:
                self._final[name] = final
            self._ready.notify_all()

    def _end(self, name: str, feed: _Feed) -> None:
        results = [] if feed.closed else feed.finish()
        with self._wake:
            self._feeds.pop(name, None)
        stats = dataclasses.replace(feed.stats)
        stats.state = "failed" if feed.stats.error and not feed.stats.read else "ended"
        self._deliver(name, results, final=stats)
