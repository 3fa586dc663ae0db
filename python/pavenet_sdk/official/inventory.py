"""Parameter inventory: which paper component every tensor belongs to, and how many weights.

Components use the names of the official checkpoint inventory (official-checkpoint.md):
backbone, neck, transformer_misc (level embeddings), encoder, proposal, stpd_misc (pose
queries), stpd, stpd_heads, stjd_misc (joint queries), stjd, stjd_heads. Counts follow the
official parameter definition: every weight tensor including frozen BatchNorm affines, but not
BN running statistics or step counters. Torch-free apart from reading tensors' shapes.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

COMPONENTS: dict[str, str] = {
    "backbone": "backbone",
    "neck": "neck",
    "transformer_misc": "level embeds",
    "encoder": "encoder",
    "proposal": "proposals",
    "stpd_misc": "pose queries",
    "stpd": "STPD layers",
    "stpd_heads": "STPD heads",
    "stjd_misc": "joint queries",
    "stjd": "STJD layers",
    "stjd_heads": "STJD heads",
}
# official components that inference does not use
TRAINING_ONLY = ("flow", "unused")
_STATISTICS = ("running_mean", "running_var", "num_batches_tracked")

_PREFIXES = (
    ("backbone.", "backbone"),
    ("neck.", "neck"),
    ("position.", "transformer_misc"),
    ("encoder.", "encoder"),
    ("proposals.", "proposal"),
    ("pose_decoder.query_embedding", "stpd_misc"),
    ("pose_decoder.reference_points", "stpd_misc"),
    ("pose_decoder.layers.", "stpd"),
    ("pose_decoder.", "stpd_heads"),
    ("joint_decoder.query_embedding", "stjd_misc"),
    ("joint_decoder.layers.", "stjd"),
    ("joint_decoder.", "stjd_heads"),
)


def component_of(name: str) -> str:
    """Component of a ``PAVENet`` state-dict key (``ValueError`` for unknown keys)."""
    for prefix, component in _PREFIXES:
        if name.startswith(prefix):
            return component
    raise ValueError(f"state-dict key {name!r} belongs to no known component")


def is_weight(name: str) -> bool:
    """True for weight tensors; False for BN running statistics and step counters."""
    return not name.endswith(_STATISTICS)


def model_inventory(state_dict) -> list[tuple[str, tuple[int, ...], str]]:
    """(key, shape, component) of every weight tensor of a PAVENet state dict."""
    return [(k, tuple(v.shape), component_of(k)) for k, v in state_dict.items() if is_weight(k)]


def official_inventory_path() -> Path | None:
    """The official R50 inventory TSV under ``$PAVENET_SHARED/specs``, or None when the
    variable is unset or the file absent (``pavenet info --official PATH`` names it directly)."""
    root = os.environ.get("PAVENET_SHARED")
    path = Path(root) / "specs" / "official-r50-state-dict.tsv" if root else None
    return path if path is not None and path.is_file() else None


def read_official_inventory(path: str | Path) -> list[tuple[str, tuple[int, ...], str]]:
    """(key, shape, component) of every weight tensor in an official inventory TSV, without
    BN statistics and without training-only/unused components."""
    rows = []
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            key, component = row["key"], row["component"]
            if component in TRAINING_ONLY or not is_weight(key):
                continue
            shape = tuple(int(s) for s in row["shape"].split(",")) if row["shape"] else ()
            rows.append((key, shape, component))
    return rows


def count_by_component(inventory: list[tuple[str, tuple[int, ...], str]]) -> dict[str, int]:
    """Number of weights per component (every component of ``COMPONENTS`` present)."""
    counts = dict.fromkeys(COMPONENTS, 0)
    for _, shape, component in inventory:
        n = 1
        for s in shape:
            n *= s
        counts[component] = counts.get(component, 0) + n
    return counts
