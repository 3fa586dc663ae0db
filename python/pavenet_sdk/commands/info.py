"""``pavenet info``: parameters per component, decoder FLOPs and (optionally) latency."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from pavenet_sdk.commands.options import positive_int

HELP = "show a model's parameters per component, decoder GFLOPs and per-frame latency"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--preset", default="paper-r50", help="model preset (paper-r50, tiny)")
    parser.add_argument(
        "--config", type=Path, default=None, help="JSON ModelConfig dict (overrides --preset)"
    )
    parser.add_argument(
        "--official",
        type=Path,
        default=None,
        help="official inventory TSV to compare with (default for R50 builds: "
        "$PAVENET_SHARED/specs/official-r50-state-dict.tsv, if present)",
    )
    parser.add_argument("--no-flops", action="store_true", help="skip the FLOP count")
    parser.add_argument(
        "--time", action="store_true", help="measure per-frame encode/decode latency"
    )
    parser.add_argument(
        "--time-preset", default="tiny", help="preset whose latency --time measures (tiny)"
    )
    parser.add_argument("--threads", type=positive_int, default=1, help="torch threads (default 1)")
    parser.add_argument("--repeats", type=positive_int, default=20, help="timed runs per stage")
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers here")


def _fmt(n: float) -> str:
    return f"{n:,.0f}"


def _like_official_r50(cfg) -> bool:
    """Whether the official ResNet-50 inventory and the paper's figures apply to ``cfg``."""
    return cfg.backbone.type == "resnet" and cfg.backbone.depth == 50 and cfg.d_model == 256


def _param_table(model, official_path) -> dict:
    from pavenet_sdk.official.inventory import (
        COMPONENTS,
        count_by_component,
        model_inventory,
        official_inventory_path,
        read_official_inventory,
    )

    ours = count_by_component(model_inventory(model.state_dict()))
    cfg = model.cfg
    comparable = _like_official_r50(cfg)
    path = official_path or (official_inventory_path() if comparable else None)
    official = count_by_component(read_official_inventory(path)) if path else None
    header = f"{'component':<16}{'ours':>14}"
    if official:
        header += f"{'official R50':>16}{'diff':>12}"
    print(header)
    for key, label in COMPONENTS.items():
        line = f"{label:<16}{_fmt(ours[key]):>14}"
        if official:
            line += f"{_fmt(official[key]):>16}{_fmt(ours[key] - official[key]):>12}"
        print(line)
    total = sum(ours.values())
    line = f"{'total':<16}{_fmt(total):>14}"
    if official:
        off_total = sum(official.values())
        line += f"{_fmt(off_total):>16}{_fmt(total - off_total):>12}"
    print(line)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    print(f"{'trainable':<16}{_fmt(trainable):>14}")
    if official:
        print(f"(official: {path})")
    return {"ours": ours, "official": official, "trainable": trainable}


def _flops(model, params: dict) -> dict:
    from pavenet_sdk.model.complexity import PAPER_STJD, PAPER_STPD, decoder_flops

    flops = decoder_flops(model)
    ours = params["ours"]
    sizes = {
        "stpd": ours["stpd"] + ours["stpd_heads"] + ours["stpd_misc"],
        "stjd": ours["stjd"] + ours["stjd_heads"] + ours["stjd_misc"],
    }
    cfg = model.cfg
    h, w = cfg.input_size
    print(f"\ndecoder complexity at {h}x{w} (layers + heads + queries; one inference decode):")
    for key in ("stpd", "stjd"):
        f = flops[key]
        print(
            f"  {key.upper()}: {sizes[key] / 1e6:.2f} M params, {f['total'] / 1e9:.2f} GFLOPs = "
            f"matmuls {f['dense'] / 1e9:.2f} (value projections {f['value_proj'] / 1e9:.2f}) "
            f"+ deformable sampling {f['sampling'] / 1e9:.2f}"
        )
    if _like_official_r50(model.cfg):
        print(
            f"  paper (R50, 800x1333): STPD {PAPER_STPD[0] / 1e6:.2f} M / "
            f"{PAPER_STPD[1] / 1e9:.2f} GFLOPs, STJD {PAPER_STJD[0] / 1e6:.2f} M / "
            f"{PAPER_STJD[1] / 1e9:.2f} GFLOPs (its module grouping is not known)"
        )
    return {"flops": flops, "params": sizes}


def _latency(preset: str, repeats: int) -> dict:
    import torch

    from pavenet_sdk.model import build_model
    from pavenet_sdk.model.complexity import frame_latency

    model = build_model(preset).eval()
    results = {"reference": frame_latency(model, repeats)}
    try:
        model.set_fused_attention(True)
        results["fused"] = frame_latency(model, repeats)
    except (ImportError, RuntimeError, NotImplementedError) as exc:
        results["fused_unavailable"] = str(exc).splitlines()[0]
    print(f"\nper-frame latency of '{preset}' ({torch.get_num_threads()} thread(s), eager, ms):")
    for path, r in results.items():
        if isinstance(r, str):
            print(f"  fused op unavailable: {r}")
            continue
        print(
            f"  {path:<10} encode {r['encode_min']:.1f} (median {r['encode_median']:.1f})  "
            f"decode {r['decode_min']:.1f} (median {r['decode_median']:.1f})  "
            f"per frame {r['per_frame_min']:.1f} (median {r['per_frame_median']:.1f})"
        )
    return results


def main(args: argparse.Namespace) -> int:
    import torch

    from pavenet_sdk.model import ModelConfig, build_model, get_preset

    torch.set_num_threads(args.threads)
    try:  # bad input: one error line (a missing file is an OSError, reported as such)
        if args.config is not None:
            cfg = ModelConfig.from_dict(json.loads(args.config.read_text(encoding="utf-8")))
        else:
            cfg = get_preset(args.preset)
    except json.JSONDecodeError as exc:
        raise SystemExit(f"{args.config}: not valid JSON ({exc})") from None
    except (TypeError, ValueError) as exc:
        raise SystemExit(f"{args.config or '--preset'}: {exc}") from None
    model = build_model(cfg).eval()
    h, w = cfg.input_size
    print(
        f"PAVE-Net '{cfg.name}': input {h}x{w}, joints {cfg.layout} (K {cfg.num_joints}), "
        f"D {cfg.d_model}, T {cfg.T} ({cfg.num_frames} frames), {cfg.num_tokens} tokens/frame, "
        f"levels {cfg.level_shapes}\n"
    )
    report: dict = {"config": cfg.to_dict(), "params": _param_table(model, args.official)}
    if not args.no_flops:
        report["complexity"] = _flops(model, report["params"])
    if args.time:
        report["latency_ms"] = _latency(args.time_preset, args.repeats)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2))
    return 0
