"""ONNX export parity (tiny, reference grid_sample path) and the fused attention op."""

from __future__ import annotations

import io
import warnings

import pytest
import torch
from torch import nn

from pavenet_sdk.model import build_model


class _Encode(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, image):
        return self.model.encode_frame(image)


class _Decode(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, memories):
        out = self.model.decode_window(memories)
        return out["poses"], out["logits"], out["sigmas"]


def _onnx_session(module, example, names):
    ort = pytest.importorskip("onnxruntime")
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # legacy-exporter deprecation and tracer notes
        torch.onnx.export(module.eval(), (example,), buf, dynamo=False, opset_version=17,
                          input_names=names[:1], output_names=names[1:])  # fmt: skip
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(buf.getvalue(), options, providers=["CPUExecutionProvider"])


@pytest.mark.slow
def test_onnx_export_of_tiny_matches_eager():
    pytest.importorskip("onnx")
    torch.manual_seed(0)
    model = build_model("tiny").eval()
    cfg = model.cfg
    images = torch.randn(cfg.num_frames, 3, *cfg.input_size)
    enc = _onnx_session(_Encode(model), images[:1], ["image", "memory"])
    with torch.no_grad():
        memories = model.encode_frame(images)  # F, N, D
    onnx_memory = enc.run(None, {"image": images[1:2].numpy()})[0]
    torch.testing.assert_close(torch.from_numpy(onnx_memory), memories[1:2], rtol=1e-4, atol=1e-4)

    window = memories[None]
    dec = _onnx_session(_Decode(model), window, ["memories", "poses", "logits", "sigmas"])
    model.eval()  # export restores the wrapper's (training) mode on the shared model
    with torch.no_grad():
        expected = _Decode(model).eval()(window)
    got = dec.run(None, {"memories": window.numpy()})
    for g, e in zip(got, expected, strict=True):
        torch.testing.assert_close(torch.from_numpy(g), e, rtol=1e-4, atol=1e-4)


def _fused_available() -> bool:
    from pavenet_sdk.model.msda import ms_deform_attn

    value, shapes, starts = torch.zeros(1, 4, 1, 2), torch.tensor([[2, 2]]), torch.tensor([0])
    locations, weights = torch.rand(1, 1, 1, 1, 1, 2), torch.ones(1, 1, 1, 1, 1)
    try:
        with torch.no_grad():
            ms_deform_attn(value, shapes, starts, locations, weights, fused=True)
    except (ImportError, RuntimeError, NotImplementedError):
        return False
    return True


@pytest.mark.parametrize("changes", [{}, {"T": 2}, {"encoder_type": "spatiotemporal"}])
def test_fused_attention_matches_reference(make_config, changes):
    if not _fused_available():
        pytest.skip("fused deformable attention op unavailable")
    cfg = make_config(**changes)
    torch.manual_seed(0)
    model = build_model(cfg).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)  # off-grid sampling with varied weights
        window = torch.randn(2, cfg.num_frames, 3, *cfg.input_size)
        reference = model(window)
        model.set_fused_attention(True)
        fused = model(window)
    for key in reference:
        torch.testing.assert_close(fused[key], reference[key], rtol=1e-4, atol=1e-4)
