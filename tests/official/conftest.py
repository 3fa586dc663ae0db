"""Synthetic official-format checkpoints built from the shared key inventories (TSV)."""

from __future__ import annotations

import csv
from collections import OrderedDict
from pathlib import Path

import pytest

from shared_data import SHARED

torch = pytest.importorskip("torch")

R50_TSV = SHARED / "specs" / "official-r50-state-dict.tsv"
SWINL_TSV = SHARED / "specs" / "official-swinl-backbone-neck.tsv"


def read_inventory(path: Path) -> list[tuple[str, tuple[int, ...], str]]:
    """(key, shape, component) rows of an official inventory TSV, in state-dict order."""
    with open(path, newline="", encoding="utf-8") as f:
        return [
            (
                row["key"],
                tuple(int(s) for s in row["shape"].split(",")) if row["shape"] else (),
                row["component"],
            )
            for row in csv.DictReader(f, delimiter="\t")
        ]


def _is_integer(key: str) -> bool:
    return key.endswith(("num_batches_tracked", "relative_position_index"))


def synthetic_state_dict(rows, device: str = "cpu") -> OrderedDict:
    """Every tensor filled with distinct values: tensor i holds i + 1 + arange(n) / n, so the
    integer part names the tensor and no two tensors are equal. Integer buffers get a
    tensor-specific value too, except ``relative_position_index``, which must equal the
    window geometry (filled by the caller when needed)."""
    state = OrderedDict()
    for i, (key, shape, _) in enumerate(rows):
        if device == "meta":
            dtype = torch.long if _is_integer(key) else torch.float32
            state[key] = torch.empty(shape, dtype=dtype, device="meta")
        elif key.endswith("num_batches_tracked"):
            state[key] = torch.tensor(1000 + i, dtype=torch.long)
        elif key.endswith("relative_position_index"):
            state[key] = torch.zeros(shape, dtype=torch.long)
        else:
            n = 1
            for s in shape:
                n *= s
            values = (i + 1) + torch.arange(n, dtype=torch.float64) / max(n, 1)
            state[key] = values.to(torch.float32).reshape(shape)
    return state


@pytest.fixture(autouse=True)
def _one_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="session")
def r50_rows():
    """Rows of the official R50 inventory (the test is skipped without the shared specs)."""
    if not R50_TSV.is_file():
        pytest.skip(f"official R50 inventory absent: {R50_TSV}")
    return read_inventory(R50_TSV)


@pytest.fixture(scope="session")
def swinl_rows(r50_rows):
    """Rows of the official Swin-L model: its backbone + neck, then the R50 bbox_head rows."""
    if not SWINL_TSV.is_file():
        pytest.skip(f"official Swin-L inventory absent: {SWINL_TSV}")
    return read_inventory(SWINL_TSV) + [r for r in r50_rows if r[0].startswith("bbox_head.")]


@pytest.fixture(scope="session")
def make_synthetic():
    """``make_synthetic(rows, device="cpu") -> OrderedDict`` (see synthetic_state_dict)."""
    return synthetic_state_dict
