"""Training data: windows of synthetic clips generated on the fly, or of labelled files.

A synthetic sample ``i`` is the clip with seed ``seed_range[0] + i``: F = 2T + 1 frames are
drawn and the centre one is labelled, so the dataset is effectively infinite (10^6 clips by
default) and never touches disk. Samplers are ``DistributedSampler`` under DDP, so every rank
sees different clips.

File datasets (PoseTrack, COCO keypoints such as ``pavenet label`` output) give one window per
labelled frame (:class:`~pavenet_sdk.data.windows.SequenceWindows`), minus the held-out
clips (``data.holdout``, whole sequences), optionally with copy-paste composites
(``[data.paste]``, :class:`PasteComposite`) and a share of synthetic windows
(``data.synthetic_share``, :class:`MixedWindows`).

Targets are in the model's joint layout: the generator annotates clips in it and the
PoseTrack and COCO readers map the files' joints onto it by name (joints a file lacks, e.g.
PoseTrack's eyes, are unlabelled).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, DistributedSampler, RandomSampler

from pavenet_sdk.data.types import Person, Sequence
from pavenet_sdk.layouts import DEFAULT_LAYOUT, JointLayout, get_layout
from pavenet_sdk.train.config import AugmentSection, DataSection, PasteSection
from pavenet_sdk.train.distributed import DistInfo

MIX_STREAM = 0x4D4958  # extra seed word of the synthetic-or-file draw (apart from augmentation)


class SyntheticWindows(Dataset):
    """Map-style dataset over clip seeds; item ``i`` is the window of the clip with seed
    ``seed_range[0] + i`` (a 2T+1-frame clip, centre frame T labelled).

    Items are ``WindowSample`` objects of :func:`pavenet_sdk.data.windows.make_window`, with
    targets in ``layout``. Augmentation draws from a generator seeded by (``seed``, i, epoch)
    so runs repeat.
    """

    def __init__(self, cfg: DataSection, augment: AugmentSection, input_size: tuple[int, int],
                 T: int, seed: int = 0,
                 layout: str | JointLayout = DEFAULT_LAYOUT) -> None:  # fmt: skip
        self.cfg = cfg
        self.augment = augment.augment_config()
        self.layout = get_layout(layout)
        self.input_size = tuple(input_size)
        self.T = int(T)
        self.seed = int(seed)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return self.cfg.seed_range[1] - self.cfg.seed_range[0]

    def __getitem__(self, index: int):
        from pavenet_sdk.data.synth import generate_clip
        from pavenet_sdk.data.windows import make_window

        if not 0 <= index < len(self):
            raise IndexError(f"sample {index} out of range for {len(self)} clips")
        rng = np.random.default_rng([self.seed, index, self.epoch])
        num_persons = None
        if self.cfg.persons is not None:
            num_persons = int(rng.integers(self.cfg.persons[0], self.cfg.persons[1] + 1))
        clip = generate_clip(self.cfg.preset, self.cfg.seed_range[0] + index, 2 * self.T + 1,
                             num_persons=num_persons, size=tuple(self.cfg.frame_size),
                             layout=self.layout)  # fmt: skip
        persons = clip.sequence.frames[self.T].persons
        return make_window(list(clip.frames), persons, self.input_size, self.augment, rng,
                           self.layout)  # fmt: skip


class MixedWindows(Dataset):
    """File windows with a share of synthetic ones mixed in.

    Item ``i`` is synthetic with probability ``share``, decided (with the synthetic clip it
    takes) by ``np.random.default_rng([seed, epoch, i, MIX_STREAM])``: the same (seed, epoch,
    i) gives the same window, so runs repeat, and a new epoch draws afresh. Otherwise it is
    file window ``i % len(files)``. The length, ``len(files) / (1 - share)`` rounded, keeps
    one pass over the file windows per epoch on average.
    """

    def __init__(self, files: Dataset, synthetic: Dataset, share: float, seed: int = 0) -> None:
        if not 0 <= share < 1:
            raise ValueError(f"share must be in [0, 1), got {share}")
        if len(files) == 0:
            raise ValueError("MixedWindows needs at least one file window")
        self.files, self.synthetic, self.share = files, synthetic, float(share)
        self.seed, self.epoch = int(seed), 0
        self.length = max(len(files), round(len(files) / (1 - self.share)))

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)
        for part in (self.files, self.synthetic):
            if hasattr(part, "set_epoch"):
                part.set_epoch(epoch)

    def __len__(self) -> int:
        return self.length

    def source(self, index: int) -> tuple[str, int]:
        """("synthetic" | "file", index into that dataset) of item ``index``."""
        if not 0 <= index < self.length:
            raise IndexError(f"sample {index} out of range for {self.length} windows")
        rng = np.random.default_rng([self.seed, self.epoch, index, MIX_STREAM])
        if rng.random() < self.share:
            return "synthetic", int(rng.integers(len(self.synthetic)))
        return "file", index % len(self.files)

    def __getitem__(self, index: int):
        kind, i = self.source(index)
        return (self.synthetic if kind == "synthetic" else self.files)[i]


@dataclasses.dataclass
class PasteComposite:
    """The ``[data.paste]`` window edit: with ``probability``, paste people drawn from
    ``cutouts`` into all frames of the window (:func:`pavenet_sdk.data.copy_paste.paste_people`),
    their labels added to the centre frame's persons."""

    cutouts: list
    config: object  # pavenet_sdk.data.copy_paste.PasteConfig
    probability: float
    layout: JointLayout

    def __call__(
        self, frames: list[np.ndarray], persons: list[Person], rng: np.random.Generator
    ) -> tuple[list[np.ndarray], list[Person]]:
        from pavenet_sdk.data.copy_paste import paste_people

        if rng.random() >= self.probability:
            return frames, persons
        return paste_people(frames, persons, self.cutouts, self.layout, rng, self.config)


