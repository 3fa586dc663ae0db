"""The CUDA deformable-attention kernel against the CPU kernel, on random shapes.

Needs a CUDA build of the native core (``PAVENET_CUDA=ON``) and a CUDA device; skipped
otherwise. ``tools/gpu_check.sh`` runs these on a GPU machine.
"""

from __future__ import annotations

import numpy as np
import pytest

from pavenet_sdk import native

from .msda_cases import make_problem

pytestmark = pytest.mark.skipif(
    not (native.has_cuda() and native.build_info()["cuda_devices"] > 0),
    reason="needs a CUDA build of pavenet_sdk._core and a CUDA device",
)

ATOL = RTOL = 1e-5  # float32, different summation order from the CPU kernel
HEAD_DIMS = (1, 3, 8, 16, 31, 32, 33, 64)


def cuda_op(*arrays: np.ndarray) -> np.ndarray:
    from pavenet_sdk import _core

    return _core.ms_deform_attn_cuda(*arrays)


@pytest.fixture(autouse=True)
def _one_thread():
    native.set_num_threads(1)


def random_problem(seed: int):
    """A problem of random size: batch, queries, heads, Dh, 1-12 levels of 1-40 px, points."""
    rng = np.random.default_rng(seed)
    levels = int(rng.integers(1, 13))
    shapes = tuple((int(rng.integers(1, 41)), int(rng.integers(1, 41))) for _ in range(levels))
    return make_problem(
        rng,
        batch=int(rng.integers(1, 4)),
        queries=int(rng.integers(1, 300)),
        heads=int(rng.integers(1, 9)),
        head_dim=int(rng.choice(HEAD_DIMS)),
        shapes=shapes,
        points=int(rng.integers(1, 9)),
    )


@pytest.mark.parametrize("seed", range(40))
def test_random_shapes_match_the_cpu_kernel(seed: int) -> None:
    args = random_problem(seed)
    got = cuda_op(*args)
    assert got.shape == (args[0].shape[0], args[3].shape[1], args[0].shape[2] * args[0].shape[3])
    assert got.dtype == np.float32
    for isa in native.build_info()["isas_supported"]:
        np.testing.assert_allclose(got, native.ms_deform_attn(*args, isa=isa), atol=ATOL, rtol=RTOL)


def test_paper_encoder_layer_matches_the_cpu_kernel() -> None:
    """Strides 8-64 of an 800x1333 input: 22k tokens, 8 heads of 32, 4 points."""
    shapes = ((100, 167), (50, 84), (25, 42), (13, 21))
    args = make_problem(
        np.random.default_rng(1), batch=1, queries=4096, heads=8, head_dim=32, shapes=shapes
    )
    np.testing.assert_allclose(cuda_op(*args), native.ms_deform_attn(*args), atol=ATOL, rtol=RTOL)


def test_window_of_frames_as_levels() -> None:
    """F * L = 3 frames x 4 levels stacked as 12 levels, as the decoders call it."""
    shapes = tuple((12 // s, 20 // s) for _ in range(3) for s in (1, 2, 4, 8))
    args = make_problem(np.random.default_rng(2), queries=50, heads=8, head_dim=32, shapes=shapes)
    np.testing.assert_allclose(cuda_op(*args), native.ms_deform_attn(*args), atol=ATOL, rtol=RTOL)


def test_borders_and_non_finite_locations() -> None:
    value, shapes, starts, loc, attn = make_problem(np.random.default_rng(3), points=8)
    edges = np.array([-1.0, -0.1, 0.0, 0.05, 0.5, 0.95, 1.0, 1.1], dtype=np.float32)
    loc[..., 0], loc[..., 1] = edges, edges[::-1]
    loc[0, 0, 0, 0, :3, 0] = (np.nan, np.inf, -np.inf)
    loc[1, -1] = 1e30
    args = (value, shapes, starts, loc, attn)
    got = cuda_op(*args)
    np.testing.assert_allclose(got, native.ms_deform_attn(*args), atol=ATOL, rtol=RTOL)
    assert np.isfinite(got).all()
    np.testing.assert_array_equal(got[1, -1], 0.0)  # every sample far off the maps


def test_empty_queries_and_strided_inputs() -> None:
    value, shapes, starts, loc, attn = make_problem(np.random.default_rng(4), queries=0)
    assert cuda_op(value, shapes, starts, loc, attn).shape == (2, 0, 24)
    value, shapes, starts, loc, attn = make_problem(np.random.default_rng(5), head_dim=9)
    want = cuda_op(value, shapes, starts, loc, attn)
    strided = np.zeros((loc.shape[0], 2 * loc.shape[1], *loc.shape[2:]), np.float32)
    strided[:, ::2] = loc
    got = cuda_op(np.asfortranarray(value), shapes, starts, strided[:, ::2], attn)
    np.testing.assert_array_equal(got, want)


def test_bad_input_raises_like_the_cpu_kernel() -> None:
    value, shapes, starts, loc, attn = make_problem(np.random.default_rng(6))
    with pytest.raises(TypeError):
        cuda_op(value.astype(np.float64), shapes, starts, loc, attn)
    with pytest.raises(ValueError):
        cuda_op(value, shapes, starts + 1, loc, attn)  # level starts disagree with the shapes
    with pytest.raises(ValueError):
        cuda_op(value, shapes, starts, loc[:, :, :1], attn)  # heads disagree with value


# ---- through torch: the custom op on CUDA tensors, and a whole model ----


@pytest.fixture
def torch_cuda(monkeypatch):
    """torch with a CUDA device, TF32 off so only the attention op differs between paths."""
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("torch has no CUDA device")
    pytest.importorskip("pavenet_sdk.model.msda")  # registers torch.ops.pavenet
    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", False)
    matmul_precision = torch.get_float32_matmul_precision()
    torch.set_float32_matmul_precision("highest")
    yield torch
    torch.set_float32_matmul_precision(matmul_precision)


def test_torch_op_on_cuda_tensors(torch_cuda) -> None:
    torch = torch_cuda
    from pavenet_sdk.model.msda import ms_deform_attn_reference

    arrays = random_problem(7)
    tensors = [torch.from_numpy(a).cuda() for a in arrays]
    with torch.no_grad():
        fused = torch.ops.pavenet.ms_deform_attn(*tensors)
        reference = ms_deform_attn_reference(*tensors)
    assert fused.device == tensors[0].device
    torch.testing.assert_close(fused, reference, atol=ATOL, rtol=RTOL)
    np.testing.assert_allclose(fused.cpu().numpy(), native.ms_deform_attn(*arrays), atol=ATOL)


def test_micro_model_on_cuda_fused_equals_reference(torch_cuda) -> None:
    torch = torch_cuda
    from pavenet_sdk.model import build_model, get_preset

    cfg = get_preset("micro")
    torch.manual_seed(0)
    model = build_model(cfg).eval().cuda()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)  # off-grid sampling with varied weights
        window = torch.randn(2, cfg.num_frames, 3, *cfg.input_size, device="cuda")
        reference = model(window)
        model.set_fused_attention(True)
        fused = model(window)
    for key in reference:
        torch.testing.assert_close(fused[key], reference[key], rtol=1e-4, atol=1e-4)
