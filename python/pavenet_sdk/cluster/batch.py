"""``run_batch``: pose files for many videos on a pool of Ray actors.

Per source: a *probe* task reads its frame rate and length. A source no longer than a chunk
is one task, which also writes its outputs (:mod:`pavenet_sdk.cluster.worker`), so nothing but
counts comes back. A longer one is split into chunks (:mod:`pavenet_sdk.cluster.chunks`), one
task each; when every chunk is back, the driver joins their track ids and a *finish* task
writes the outputs (:mod:`pavenet_sdk.cluster.outputs`). Any worker may run any task; a task
whose worker dies runs again on a replacement (:mod:`pavenet_sdk.cluster.pool`). A task that
raises fails its source alone.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pavenet_sdk.cluster.chunks import Chunk, IdJoiner, lead_in_frames, plan_chunks
from pavenet_sdk.cluster.engine import connect, local_cpus
from pavenet_sdk.cluster.outputs import Outputs, plan_outputs, remove_partials, source_names
from pavenet_sdk.cluster.pool import ActorPool, Job, Outcome, remote_class
from pavenet_sdk.cluster.progress import FrameCounter, ProgressBar
from pavenet_sdk.cluster.report import BatchSummary, SourceResult
from pavenet_sdk.cluster.worker import BatchWorker, ChunkOutput, ChunkTask, WorkerInfo
from pavenet_sdk.runtime.estimator import TrackerOptions
from pavenet_sdk.runtime.results import FrameResult
from pavenet_sdk.runtime.sources import SourceInfo

DEFAULT_CHUNK_FRAMES = 1800  # one minute at 30 fps


def run_batch(
    sources: Sequence[str | Path],
    out: str | Path | None = None,
    *,
    model: str | Path | None = None,
    backend: str = "auto",
    workers: int | None = None,
    address: str | None = None,
    video: bool = False,
    json_format: str = "posetrack",
    chunk_frames: int | None = DEFAULT_CHUNK_FRAMES,
    max_attempts: int = 3,
    fps: float | None = None,
    keep_results: bool = False,
    progress: bool = False,
    on_source: Callable[[SourceResult], None] | None = None,
    start_timeout: float = 300.0,
    **options: Any,
) -> BatchSummary:
    """Poses for every source on a Ray cluster; resumable; one result record per source.

    Args:
        sources: video files or folders of images (paths every node can read).
        out: folder for ``NAME.json`` and ``NAME.mp4``, on storage every node can write (the
            workers write them). Sources whose outputs are complete there are skipped. None:
            write nothing and keep the results in memory.
        model, backend: as for :class:`~pavenet_sdk.Estimator`; each worker loads the model
            once and runs one thread.
        workers: actors (default: one per CPU of the cluster).
        address: used when this process is not connected to Ray yet: ``"local"`` (default:
            a private instance on this machine, loopback only), ``"auto"`` or ``"HOST:PORT"``.
        video: also write the annotated video.
        json_format: "posetrack" (PoseTrack 2018) or "coco" (COCO keypoints), as
            ``pavenet run --json-format``.
        chunk_frames: sources longer than this are split into chunks run in parallel
            (None: never split).
        max_attempts: tries of a task whose worker dies.
        fps: frame rate of image folders (default 30).
        keep_results: put each source's results in its record (always so when ``out`` is
            None).
        progress: show a progress bar of the frames done over the whole cluster.
        on_source: called with each source's record as soon as it is done or failed.
        start_timeout: seconds to wait for the workers to start.
        options: more Estimator arguments (``precision``, ``score_threshold``, ``nms_oks``,
            ``track``, ``smooth``, ``tracker``, ``smoother``).

    Returns:
        the records of every source and the totals.

    Raises:
        ValueError: bad arguments. ClusterError: Ray is missing or the workers cannot start.
    """
    sources = [str(s) for s in sources]
    if not sources:
        raise ValueError("run_batch needs at least one source")
    if "threads" in options:
        raise ValueError("each worker runs one thread; scale with workers=N instead")
    if video and out is None:
        raise ValueError("video=True needs an output folder (out=...)")
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if chunk_frames is not None and chunk_frames < 1:
        raise ValueError(f"chunk_frames must be >= 1 or None, got {chunk_frames}")
    if max_attempts < 1:
        raise ValueError(f"max_attempts must be >= 1, got {max_attempts}")
    out_dir = None if out is None else Path(out)
    names = source_names(sources)
    records = [SourceResult(source=s, name=n) for s, n in zip(sources, names, strict=True)]
    outputs: list[Outputs | None] = [None] * len(sources)
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        remove_partials(out_dir, names)
        for i, name in enumerate(names):
            outputs[i] = plan_outputs(out_dir, name, video, json_format)
            if outputs[i].complete():
                records[i].status = "skipped"
                records[i].json, records[i].video = outputs[i].json, outputs[i].video
    todo = [i for i, r in enumerate(records) if r.status != "skipped"]
    summary = BatchSummary(sources=records)
    if not todo:
        return summary
    started = time.perf_counter()
    init = local_cpus(address, workers)
    with connect(address, **init) as ray:
        counter = remote_class(ray, FrameCounter, num_cpus=0).remote()
        size = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        worker_class = remote_class(ray, BatchWorker)
        pool = ActorPool(
            ray, worker_class, (model, backend, options, counter), size, max_attempts,
            prefix="pavenet-batch",
        )  # fmt: skip
        bar = ProgressBar(ray, counter, progress)
        try:
            infos: list[WorkerInfo] = pool.start(start_timeout)
            info = infos[0]
            summary.workers, summary.nodes = size, len({i.node_id for i in infos})
            summary.startup_seconds = time.perf_counter() - started
            run = _Run(records, outputs, info, chunk_frames, fps, keep_results or out is None,
                       options, bar, on_source)  # fmt: skip
            queue = deque(run.probe_job(i) for i in todo)
            first = time.perf_counter()
            for outcome in pool.run(queue, tick=bar.poll):
                run.handle(outcome, queue)
            summary.seconds = time.perf_counter() - first
            summary.replaced = pool.replaced
        finally:
            bar.close()
            pool.close()
            ray.kill(counter)
    return summary


@dataclass
class _Source:
    """Driver state of one source while its tasks run."""

    index: int
    info: SourceInfo | None = None
    chunks: list[Chunk] = field(default_factory=list)
    done: dict[int, ChunkOutput] = field(default_factory=dict)
    lead_in: int = 0
    results: list[FrameResult] | None = None
    over: bool = False


class _Run:
    """Turns task outcomes into the next tasks and the sources' records."""

    def __init__(
        self,
        records: list[SourceResult],
        outputs: list[Outputs | None],
        info: WorkerInfo,
        chunk_frames: int | None,
        fps: float | None,
        keep: bool,
        options: dict[str, Any],
        bar: ProgressBar,
        on_source: Callable[[SourceResult], None] | None,
    ) -> None:
        self.records, self.outputs, self.info = records, outputs, info
        self.chunk_frames, self.fps, self.keep = chunk_frames, fps, keep
        self.tracked = bool(options.get("track", True))
        tracker = options.get("tracker") or TrackerOptions()
        self.max_age = float(tracker.max_age)
        self.bar, self.on_source = bar, on_source
        self.state: dict[int, _Source] = {}

    def probe_job(self, i: int) -> Job:
        self.state[i] = _Source(i)
        return Job(("probe", i), "probe", (self.records[i].source, self.fps))

    def handle(self, outcome: Outcome, queue: deque[Job]) -> None:
        kind, i, *_ = outcome.job.key
        source = self.state[i]
        if source.over:
            return
        record = self.records[i]
        record.attempts = max(record.attempts, outcome.job.attempts)
        if outcome.error is not None:
            self._fail(source, outcome.error, queue)
        elif kind == "probe":
            self._planned(source, outcome.value, queue)
        elif kind == "chunk":
            self._chunk_done(source, outcome.job.key[2], outcome.value, queue)
        else:  # "finish": the outputs of a split source are written
            record.seconds += outcome.value
            self._done(source)

    def _planned(self, source: _Source, info: SourceInfo, queue: deque[Job]) -> None:
        source.info = info
        source.lead_in = lead_in_frames(self.max_age, info.fps)
        source.chunks = plan_chunks(
            info.num_frames, self.chunk_frames, self.info.radius, source.lead_in
        )
        record = self.records[source.index]
        record.chunks = len(source.chunks)
        self.bar.add_total(info.num_frames or 0)
        whole = len(source.chunks) == 1  # its task writes the outputs itself
        for chunk in source.chunks:
            task = ChunkTask(
                key=(source.index, chunk.index),
                source=record.source,
                chunk=chunk,
                fps=self.fps,
                outputs=self.outputs[source.index] if whole else None,
                keep=self.keep or not whole,
            )
            queue.append(Job(("chunk", source.index, chunk.index), "process", (task,)))

    def _chunk_done(self, source: _Source, k: int, output: ChunkOutput, queue: deque[Job]) -> None:
        record = self.records[source.index]
        source.done[k] = output
        record.seconds += output.seconds
        if len(source.done) < len(source.chunks):
            return
        if len(source.chunks) == 1:
            record.frames = output.frames
            source.results = output.results
            self._done(source)
            return
        joiner = IdJoiner(tracked=self.tracked, history=source.lead_in + 1)
        source.results = joiner.join(source.done[c.index].results for c in source.chunks)
        source.done.clear()
        record.frames = len(source.results)
        paths = self.outputs[source.index]
        if paths is None:
            self._done(source)
        else:
            args = (record.source, self.fps, source.results, paths)
            queue.append(Job(("finish", source.index), "finish", args))

    def _done(self, source: _Source) -> None:
        record, paths = self.records[source.index], self.outputs[source.index]
        if paths is not None:
            record.json, record.video = paths.json, paths.video
        record.status = "done"
        if self.keep:
            record.results = source.results
        self._close(source)

    def _fail(self, source: _Source, error: str, queue: deque[Job]) -> None:
        record = self.records[source.index]
        record.status, record.error, record.frames = "failed", error, 0
        for job in [j for j in queue if j.key[1] == source.index]:
            queue.remove(job)
        self._close(source)

    def _close(self, source: _Source) -> None:
        source.over = True
        source.results = None
        if self.on_source is not None:
            self.on_source(self.records[source.index])
