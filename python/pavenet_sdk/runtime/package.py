"""Model packages: ``manifest.json`` + an encoder graph + a decoder graph per format.

A package is a directory (or a ``.zip`` / ``.tar.gz`` archive of one). The manifest is
validated field by field on load, so a missing file, a corrupt graph or a package written by
a newer SDK fails with an error that names the problem instead of failing deep inside a
backend.
"""

from __future__ import annotations

import json
import math
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FORMAT_VERSION = 1
MAX_T = 16  # temporal radius; larger windows are not a model anyone trains
# format -> graph files written by the exporter
GRAPH_FILES: dict[str, dict[str, str]] = {
    "onnx": {"encoder": "encoder.onnx", "decoder": "decoder.onnx"},
    "openvino": {"encoder": "encoder.xml", "decoder": "decoder.xml"},
    "torchscript": {"encoder": "encoder.pt", "decoder": "decoder.pt"},
    "torch": {"checkpoint": "model.pt"},
}
_REQUIRED: dict[str, type | tuple[type, ...]] = {
    "format_version": int,
    "name": str,
    "input_size": list,  # [h, w] px
    "mean": list,
    "std": list,
    "color": str,  # "rgb" or "bgr": the channel order the graphs expect
    "T": int,
    "num_joints": int,
    "joint_names": list,
    "skeleton": list,
    "level_shapes": list,
    "num_tokens": int,
    "d_model": int,
    "top_k": int,
    "formats": list,
    "model_config": dict,
}


class PackageError(ValueError):
    """A model package is missing, incomplete, corrupt or of an unsupported version."""


@dataclass(frozen=True)
class ModelPackage:
    """A validated model package on disk (``root`` is a directory)."""

    root: Path
    manifest: dict[str, Any]
    _tmp: Any = field(default=None, repr=False, compare=False)  # keeps an extracted archive alive

    @property
    def name(self) -> str:
        return self.manifest["name"]

    @property
    def input_size(self) -> tuple[int, int]:
        """(in_h, in_w) px of the letterboxed model input."""
        h, w = self.manifest["input_size"]
        return int(h), int(w)

    @property
    def T(self) -> int:
        return int(self.manifest["T"])

    @property
    def formats(self) -> list[str]:
        return list(self.manifest["formats"])

    def graph(self, fmt: str, part: str) -> Path:
        """Path of ``part`` ("encoder", "decoder" or "checkpoint") in format ``fmt``."""
        if fmt not in self.formats:
            raise PackageError(
                f"package {self.root} has no {fmt!r} graphs (it has: {', '.join(self.formats)}); "
                f"export them with `pavenet export CKPT --format {fmt}`"
            )
        return self.root / GRAPH_FILES[fmt][part]


