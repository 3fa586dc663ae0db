"""Metrics log of a run: one JSON object per line (``metrics.jsonl``) mirrored to ``metrics.csv``.

Rows are dicts of scalars with at least ``step`` and ``kind`` ("train" or "eval"). The CSV is
rewritten from the JSONL when a new column appears, so both files always hold the same rows.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any


class MetricsLog:
    """Append-only metrics files in ``out_dir``; on resume, rows after ``resume_step`` are dropped
    (they belong to the abandoned continuation of the run)."""

    def __init__(self, out_dir: str | Path, resume_step: int | None = None) -> None:
        self.jsonl = Path(out_dir) / "metrics.jsonl"
        self.csv = Path(out_dir) / "metrics.csv"
        self.jsonl.parent.mkdir(parents=True, exist_ok=True)
        self.rows: list[dict[str, Any]] = []
        if resume_step is not None:
            old = read_metrics(self.jsonl)
            self.rows = [r for r in old if int(r.get("step", 0)) <= resume_step]
        self._columns: list[str] = []
        self._rewrite()

    def append(self, row: dict[str, Any]) -> None:
        """Add one row (values must be JSON scalars; NaN/inf are written as null)."""
        clean = {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                 for k, v in row.items()}  # fmt: skip
        self.rows.append(clean)
        with self.jsonl.open("a", encoding="utf-8") as f:
            f.write(json.dumps(clean) + "\n")
        new = [k for k in clean if k not in self._columns]
        if new:
            self._rewrite()
        else:
            with self.csv.open("a", newline="", encoding="utf-8") as f:
                csv.DictWriter(f, fieldnames=self._columns).writerow(clean)

    def _rewrite(self) -> None:
        columns: list[str] = []
        for row in self.rows:
            columns.extend(k for k in row if k not in columns)
        self._columns = columns
        with self.jsonl.open("w", encoding="utf-8") as f:
            f.writelines(json.dumps(r) + "\n" for r in self.rows)
        with self.csv.open("w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=columns)
            writer.writeheader()
            writer.writerows(self.rows)


def read_metrics(path: str | Path) -> list[dict[str, Any]]:
    """Rows of a ``metrics.jsonl`` (missing file -> empty list)."""
    path = Path(path)
    if not path.is_file():
        return []
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]
