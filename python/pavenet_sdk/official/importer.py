"""Import the authors' released PAVE-Net weights into a pavenet-sdk ``PAVENet``.

Steps: :func:`load_official_state_dict` (safe ``torch.load``) -> :func:`plan_import` (key map,
skips, shape and dtype checks; works on shapes only) -> :func:`convert_state_dict` -> strict
``load_state_dict``. :func:`import_official` runs them all and raises
:class:`OfficialImportError` with a readable report when anything does not match.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pavenet_sdk.errors import InputError
from pavenet_sdk.model import ModelConfig, PAVENet, build_model
from pavenet_sdk.torch_io import load_tensors

from .keymap import DROPPED_SUFFIX, build_key_map, skip_reason

MODULE_PREFIX = "module."  # DistributedDataParallel wrapper prefix

# numpy objects an mmcv ``meta`` entry may hold (scalars such as a best score, or small
# arrays); anything inside them still goes through the restricted unpickler
_MULTIARRAY = np._core.multiarray if hasattr(np, "_core") else np.core.multiarray
_DTYPE_NAMES = "Bool Int8 Int16 Int32 Int64 UInt8 UInt16 UInt32 UInt64 Float16 Float32 Float64 Str"
_NUMPY_SAFE_GLOBALS: list[Any] = [
    np.dtype,
    np.ndarray,
    _MULTIARRAY.scalar,
    _MULTIARRAY._reconstruct,
    # files written with numpy 1.x name the module numpy.core
    (_MULTIARRAY.scalar, "numpy.core.multiarray.scalar"),
    (_MULTIARRAY._reconstruct, "numpy.core.multiarray._reconstruct"),
    # numpy >= 2 pickles a scalar's dtype through its class
    *(getattr(np.dtypes, f"{n}DType") for n in _DTYPE_NAMES.split() if hasattr(np, "dtypes")),
]


class OfficialImportError(InputError):
    """The checkpoint does not match the model; ``report`` lists every problem."""

    def __init__(self, report: ImportReport) -> None:
        super().__init__(report.format())
        self.report = report


@dataclass
class ImportReport:
    """Outcome of matching an official state dict against our model.

    missing: (our key, official key it needs) pairs absent from the checkpoint.
    unexpected: official keys that are neither used, skipped nor dropped.
    shape_mismatch: (official key, official shape, our key, our shape).
    value_mismatch: (official key, reason) for deterministic integer buffers that differ.
    unmapped: our keys that no key-map row covers (a model the importer does not know).
    """

    missing: list[tuple[str, str]] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    shape_mismatch: list[tuple[str, tuple, str, tuple]] = field(default_factory=list)
    value_mismatch: list[tuple[str, str]] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)  # reason -> number of keys
    dropped: int = 0  # num_batches_tracked counters
    mapped: int = 0  # tensors imported
    parameters: int = 0  # elements imported

    @property
    def ok(self) -> bool:
        return not (
            self.missing or self.unexpected or self.shape_mismatch or self.value_mismatch
            or self.unmapped
        )  # fmt: skip

    def format(self, max_items: int = 10) -> str:
        """Human-readable summary; each problem list shows its first ``max_items`` entries."""
        lines = [
            f"matched {self.mapped} tensors ({self.parameters:,} values); dropped "
            f"{self.dropped} BatchNorm step counters; skipped "
            + (", ".join(f"{n} {r}" for r, n in sorted(self.skipped.items())) or "nothing")
        ]
        sections = (
            ("missing from the checkpoint", [f"{o}  (for {k})" for k, o in self.missing]),
            ("unexpected in the checkpoint", self.unexpected),
            (
                "shape mismatches",
                [f"{o} {list(os)} vs ours {k} {list(ks)}" for o, os, k, ks in self.shape_mismatch],
            ),
            ("value mismatches", [f"{o}: {why}" for o, why in self.value_mismatch]),
            ("model tensors without a key-map row", self.unmapped),
        )
        for title, items in sections:
            if items:
                lines.append(f"{len(items)} {title}:")
                lines += [f"  {item}" for item in items[:max_items]]
                if len(items) > max_items:
                    lines.append(f"  ... and {len(items) - max_items} more")
        return "\n".join(lines)


def load_official_checkpoint(path: str | Path) -> dict[str, Any]:
    """``torch.load(weights_only=True)`` of an official checkpoint (numpy scalars allowed in
    ``meta``); any other pickled object is refused with a ``ValueError``."""
    payload = load_tensors(path, "plain tensor checkpoint", safe_globals=_NUMPY_SAFE_GLOBALS)
    if not isinstance(payload, dict):
        raise ValueError(f"{path} holds a {type(payload).__name__}, expected a dict")
    return payload


def extract_state_dict(payload: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    """The tensors of an mmcv checkpoint (``state_dict`` entry, or a bare state dict), with
    any ``module.`` prefix stripped; ``optimizer`` and ``meta`` are ignored."""
    fmt = payload.get("format")
    if isinstance(fmt, str) and fmt.startswith("pavenet-checkpoint"):
        raise ValueError("this is already a pavenet-sdk checkpoint; use it directly")
    state = payload.get("state_dict", payload)
    if not isinstance(state, Mapping):
        raise ValueError(f"'state_dict' is a {type(state).__name__}, expected a mapping")
    out: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        if not torch.is_tensor(value):
            raise ValueError(
                f"entry {key!r} is a {type(value).__name__}, not a tensor: expected an mmcv "
                "checkpoint with a 'state_dict' entry or a bare state dict"
            )
        name = key[len(MODULE_PREFIX) :] if key.startswith(MODULE_PREFIX) else key
        if name in out:
            raise ValueError(f"key {name!r} occurs twice (with and without {MODULE_PREFIX!r})")
        out[name] = value
    if not out:
        raise ValueError("the checkpoint holds no tensors")
    return out


def load_official_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """:func:`load_official_checkpoint` + :func:`extract_state_dict`."""
    return extract_state_dict(load_official_checkpoint(path))


def key_map_for(model: PAVENet) -> tuple[dict[str, str], list[str]]:
    """(our key -> official key, unmapped keys) for ``model``'s state dict."""
    cfg = model.config
    if cfg.num_frames != 3 or cfg.decoder_frames != 3 or cfg.references != "pose_aware":
        raise ValueError(
            "the official checkpoints are 3-frame PAVE-Net models with pose-aware references: "
            f"need T=1, temporal='pavenet', per-frame encoder, got {cfg.name!r} (T={cfg.T}, "
            f"temporal={cfg.temporal!r}, encoder_type={cfg.encoder_type!r}, "
            f"references={cfg.references!r})"
        )
    return build_key_map(
        model.state_dict().keys(),
        cfg.encoder.num_layers,
        cfg.pose_decoder.num_layers,
        cfg.joint_decoder.num_layers,
    )


