"""The worker of a batch: one Ray actor holding one ``Estimator`` (one thread), fed tasks.

The class is plain Python; :func:`pavenet_sdk.cluster.pool.remote_class` turns it into an
actor class. Each task opens its source itself, so frames are decoded where they are used
and never travel. A task that covers a whole source also writes its outputs (annotated video
while it runs, then the JSON), so its poses do not travel either; the chunks of a split
source send their poses to the driver, which joins their track ids and hands them to a
:meth:`BatchWorker.finish` task that writes the outputs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time
from collections.abc import Hashable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any

from pavenet_sdk.cluster.chunks import Chunk
from pavenet_sdk.cluster.outputs import Outputs, atomic, write_json, write_video
from pavenet_sdk.cluster.progress import Reporter
from pavenet_sdk.runtime.estimator import Estimator
from pavenet_sdk.runtime.results import FrameResult
from pavenet_sdk.runtime.sources import SourceInfo, open_source
from pavenet_sdk.runtime.writers import VideoWriter


@dataclass(frozen=True)
class WorkerInfo:
    """What a worker runs and where."""

    radius: int  # the model's T
    backend: str
    model: str
    pid: int
    node: str  # the node's address
    node_id: str


@dataclass(frozen=True)
class ChunkTask:
    """One chunk of one source.

    Attributes:
        key: names the task in progress reports.
        source, fps: what to open (``fps``: frame rate of image folders).
        chunk: the frames to read and keep.
        outputs: the files to write, for a task that covers its whole source (else None).
        keep: return the results (always so for a chunk of a split source).
    """

    key: Hashable
    source: str
    chunk: Chunk
    fps: float | None = None
    outputs: Outputs | None = None
    keep: bool = True


@dataclass(frozen=True)
class ChunkOutput:
    """What a chunk task returns (results of lead-in and owned frames, without images)."""

    results: list[FrameResult]
    frames: int  # owned frames with a result
    frames_read: int
    seconds: float
    pid: int


def describe(estimator: Estimator) -> WorkerInfo:
    """What this worker process runs, and on which node."""
    from pavenet_sdk.cluster.engine import import_ray

    ray = import_ray()
    return WorkerInfo(
        radius=int(estimator.package.T),
        backend=estimator.backend_name,
        model=estimator.package.name,
        pid=os.getpid(),
        node=ray.util.get_node_ip_address(),
        node_id=ray.get_runtime_context().get_node_id(),
    )


class BatchWorker:
    """Runs chunks of sources through one estimator; see :mod:`pavenet_sdk.cluster.batch`.

    Args:
        model, backend: as for :class:`~pavenet_sdk.runtime.estimator.Estimator`.
        options: further Estimator keyword arguments (``threads`` is always 1).
        counter: a :class:`~pavenet_sdk.cluster.progress.FrameCounter` actor, or None.
    """

    def __init__(
        self, model: str | None, backend: str, options: dict[str, Any], counter: Any = None
    ) -> None:
        self._estimator = Estimator(model, backend=backend, threads=1, **options)
        self._counter = counter

    def describe(self) -> WorkerInfo:
        return describe(self._estimator)

    def probe(self, source: str, fps: float | None = None) -> SourceInfo:
        """Frame rate and (estimated) length of a source, without decoding a frame."""
        frames, info = open_source(source, fps)
        _close(frames)
        return info

    def process(self, task: ChunkTask) -> ChunkOutput:
        """Poses of a chunk (lead-in and owned frames, numbered as in the whole source);
        for a whole source, also its outputs."""
        start = time.perf_counter()
        chunk, outputs = task.chunk, task.outputs
        frames, info = open_source(task.source, task.fps)
        reporter = Reporter(self._counter, task.key)
        kept: list[FrameResult] = []
        owned = 0
        read = [0]
        with contextlib.ExitStack() as stack:
            stack.callback(_close, frames)
            video = None
            if outputs is not None and outputs.video is not None:
                partial = stack.enter_context(atomic(outputs.video))
                video = stack.enter_context(VideoWriter(partial))
            window = _counted(islice(frames, chunk.read_start, chunk.read_stop), read)
            for result in self._estimator.stream().run_frames(window):
                index = chunk.read_start + result.frame_index
                if not chunk.keeps(index):
                    continue
                if video is not None:
                    video.write(result.plot(result.image), info.fps)
                kept.append(dataclasses.replace(result, frame_index=index, image=None))
                owned += index >= chunk.start
                reporter.update(owned)
            if read[0] == 0 and chunk.index == 0:
                raise ValueError(f"{task.source}: no frame could be read")
        # leaving the block closed the video, then moved it into place; the JSON comes last
        if outputs is not None:
            write_json(outputs, kept)
        reporter.update(owned, force=True)
        results = kept if task.keep or outputs is None else []
        return ChunkOutput(results, owned, read[0], time.perf_counter() - start, os.getpid())

    def finish(
        self, source: str, fps: float | None, results: list[FrameResult], outputs: Outputs
    ) -> float:
        """Write the outputs of a split source from its joined results; returns seconds."""
        start = time.perf_counter()
        if outputs.video is not None:
            frames, info = open_source(source, fps)
            try:
                write_video(outputs.video, frames, results, info.fps)
            finally:
                _close(frames)
        write_json(outputs, results)
        return time.perf_counter() - start


def _counted(frames: Iterator, count: list[int]) -> Iterator:
    """``frames``, counting them in ``count[0]``."""
    for item in frames:
        count[0] += 1
        yield item


def _close(frames: Any) -> None:
    close = getattr(frames, "close", None)
    if close is not None:
        close()
