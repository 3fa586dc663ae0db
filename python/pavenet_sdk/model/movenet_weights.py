"""Read MoveNet's feature-extractor weights from a MoveNet ONNX file into :class:`MobileNetV2FPN`.

MoveNet (Google, Apache-2.0) ships as a TF.js graph; converted to ONNX its extractor is a run
of Conv / Clip(0, 6) / Add / Resize / Relu nodes after an input normalisation
``x * scale + offset`` and an NHWC -> NCHW Transpose. Node names are not relied on: the graph
is walked from that Transpose along the data flow, each node chosen by its type and the node
after it (an expand convolution is followed by ReLU6, an FPN lateral by an Add, ...), and each
convolution's shape, stride, groups and padding are checked against the module before its
weights are taken. Works for MoveNet MultiPose Lightning (width 1.5) and SinglePose Thunder
(width 1.75); the width multiplier is read from the stem.

``python -m pavenet_sdk.model.movenet_weights TEACHER.onnx OUT.pt`` converts, checks the
module against ONNX Runtime on a random image and saves.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pavenet_sdk.errors import InputError
from pavenet_sdk.torch_io import load_tensors

from .mobilenet_fpn import TAP_BLOCKS, MobileNetV2FPN

FORMAT = "pavenet-movenet-extractor/1"
LEVELS = ("p8", "p16", "p32")


class MoveNetFormatError(InputError):
    """The file is unreadable, or not a MoveNet MobileNetV2-FPN graph (or converted file)."""


@dataclass
class MoveNetExtractor:
    """Weights of MoveNet's extractor and what the graph does before it.

    state_dict: keys and shapes of :class:`MobileNetV2FPN` (``width_multiplier``).
    scale, offset: per RGB channel, the graph feeds ``pixel * scale + offset`` (pixel 0-255)
        to the stem; ``mean = -offset / scale``, ``std = 1 / scale`` in manifest terms.
    tensors: ONNX tensor names of the maps the module returns (``p8``, ``p16``, ``p32``) and
        of every block output (``block_{i}``), for comparing with ONNX Runtime (set by
        :func:`convert`, not saved).
    source: file name and sha256 of the ONNX file.
    """

    state_dict: dict[str, torch.Tensor]
    width_multiplier: float
    scale: tuple[float, float, float]
    offset: tuple[float, float, float]
    tensors: dict[str, str] = field(default_factory=dict)
    source: dict[str, str] = field(default_factory=dict)

    @property
    def mean(self) -> tuple[float, float, float]:
        """Input mean (RGB, 0-255) equivalent to the graph's normalisation."""
        return tuple(-o / s for o, s in zip(self.offset, self.scale, strict=True))  # type: ignore[return-value]

    @property
    def std(self) -> tuple[float, float, float]:
        """Input std (RGB, 0-255) equivalent to the graph's normalisation."""
        return tuple(1.0 / s for s in self.scale)  # type: ignore[return-value]

    def build(self, frozen_stages: int = 0) -> MobileNetV2FPN:
        """A :class:`MobileNetV2FPN` holding these weights."""
        module = MobileNetV2FPN(self.width_multiplier, frozen_stages)
        module.load_state_dict(self.state_dict, strict=True)
        return module

    def normalise(self, images: np.ndarray) -> torch.Tensor:
        """uint8/int RGB images (B, H, W, 3) -> the module's input (B, 3, H, W), exactly as the
        graph computes it (float32 ``x * scale + offset``)."""
        x = torch.from_numpy(np.asarray(images, np.float32)).permute(0, 3, 1, 2)
        scale = torch.tensor(self.scale, dtype=torch.float32)[None, :, None, None]
        offset = torch.tensor(self.offset, dtype=torch.float32)[None, :, None, None]
        return x * scale + offset

    def save(self, path: str | Path) -> None:
        """Write a .pt file (state dict plus width, normalisation and source)."""
        path = Path(path)
        if not path.parent.is_dir():
            raise FileNotFoundError(f"output directory does not exist: {path.parent}")
        torch.save(
            {
                "format": FORMAT,
                "state_dict": self.state_dict,
                "width_multiplier": self.width_multiplier,
                "scale": list(self.scale),
                "offset": list(self.offset),
                "source": dict(self.source),
            },
            path,
        )

    @classmethod
    def load(cls, path: str | Path) -> MoveNetExtractor:
        """Read a file written by :meth:`save`."""
        path = Path(path)
        d = load_tensors(path, "converted MoveNet extractor", MoveNetFormatError)
        if not isinstance(d, dict) or d.get("format") != FORMAT:
            raise MoveNetFormatError(f"{path}: not a converted MoveNet extractor ({FORMAT})")
        return cls(
            d["state_dict"],
            float(d["width_multiplier"]),
            tuple(d["scale"]),
            tuple(d["offset"]),
            source=dict(d["source"]),
        )