def plan_import(
    official: Mapping[str, torch.Tensor], ours: Mapping[str, torch.Tensor], key_map: dict[str, str]
) -> ImportReport:
    """Check names, shapes and dtypes (and integer buffers' values) without copying anything.

    ``ours`` may live on the meta device (only shapes and dtypes are read, except for
    integer buffers, whose values are compared when both sides hold data).
    """
    report = ImportReport()
    used: set[str] = set()
    for our_key, off_key in key_map.items():
        if off_key not in official:
            report.missing.append((our_key, off_key))
            continue
        used.add(off_key)
        src, dst = official[off_key], ours[our_key]
        if tuple(src.shape) != tuple(dst.shape):
            report.shape_mismatch.append((off_key, tuple(src.shape), our_key, tuple(dst.shape)))
            continue
        if src.is_floating_point() != dst.is_floating_point():
            report.value_mismatch.append((off_key, f"dtype {src.dtype} where ours is {dst.dtype}"))
            continue
        if not dst.is_floating_point() and not (src.is_meta or dst.is_meta):
            # integer buffers (e.g. Swin's relative_position_index) are derived from the
            # architecture; a different value means a different model, not other weights
            if not torch.equal(src.to(dst.dtype), dst):
                report.value_mismatch.append((off_key, "differs from the value our model derives"))
                continue
        report.mapped += 1
        report.parameters += src.numel()
    for key in official:
        if key in used:
            continue
        reason = skip_reason(key)
        if reason is not None:
            report.skipped[reason] += 1
        elif key.endswith(DROPPED_SUFFIX) and key.startswith("backbone."):
            report.dropped += 1
        else:
            report.unexpected.append(key)
    return report


def convert_state_dict(
    official: Mapping[str, torch.Tensor], ours: Mapping[str, torch.Tensor], key_map: dict[str, str]
) -> dict[str, torch.Tensor]:
    """Our state dict filled from ``official`` (cast to our dtypes; call after a clean plan)."""
    return {
        our_key: official[off_key].detach().to(dtype=ours[our_key].dtype).clone()
        for our_key, off_key in key_map.items()
    }


def import_state_dict(model: PAVENet, official: Mapping[str, torch.Tensor]) -> ImportReport:
    """Fill ``model`` in place from an official state dict; raises :class:`OfficialImportError`
    (with the full report) unless every official inference tensor is used exactly once and
    every one of ours is filled with the right shape."""
    key_map, unmapped = key_map_for(model)
    ours = model.state_dict()
    report = plan_import(official, ours, key_map)
    report.unmapped = unmapped
    if not report.ok:
        raise OfficialImportError(report)
    model.load_state_dict(convert_state_dict(official, ours, key_map), strict=True)
    return report


def file_sha256(path: str | Path, chunk: int = 1 << 22) -> str:
    """Hex SHA-256 of a file, read in 4 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def import_official(
    path: str | Path, config: ModelConfig | str = "paper-r50"
) -> tuple[PAVENet, ImportReport]:
    """Build ``config`` (a preset name or config) and load the official checkpoint at ``path``
    into it. Returns (model in eval mode, report)."""
    official = load_official_state_dict(path)
    model = build_model(config)
    report = import_state_dict(model, official)
    return model.eval(), report
