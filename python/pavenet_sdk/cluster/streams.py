"""``StreamPool``: many live streams served by a pool of Ray actors, results on the driver.

Streams are spread over the workers (:mod:`pavenet_sdk.cluster.stream_worker`), several per
worker when there are more streams than workers; each stream stays on one worker, which holds
its window and tracker. The driver asks every worker for news (``poll``), joins track ids and
hands each result to the sinks: a folder of JSON-lines files, a callback, and the iterator of
:meth:`StreamPool.results`.

When a worker dies, a replacement is started and its streams are added there. A file (or an
image folder) is re-read from ``T`` + lead-in frames before the last result delivered: the
results continue with the next frame, poses as if nothing happened and track ids joined as
between chunks (:class:`~pavenet_sdk.cluster.chunks.IdJoiner`). A camera or URL cannot go
back: it continues with the frames it gives now; its window re-warms over its first 2T
frames, its people get new track ids, and the frames it showed meanwhile are counted as
``lost``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pavenet_sdk.cluster.chunks import IdJoiner, Segment, lead_in_frames
from pavenet_sdk.cluster.engine import connect, local_cpus
from pavenet_sdk.cluster.outputs import source_names
from pavenet_sdk.cluster.pool import ActorPool, reason, remote_class
from pavenet_sdk.cluster.sinks import JsonLinesSink
from pavenet_sdk.cluster.stream_worker import Poll, StreamSpec, StreamStats, StreamWorker
from pavenet_sdk.runtime.estimator import TrackerOptions
from pavenet_sdk.runtime.results import FrameResult
from pavenet_sdk.runtime.sources import camera_index, is_live

POLL_S = 0.25  # longest wait of a worker's poll for news
WORKER_CALLS = 4  # concurrent calls a worker serves (poll, add_stream, ...)

ResultCallback = Callable[[str, FrameResult], None]


def stream_names(sources: Sequence[str | int]) -> list[str]:
    """``camera<N>`` for camera indices, else the unique stems of :func:`source_names`."""
    names = source_names([str(s) for s in sources])
    cameras = [camera_index(s) for s in sources]
    return [
        name if camera is None else f"camera{camera}"
        for camera, name in zip(cameras, names, strict=True)
    ]


@dataclass
class _Stream:
    """Driver state of one stream."""

    name: str
    source: str | int
    slot: int
    joiner: IdJoiner
    segment: Segment
    origin: float  # wall-clock time of the first start (live timestamps count from it)
    total: StreamStats = field(default_factory=StreamStats)  # finished incarnations
    current: StreamStats = field(default_factory=StreamStats)  # the running incarnation
    delivered: int = 0
    last_timestamp: float = 0.0

    @property
    def running(self) -> bool:
        return self.total.state == "running"

    def stats(self) -> StreamStats:
        out = dataclasses.replace(self.total)
        for key in ("read", "dropped", "errors", "lost"):
            setattr(out, key, getattr(self.total, key) + getattr(self.current, key))
        out.delivered = self.delivered
        out.fps = self.current.fps or self.total.fps
        out.error = self.total.error or self.current.error
        return out

    def fold(self) -> None:
        """Close the running incarnation (its worker died) into the totals."""
        for key in ("read", "dropped", "errors", "lost"):
            setattr(self.total, key, getattr(self.total, key) + getattr(self.current, key))
        self.total.fps = self.current.fps or self.total.fps
        self.current = StreamStats()


class StreamPool:
    """Serve many streams (cameras, URLs, files) on a pool of Ray actors.

    Args:
        sources: camera indices, URLs, video files or image folders, as the workers' nodes see
            them; a mapping gives each a name (default: ``camera<N>`` or the file's stem).
        model, backend: as for :class:`~pavenet_sdk.Estimator` (one per worker, 1 thread).
        workers: actors (default: one per CPU of the cluster, at most one per stream).
        address: used when this process is not connected to Ray yet: ``"local"`` (default),
            ``"auto"`` or ``"HOST:PORT"``.
        out: folder of JSON-lines files, ``NAME.jsonl`` per stream (None: none).
        on_result: called on the driver as ``on_result(name, result)`` for every result.
        queue_size: frames of a stream that may wait for inference on its worker.
        realtime: read files at their own frame rate (they then drop frames like cameras).
        fps: frame rate of image folders.
        max_restarts: restarts of a stream on new workers before it is given up.
        start_timeout: seconds to wait for the workers to start.
        options: more Estimator arguments (``score_threshold``, ``track``, ``tracker``, ...).

    Example:
        >>> with StreamPool(["rtsp://cam1/live", "rtsp://cam2/live"], out="poses/") as pool:
        ...     for name, result in pool.results(duration=60):
        ...         print(name, result.frame_index, result.track_ids)
    """

    def __init__(
        self,
        sources: Sequence[str | int | Path] | Mapping[str, str | int | Path],
        *,
        model: str | Path | None = None,
        backend: str = "auto",
        workers: int | None = None,
        address: str | None = None,
        out: str | Path | None = None,
        on_result: ResultCallback | None = None,
        queue_size: int = 8,
        realtime: bool = False,
        fps: float | None = None,
        max_restarts: int = 3,
        start_timeout: float = 300.0,
        **options: Any,
    ) -> None:
        if isinstance(sources, Mapping):
            names, given = list(sources), list(sources.values())
        else:
            given = list(sources)
            names = stream_names([s if isinstance(s, int) else str(s) for s in given])
        if not given:
            raise ValueError("a StreamPool needs at least one source")
        if len(set(names)) != len(names):
            raise ValueError(f"stream names must be unique, got {names}")
        if queue_size < 1:
            raise ValueError(f"queue_size must be >= 1, got {queue_size}")
        if workers is not None and workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        if "threads" in options:
            raise ValueError("each worker runs one thread; scale with workers=N instead")
        self._sources = {
            n: s if isinstance(s, int) else str(s) for n, s in zip(names, given, strict=True)
        }
        self._model, self._backend, self._options = model, backend, options
        self._workers, self._address = workers, address
        self._queue_size, self._realtime, self._fps = queue_size, realtime, fps
        self.max_restarts, self._start_timeout = max_restarts, start_timeout
        self._out = None if out is None else Path(out)
        self._on_result = on_result
        tracker = options.get("tracker") or TrackerOptions()
        self._max_age = float(tracker.max_age)
        self._tracked = bool(options.get("track", True))
        self._streams: dict[str, _Stream] = {}
        self._pool: ActorPool | None = None
        self._exit: contextlib.ExitStack | None = None
        self._sink: JsonLinesSink | None = None
        self._ray: Any = None
        self._radius = 0

    @property
    def replaced(self) -> int:
        """Workers started to replace ones that died."""
        return 0 if self._pool is None else self._pool.replaced

    # ---- life cycle -------------------------------------------------------------------------
    def __enter__(self) -> StreamPool:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> StreamPool:
        """Connect, start the workers and open every stream on its worker."""
        if self._exit is not None:
            raise RuntimeError("the StreamPool is already started")
        self._exit = contextlib.ExitStack()
        try:
            init = local_cpus(self._address, self._workers)
            ray = self._ray = self._exit.enter_context(connect(self._address, **init))
            cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
            size = self._workers or min(len(self._sources), cpus)
            actor_class = remote_class(ray, StreamWorker, max_concurrency=WORKER_CALLS)
            args = (self._model, self._backend, self._options)
            self._pool = ActorPool(ray, actor_class, args, size, prefix="pavenet-streams")
            self._radius = int(self._pool.start(self._start_timeout)[0].radius)
            if self._out is not None:
                self._sink = self._exit.enter_context(JsonLinesSink(self._out))
            now = time.time()
            for i, (name, source) in enumerate(self._sources.items()):
                joiner = IdJoiner(tracked=self._tracked)
                stream = _Stream(name, source, i % size, joiner, joiner.segment(), now)
                self._streams[name] = stream
                self._pool.actor(stream.slot).add_stream.remote(self._spec(stream))
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        """Stop every worker and close the sinks (safe to call more than once)."""
        if self._pool is not None:
            self._pool.close()
        if self._exit is not None:
            self._exit.close()
            self._exit = None

    # ---- results ----------------------------------------------------------------------------
    def results(self, duration: float | None = None) -> Iterator[tuple[str, FrameResult]]:
        """Drive the pool and yield ``(stream name, result)`` in each stream's frame order.

        Ends when every stream has ended or failed, or after ``duration`` seconds. Results
        also go to ``out`` and ``on_result``.
        """
        if self._exit is None:
            raise RuntimeError("start the StreamPool first (start() or a with block)")
        ray, pool = self._ray, self._pool
        deadline = None if duration is None else time.monotonic() + duration
        polls: dict[Any, int] = {}

        def ask(slot: int) -> None:
            if any(s.slot == slot and s.running for s in self._streams.values()):
                polls[pool.actor(slot).poll.remote(POLL_S)] = slot

        for slot in range(pool.size):
            ask(slot)
        while polls and (deadline is None or time.monotonic() < deadline):
            ready, _ = ray.wait(list(polls), num_returns=1, timeout=1.0)
            for ref in ready:
                slot = polls.pop(ref)
                try:
                    reply = ray.get(ref)
                except ray.exceptions.RayTaskError:
                    raise
                except ray.exceptions.RayError as exc:  # the worker died
                    self._replace(slot, reason(exc))
                else:
                    yield from self._take(slot, reply)
                ask(slot)

    def run(self, duration: float | None = None) -> dict[str, StreamStats]:
        """Drive the pool until every stream ended (or ``duration`` s); returns the counters."""
        for _ in self.results(duration):
            pass
        return self.stats()

    def stats(self) -> dict[str, StreamStats]:
        """Counters of every stream (delivered, dropped, lost, restarts, state, ...)."""
        return {name: s.stats() for name, s in self._streams.items()}

    def _take(self, slot: int, reply: Poll) -> Iterator[tuple[str, FrameResult]]:
        for name, results in reply.results.items():
            stream = self._streams[name]
            if stream.slot != slot or not stream.running:
                continue
            for result in results:
                joined = stream.segment.add(result)
                if joined is None:  # a frame re-read after a restart, delivered before
                    continue
                stream.delivered += 1
                stream.last_timestamp = joined.timestamp
                if self._sink is not None:
                    self._sink(name, joined)
                if self._on_result is not None:
                    self._on_result(name, joined)
                yield name, joined
        for name, stats in reply.stats.items():
            stream = self._streams[name]
            if stream.slot != slot or not stream.running:
                continue
            stream.current = stats
            if stats.fps:
                lead = lead_in_frames(self._max_age, stats.fps)
                stream.joiner.history = lead + self._radius + 1
            if stats.state != "running":
                stream.total.state, stream.total.error = stats.state, stats.error

    # ---- failures ---------------------------------------------------------------------------
    def _replace(self, slot: int, why: str) -> None:
        """A worker died: start another and restart its running streams there."""
        actor = self._pool.replace(slot)
        for stream in self._streams.values():
            if stream.slot != slot or not stream.running:
                continue
            stream.fold()
            stream.total.restarts += 1
            if stream.total.restarts > self.max_restarts:
                stream.total.state = "failed"
                stream.total.error = f"its worker died {stream.total.restarts} times ({why})"
                continue
            stream.segment = stream.joiner.segment()
            actor.add_stream.remote(self._spec(stream))

    def _spec(self, stream: _Stream) -> StreamSpec:
        """How a worker opens ``stream``: from its start, or continuing after a restart."""
        spec = StreamSpec(
            name=stream.name,
            source=stream.source,
            fps=self._fps,
            queue_size=self._queue_size,
            realtime=self._realtime,
            time_origin=stream.origin,
        )
        last = stream.joiner.last_index
        if last < 0:
            return spec
        if is_live(stream.source):
            return dataclasses.replace(spec, resume_after=(last, stream.last_timestamp))
        lead = lead_in_frames(self._max_age, stream.total.fps or 30.0)
        return dataclasses.replace(spec, start=max(0, last + 1 - lead - self._radius))
