"""Section 3: the fused deformable-attention op against the grid_sample reference.

For the first module of each kind (encoder layer's deformable self-attention, STPD
pose-aware attention, STJD attention) the real inputs of one model pass are captured, then
timed interleaved: the module forward with ``set_fused_attention(True)`` / ``(False)``, and
the op alone (``ms_deform_attn(..., fused=True/False)`` on the module's captured op
inputs) and the C++ kernel called on numpy directly (the op minus torch dispatch). Finally
the whole model (encode one frame + decode one window, eager) with each.
"""

from __future__ import annotations

from contextlib import contextmanager

from . import models
from .common import Case, Mode, environment, interleave, load1, log, ratio

TARGET, GOAL = 20.0, 30.0  # op speed-up: required, aimed at

KINDS = {  # label -> (module name prefix, class name)
    "encoder_deformable": ("encoder.", "DeformableAttention"),
    "stpd_pose_aware": ("pose_decoder.", "PoseAwareAttention"),
    "stjd_deformable": ("joint_decoder.", "DeformableAttention"),
}


@contextmanager
def record_calls(model):
    """Record, for every attention forward, (module name, module args, op args)."""
    import pavenet_sdk.model.attention as attention

    names = {m: n for n, m in model.named_modules()}
    calls: list[dict] = []
    hooks = [
        m.register_forward_pre_hook(
            lambda mod, args, kwargs: calls.append(
                {"name": names[mod], "module": mod, "args": args, "kwargs": kwargs}
            ),
            with_kwargs=True,
        )
        for m in attention.attention_modules(model)
    ]
    original = attention.ms_deform_attn

    def recorder(*args, **kwargs):
        calls[-1]["op_args"] = args[:5]
        return original(*args, **kwargs)

    attention.ms_deform_attn = recorder
    try:
        yield calls
    finally:
        attention.ms_deform_attn = original
        for h in hooks:
            h.remove()


def _inputs(model, cfg):
    import torch

    torch.manual_seed(1)
    image = torch.randn(1, 3, *cfg.input_size)
    with torch.inference_mode():
        memory = model.encode_frame(image)
        memories = torch.cat([memory] * cfg.num_frames)[None]
    return image, memories


def measure(name: str, cfg, mode: Mode) -> dict:
    import torch

    from pavenet_sdk import native
    from pavenet_sdk.model.msda import ms_deform_attn

    model = models.build(cfg)
    model.set_fused_attention(True)
    image, memories = _inputs(model, cfg)
    with torch.inference_mode(), record_calls(model) as calls:
        model.decode_window(torch.cat([model.encode_frame(image)] * cfg.num_frames)[None])
    cases, shapes = [], {}
    for label, (prefix, cls) in KINDS.items():
        call = next(
            (
                c
                for c in calls
                if c["name"].startswith(prefix) and type(c["module"]).__name__ == cls
            ),
            None,
        )
        if call is None:
            continue
        module, args, kwargs = call["module"], call["args"], call["kwargs"]
        op_args = call["op_args"]
        value, _, _, loc, _ = op_args
        shapes[label] = {
            "module": call["name"],
            "value": list(value.shape),
            "sampling_locations": list(loc.shape),
        }

        def module_fwd(module=module, args=args, kwargs=kwargs, flag=True):
            model.set_fused_attention(flag)
            with torch.inference_mode():
                module(*args, **kwargs)

        def op(op_args=op_args, flag=True):
            with torch.inference_mode():
                ms_deform_attn(*op_args, fused=flag)

        arrays = [a.numpy() for a in op_args]

        def kernel(arrays=arrays):  # the C++ kernel without the torch op's dispatch
            native.ms_deform_attn(*arrays)

        cases += [
            Case(f"{label}/kernel_numpy", kernel),
            Case(f"{label}/module_fused", module_fwd),
            Case(f"{label}/module_grid_sample", lambda f=module_fwd: f(flag=False)),
            Case(f"{label}/op_fused", op),
            Case(f"{label}/op_grid_sample", lambda f=op: f(flag=False)),
        ]

    def whole(flag=True):
        model.set_fused_attention(flag)
        with torch.inference_mode():
            model.encode_frame(image)
            model.decode_window(memories)

    cases += [Case("model/fused", whole), Case("model/grid_sample", lambda: whole(False))]
    before = load1()
    stats = interleave(cases, mode.repeats)
    model.set_fused_attention(True)
    ratios = {}
    for label in shapes:
        ratios[label] = {
            "op": ratio(stats, f"{label}/op_grid_sample", f"{label}/op_fused"),
            "module": ratio(stats, f"{label}/module_grid_sample", f"{label}/module_fused"),
            "kernel_numpy": ratio(stats, f"{label}/op_grid_sample", f"{label}/kernel_numpy"),
        }
    ratios["model"] = ratio(stats, "model/grid_sample", "model/fused")
    log(f"fused_kernel {name}: " + ", ".join(f"{k} {v}" for k, v in ratios.items()))
    return {
        "model": name,
        "T": cfg.T,
        "input_size": list(cfg.input_size),
        "tokens_per_frame": cfg.num_tokens,
        "shapes": shapes,
        "load1_before": before,
        "load1_after": load1(),
        "stats": stats,
        "speedups": ratios,
    }


def run(mode: Mode) -> dict:
    rows = [measure(name, cfg, mode) for name, cfg in models.configs(mode).items()]
    targets = []
    for r in rows:
        for label in KINDS:
            if label in r["speedups"]:
                x = r["speedups"][label]["op"]
                targets.append(
                    {
                        "what": f"op speed-up, {label} ({r['model']})",
                        "target": f">= {TARGET} (goal {GOAL})",
                        "measured": x,
                        "met": x >= TARGET,
                    }
                )
    return {
        "section": "fused_kernel",
        "unit": "ms per call (median over interleaved rounds); speed-up = grid_sample / fused",
        "environment": environment(mode, threads=1),
        "runs": rows,
        "targets": targets,
    }
