"""Training data: windows of synthetic clips generated on the fly, or PoseTrack windows.

A synthetic sample ``i`` is the clip with seed ``seed_range[0] + i``: F = 2T + 1 frames are
drawn and the centre one is labelled, so the dataset is effectively infinite (10^6 clips by
default) and never touches disk. Samplers are ``DistributedSampler`` under DDP, so every rank
sees different clips.

Targets are in the model's joint layout: the generator annotates clips in it and the
PoseTrack and COCO readers map the files' joints onto it by name (joints a file lacks, e.g.
PoseTrack's eyes, are unlabelled).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, DistributedSampler, RandomSampler

from pavenet_sdk.layouts import DEFAULT_LAYOUT, JointLayout, get_layout
from pavenet_sdk.train.config import AugmentSection, DataSection
from pavenet_sdk.train.distributed import DistInfo


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


def build_dataset(
    cfg: DataSection, augment: AugmentSection, input_size: tuple[int, int], T: int, seed: int,
    layout: str | JointLayout = DEFAULT_LAYOUT,
) -> Dataset:  # fmt: skip
    """The training dataset described by ``[data]``, with targets in joint ``layout``.

    PoseTrack: ``root`` is the dataset folder; annotations are read from
    ``root/annotations/<split>/`` (one JSON per video), or from ``root`` if it is a JSON file.
    COCO: ``root`` is a COCO keypoints JSON file (images, or video frames with ``video_id``);
    image paths are relative to ``image_root`` (default: the JSON's folder).
    """
    if cfg.kind == "synthetic":
        return SyntheticWindows(cfg, augment, input_size, T, seed, layout)
    from pavenet_sdk.data.windows import PoseTrackWindows

    root = Path(cfg.root)
    if cfg.kind == "coco":
        from pavenet_sdk.data.coco import read_coco_keypoints

        sequences = read_coco_keypoints(root, layout, cfg.image_root or None)
        where = root
    else:
        from pavenet_sdk.data.posetrack import load_posetrack

        where = root if root.is_file() else root / "annotations" / cfg.split
        if not where.exists():
            raise FileNotFoundError(f"PoseTrack annotations not found: {where}")
        sequences = load_posetrack(where, None if root.is_file() else root, layout=layout)
    dataset = PoseTrackWindows(sequences, T, input_size, augment.augment_config(), seed=seed,
                               layout=layout)  # fmt: skip
    if len(dataset) == 0:
        raise ValueError(f"{where} holds no labelled frames")
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
