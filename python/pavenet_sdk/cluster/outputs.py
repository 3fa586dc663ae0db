"""Where a batch puts each source's outputs, and how they are written all or nothing.

Per source ``NAME`` (the file's stem, made unique): ``OUT/NAME.json`` (PoseTrack 2018 or COCO
keypoints, written by the runtime's writers, as ``pavenet run --json`` writes them) and, on
request, ``OUT/NAME.mp4`` (annotated). Each is written under
a hidden temporary name in ``OUT`` and moved into place with ``os.replace``, the video before
the JSON: a source is complete exactly when its final files exist, which is what a re-run
checks to skip it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from pavenet_sdk.runtime.results import FrameResult
from pavenet_sdk.runtime.writers import JSON_WRITERS, VideoWriter

PARTIAL = ".partial"  # marks the temporary files of unfinished outputs


@dataclass(frozen=True)
class Outputs:
    """The files of one source."""

    name: str
    json: Path
    video: Path | None
    json_format: str = "posetrack"

    def complete(self) -> bool:
        """Whether every requested file exists (they are only ever moved in whole)."""
        return self.json.is_file() and (self.video is None or self.video.is_file())

    def files(self) -> list[Path]:
        return [p for p in (self.video, self.json) if p is not None]


def source_names(sources: Sequence[str]) -> list[str]:
    """A file name per source: its stem, plus a short hash of its path where stems repeat."""
    stems = [_stem(s) for s in sources]
    counts = Counter(stems)
    return [
        stem if counts[stem] == 1 else f"{stem}-{hashlib.sha1(str(src).encode()).hexdigest()[:8]}"
        for stem, src in zip(stems, sources, strict=True)
    ]


def _stem(source: str) -> str:
    stem = Path(str(source).rstrip("/\\")).stem or "source"
    return re.sub(r"[^\w.-]+", "_", stem)


def plan_outputs(out: Path, name: str, video: bool, json_format: str = "posetrack") -> Outputs:
    """The files of source ``name`` in ``out``; ``json_format``: a key of ``JSON_WRITERS``."""
    if json_format not in JSON_WRITERS:
        raise ValueError(f"json_format must be one of {sorted(JSON_WRITERS)}, got {json_format!r}")
    return Outputs(
        name=name,
        json=out / f"{name}.json",
        video=out / f"{name}.mp4" if video else None,
        json_format=json_format,
    )


def partial_path(final: Path) -> Path:
    """A fresh temporary path beside ``final`` with the same suffix (OpenCV picks the
    container by suffix)."""
    return final.with_name(f".{final.stem}.{uuid.uuid4().hex[:8]}{PARTIAL}{final.suffix}")


def remove_partials(out: Path, names: Iterable[str]) -> int:
    """Delete temporary files that interrupted runs left for these sources; returns the count."""
    removed = 0
    for name in names:
        for path in out.glob(f".{name}.*{PARTIAL}.*"):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


@contextlib.contextmanager
def atomic(final: Path) -> Iterator[Path]:
    """A temporary path to write ``final`` to; moved into place only if the block succeeds."""
    partial = partial_path(final)
    try:
        yield partial
        os.replace(partial, final)
    finally:
        partial.unlink(missing_ok=True)


def write_json(outputs: Outputs, results: Iterable[FrameResult]) -> None:
    """The JSON file of one source (the runtime's writer of its format), all or nothing."""
    writer_class = JSON_WRITERS[outputs.json_format]
    with atomic(outputs.json) as partial, writer_class(partial, outputs.name) as writer:
        for result in results:
            writer.add(result)


def write_video(
    path: Path, frames: Iterable[tuple[object, float]], results: Sequence[FrameResult], fps: float
) -> int:
    """The annotated video of one source from its frames and final results (frames without a
    result are copied as they are), written all or nothing. Returns the frames written."""
    by_index = {r.frame_index: r for r in results}
    count = 0
    with atomic(path) as partial:
        with VideoWriter(partial) as video:
            for index, (frame, _) in enumerate(frames):
                result = by_index.get(index)
                video.write(result.plot(frame) if result is not None else frame, fps)
                count += 1
        if count == 0:
            raise ValueError(f"{path.name}: the source gave no frame to draw on")
    return count