def convert(onnx_path: str | Path) -> MoveNetExtractor:
    """Read the extractor weights of a MoveNet ONNX file (see the module docstring).

    Raises FileNotFoundError for a missing file and :class:`MoveNetFormatError` (one line,
    naming the file) for an unreadable file or a graph of another architecture.
    """
    path = Path(onnx_path)
    model = _load_onnx(path)
    try:
        ex = _Walker(model).run()
    except _Mismatch as e:
        raise MoveNetFormatError(f"{path}: not a MoveNet MobileNetV2-FPN graph: {e}") from None
    ex.source = {"file": path.name, "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    return ex


def load_extractor(path: str | Path) -> MoveNetExtractor:
    """A MoveNet ONNX file (converted on the fly) or a ``.pt`` written by
    :meth:`MoveNetExtractor.save`, by suffix."""
    path = Path(path)
    return convert(path) if path.suffix.lower() == ".onnx" else MoveNetExtractor.load(path)


def onnx_feature_maps(
    onnx_path: str | Path, images: np.ndarray, names: list[str]
) -> dict[str, np.ndarray]:
    """Run the ONNX model in ONNX Runtime on RGB ``images`` (1, H, W, 3, values 0-255) and
    return the tensors ``names`` (ONNX tensor names, e.g. ``MoveNetExtractor.tensors`` values).

    An in-memory copy of the model is cut down to the nodes those tensors need, with them as
    its outputs (so backbone tensors can be read at sizes the FPN or the heads reject).
    """
    import onnx
    import onnxruntime as ort
    from onnx.utils import Extractor

    model = _load_onnx(Path(onnx_path))
    known = {v.name for v in model.graph.value_info} | {o.name for o in model.graph.output}
    model.graph.value_info.extend(
        onnx.helper.make_empty_tensor_value_info(n) for n in names if n not in known
    )
    weights = {t.name for t in model.graph.initializer}
    feed_name = next(i.name for i in model.graph.input if i.name not in weights)
    sub = Extractor(model).extract_model([feed_name], list(names))
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    session = ort.InferenceSession(
        sub.SerializeToString(), opts, providers=["CPUExecutionProvider"]
    )
    outputs = session.run(list(names), {feed_name: np.asarray(images, np.int32)})
    return dict(zip(names, outputs, strict=True))


# ---- graph walking ---------------------------------------------------------------------------


class _Mismatch(Exception):
    """The graph differs from the expected extractor (message says where)."""


def _load_onnx(path: Path) -> Any:
    import onnx

    if not path.is_file():
        raise FileNotFoundError(f"MoveNet ONNX file not found (or not a file): {path}")
    try:
        return onnx.load(str(path))
    except Exception as e:  # noqa: BLE001 - protobuf raises several types for bad bytes
        raise MoveNetFormatError(f"{path}: not a readable ONNX model ({e})") from None


class _Walker:
    """Follows the data flow of the extractor and collects the module's state dict."""

    def __init__(self, model: Any) -> None:
        from onnx import numpy_helper

        graph = model.graph
        self.values: dict[str, np.ndarray] = {
            t.name: numpy_helper.to_array(t) for t in graph.initializer
        }
        self.consumers: dict[str, list[Any]] = defaultdict(list)
        self.producer: dict[str, Any] = {}
        for node in graph.node:
            if node.op_type == "Constant" and node.attribute[0].name == "value":
                self.values[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
            for name in node.input:
                self.consumers[name].append(node)
            for name in node.output:
                self.producer[name] = node
        inputs = [i.name for i in graph.input if i.name not in self.values]
        if len(inputs) != 1:
            raise _Mismatch(f"expected one image input, found {inputs}")
        self.input = inputs[0]
        self.state: dict[str, torch.Tensor] = {}
        self.tensors: dict[str, str] = {}

    # -- helpers
    def _attrs(self, node: Any) -> dict[str, Any]:
        from onnx import helper

        return {a.name: helper.get_attribute_value(a) for a in node.attribute}

    def _next(self, tensor: str, op: str, then: str | None = None) -> Any:
        """The one consumer of ``tensor`` of type ``op`` (whose own consumers include a
        ``then`` node, if given)."""
        found = [
            n
            for n in self.consumers[tensor]
            if n.op_type == op
            and (then is None or any(c.op_type == then for c in self.consumers[n.output[0]]))
        ]
        if len(found) != 1:
            what = op + (f" followed by {then}" if then else "")
            raise _Mismatch(f"expected one {what} after {tensor!r}, found {len(found)}")
        return found[0]

    def _const(self, name: str) -> np.ndarray:
        if name not in self.values:
            raise _Mismatch(f"{name!r} is not a constant")
        return self.values[name]

    def _activation(self, tensor: str, op: str) -> str:
        """Output of the ReLU6 (Clip 0..6) or Relu that follows ``tensor``."""
        node = self._next(tensor, op)
        if op == "Clip":
            bounds = [float(self._const(n)) for n in node.input[1:3] if n]
            if bounds != [0.0, 6.0]:
                raise _Mismatch(f"Clip after {tensor!r} has bounds {bounds}, expected [0, 6]")
        return node.output[0]

    def _conv(self, node: Any, key: str, module: torch.nn.Conv2d) -> str:
        """Check ``node`` against ``module``, store its weights under ``key``, return output."""
        a = self._attrs(node)
        weight = self._const(node.input[1])
        k = module.kernel_size[0]
        stride = module.stride[0]
        problems = []
        if tuple(weight.shape) != tuple(module.weight.shape):
            problems.append(f"weight {tuple(weight.shape)} != {tuple(module.weight.shape)}")
        if tuple(a.get("strides", (1, 1))) != (stride, stride):
            problems.append(f"strides {a.get('strides')} != {stride}")
        if a.get("group", 1) != module.groups:
            problems.append(f"group {a.get('group', 1)} != {module.groups}")
        if tuple(a.get("dilations", (1, 1))) != (1, 1):
            problems.append(f"dilations {a.get('dilations')}")
        if not self._same_padding(a, k, stride):
            problems.append(f"padding {a.get('auto_pad')} {a.get('pads')} is not TF SAME")
        has_bias = len(node.input) > 2 and bool(node.input[2])
        if has_bias != (module.bias is not None):
            problems.append(f"bias {'present' if has_bias else 'absent'}")
        if problems:
            raise _Mismatch(f"convolution {node.name!r} for {key}: " + "; ".join(problems))
        self.state[key + ".weight"] = torch.from_numpy(weight.astype(np.float32).copy())
        if has_bias:
            bias = self._const(node.input[2]).astype(np.float32).reshape(-1)
            self.state[key + ".bias"] = torch.from_numpy(bias.copy())
        return node.output[0]

    @staticmethod
    def _same_padding(attrs: dict[str, Any], k: int, stride: int) -> bool:
        auto_pad = attrs.get("auto_pad", b"NOTSET")
        auto_pad = auto_pad.decode() if isinstance(auto_pad, bytes) else auto_pad
        if auto_pad == "SAME_UPPER" or (k == 1 and auto_pad == "VALID"):
            return True
        if auto_pad != "NOTSET":
            return False
        pads = tuple(attrs.get("pads", (0, 0, 0, 0)))
        half = k // 2
        if stride == 1:
            return pads == (half,) * 4
        # a static graph resolves SAME for its (even) sizes: the extra pixel after
        return pads == (half - 1, half - 1, half, half)

    # -- the walk
    def _preprocessing(self) -> tuple[str, np.ndarray, np.ndarray]:
        """Follow the input through elementwise ops to the NCHW Transpose: its output and the
        per-channel affine map (scale, offset) applied to the pixels on the way."""
        scale, offset = np.ones(3, np.float64), np.zeros(3, np.float64)
        tensor = self.input
        for _ in range(16):
            nodes = self.consumers[tensor]
            if len(nodes) != 1:
                raise _Mismatch(f"expected one node after {tensor!r}, found {len(nodes)}")
            node = nodes[0]
            op = node.op_type
            if op == "Transpose":
                if list(self._attrs(node).get("perm", [])) != [0, 3, 1, 2]:
                    raise _Mismatch("the input Transpose is not NHWC -> NCHW")
                return node.output[0], scale, offset
            if op in ("Cast", "Split", "Squeeze", "Unsqueeze", "Identity"):
                if len(node.output) != 1:
                    raise _Mismatch(f"{op} {node.name!r} splits the image")
            elif op in ("Sub", "Add", "Mul", "Div"):
                if node.input[0] != tensor:
                    raise _Mismatch(f"{op} {node.name!r} does not take the image first")
                c = np.broadcast_to(self._const(node.input[1]).astype(np.float64).ravel(), 3)
                if op == "Sub":
                    offset = offset - c
                elif op == "Add":
                    offset = offset + c
                elif op == "Mul":
                    scale, offset = scale * c, offset * c
                else:
                    scale, offset = scale / c, offset / c
            else:
                raise _Mismatch(f"unexpected {op} {node.name!r} in the input normalisation")
            tensor = node.output[0]
        raise _Mismatch("no NHWC -> NCHW Transpose after the input")

    def run(self) -> MoveNetExtractor:
        x, scale, offset = self._preprocessing()
        stem = self._next(x, "Conv")
        c1 = self._const(stem.input[1]).shape[0]
        module = MobileNetV2FPN(c1 / 32)
        x = self._activation(self._conv(stem, "stem", module.stem), "Clip")
        blocks: list[str] = []
        for i, block in enumerate(module.blocks):
            key = f"blocks.{i}"
            inp = x
            if block.expand is not None:
                conv = self._next(x, "Conv", then="Clip")
                x = self._activation(self._conv(conv, key + ".expand", block.expand), "Clip")
            conv = self._next(x, "Conv", then="Clip")
            x = self._activation(self._conv(conv, key + ".depthwise", block.depthwise), "Clip")
            x = self._conv(self._next(x, "Conv"), key + ".project", block.project)
            if block.residual:
                add = self._next(x, "Add")
                if set(add.input) != {inp, x}:
                    raise _Mismatch(f"block {i}: the shortcut Add takes {list(add.input)}")
                x = add.output[0]
            blocks.append(x)
        x = self._activation(self._conv(self._next(x, "Conv"), "last", module.last), "Clip")
        p32 = self._conv(self._next(x, "Conv"), "lateral32", module.lateral32)
        p16 = self._fpn_level(p32, blocks[TAP_BLOCKS[1]], "16", module)
        p8 = self._fpn_level(p16, blocks[TAP_BLOCKS[0]], "8", module)

        expected = set(module.state_dict())
        if set(self.state) != expected:
            raise _Mismatch(f"weights not found for {sorted(expected - set(self.state))}")
        tensors = {"p8": p8, "p16": p16, "p32": p32}
        tensors.update({f"block_{i}": name for i, name in enumerate(blocks)})
        return MoveNetExtractor(
            self.state,
            module.width_multiplier,
            tuple(float(v) for v in scale),
            tuple(float(v) for v in offset),
            tensors,
        )

    def _fpn_level(self, coarse: str, tap: str, level: str, module: MobileNetV2FPN) -> str:
        """Resize(coarse) + lateral(tap) -> separable conv -> Relu; returns the Relu output."""
        resize = self._next(coarse, "Resize")
        a = self._attrs(resize)
        mode = (a.get("mode", b""), a.get("coordinate_transformation_mode", b""))
        if mode != (b"linear", b"half_pixel"):
            raise _Mismatch(f"Resize {resize.name!r} is {mode}, expected linear half_pixel")
        add = self._next(resize.output[0], "Add")
        others = [t for t in add.input if t != resize.output[0]]
        lateral = self.producer.get(others[0]) if len(others) == 1 else None
        if lateral is None or lateral.op_type != "Conv" or lateral.input[0] != tap:
            raise _Mismatch(f"the stride-{level} FPN Add does not take a lateral of {tap!r}")
        self._conv(lateral, f"lateral{level}", getattr(module, f"lateral{level}"))
        smooth = getattr(module, f"smooth{level}")
        x = self._conv(
            self._next(add.output[0], "Conv"), f"smooth{level}.depthwise", smooth.depthwise
        )
        x = self._conv(self._next(x, "Conv"), f"smooth{level}.pointwise", smooth.pointwise)
        return self._activation(x, "Relu")


# ---- command line ----------------------------------------------------------------------------


def compare_with_onnx(
    ex: MoveNetExtractor, onnx_path: str | Path, images: np.ndarray
) -> dict[str, tuple[float, float]]:
    """Per level of the module: (max abs difference from ONNX Runtime's map, max abs value of
    that map) on RGB ``images`` (1, H, W, 3). Float32 round-off grows with the magnitude
    (the stride-32 lateral sums 1280 inputs and reaches a few hundred), so judge the first
    against ``ATOL + RTOL * second``."""
    ref = onnx_feature_maps(onnx_path, images, [ex.tensors[k] for k in LEVELS])
    with torch.no_grad():
        ours = ex.build().eval()(ex.normalise(images))
    out = {}
    for key, o in zip(LEVELS, ours, strict=True):
        r = ref[ex.tensors[key]]
        out[key] = (float(np.abs(o.numpy() - r).max()), float(np.abs(r).max()))
    return out


ATOL = 1e-4
RTOL = 1e-5


def main(argv: list[str] | None = None) -> int:
    """``python -m pavenet_sdk.model.movenet_weights TEACHER.onnx OUT.pt``."""
    parser = argparse.ArgumentParser(
        prog="python -m pavenet_sdk.model.movenet_weights",
        description="Convert MoveNet's MobileNetV2-FPN feature extractor to a PyTorch .pt file.",
    )
    parser.add_argument("onnx", type=Path, help="MoveNet ONNX file (MultiPose or Thunder)")
    parser.add_argument("out", type=Path, help="output .pt file")
    parser.add_argument("--no-check", action="store_true", help="skip the ONNX Runtime check")
    args = parser.parse_args(argv)
    try:
        ex = convert(args.onnx)
        if not args.no_check:  # 256x256: the size both MultiPose and Thunder accept
            image = np.random.default_rng(0).integers(0, 256, (1, 256, 256, 3))
            diffs = compare_with_onnx(ex, args.onnx, image)
            report = ", ".join(f"{k} {d:.2g} (max {m:.3g})" for k, (d, m) in diffs.items())
            if any(d > ATOL + RTOL * m for d, m in diffs.values()):
                raise MoveNetFormatError(f"{args.onnx}: feature maps differ: {report}")
            print(f"equal to ONNX Runtime at 256x256, max abs difference: {report}")
        ex.save(args.out)
    except (OSError, MoveNetFormatError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    n = sum(v.numel() for v in ex.state_dict.values())
    print(
        f"wrote {args.out}: width {ex.width_multiplier}, {n / 1e6:.2f} M parameters, "
        f"mean {[round(m, 3) for m in ex.mean]}, std {[round(s, 3) for s in ex.std]}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
