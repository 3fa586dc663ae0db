"""The native deformable-attention op against the grid_sample reference, on every kernel."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pavenet_sdk import native

from .msda_cases import make_problem

torch = pytest.importorskip("torch")
msda = pytest.importorskip("pavenet_sdk.model.msda")

PYTHON_DIR = str(Path(msda.__file__).resolve().parents[2])
ISAS = native.build_info()["isas_supported"]


def reference(*arrays: np.ndarray, dtype=torch.float32) -> np.ndarray:
    tensors = [torch.from_numpy(np.ascontiguousarray(a)) for a in arrays]
    for i in (0, 3, 4):
        tensors[i] = tensors[i].to(dtype)
    return msda.ms_deform_attn_reference(*tensors).double().numpy()


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)
    native.set_num_threads(1)


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("head_dim", [1, 7, 8, 9, 16, 31, 32, 33])
def test_matches_reference_across_head_dims(isa: str, head_dim: int) -> None:
    args = make_problem(np.random.default_rng(head_dim), head_dim=head_dim)
    out = native.ms_deform_attn(*args, isa=isa)
    assert out.shape == (2, 7, 3 * head_dim) and out.dtype == np.float32
    np.testing.assert_allclose(out, reference(*args), atol=1e-5, rtol=0)
    # float64 reference: the float32 kernel is within rounding of the exact answer
    np.testing.assert_allclose(out, reference(*args, dtype=torch.float64), atol=1e-5, rtol=0)


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize(
    "shapes",
    [
        ((1, 1),),  # L = 1, a single pixel
        ((7, 3),),
        ((9, 13), (5, 7), (3, 4), (1, 2)),  # odd sizes
        tuple((4 + f, 3 + l) for f in range(3) for l in range(4)),  # F * L = 12
    ],
)
def test_matches_reference_across_levels(isa: str, shapes) -> None:
    args = make_problem(np.random.default_rng(len(shapes)), shapes=shapes, head_dim=32, heads=2)
    np.testing.assert_allclose(native.ms_deform_attn(*args, isa=isa), reference(*args), atol=1e-5)


@pytest.mark.parametrize("isa", ISAS)
def test_points_on_and_outside_borders(isa: str) -> None:
    value, shapes, starts, loc, attn = make_problem(np.random.default_rng(3), points=8)
    edges = np.array([-1.0, -0.1, 0.0, 0.05, 0.5, 0.95, 1.0, 1.1], dtype=np.float32)
    loc[..., 0] = edges
    loc[..., 1] = edges[::-1]
    args = (value, shapes, starts, loc, attn)
    np.testing.assert_allclose(native.ms_deform_attn(*args, isa=isa), reference(*args), atol=1e-5)


@pytest.mark.parametrize("isa", ISAS)
def test_non_contiguous_inputs(isa: str) -> None:
    value, shapes, starts, loc, attn = make_problem(np.random.default_rng(4), head_dim=9)
    value_f = np.asfortranarray(value)
    loc_big = np.zeros((loc.shape[0], 2 * loc.shape[1], *loc.shape[2:]), dtype=np.float32)
    loc_big[:, ::2] = loc
    loc_view = loc_big[:, ::2]  # strided along Q
    attn_t = np.ascontiguousarray(attn.transpose(1, 0, 2, 3, 4)).transpose(1, 0, 2, 3, 4)
    shapes_view = np.concatenate([shapes, shapes], axis=1)[:, :2]
    assert not value_f.flags.c_contiguous and not loc_view.flags.c_contiguous
    assert not attn_t.flags.c_contiguous and not shapes_view.flags.c_contiguous
    got = native.ms_deform_attn(value_f, shapes_view, starts, loc_view, attn_t, isa=isa)
    want = native.ms_deform_attn(value, shapes, starts, loc, attn, isa=isa)
    np.testing.assert_array_equal(got, want)


def test_non_finite_locations_contribute_zero() -> None:
    value, shapes, starts, loc, attn = make_problem(np.random.default_rng(5), points=1)
    loc[:, :, :, :, :, 0] = np.array([np.nan, np.inf, -np.inf, 1e30, -1e30, np.nan, 0.5])[
        None, :, None, None, None
    ]
    loc[:, -1, :, :, :, 1] = np.nan
    for isa in ISAS:
        out = native.ms_deform_attn(value, shapes, starts, loc, attn, isa=isa)
        np.testing.assert_array_equal(out, 0.0)


def test_threads_give_identical_results() -> None:
    args = make_problem(np.random.default_rng(6), batch=1, queries=3000, head_dim=32, heads=4)
    native.set_num_threads(1)
    one = native.ms_deform_attn(*args)
    native.set_num_threads(2)
    assert native.get_num_threads() == 2
    np.testing.assert_array_equal(native.ms_deform_attn(*args), one)


def test_empty_queries() -> None:
    value, shapes, starts, loc, attn = make_problem(np.random.default_rng(7), queries=0)
    assert native.ms_deform_attn(value, shapes, starts, loc, attn).shape == (2, 0, 24)


def test_force_isa_env_pins_the_kernel() -> None:
    code = "import numpy as np; from pavenet_sdk import native;print(native.build_info()['isa'])"
    for isa in ISAS:
        env = {**os.environ, "PAVENET_FORCE_ISA": isa, "PYTHONPATH": PYTHON_DIR}
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        assert out.stdout.strip() == isa
    env = {**os.environ, "PAVENET_FORCE_ISA": "no-such-isa", "PYTHONPATH": PYTHON_DIR}
    code_run = (
        "import numpy as np; from pavenet_sdk import native;"
        "from tests.cpp.msda_cases import make_problem;"
        "native.ms_deform_attn(*make_problem(np.random.default_rng(0)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code_run],
        env=env,
        capture_output=True,
        text=True,
        cwd=str(Path(__file__).resolve().parents[2]),
    )
    assert out.returncode != 0 and "unknown ISA 'no-such-isa'" in out.stderr


# ---- the torch custom op ----


def _tensors(seed: int = 8, **kw):
    return [torch.from_numpy(a) for a in make_problem(np.random.default_rng(seed), **kw)]


def test_torch_op_eager_matches_reference() -> None:
    args = _tensors(head_dim=32)
    fused = msda.ms_deform_attn(*args, fused=True)
    torch.testing.assert_close(fused, msda.ms_deform_attn(*args, fused=False), atol=1e-5, rtol=0)
    torch.testing.assert_close(torch.ops.pavenet.ms_deform_attn(*args), fused)


def test_torch_op_is_forward_only() -> None:
    value, *rest = _tensors()
    value.requires_grad_(True)
    with pytest.raises(RuntimeError, match="forward-only"):
        msda.ms_deform_attn(value, *rest, fused=True)
    with pytest.raises(RuntimeError, match="forward-only"):
        torch.ops.pavenet.ms_deform_attn(value, *rest)
    with torch.no_grad():
        out = msda.ms_deform_attn(value, *rest, fused=True)
    assert not out.requires_grad


def test_torch_op_rejects_wrong_dtype() -> None:
    value, *rest = _tensors()
    with pytest.raises(TypeError, match="float32"):
        torch.ops.pavenet.ms_deform_attn(value.double(), *rest)


class _Attn(torch.nn.Module):
    def forward(self, value, shapes, starts, loc, attn):
        return torch.ops.pavenet.ms_deform_attn(value, shapes, starts, loc, attn) * 2.0


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
def test_torch_op_scripted() -> None:
    args = _tensors()
    scripted = torch.jit.script(_Attn())
    torch.testing.assert_close(scripted(*args), _Attn()(*args))


@pytest.mark.slow  # a fresh interpreter has to import torch
@pytest.mark.filterwarnings("ignore:`torch.jit.trace.*` is deprecated:DeprecationWarning")
def test_torch_op_traced_saves_and_loads_in_a_fresh_process(tmp_path: Path) -> None:
    args = _tensors()
    traced = torch.jit.trace(_Attn(), tuple(args))
    path = tmp_path / "attn.pt"
    traced.save(str(path))
    want = _Attn()(*args)
    torch.save([*args, want], tmp_path / "io.pt")
    code = (
        "import sys, torch; import pavenet_sdk.model.msda;"
        f"m = torch.jit.load({str(path)!r}); *args, want = torch.load({str(tmp_path / 'io.pt')!r});"
        "torch.testing.assert_close(m(*args), want); print('ok')"
    )
    env = {**os.environ, "PYTHONPATH": PYTHON_DIR, "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
