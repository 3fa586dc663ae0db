"""Training datasets (synthetic, PoseTrack) and the frozen-neighbour training forward."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared_data import SHARED

torch = pytest.importorskip("torch")
pytest.importorskip("scipy")

from pavenet_sdk.train.config import AugmentSection, DataSection, load_config  # noqa: E402
from pavenet_sdk.train.data import SyntheticWindows, build_dataset, collate  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
MINI = SHARED / "data" / "posetrack18-mini"


def test_synthetic_windows_repeat_and_differ() -> None:
    ds = SyntheticWindows(DataSection(preset="easy", frame_size=(96, 64)), AugmentSection(),
                          (64, 64), T=1, seed=3)  # fmt: skip
    a, b = ds[5], ds[5]
    assert a.images.shape == (3, 3, 64, 64)
    assert (a.images == b.images).all() and (a.keypoints == b.keypoints).all()
    ds.set_epoch(1)  # new augmentation draws, same clip
    assert not (ds[5].images == a.images).all()
    window, targets = collate([a, ds[6]])
    assert window.shape == (2, 3, 3, 64, 64) and window.dtype == torch.float32
    assert targets[0]["visibility"].dtype == torch.bool
    assert set(targets[0]) == {"keypoints", "visibility", "areas"}
    with pytest.raises(IndexError):
        ds[len(ds)]


@pytest.mark.skipif(not MINI.is_dir(), reason="posetrack18-mini sample data not available")
def test_posetrack_windows_from_the_sample_data() -> None:
    cfg = DataSection(kind="posetrack", root=str(MINI), split="val")
    ds = build_dataset(cfg, AugmentSection(), (96, 96), T=1, seed=0)
    window, targets = collate([ds[0]])
    assert window.shape == (1, 3, 3, 96, 96)
    assert targets[0]["keypoints"].shape[1:] == (15, 2)
    with pytest.raises(FileNotFoundError):
        build_dataset(DataSection(kind="posetrack", root=str(MINI), split="nope"),
                      AugmentSection(), (96, 96), T=1, seed=0)  # fmt: skip


def test_frozen_neighbours_get_no_gradients() -> None:
    from pavenet_sdk.model import build_model
    from pavenet_sdk.train.steps import TrainingForward

    torch.manual_seed(0)
    cfg = load_config(ROOT / "configs" / "ci-smoke.toml")
    model = build_model(cfg.model_config()).train()
    ds = SyntheticWindows(cfg.data, cfg.augment, model.cfg.input_size, model.cfg.T, seed=0)
    window, targets = collate([ds[0], ds[1]])
    grads = {}
    for freeze in (False, True):
        x = window.clone().requires_grad_(True)
        TrainingForward(model, freeze)(x, targets)["loss"].backward()
        grads[freeze] = x.grad.abs().sum(dim=(2, 3, 4))  # (B, F)
    assert grads[True][:, 1].gt(0).all()  # the centre frame is trained
    assert grads[True][:, [0, 2]].eq(0).all()  # neighbours are not
    assert grads[False][:, [0, 2]].gt(0).all()


def test_synthetic_targets_follow_the_model_layout() -> None:
    ds = SyntheticWindows(DataSection(preset="easy", frame_size=(96, 64)), AugmentSection(),
                          (64, 64), T=1, seed=3, layout="coco-17")  # fmt: skip
    window, targets = collate([ds[0], ds[1]])
    assert all(t["keypoints"].shape[1:] == (17, 2) for t in targets)
    assert sum(int(t["visibility"].sum()) for t in targets) > 0


def test_coco_json_dataset(tmp_path: Path) -> None:
    import json

    import cv2
    import numpy as np

    from pavenet_sdk.layouts import COCO_17

    (tmp_path / "img").mkdir()
    images, annotations = [], []
    for i in range(2):
        cv2.imwrite(str(tmp_path / "img" / f"{i}.jpg"), np.full((60, 80, 3), 40 * i, np.uint8))
        images.append({"id": i, "file_name": f"{i}.jpg", "width": 80, "height": 60})
        kps = []
        for j in range(17):
            kps += [10.0 + 3 * j, 20.0 + j, 2]
        annotations.append({"id": i, "image_id": i, "category_id": 1, "keypoints": kps,
                            "num_keypoints": 17, "bbox": [10, 20, 48, 16], "area": 400,
                            "iscrowd": 0})  # fmt: skip
    categories = [{"id": 1, "name": "person", "keypoints": list(COCO_17.joints),
                   "skeleton": [[a + 1, b + 1] for a, b in COCO_17.skeleton]}]  # fmt: skip
    path = tmp_path / "person_keypoints.json"
    path.write_text(json.dumps({"images": images, "annotations": annotations,
                                "categories": categories}))  # fmt: skip
    cfg = DataSection(kind="coco", root=str(path), image_root=str(tmp_path / "img"))
    ds = build_dataset(cfg, AugmentSection(enabled=False), (64, 64), T=1, seed=0,
                       layout="coco-17")  # fmt: skip
    assert len(ds) == 2  # two still images, each its own one-frame sequence
    window, targets = collate([ds[1]])
    assert window.shape == (1, 3, 3, 64, 64) and targets[0]["visibility"].all()
    # letterbox 80x60 -> 64x48: x 0.8, y 0.8; joint j at (10 + 3j, 20 + j) px
    expected = torch.tensor([[(10.0 + 3 * j) * 0.8 / 64, (20.0 + j) * 0.8 / 64] for j in range(17)])
    torch.testing.assert_close(targets[0]["keypoints"][0], expected)
    # the same file read for a PoseTrack-15 model: the shared joints only
    pt = build_dataset(cfg, AugmentSection(enabled=False), (64, 64), T=1, seed=0)
    _, targets = collate([pt[1]])
    assert targets[0]["keypoints"].shape == (1, 15, 2)
    assert targets[0]["visibility"][0].tolist() == [True, False, False] + [True] * 12