def load_package(path: str | Path) -> ModelPackage:
    """Open and validate a model package directory or archive."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"model package not found: {path}")
    tmp = None
    if path.is_file():
        tmp = tempfile.TemporaryDirectory(prefix="pavenet-pkg-")
        root = _extract_archive(path, Path(tmp.name))
    else:
        root = path
    manifest = _read_manifest(root)
    return ModelPackage(root=root, manifest=manifest, _tmp=tmp)


def _read_manifest(root: Path) -> dict[str, Any]:
    manifest_path = root / "manifest.json"
    if not manifest_path.is_file():
        raise PackageError(f"{root} is not a model package: manifest.json is missing")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PackageError(f"{manifest_path} is not valid JSON: {exc}") from None
    if not isinstance(manifest, dict):
        raise PackageError(f"{manifest_path} must hold a JSON object")
    validate_manifest(manifest, where=str(manifest_path))
    for fmt in manifest["formats"]:
        for part, name in GRAPH_FILES[fmt].items():
            graph = root / name
            if not graph.is_file() or graph.stat().st_size == 0:
                raise PackageError(f"{root}: the {fmt} {part} graph {name} is missing or empty")
            if fmt == "openvino" and not graph.with_suffix(".bin").is_file():
                raise PackageError(f"{root}: {graph.with_suffix('.bin').name} is missing")
    return manifest


def validate_manifest(manifest: dict[str, Any], where: str = "manifest") -> None:
    """Raise :class:`PackageError` naming the first field that is missing or malformed."""
    version = manifest.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise PackageError(f"{where}: 'format_version' must be an integer, got {version!r}")
    if version > FORMAT_VERSION:
        raise PackageError(
            f"{where}: package format version {version} is newer than this SDK supports "
            f"({FORMAT_VERSION}); upgrade pavenet-sdk"
        )
    if version < 1:
        raise PackageError(f"{where}: unknown package format version {version}")
    for key, kind in _REQUIRED.items():
        if key not in manifest:
            raise PackageError(f"{where}: required field {key!r} is missing")
        if not isinstance(manifest[key], kind) or isinstance(manifest[key], bool):
            raise PackageError(
                f"{where}: field {key!r} must be {getattr(kind, '__name__', kind)}, "
                f"got {type(manifest[key]).__name__}"
            )
    if not _is_pair(manifest["input_size"]):
        raise PackageError(
            f"{where}: 'input_size' must be [height, width] > 0, got {manifest['input_size']!r}"
        )
    for key in ("mean", "std"):
        values = manifest[key]
        if len(values) != 3 or not all(_is_number(v) for v in values):
            raise PackageError(f"{where}: {key!r} must be 3 finite numbers, got {values!r}")
    if not all(v > 0 for v in manifest["std"]):
        raise PackageError(f"{where}: 'std' must be > 0, got {manifest['std']!r}")
    if manifest["color"] not in ("rgb", "bgr"):
        raise PackageError(f"{where}: 'color' must be 'rgb' or 'bgr', got {manifest['color']!r}")
    if not 0 <= manifest["T"] <= MAX_T:
        raise PackageError(f"{where}: 'T' must be in [0, {MAX_T}], got {manifest['T']}")
    for key in ("num_joints", "num_tokens", "d_model", "top_k"):
        if manifest[key] < 1:
            raise PackageError(f"{where}: {key!r} must be >= 1, got {manifest[key]}")
    if len(manifest["joint_names"]) != manifest["num_joints"]:
        raise PackageError(f"{where}: 'joint_names' does not have 'num_joints' entries")
    shapes = manifest["level_shapes"]
    if not shapes or not all(_is_pair(s) for s in shapes):
        raise PackageError(f"{where}: 'level_shapes' must be a list of [height, width] > 0")
    if sum(h * w for h, w in shapes) != manifest["num_tokens"]:
        raise PackageError(f"{where}: 'level_shapes' do not add up to 'num_tokens'")
    formats = manifest["formats"]
    unknown = [f for f in formats if not isinstance(f, str) or f not in GRAPH_FILES]
    if unknown or not formats or len(set(formats)) != len(formats):
        raise PackageError(
            f"{where}: 'formats' must list distinct names from {sorted(GRAPH_FILES)}, "
            f"got {manifest['formats']!r}"
        )


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_pair(value: Any) -> bool:
    """A [height, width] of positive ints (bools are not ints here)."""
    return (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value)
    )


def _extract_archive(archive: Path, target: Path) -> Path:
    """Extract a .zip or .tar(.gz) package, refusing members that would land outside ``target``."""
    target = target.resolve()

    def safe(name: str) -> Path:
        dest = (target / name).resolve()
        if dest != target and target not in dest.parents:
            raise PackageError(f"{archive}: archive member {name!r} points outside the package")
        return dest

    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            for member in zf.infolist():
                safe(member.filename)
            zf.extractall(target)
    elif tarfile.is_tarfile(archive):
        with tarfile.open(archive) as tf:
            for member in tf.getmembers():
                safe(member.name)
                if not (member.isfile() or member.isdir()):
                    raise PackageError(f"{archive}: member {member.name!r} is not a regular file")
            tf.extractall(target, filter="data")
    else:
        raise PackageError(f"{archive} is neither a package directory nor a .zip/.tar archive")
    entries = [p for p in target.iterdir()]
    # accept archives holding the files directly or one top-level folder
    if len(entries) == 1 and entries[0].is_dir() and not (target / "manifest.json").exists():
        return entries[0]
    return target
