"""The model package manifest (``manifest.json``): built and validated here, and only here.

A model package is a folder holding ``manifest.json`` and the encoder/decoder graphs of one
or more formats (``GRAPH_FILES``). The manifest states everything the runtime needs without
running the model: input size, normalisation, T, the joint layout, token count and the model
config. :func:`build_manifest` writes it from a model config (export, ``Estimator.from_model``);
:func:`validate_manifest` checks one field by field and returns it in the current form.

Format versions:

- 1: no ``layout`` field; every model had the 15 PoseTrack joints. Still loads, as
  ``posetrack-15``.
- 2 (current): ``layout`` holds the joint layout in full (``JointLayout.to_dict()``);
  ``num_joints``, ``joint_names`` and ``skeleton`` repeat it for readers that predate it and
  must agree with it.

Sizes: the manifest's ``input_size`` is [height, width] (the model config's order); the
runtime API reports sizes as (width, height).

torch-free: the runtime imports this on any install.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from pavenet_sdk.errors import InputError
from pavenet_sdk.layouts import DEFAULT_LAYOUT, JointLayout, get_layout

if TYPE_CHECKING:
    from pavenet_sdk.model.config import ModelConfig

__all__ = [
    "FORMAT_VERSION",
    "GRAPH_FILES",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "MAX_T",
    "PackageError",
    "build_manifest",
    "manifest_layout",
    "validate_manifest",
]

FORMAT_VERSION = 2
# ImageNet statistics, RGB order, 0-255 scale: how every PAVE-Net backbone was trained
IMAGENET_MEAN: tuple[float, float, float] = (123.675, 116.28, 103.53)
IMAGENET_STD: tuple[float, float, float] = (58.395, 57.12, 57.375)
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


class PackageError(InputError):
    """A model package or its manifest is missing, incomplete, corrupt or of an unsupported
    version."""


#: the person-score threshold of a package whose manifest names none. Optional manifest fields
#: ``score_threshold`` and ``nms_oks`` are a model's own post-processing defaults, used when
#: the user gives none
DEFAULT_SCORE_THRESHOLD = 0.3


def build_manifest(
    config: ModelConfig, *, name: str, formats: list[str], **info: Any
) -> dict[str, Any]:
    """The manifest of a package of a model built from ``config`` (validated).

    ``formats``: the graph formats the package holds; ``info`` entries (e.g. ``training``,
    ``accuracy``) are stored as given.
    """
    from pavenet_sdk import __version__

    layout = config.joint_layout
    in_h, in_w = config.input_size
    manifest = {
        "format_version": FORMAT_VERSION,
        "name": name,
        "sdk_version": __version__,
        "input_size": [int(in_h), int(in_w)],
        "mean": list(IMAGENET_MEAN),
        "std": list(IMAGENET_STD),
        "color": "rgb",
        "T": int(config.T),
        "num_joints": layout.num_joints,
        "joint_names": list(layout.joints),
        "skeleton": [list(pair) for pair in layout.skeleton],
        "layout": layout.to_dict(),
        "level_shapes": [[int(h), int(w)] for h, w in config.level_shapes],
        "num_tokens": int(config.num_tokens),
        "d_model": int(config.d_model),
        "top_k": int(config.top_k),
        "formats": list(formats),
        "model_config": config.to_dict(),
        **info,
    }
    return validate_manifest(manifest, where=f"manifest of {name!r}")


def manifest_layout(manifest: dict[str, Any]) -> JointLayout:
    """The joint layout of a manifest :func:`validate_manifest` returned."""
    return JointLayout.from_dict(manifest["layout"])


def validate_manifest(manifest: dict[str, Any], where: str = "manifest") -> dict[str, Any]:
    """Check every field; return the manifest in the current form (a new dict).

    A version-1 manifest gets its ``layout`` (posetrack-15). Raises :class:`PackageError`
    naming the first field that is missing or malformed, or a version newer than this SDK's.
    """
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
    _check_values(manifest, where)
    manifest = dict(manifest)
    manifest["layout"] = _checked_layout(manifest, version, where).to_dict()
    return manifest


def _check_values(manifest: dict[str, Any], where: str) -> None:
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
    threshold = manifest.get("score_threshold", DEFAULT_SCORE_THRESHOLD)
    if not _is_number(threshold) or not 0.0 <= threshold <= 1.0:
        raise PackageError(f"{where}: 'score_threshold' must be in [0, 1], got {threshold!r}")
    nms = manifest.get("nms_oks")
    if nms is not None and (not _is_number(nms) or not 0.0 <= nms <= 1.0):
        raise PackageError(f"{where}: 'nms_oks' must be in [0, 1] or null, got {nms!r}")
    formats = manifest["formats"]
    unknown = [f for f in formats if not isinstance(f, str) or f not in GRAPH_FILES]
    if unknown or not formats or len(set(formats)) != len(formats):
        raise PackageError(
            f"{where}: 'formats' must list distinct names from {sorted(GRAPH_FILES)}, "
            f"got {manifest['formats']!r}"
        )


def _checked_layout(manifest: dict[str, Any], version: int, where: str) -> JointLayout:
    """The declared layout (version 1: posetrack-15), checked against the joint fields."""
    if version == 1 and "layout" not in manifest:
        layout = get_layout(DEFAULT_LAYOUT)
        source = f"a format-1 manifest (no 'layout': {layout.name})"
    else:
        data = manifest.get("layout")
        if not isinstance(data, dict):
            raise PackageError(
                f"{where}: field 'layout' (the joint layout) must be an object, "
                f"got {type(data).__name__}"
            )
        try:
            layout = JointLayout.from_dict(data)
        except (ValueError, TypeError, KeyError, OverflowError) as exc:
            raise PackageError(
                f"{where}: field 'layout' is not a valid joint layout: {exc}"
            ) from None
        if not all(math.isfinite(s) for s in layout.sigmas):
            raise PackageError(f"{where}: the OKS sigmas of 'layout' must be finite")
        source = f"its layout {layout.name!r}"
    names = manifest["joint_names"]
    if manifest["num_joints"] != layout.num_joints or list(layout.joints) != names:
        raise PackageError(
            f"{where}: 'num_joints' ({manifest['num_joints']}) and 'joint_names' {names!r} "
            f"disagree with {source}: {layout.num_joints} joints {list(layout.joints)!r}"
        )
    skeleton = manifest["skeleton"]
    if skeleton != [list(pair) for pair in layout.skeleton]:
        raise PackageError(f"{where}: 'skeleton' {skeleton!r} disagrees with {source}")
    return layout


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_pair(value: Any) -> bool:
    """A [height, width] of positive ints (bools are not ints here)."""
    return (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value)
    )
