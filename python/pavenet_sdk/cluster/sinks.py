"""Where a ``StreamPool`` puts results on the driver: one JSON-lines file per stream."""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO

from pavenet_sdk.runtime.results import FrameResult


class JsonLinesSink:
    """``FOLDER/NAME.jsonl``: one line per result, ``{"stream": NAME, **result.to_dict()}``.

    Files are created (truncated) at a stream's first result, flushed after every line, and
    closed by :meth:`close` (the sink is a context manager).
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._files: dict[str, IO[str]] = {}

    def path(self, name: str) -> Path:
        return self.folder / f"{name}.jsonl"

    def __call__(self, name: str, result: FrameResult) -> None:
        file = self._files.get(name)
        if file is None:
            file = self._files[name] = self.path(name).open("w", encoding="utf-8")
        file.write(json.dumps({"stream": name, **result.to_dict()}) + "\n")
        file.flush()

    def close(self) -> None:
        for file in self._files.values():
            file.close()
        self._files.clear()

    def __enter__(self) -> JsonLinesSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
