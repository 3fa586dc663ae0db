"""Training-curve figure: smoothed loss terms (left axis, log scale) and held-out scores (right):
the synthetic PoseTrack ``mAP`` and, for runs evaluated on real clips, ``real/AP``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from pavenet_sdk.train.metrics import read_metrics


def _smooth(values: np.ndarray, window: int) -> np.ndarray:
    if len(values) < 3 or window <= 1:
        return values
    window = min(window, len(values))
    kernel = np.ones(window) / window
    # 'valid' then left-pad with the running mean so the curve starts at step 0
    head = np.cumsum(values[: window - 1]) / np.arange(1, window)
    return np.concatenate([head, np.convolve(values, kernel, mode="valid")])


def plot_metrics(
    rows: list[dict[str, Any]] | str | Path,
    out_png: str | Path,
    title: str = "",
    loss_keys: tuple[str, ...] = ("loss",),
    size: tuple[float, float] = (6.0, 3.6),
    dpi: int = 100,
) -> Path:
    """Draw ``loss_keys`` of the train rows and every eval row's ``mAP`` / ``real/AP``.

    rows: metrics rows or a path to ``metrics.jsonl``. Returns the PNG path.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not isinstance(rows, list):
        rows = read_metrics(rows)
    train = [r for r in rows if r.get("kind") == "train"]
    scores = (("mAP", "o-", "tab:red"), ("real/AP", "s-", "tab:green"))
    evals = [r for r in rows if r.get("kind") == "eval"
             and any(r.get(k) is not None for k, _, _ in scores)]  # fmt: skip
    fig, ax = plt.subplots(figsize=size, dpi=dpi)
    positive = True
    for key in loss_keys:
        pts = [(r["step"], r[key]) for r in train if r.get(key) is not None]
        if pts:
            steps, vals = (np.asarray(v, dtype=float) for v in zip(*pts, strict=True))
            ax.plot(steps, _smooth(vals, max(1, len(vals) // 30)), label=key, lw=1.2)
            positive &= bool((vals > 0).all())
    ax.set_xlabel("step")
    ax.set_ylabel("training loss (smoothed)")
    if train and positive:  # RLE log-likelihood losses go negative: keep those linear
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    if evals:
        ax2 = ax.twinx()
        for key, style, color in scores:
            pts = [(r["step"], r[key]) for r in evals if r.get(key) is not None]
            if pts:
                steps, vals = zip(*pts, strict=True)
                ax2.plot(steps, vals, style, color=color, ms=3, label=f"held-out {key}")
        ax2.set_ylabel("held-out AP (%)")
        h2, l2 = ax2.get_legend_handles_labels()
        handles, labels = handles + h2, labels + l2
    if handles:
        ax.legend(handles, labels, loc="upper center", fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    out_png = Path(out_png)
    out_png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png)
    plt.close(fig)
    return out_png
