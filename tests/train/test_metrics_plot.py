"""Metrics files (JSONL + CSV, resume truncation) and the training-curve figure."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from pavenet_sdk.train.metrics import MetricsLog, read_metrics


def test_metrics_jsonl_and_csv_agree(tmp_path: Path) -> None:
    log = MetricsLog(tmp_path)
    log.append({"kind": "train", "step": 1, "loss": 2.0})
    log.append({"kind": "train", "step": 2, "loss": float("nan")})
    log.append({"kind": "eval", "step": 2, "mAP": 10.5})  # new column -> CSV rewritten
    rows = read_metrics(tmp_path / "metrics.jsonl")
    assert [r["step"] for r in rows] == [1, 2, 2]
    assert rows[1]["loss"] is None  # NaN is not valid JSON
    with (tmp_path / "metrics.csv").open() as f:
        table = list(csv.DictReader(f))
    assert len(table) == 3 and table[2]["mAP"] == "10.5" and table[0]["mAP"] == ""


def test_resume_drops_rows_after_the_checkpoint(tmp_path: Path) -> None:
    log = MetricsLog(tmp_path)
    for step in (1, 2, 3, 4):
        log.append({"kind": "train", "step": step, "loss": 1.0 / step})
    resumed = MetricsLog(tmp_path, resume_step=2)
    resumed.append({"kind": "train", "step": 3, "loss": 0.1})
    lines = (tmp_path / "metrics.jsonl").read_text().splitlines()
    steps = [json.loads(line)["step"] for line in lines]
    assert steps == [1, 2, 3]


def test_plot_writes_png(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from pavenet_sdk.train.plot import plot_metrics

    rows = [{"kind": "train", "step": s, "loss": 5.0 / s} for s in range(1, 40)]
    rows += [{"kind": "eval", "step": 20, "mAP": 3.0}, {"kind": "eval", "step": 39, "mAP": 7.0}]
    out = plot_metrics(rows, tmp_path / "curve.png", title="t")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # RLE losses are negative log-likelihoods: no log axis, no warning
    import warnings

    negative = [{"kind": "train", "step": s, "loss": -s / 10} for s in range(1, 20)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert plot_metrics(negative, tmp_path / "neg.png").is_file()
    # an empty log still gives a (blank) figure rather than an error
    assert plot_metrics([], tmp_path / "empty.png").is_file()
