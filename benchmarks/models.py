"""Models, exported packages and frames the sections share.

Weights are random (seeded): timing does not depend on them, except how many people a model
reports, which only the post-processing and tracker see. ``bundled_tiny()`` returns the
trained bundled model when the source tree holds one.
"""

from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path

import numpy as np

from .common import REPO, Mode

_TMP = tempfile.TemporaryDirectory(prefix="pavenet-bench-")
_PACKAGES: dict[tuple, Path] = {}


def configs(mode: Mode) -> dict:
    """Model name -> base config (T = 1) measured in this mode.

    Smoke: "tiny" is the micro model; "paper-r50" is its ResNet-50 counterpart at 64x64.
    """
    from pavenet_sdk.model import get_preset

    if mode.micro:
        micro = get_preset("micro")
        r50 = micro.replace(**{"backbone.depth": 50, "backbone.width": 8})
        return {"tiny": micro, "paper-r50": r50}
    out = {"tiny": get_preset("tiny")}
    if mode.r50_size is not None:
        out["paper-r50"] = get_preset("paper-r50").replace(input_size=mode.r50_size)
    return out


def build(cfg, seed: int = 0):
    """An eval-mode model with seeded random weights."""
    import torch

    from pavenet_sdk.model import build_model

    torch.manual_seed(seed)
    return build_model(cfg).eval()


def package(model, formats: tuple[str, ...], name: str) -> Path:
    """Export ``model`` (whose weights depend only on its config) once per config + formats."""
    from pavenet_sdk.export import export_package

    key = (name, model.config.T, model.config.input_size, formats)
    if key not in _PACKAGES:
        h, w = model.config.input_size
        out = Path(_TMP.name) / f"{name}-T{model.config.T}-{h}x{w}-{'+'.join(formats)}"
        export_package(model, out, list(formats), name="bench")
        model.set_fused_attention(True)  # exporters toggle the flag; leave the fast path on
        _PACKAGES[key] = out
    return _PACKAGES[key]


def formats(mode: Mode, wanted: tuple[str, ...] = ("onnx", "openvino", "torchscript", "torch")):
    """The export formats of ``wanted`` whose engine is installed and the mode allows."""
    from pavenet_sdk.runtime.backends import available_backends

    installed = set(available_backends())
    allowed = set(mode.formats or wanted)
    return tuple(f for f in wanted if f in installed and f in allowed)


STREAMING = ("onnx", "openvino", "torch")  # what the auto backend and the torch backend need


def bundled_tiny() -> Path | None:
    """``models/pavenet-tiny`` of the source tree when it holds a package."""
    path = REPO / "models" / "pavenet-tiny"
    return path if (path / "manifest.json").is_file() else None


@cache
def clip_frames(persons: int, frames: int, size: tuple[int, int], seed: int = 0) -> tuple:
    """BGR uint8 frames of a synthetic clip with ``persons`` people, ``size`` = (w, h)."""
    from pavenet_sdk.data.synth import generate_clip

    clip = generate_clip("mixed", seed=seed, num_frames=frames, num_persons=persons, size=size)
    return tuple(np.ascontiguousarray(f) for f in clip.frames)


class Cycle:
    """Endless iterator over a tuple of frames (a looping camera)."""

    def __init__(self, frames: tuple) -> None:
        self.frames, self.i = frames, 0

    def __call__(self) -> np.ndarray:
        frame = self.frames[self.i % len(self.frames)]
        self.i += 1
        return frame
