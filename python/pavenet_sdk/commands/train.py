"""``pavenet train``: train PAVE-Net from a TOML/YAML run config (CPU, CUDA, ``torchrun`` DDP)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from pavenet_sdk.commands.options import positive_int

HELP = "train PAVE-Net from a run config (TOML/YAML); DDP through torchrun"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", type=Path, help="run config, e.g. configs/tiny-synthetic.toml")
    parser.add_argument(
        "--resume",
        type=Path,
        default=None,
        help="continue from a checkpoint of this run (e.g. OUT/last.pt)",
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="run directory (default: runs/<run name>)"
    )
    parser.add_argument(
        "--threads",
        type=positive_int,
        default=None,
        help="torch threads per process (default: run.threads of the config, 1)",
    )
    parser.add_argument(
        "--max-steps",
        type=positive_int,
        default=None,
        help="override train.max_steps (optimiser steps)",
    )
    parser.add_argument(
        "--device", choices=("auto", "cpu", "cuda"), default=None, help="override run.device"
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="override one config value (TOML syntax), e.g. --set optim.lr=1e-4 "
        "--set model.overrides.T=1; repeatable",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def main(args: argparse.Namespace) -> int:
    threads = args.threads
    # thread pools of OpenMP/MKL read these at start-up; torch.set_num_threads covers torch
    if threads is not None:
        os.environ["OMP_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = str(threads)

    from pavenet_sdk.cli import user_input
    from pavenet_sdk.train.config import deep_update, load_config, parse_assignment
    from pavenet_sdk.train.loop import Trainer

    overrides: dict = {"run": {"device": args.device}} if args.device else {}
    with user_input():  # the config file and the --set overrides
        for item in args.set:
            deep_update(overrides, parse_assignment(item))
        cfg = load_config(args.config, overrides)
    out = args.out or Path("runs") / cfg.run.name
    with user_input():  # run.threads of the config
        trainer = Trainer(cfg, out, resume=args.resume, max_steps=args.max_steps,
                           threads=threads, progress=not args.no_progress)  # fmt: skip
    summary = trainer.run()
    if summary is not None and int(os.environ.get("RANK", "0")) == 0:
        best = summary["best_map"]
        print(
            f"trained {summary['steps_this_run']} steps (total {summary['steps']}) in "
            f"{summary['elapsed_s'] / 60:.1f} min; best held-out {summary['best_metric']} "
            f"{'n/a' if best is None else f'{best:.1f}'}; run directory {out}"
        )
    return 0