def label_files(path: str | Path, key: str) -> list[Path]:
    """The COCO keypoints files of config value ``key``: ``path`` itself, or a folder's
    ``*.json`` in name order."""
    path = Path(path)
    if path.is_dir():
        files = sorted(path.glob("*.json"))
        if not files:
            raise FileNotFoundError(f"{key}: no *.json label files in {path}")
        return files
    if not path.is_file():
        raise FileNotFoundError(f"{key}: not found: {path}")
    return [path]


def without_holdout(sequences: list[Sequence], holdout: tuple[str, ...], where: Path,
                    key: str = "data.holdout") -> list[Sequence]:  # fmt: skip
    """``sequences`` minus those named in ``holdout`` (whole sequences); a name that matches
    none raises ``ValueError`` naming it."""
    names = {s.name for s in sequences}
    unknown = [n for n in holdout if n not in names]
    if unknown:
        known = sorted(names)
        more = f" ... ({len(known)} in all)" if len(known) > 30 else ""
        raise ValueError(f"{key}: no sequence named {unknown} in {where}; it has "
                         f"{known[:30]}{more}")  # fmt: skip
    drop = set(holdout)
    return [s for s in sequences if s.name not in drop]


def _mask_lookup(paste: PasteSection):
    """Frame -> path of its instance mask, for ``paste.masks`` (only "pennfudan" so far)."""
    from pavenet_sdk.data.copy_paste import pennfudan_mask

    if not paste.mask_dir:
        return pennfudan_mask
    folder = Path(paste.mask_dir)
    if not folder.is_dir():
        raise FileNotFoundError(f"data.paste.mask_dir: not a folder: {folder}")
    return lambda frame: folder / f"{Path(frame.image_path).stem}_mask.png"


def build_paste(paste: PasteSection, layout: str | JointLayout) -> PasteComposite:
    """The copy-paste edit of ``[data.paste]``: the people of ``paste.labels`` cut out by
    their masks. Raises ``ValueError`` when no person could be cut out."""
    from pavenet_sdk.data.coco import read_coco_keypoints
    from pavenet_sdk.data.copy_paste import cutouts_from_masks

    layout = get_layout(layout)
    files = label_files(paste.labels, "data.paste.labels")
    sequences = [s for f in files for s in read_coco_keypoints(f, layout)]
    mask_path = _mask_lookup(paste)
    cutouts = cutouts_from_masks(sequences, mask_path)
    if not cutouts:
        first = next((f for s in sequences for f in s.frames if f.persons), None)
        hint = f"; e.g. {mask_path(first)} for {first.image_path}" if first else ""
        raise ValueError(
            f"data.paste: no person of {paste.labels} could be cut out (each needs a readable "
            f"image and mask, >= 6 labelled joints, >= 48 px){hint}"
        )
    return PasteComposite(cutouts, paste.paste_config(), paste.probability, layout)


