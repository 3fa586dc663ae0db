"""Model packages: ``manifest.json`` + an encoder graph + a decoder graph per format.

A package is a directory (or a ``.zip`` / ``.tar.gz`` archive of one). The manifest is
validated field by field on load, so a missing file, a corrupt graph or a package written by
a newer SDK fails with an error that names the problem instead of failing deep inside a
backend. The manifest's fields and their checks live in :mod:`pavenet_sdk.manifest`.
"""

from __future__ import annotations

import json
import tarfile
import tempfile
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pavenet_sdk.layouts import JointLayout
from pavenet_sdk.manifest import (
    FORMAT_VERSION,
    GRAPH_FILES,
    MAX_T,
    PackageError,
    manifest_layout,
    validate_manifest,
)

__all__ = [
    "FORMAT_VERSION",
    "GRAPH_FILES",
    "MAX_T",
    "ModelPackage",
    "PackageError",
    "load_package",
    "validate_manifest",
]


@dataclass(frozen=True)
class ModelPackage:
    """A validated model package.

    ``root`` is its directory, or None for a model held in memory
    (``Estimator.from_model``), which has a manifest but no files. Sizes are (width, height).
    """

    root: Path | None
    manifest: dict[str, Any]
    _tmp: Any = field(default=None, repr=False, compare=False)  # keeps an extracted archive alive

    @property
    def name(self) -> str:
        return self.manifest["name"]

    @property
    def input_resolution(self) -> tuple[int, int]:
        """(width, height) px of the letterboxed model input."""
        h, w = self.manifest["input_size"]
        return int(w), int(h)

    @property
    def input_size(self) -> tuple[int, int]:
        """Deprecated: (height, width) px of the model input; use :attr:`input_resolution`,
        which is (width, height) like every size in the runtime API."""
        warnings.warn(
            "ModelPackage.input_size is (height, width) and deprecated; use "
            "ModelPackage.input_resolution, which is (width, height)",
            DeprecationWarning,
            stacklevel=2,
        )
        w, h = self.input_resolution
        return h, w

    @property
    def T(self) -> int:
        return int(self.manifest["T"])

    @property
    def layout(self) -> JointLayout:
        """The joint layout the model predicts."""
        return manifest_layout(self.manifest)

    @property
    def formats(self) -> list[str]:
        return list(self.manifest["formats"])

    def graph(self, fmt: str, part: str) -> Path:
        """Path of ``part`` ("encoder", "decoder" or "checkpoint") in format ``fmt``."""
        if self.root is None:
            raise PackageError(f"model {self.name!r} is held in memory and has no graph files")
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
    manifest = validate_manifest(manifest, where=str(manifest_path))
    for fmt in manifest["formats"]:
        for part, name in GRAPH_FILES[fmt].items():
            graph = root / name
            if not graph.is_file() or graph.stat().st_size == 0:
                raise PackageError(f"{root}: the {fmt} {part} graph {name} is missing or empty")
            if fmt == "openvino" and not graph.with_suffix(".bin").is_file():
                raise PackageError(f"{root}: {graph.with_suffix('.bin').name} is missing")
    return manifest


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
