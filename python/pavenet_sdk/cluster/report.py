"""What a batch returns: one record per source, and the totals."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from pavenet_sdk.runtime.results import FrameResult

Status = Literal["done", "skipped", "failed"]


@dataclass
class SourceResult:
    """The outcome of one source.

    Attributes:
        source: as given.
        name: its output name (``OUT/NAME.json``).
        status: "done", "skipped" (complete outputs existed) or "failed".
        frames: frames with a result (0 when skipped or failed).
        chunks: tasks the source was split into.
        attempts: tries of its longest-tried task (> 1 when a worker died on it).
        seconds: worker time spent on it (every chunk, and writing the outputs).
        json, video: its output files (None when not written).
        error: why it failed.
        results: its results when kept (``run_batch(out=None)`` or ``keep_results=True``).
    """

    source: str
    name: str
    status: Status = "done"
    frames: int = 0
    chunks: int = 0
    attempts: int = 0
    seconds: float = 0.0
    json: Path | None = None
    video: Path | None = None
    error: str | None = None
    results: list[FrameResult] | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("results")
        for key in ("json", "video"):
            out[key] = None if out[key] is None else str(out[key])
        return out


@dataclass
class BatchSummary:
    """Every source's outcome and the totals of the run.

    Attributes:
        sources: one :class:`SourceResult` per source, in the order given.
        workers: actors that ran the batch (0: nothing had to run).
        nodes: cluster nodes they ran on.
        replaced: workers that died and were replaced.
        seconds: wall time from the first task to the last.
        startup_seconds: wall time to connect and start the workers.
    """

    sources: list[SourceResult]
    workers: int = 0
    nodes: int = 0
    replaced: int = 0
    seconds: float = 0.0
    startup_seconds: float = 0.0

    def count(self, status: Status) -> int:
        return sum(s.status == status for s in self.sources)

    @property
    def frames(self) -> int:
        return sum(s.frames for s in self.sources)

    @property
    def frames_per_second(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    @property
    def failed(self) -> list[SourceResult]:
        return [s for s in self.sources if s.status == "failed"]

    def format(self) -> str:
        """A few lines for a terminal: counts, throughput, and each failure with its reason."""
        lines = [
            f"{len(self.sources)} sources: {self.count('done')} done, "
            f"{self.count('skipped')} skipped (complete), {self.count('failed')} failed"
        ]
        if self.workers:
            replaced = f", {self.replaced} replaced after dying" if self.replaced else ""
            lines.append(
                f"{self.frames} frames in {self.seconds:.1f} s = {self.frames_per_second:.1f} "
                f"frames/s on {self.workers} workers, {self.nodes} nodes (start-up "
                f"{self.startup_seconds:.1f} s{replaced})"
            )
        lines += [f"failed: {s.source}: {s.error}" for s in self.failed]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "sources": [s.to_dict() for s in self.sources],
            "workers": self.workers,
            "nodes": self.nodes,
            "replaced": self.replaced,
            "frames": self.frames,
            "seconds": round(self.seconds, 3),
            "startup_seconds": round(self.startup_seconds, 3),
            "frames_per_second": round(self.frames_per_second, 3),
        }