def _file_sequences(cfg: DataSection, layout: JointLayout) -> tuple[list[Sequence], Path]:
    """The labelled sequences of a file dataset (before the holdout) and where they came from."""
    root = Path(cfg.root)
    if cfg.kind == "coco":
        from pavenet_sdk.data.coco import read_coco_keypoints

        files = label_files(root, "data.root")
        if cfg.paste.labels:  # pasted people are stills too only with train_stills
            pasted = label_files(cfg.paste.labels, "data.paste.labels")
            resolved = {f.resolve() for f in pasted}
            files = [f for f in files if f.resolve() not in resolved]
            if cfg.paste.train_stills:
                files += pasted
            elif not files:
                raise ValueError(f"data.root {root} holds only the data.paste.labels files; "
                                 "set data.paste.train_stills = true to train on them")  # fmt: skip
        image_root = cfg.image_root or None
        return [s for f in files for s in read_coco_keypoints(f, layout, image_root)], root
    from pavenet_sdk.data.posetrack import load_posetrack

    where = root if root.is_file() else root / "annotations" / cfg.split
    if not where.exists():
        raise FileNotFoundError(f"PoseTrack annotations not found: {where}")
    return load_posetrack(where, None if root.is_file() else root, layout=layout), where


def build_dataset(
    cfg: DataSection, augment: AugmentSection, input_size: tuple[int, int], T: int, seed: int,
    layout: str | JointLayout = DEFAULT_LAYOUT,
) -> Dataset:  # fmt: skip
    """The training dataset described by ``[data]``, with targets in joint ``layout``.

    PoseTrack: ``root`` is the dataset folder; annotations are read from
    ``root/annotations/<split>/`` (one JSON per video), or from ``root`` if it is a JSON file.
    COCO: ``root`` is a COCO keypoints JSON file or a folder of them (images, or video frames
    with ``video_id``); image paths are relative to ``image_root`` (default: each JSON's
    folder). The files of ``paste.labels`` are left out unless ``paste.train_stills``.
    Then the ``holdout`` sequences are dropped, ``[data.paste]`` composites and a
    ``synthetic_share`` of synthetic windows are added.
    """
    if cfg.kind == "synthetic":
        return SyntheticWindows(cfg, augment, input_size, T, seed, layout)
    from pavenet_sdk.data.windows import SequenceWindows

    layout = get_layout(layout)
    sequences, where = _file_sequences(cfg, layout)
    sequences = without_holdout(sequences, cfg.holdout, where)
    composite = build_paste(cfg.paste, layout) if cfg.paste.labels else None
    dataset = SequenceWindows(sequences, T, input_size, augment.augment_config(), seed=seed,
                              layout=layout, composite=composite)  # fmt: skip
    if len(dataset) == 0:
        raise ValueError(f"{where} holds no labelled frames outside data.holdout")
    if cfg.synthetic_share > 0:
        synthetic = SyntheticWindows(dataclasses.replace(cfg, preset=cfg.synthetic_preset),
                                     augment, input_size, T, seed, layout)  # fmt: skip
        return MixedWindows(dataset, synthetic, cfg.synthetic_share, seed)
    return dataset


def collate(samples: list) -> tuple[torch.Tensor, list[dict[str, torch.Tensor]]]:
    """WindowSamples -> window (B, F, 3, H, W) float32 and per-sample target tensors
    (keypoints (N, K, 2) in [0, 1], visibility (N, K) bool, areas (N,))."""
    from pavenet_sdk.data.windows import collate_windows

    images, targets = collate_windows(samples)
    keys = ("keypoints", "visibility", "areas")
    return torch.from_numpy(images), [{k: torch.from_numpy(t[k]) for k in keys} for t in targets]


def build_loader(dataset: Dataset, cfg: DataSection, info: DistInfo, seed: int) -> DataLoader:
    """Shuffled loader; one ``DistributedSampler`` shard per rank under DDP."""
    if info.distributed:
        sampler = DistributedSampler(dataset, num_replicas=info.world_size, rank=info.rank,
                                     shuffle=True, seed=seed, drop_last=True)  # fmt: skip
    else:
        sampler = RandomSampler(dataset, generator=torch.Generator().manual_seed(seed))
    return DataLoader(
        dataset, batch_size=cfg.batch_size, sampler=sampler, num_workers=cfg.num_workers,
        collate_fn=collate, drop_last=True, persistent_workers=cfg.num_workers > 0,
        pin_memory=info.device.type == "cuda",
    )  # fmt: skip


def set_epoch(loader: DataLoader, epoch: int, seed: int) -> None:
    """Reshuffle for a new pass (sampler order and the dataset's augmentation draws)."""
    if isinstance(loader.sampler, DistributedSampler):
        loader.sampler.set_epoch(epoch)
    elif isinstance(loader.sampler, RandomSampler) and loader.sampler.generator is not None:
        loader.sampler.generator.manual_seed(seed * 1_000_003 + epoch)
    if hasattr(loader.dataset, "set_epoch"):
        loader.dataset.set_epoch(epoch)
