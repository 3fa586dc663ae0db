"""Export a trained PAVE-Net to a model package (TorchScript, ONNX, OpenVINO, torch).

The model is split at the per-frame cache: an **encoder** graph (one frame -> memory) and a
**decoder** graph (the window's memories -> centre-frame poses, logits, sigmas).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from torch import nn

from pavenet_sdk.checkpoint import save_checkpoint
from pavenet_sdk.manifest import GRAPH_FILES, build_manifest
from pavenet_sdk.model import PAVENet
from pavenet_sdk.runtime.package import load_package

FORMATS = tuple(GRAPH_FILES)  # onnx comes before openvino, which converts the ONNX graphs
ONNX_OPSET = 17


class EncoderGraph(nn.Module):
    """image (1, 3, H, W) -> memory (1, N, D).

    Wrappers must be put in eval mode before export: exporters restore the wrapper's mode
    recursively afterwards, which would otherwise leave the model in training mode.
    """

    def __init__(self, model: PAVENet) -> None:
        super().__init__()
        self.model = model

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.model.encode_frame(image)


class DecoderGraph(nn.Module):
    """memories (1, F, N, D) -> poses (1, M, K, 2), logits (1, M), sigmas (1, M, K, 2)."""

    def __init__(self, model: PAVENet) -> None:
        super().__init__()
        self.model = model

    def forward(self, memories: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        out = self.model.decode_window(memories)
        return out["poses"], out["logits"], out["sigmas"]


def export_package(
    model: PAVENet,
    out_dir: str | Path,
    formats: list[str] | tuple[str, ...] = FORMATS,
    name: str | None = None,
    **info: Any,
) -> Path:
    """Write a model package for ``model`` into ``out_dir`` and validate it by loading it.

    ``info`` entries (e.g. ``training``, ``accuracy``) are stored in the manifest.
    """
    unknown = set(formats) - set(FORMATS)
    if unknown:
        raise ValueError(f"unknown export format(s) {sorted(unknown)}; choose from {FORMATS}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model = model.eval()
    in_h, in_w = model.config.input_size
    image = torch.zeros(1, 3, in_h, in_w)
    with torch.no_grad():
        memory = model.encode_frame(image)
    memories = memory[:, None].expand(1, model.config.num_frames, *memory.shape[1:]).contiguous()
    order = [f for f in FORMATS if f in formats]  # OpenVINO converts the ONNX graphs
    for fmt in order:
        if fmt == "torch":
            save_checkpoint(out_dir / GRAPH_FILES["torch"]["checkpoint"], model)
        elif fmt == "onnx" or (fmt == "openvino" and "onnx" not in order):
            _export_onnx(model, image, memories, out_dir)
        if fmt == "openvino":
            _export_openvino(out_dir, keep_onnx="onnx" in order)
        elif fmt == "torchscript":
            _export_torchscript(model, image, memories, out_dir)
    manifest = build_manifest(model.config, name=name or out_dir.name, formats=order, **info)
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    load_package(out_dir)  # fails loudly if anything written is unusable
    return out_dir


def _export_onnx(model: PAVENet, image, memories, out_dir: Path) -> None:
    model.set_fused_attention(False)  # grid_sample path: standard ONNX GridSample
    graphs = {
        "encoder": (EncoderGraph(model).eval(), (image,), ["image"], ["memory"]),
        "decoder": (
            DecoderGraph(model).eval(),
            (memories,),
            ["memories"],
            ["poses", "logits", "sigmas"],
        ),
    }
    for part, (module, args, inputs, outputs) in graphs.items():
        torch.onnx.export(
            module,
            args,
            str(out_dir / GRAPH_FILES["onnx"][part]),
            input_names=inputs,
            output_names=outputs,
            opset_version=ONNX_OPSET,
            dynamo=False,
            do_constant_folding=True,
        )


def _export_openvino(out_dir: Path, keep_onnx: bool) -> None:
    import openvino as ov

    for part in ("encoder", "decoder"):
        onnx_path = out_dir / GRAPH_FILES["onnx"][part]
        ov_model = ov.convert_model(str(onnx_path))
        ov.save_model(
            ov_model, str(out_dir / GRAPH_FILES["openvino"][part]), compress_to_fp16=False
        )
        if not keep_onnx:
            onnx_path.unlink()


def _export_torchscript(model: PAVENet, image, memories, out_dir: Path) -> None:
    model.set_fused_attention(True)  # the graphs call torch.ops.pavenet.ms_deform_attn
    try:
        with torch.no_grad():
            for part, module, example in (
                ("encoder", EncoderGraph(model).eval(), image),
                ("decoder", DecoderGraph(model).eval(), memories),
            ):
                traced = torch.jit.trace(module, (example,), check_trace=False)
                traced.save(str(out_dir / GRAPH_FILES["torchscript"][part]))
    finally:
        model.set_fused_attention(False)
