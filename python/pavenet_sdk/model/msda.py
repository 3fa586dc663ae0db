"""Multi-scale deformable attention: the one op every PAVE-Net attention calls.

Shape contract (Deformable-DETR's, kept exactly):
    value               (B, S, H, Dh)   S = sum of H_l * W_l over the Lv stacked levels
    spatial_shapes      (Lv, 2) int64   (H_l, W_l) per level, row-major tokens
    level_start_index   (Lv,) int64     first token of each level in S
    sampling_locations  (B, Q, H, Lv, P, 2) (x, y) in [0, 1]; pixel = x * W_l - 0.5
    attention_weights   (B, Q, H, Lv, P) already normalised
    output              (B, Q, H * Dh)
Out-of-range bilinear corners contribute zero. Frames of a window are passed as extra levels
(F * L "levels"), so the same op serves the encoder, the STPD and the STJD.

The fused native kernel is registered as the torch custom op ``torch.ops.pavenet.ms_deform_attn``
when this module is imported, so eager, traced and scripted models can call it (a saved
TorchScript file that uses it loads after ``import pavenet_sdk.model.msda``). It is
forward-only: training uses the reference.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def ms_deform_attn_reference(
    value: torch.Tensor,
    spatial_shapes: torch.Tensor,
    level_start_index: torch.Tensor,
    sampling_locations: torch.Tensor,
    attention_weights: torch.Tensor,
) -> torch.Tensor:
    """``grid_sample`` implementation: the spec, the autograd path and the ONNX export path."""
    del level_start_index  # levels are contiguous, the split sizes say the same
    B, _, H, Dh = value.shape
    _, Q, _, Lv, P, _ = sampling_locations.shape
    shapes = [(int(h), int(w)) for h, w in spatial_shapes.tolist()]  # static per model input
    values = value.split([h * w for h, w in shapes], dim=1)
    grids = 2 * sampling_locations - 1
    samples = []
    for level, (h, w) in enumerate(shapes):
        # B, h*w, H, Dh -> B, h*w, H*Dh -> B, H*Dh, h*w -> B*H, Dh, h, w
        v = values[level].flatten(2).transpose(1, 2).reshape(B * H, Dh, h, w)
        # B, Q, H, P, 2 -> B, H, Q, P, 2 -> B*H, Q, P, 2
        g = grids[:, :, :, level].transpose(1, 2).flatten(0, 1)
        # -> B*H, Dh, Q, P
        samples.append(
            F.grid_sample(v, g, mode="bilinear", padding_mode="zeros", align_corners=False)
        )
    # B, Q, H, Lv, P -> B, H, Q, Lv, P -> B*H, 1, Q, Lv*P
    weights = attention_weights.transpose(1, 2).reshape(B * H, 1, Q, Lv * P)
    # B*H, Dh, Q, Lv, P -> B*H, Dh, Q, Lv*P -> (weighted sum) B*H, Dh, Q -> B, H*Dh, Q
    out = (torch.stack(samples, dim=-2).flatten(-2) * weights).sum(-1).view(B, H * Dh, Q)
    return out.transpose(1, 2).contiguous()


def _native():
    """``pavenet_sdk.native``, the one door to the compiled core (ImportError if unbuilt)."""
    try:
        from pavenet_sdk import native
    except ImportError as exc:  # pragma: no cover - depends on the build
        raise ImportError(
            f"pavenet::ms_deform_attn needs the native core: {exc}; or use fused=False"
        ) from exc
    return native


def _as_numpy(t: torch.Tensor, dtype: torch.dtype) -> np.ndarray:
    if t.dtype != dtype:
        raise TypeError(f"pavenet::ms_deform_attn expects {dtype} tensors, got {t.dtype}")
    return t.detach().cpu().numpy()


_SCHEMA = (
    "ms_deform_attn(Tensor value, Tensor spatial_shapes, Tensor level_start_index, "
    "Tensor sampling_locations, Tensor attention_weights) -> Tensor"
)


def _fused_forward(
    value: torch.Tensor,
    spatial_shapes: torch.Tensor,
    level_start_index: torch.Tensor,
    sampling_locations: torch.Tensor,
    attention_weights: torch.Tensor,
) -> torch.Tensor:
    """Native forward: the CPU kernel, or the CUDA build for CUDA tensors."""
    native = _native()
    arrays = (
        _as_numpy(value, torch.float32),
        _as_numpy(spatial_shapes, torch.int64),
        _as_numpy(level_start_index, torch.int64),
        _as_numpy(sampling_locations, torch.float32),
        _as_numpy(attention_weights, torch.float32),
    )
    if value.is_cuda:
        return torch.from_numpy(native.ms_deform_attn_cuda(*arrays)).to(value.device)
    return torch.from_numpy(native.ms_deform_attn(*arrays))


def _forward_only(*args: torch.Tensor) -> torch.Tensor:
    """Autograd kernel: refuse to build a graph the op cannot differentiate."""
    if torch.is_grad_enabled() and any(t.requires_grad for t in args):
        raise RuntimeError(
            "pavenet::ms_deform_attn (fused=True) is forward-only but gradients are required; "
            "use fused=False to train, or run under torch.no_grad()"
        )
    return _fused_forward(*args)


def _fake(value, spatial_shapes, level_start_index, sampling_locations, attention_weights):
    B, _, H, Dh = value.shape
    return value.new_empty((B, sampling_locations.shape[1], H * Dh))


def _register() -> torch.library.Library | None:
    """Defines torch.ops.pavenet.ms_deform_attn once per process.

    The plain ``torch.library.Library`` API is used rather than ``custom_op``: it costs
    milliseconds at import and first call instead of seconds.
    """
    if hasattr(torch.ops.pavenet, "ms_deform_attn"):
        return None  # already defined (module re-imported)
    lib = torch.library.Library("pavenet", "DEF")
    lib.define(_SCHEMA)
    lib.impl("ms_deform_attn", _fused_forward, "CPU")
    lib.impl("ms_deform_attn", _fused_forward, "CUDA")
    lib.impl("ms_deform_attn", _forward_only, "Autograd")
    torch.library.register_fake("pavenet::ms_deform_attn", _fake, lib=lib)
    return lib


_LIBRARY = _register()  # keep a reference: the registration lives as long as the Library


def ms_deform_attn(
    value: torch.Tensor,
    spatial_shapes: torch.Tensor,
    level_start_index: torch.Tensor,
    sampling_locations: torch.Tensor,
    attention_weights: torch.Tensor,
    fused: bool = False,
) -> torch.Tensor:
    """Dispatch: ``fused`` runs the native op (inference only), else the reference.

    Raises RuntimeError when ``fused`` and gradients are required.
    """
    if fused:
        return torch.ops.pavenet.ms_deform_attn(
            value, spatial_shapes, level_start_index, sampling_locations, attention_weights
        )
    return ms_deform_attn_reference(
        value, spatial_shapes, level_start_index, sampling_locations, attention_weights
    )
