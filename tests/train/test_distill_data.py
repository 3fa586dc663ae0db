"""Distillation data and training hooks on tiny generated label folders: held-out clips,
copy-paste composites, the synthetic share, MoveNet backbone initialisation, evaluation on
real labelled clips and one ``pavenet train`` run that uses them all."""

from __future__ import annotations

import json
import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from shared_data import SHARED

torch = pytest.importorskip("torch")
pytest.importorskip("scipy")
pytest.importorskip("pycocotools")

from pavenet_sdk.cli import main as cli_main  # noqa: E402
from pavenet_sdk.data.coco import write_coco_keypoints  # noqa: E402
from pavenet_sdk.data.copy_paste import Cutout, PasteConfig  # noqa: E402
from pavenet_sdk.data.types import Frame, Person, Sequence  # noqa: E402
from pavenet_sdk.data.windows import SequenceWindows  # noqa: E402
from pavenet_sdk.layouts import COCO_17, LIMB_JOINTS  # noqa: E402
from pavenet_sdk.train.config import (  # noqa: E402
    AugmentSection,
    DataSection,
    PasteSection,
    load_config,
)
from pavenet_sdk.train.data import (  # noqa: E402
    MixedWindows,
    PasteComposite,
    SyntheticWindows,
    build_dataset,
    build_paste,
)

MOVENET = SHARED / "teachers" / "movenet-multipose-lightning.onnx"
CLIPS = ("clip-a", "clip-b", "clip-c")
FRAMES = 4  # per clip, all labelled
W, H = 96, 64


def _figure(x0: float, y0: float, height: float, track: int = 0) -> Person:
    """A standing COCO-17 person with its head at (x0, y0), every joint labelled."""
    rows = np.linspace(0.0, 1.0, 17) * height
    cols = x0 + np.tile([-2.0, 2.0], 9)[:17] * (height / 40)
    kps = np.c_[cols, y0 + rows, np.full(17, 2.0)].astype(np.float32)
    return Person(track, kps, scores=np.full(17, 0.9, np.float32), score=0.8)


def _write_clip(folder: Path, name: str, seed: int) -> None:
    """A FRAMES-frame clip of noise with one labelled person, as ``pavenet label`` writes."""
    rng = np.random.default_rng(seed)
    (folder / name).mkdir(parents=True)
    frames = []
    for k in range(FRAMES):
        path = folder / name / f"{k:06d}.jpg"
        cv2.imwrite(str(path), rng.integers(0, 256, (H, W, 3), dtype=np.uint8))
        frames.append(Frame(k, str(path), True, [_figure(30 + 3 * k, 8, 48)], image_size=(W, H)))
    write_coco_keypoints(folder / f"{name}.json", [Sequence(name, frames)], "coco-17")


def _write_pennfudan(folder: Path) -> Path:
    """A Penn-Fudan-like folder: images/P1.jpg, masks/P1_mask.png (person 1 a 30 x 100 px
    rectangle), and the teacher's labels of that person in pennfudan.json."""
    (folder / "images").mkdir(parents=True)
    (folder / "masks").mkdir()
    image = np.full((120, 80, 3), 40, np.uint8)
    image[10:110, 25:55] = 230
    mask = np.zeros((120, 80), np.uint8)
    mask[10:110, 25:55] = 1
    cv2.imwrite(str(folder / "images" / "P1.jpg"), image)
    cv2.imwrite(str(folder / "masks" / "P1_mask.png"), mask)
    frame = Frame(0, str(folder / "images" / "P1.jpg"), True, [_figure(40, 14, 90)],
                  image_size=(80, 120))  # fmt: skip
    return write_coco_keypoints(folder / "pennfudan.json", [Sequence("P1", [frame])], "coco-17",
                                videos=False)  # fmt: skip


@pytest.fixture(scope="module")
def labels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("labels")
    for i, name in enumerate(CLIPS):
        _write_clip(root, name, i)
    return root


@pytest.fixture(scope="module")
def pennfudan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pennfudan")
    _write_pennfudan(folder)
    return folder


def _names(dataset) -> list[str]:
    return sorted({dataset.sequences[s].name for s, _ in dataset.items})


def test_holdout_excludes_whole_clips(labels: Path) -> None:
    cfg = DataSection(kind="coco", root=str(labels), holdout=("clip-b",))
    ds = build_dataset(cfg, AugmentSection(enabled=False), (64, 64), T=1, seed=0,
                       layout="coco-17")  # fmt: skip
    assert isinstance(ds, SequenceWindows)
    assert _names(ds) == ["clip-a", "clip-c"] and len(ds) == 2 * FRAMES
    full = build_dataset(DataSection(kind="coco", root=str(labels)), AugmentSection(enabled=False),
                         (64, 64), T=1, seed=0, layout="coco-17")  # fmt: skip
    assert len(full) == 3 * FRAMES
    with pytest.raises(ValueError, match=r"data.holdout: no sequence named \['clip-x'\]"):
        build_dataset(DataSection(kind="coco", root=str(labels), holdout=("clip-a", "clip-x")),
                      AugmentSection(), (64, 64), T=1, seed=0, layout="coco-17")  # fmt: skip


def test_paste_labels_are_not_training_stills(
    labels: Path, pennfudan: Path, tmp_path: Path
) -> None:
    root = tmp_path / "mixed"  # clips and the Penn-Fudan labels in one folder
    root.mkdir()
    for path in [*labels.iterdir(), *pennfudan.iterdir()]:
        (root / path.name).symlink_to(path)
    paste = PasteSection(labels=str(root / "pennfudan.json"))
    cfg = DataSection(kind="coco", root=str(root), paste=paste)
    ds = build_dataset(cfg, AugmentSection(enabled=False), (64, 64), T=0, seed=0,
                       layout="coco-17")  # fmt: skip
    assert _names(ds) == list(CLIPS)
    paste = PasteSection(labels=str(root / "pennfudan.json"), train_stills=True)
    cfg = DataSection(kind="coco", root=str(root), paste=paste)
    ds = build_dataset(cfg, AugmentSection(enabled=False), (64, 64), T=0, seed=0,
                       layout="coco-17")  # fmt: skip
    assert _names(ds) == sorted([*CLIPS, "P1"])
    # in their own folder (the usual layout), train_stills adds them to data.root's clips
    for stills, expected in ((False, list(CLIPS)), (True, sorted([*CLIPS, "P1"]))):
        paste = PasteSection(labels=str(pennfudan), train_stills=stills)
        cfg = DataSection(kind="coco", root=str(labels), paste=paste)
        ds = build_dataset(cfg, AugmentSection(enabled=False), (64, 64), T=0, seed=0,
                           layout="coco-17")  # fmt: skip
        assert _names(ds) == expected


def test_cutouts_from_a_pennfudan_folder(pennfudan: Path, tmp_path: Path) -> None:
    composite = build_paste(PasteSection(labels=str(pennfudan)), "coco-17")
    assert len(composite.cutouts) == 1
    cut = composite.cutouts[0]
    assert cut.image.shape[:2] == cut.mask.shape == (100, 30) and cut.mask.min() == 1.0
    # masks elsewhere: mask_dir; a folder without the masks gives a clear error
    moved = build_paste(PasteSection(labels=str(pennfudan), mask_dir=str(pennfudan / "masks")),
                        "coco-17")  # fmt: skip
    assert len(moved.cutouts) == 1
    with pytest.raises(ValueError, match="could be cut out.*P1_mask.png"):
        build_paste(PasteSection(labels=str(pennfudan), mask_dir=str(tmp_path)), "coco-17")


def _white_figure() -> Cutout:
    kps = np.c_[np.full(17, 10.0), np.linspace(2, 37, 17), np.full(17, 2.0)].astype(np.float32)
    return Cutout(np.full((40, 20, 3), 255, np.uint8), np.ones((40, 20), np.float32), kps)


def test_paste_hook_is_one_edit_for_the_whole_window() -> None:
    seq = Sequence("s", [Frame(k, "", True, [_figure(20, 5, 40)]) for k in range(3)])
    black = np.zeros((60, 80, 3), np.uint8)
    paste = PasteComposite([_white_figure()], PasteConfig(count=(2, 2), height=(0.5, 0.6),
                           max_drift=0.0, feather=0), 1.0, COCO_17)  # fmt: skip
    plain = SequenceWindows([seq], 1, (60, 80), None, image_loader=lambda f: black,
                            layout=COCO_17)  # fmt: skip
    pasted = SequenceWindows([seq], 1, (60, 80), None, image_loader=lambda f: black,
                             layout=COCO_17, composite=paste)  # fmt: skip
    a, b = plain[1], pasted[1]
    assert len(a.track_ids) == 1 and len(b.track_ids) == 3  # the centre person + 2 pasted
    assert not np.array_equal(a.images, b.images)
    for f in (0, 2):  # no drift: every frame of the window got the same people
        np.testing.assert_array_equal(b.images[f], b.images[1])
    # the pasted people's labels lie on pasted (white) pixels of the centre frame
    centre = b.images[1].mean(axis=0)  # normalised; white is far above black
    for n in (1, 2):
        xy = np.round(b.keypoints[n][b.visibility[n]] * (80, 60) - 0.5).astype(int)
        assert (centre[xy[:, 1], xy[:, 0]] > 1.5).all()
    never = PasteComposite([_white_figure()], PasteConfig(), 0.0, COCO_17)
    skipped = SequenceWindows([seq], 1, (60, 80), None, image_loader=lambda f: black,
                              layout=COCO_17, composite=never)[1]  # fmt: skip
    np.testing.assert_array_equal(skipped.images, a.images)


def test_paste_through_the_dataset_builder(labels: Path, pennfudan: Path) -> None:
    paste = PasteSection(labels=str(pennfudan), probability=1.0, count=(1, 1), height=(0.5, 0.8))
    cfg = DataSection(kind="coco", root=str(labels), paste=paste)
    ds = build_dataset(cfg, AugmentSection(enabled=False), (64, 96), T=1, seed=0,
                       layout="coco-17")  # fmt: skip
    plain = build_dataset(DataSection(kind="coco", root=str(labels)),
                          AugmentSection(enabled=False), (64, 96), T=1, seed=0,
                          layout="coco-17")  # fmt: skip
    for i in range(len(ds)):
        assert len(ds[i].track_ids) == len(plain[i].track_ids) + 1
        assert not np.array_equal(ds[i].images, plain[i].images)


class _Tagged:
    """A stand-in dataset whose item is (name, index)."""

    def __init__(self, name: str, n: int) -> None:
        self.name, self.n, self.epoch = name, n, 0

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int):
        return self.name, i

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch


def test_synthetic_share_is_deterministic_and_near_the_share() -> None:
    files, synth = _Tagged("file", 2700), _Tagged("synthetic", 10**6)
    ds = MixedWindows(files, synth, 0.1, seed=4)
    assert len(ds) == 3000
    first = [ds[i] for i in range(len(ds))]
    assert first == [MixedWindows(files, synth, 0.1, seed=4)[i] for i in range(len(ds))]
    share = sum(kind == "synthetic" for kind, _ in first) / len(first)
    assert 0.08 < share < 0.12
    assert all(i == k % 2700 for k, (kind, i) in enumerate(first) if kind == "file")
    ds.set_epoch(1)
    assert synth.epoch == files.epoch == 1  # the parts reshuffle their augmentation too
    second = [ds[i] for i in range(len(ds))]
    assert second != first  # a new epoch draws afresh
    assert [ds[i] for i in range(len(ds))] == second
    assert MixedWindows(files, synth, 0.0).source(5) == ("file", 5)
    with pytest.raises(IndexError):
        ds.source(len(ds))


def test_synthetic_share_through_the_dataset_builder(labels: Path) -> None:
    cfg = DataSection(kind="coco", root=str(labels), synthetic_share=0.5,
                      synthetic_preset="occlusion", frame_size=(96, 64))  # fmt: skip
    ds = build_dataset(cfg, AugmentSection(), (64, 64), T=1, seed=0, layout="coco-17")
    assert isinstance(ds, MixedWindows) and len(ds) == 2 * 3 * FRAMES
    assert isinstance(ds.synthetic, SyntheticWindows) and ds.synthetic.cfg.preset == "occlusion"
    kinds = {ds.source(i)[0] for i in range(len(ds))}
    assert kinds == {"file", "synthetic"}
    for i in range(len(ds)):  # both kinds: the model's layout and input
        sample = ds[i]
        assert sample.images.shape == (3, 3, 64, 64) and sample.keypoints.shape[1:] == (17, 2)


def _write_config(folder: Path, text: str) -> Path:
    path = folder / "run.toml"
    path.write_text(text)
    return path


MICRO = """
[run]
device = "cpu"
[model]
preset = "micro"
[model.overrides]
layout = "coco-17"
T = 1
[data]
batch_size = 2
frame_size = [96, 64]
[augment]
rotate = 10.0
[optim]
warmup_steps = 1
[train]
max_steps = 2
log_interval = 1
[checkpoint]
interval = 0
"""


def _metrics(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def test_pavenet_train_on_labelled_clips(labels: Path, pennfudan: Path, tmp_path: Path) -> None:
    """Relative paths resolve against the config's folder; the run reads the label folder,
    holds clip-b out, pastes Penn-Fudan people, mixes synthetic windows and scores clip-b."""
    (tmp_path / "cfg").mkdir()
    rel = os.path.relpath(labels, tmp_path / "cfg")
    text = MICRO.replace("[data]\n", f'[data]\nkind = "coco"\nroot = "{rel}"\n'
                         'holdout = ["clip-b"]\nsynthetic_share = 0.25\n')  # fmt: skip
    text += (f'[data.paste]\nlabels = "{os.path.relpath(pennfudan, tmp_path / "cfg")}"\n'
             f'probability = 1.0\n[eval]\ninterval = 1\nvideos = 0\nlabels = "{rel}"\n'
             'sequences = ["clip-b"]\nframes_per_clip = 3\n')  # fmt: skip
    path = _write_config(tmp_path / "cfg", text)
    assert load_config(path).data.root == str(labels)
    out = tmp_path / "run"
    code = cli_main(["train", str(path), "--out", str(out), "--no-progress", "--threads", "1"])
    assert code == 0
    rows = _metrics(out)
    train = [r for r in rows if r["kind"] == "train"]
    evals = [r for r in rows if r["kind"] == "eval"]
    assert [r["step"] for r in train] == [1, 2] and all(r["windows_per_s"] > 0 for r in train)
    assert [r["step"] for r in evals] == [1, 2]
    for r in evals:
        assert {"real/AP", "real/AP50", "real/AP75", "real/AR"} <= set(r) and "mAP" not in r
    assert (out / "best.pt").is_file() and (out / "last.pt").is_file()
    from pavenet_sdk.checkpoint import read_checkpoint

    best = [r["real/AP"] for r in evals if r["real/AP"] is not None]
    assert read_checkpoint(out / "last.pt")["best_map"] == (max(best) if best else None)


def test_best_checkpoint_follows_real_ap(labels: Path, tmp_path: Path) -> None:
    from pavenet_sdk.checkpoint import read_checkpoint
    from pavenet_sdk.train.loop import Trainer

    text = MICRO.replace("[data]\n", f'[data]\nkind = "coco"\nroot = "{labels}"\n'
                         'holdout = ["clip-b"]\n')  # fmt: skip
    text = text.replace("max_steps = 2", "max_steps = 3")
    text += f'[eval]\ninterval = 1\nvideos = 1\nframes = 2\nlabels = "{labels}"\n'
    text += 'sequences = ["clip-b"]\npresets = ["easy"]\nframe_size = [96, 64]\n'
    cfg = load_config(_write_config(tmp_path, text))
    scripted = {1: (10.0, 90.0), 2: (30.0, 10.0), 3: (20.0, 50.0)}  # step: (real/AP, mAP)

    class Scripted(Trainer):
        def _evaluate(self) -> dict[str, float]:
            real, synthetic = scripted[self.step]
            return {"real/AP": real, "mAP": synthetic}

    trainer = Scripted(cfg, tmp_path / "run", progress=False)
    summary = trainer.run()
    assert summary["best_metric"] == "real/AP" and summary["best_map"] == 30.0
    assert read_checkpoint(tmp_path / "run" / "best.pt")["step"] == 2  # not mAP's step 1
    assert len(trainer.real_clips) == 1 and len(trainer.held_out["easy"]) == 1


def test_real_clips_are_whole_named_clips(labels: Path) -> None:
    from pavenet_sdk.eval.coco_ap import evaluate_coco
    from pavenet_sdk.train.evaluate import ImageFiles, real_clips

    clips = real_clips(labels, ["clip-c", "clip-a"], frames_per_clip=2)
    assert [c.sequence.name for c in clips] == ["clip-c", "clip-a"]
    clip = clips[0]
    assert isinstance(clip.frames, ImageFiles) and len(clip.frames) == 2
    assert [f.index for f in clip.sequence.frames] == [1, 2]  # the middle of 4 frames
    assert clip.frames[0].shape == (H, W, 3)
    assert len(real_clips(labels, (), 0)) == 3  # every clip, every frame
    assert len(real_clips(labels, (), 0)[0].frames) == FRAMES
    with pytest.raises(ValueError, match=r"no sequence named \['clip-x'\]"):
        real_clips(labels, ["clip-x"])
    # the teacher's labels are the ground truth: themselves as predictions score AP 1
    gt = [c.sequence for c in clips]
    result = evaluate_coco(gt, gt, gt_layout="coco-17", pred_layout="coco-17", joints=LIMB_JOINTS)
    assert result["AP"] == pytest.approx(1.0) and result["num_gt"] == 4


def test_evaluate_real_through_the_runtime(labels: Path) -> None:
    from pavenet_sdk.model import build_model, get_preset
    from pavenet_sdk.train.evaluate import evaluate_real, real_clips

    torch.set_num_threads(1)
    model = build_model(get_preset("micro").replace(layout="coco-17"))
    result = evaluate_real(model, real_clips(labels, ["clip-b"], 3))
    assert result["num_images"] == 3 and result["num_gt"] == 3 and result["num_pred"] > 0
    assert 0.0 <= result["AP"] <= 1.0 and result["joints"] == list(LIMB_JOINTS)
    assert model.training and torch.get_num_threads() == 1
    # per clip: each clip scored alone, from the same predictions as the pooled score
    clips = real_clips(labels, ["clip-b", "clip-a"], 3)
    pooled = evaluate_real(model, clips, per_clip=True)
    assert list(pooled["per_clip"]) == ["clip-b", "clip-a"]
    for clip in clips:
        alone = evaluate_real(model, [clip])
        assert pooled["per_clip"][clip.sequence.name]["AP"] == pytest.approx(alone["AP"])
        assert pooled["per_clip"][clip.sequence.name]["num_gt"] == alone["num_gt"] == 3
    assert pooled["num_gt"] == 6 and "per_clip" not in alone


def test_backbone_init_refuses_other_backbones(tmp_path: Path, capsys) -> None:
    text = MICRO.replace('preset = "micro"', 'preset = "micro"\nbackbone_init = "x.onnx"')
    path = _write_config(tmp_path, text)
    assert cli_main(["train", str(path), "--out", str(tmp_path / "r"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "model.backbone_init" in err and "'resnet' backbone" in err


@pytest.mark.skipif(not MOVENET.is_file(), reason="MoveNet teacher not available")
def test_backbone_init_loads_movenet_weights(labels: Path, tmp_path: Path) -> None:
    from pavenet_sdk.checkpoint import read_checkpoint
    from pavenet_sdk.model.movenet_weights import load_extractor

    text = MICRO.replace('preset = "micro"', f'preset = "small"\nbackbone_init = "{MOVENET}"')
    text = text.replace("T = 1", 'T = 0\ntemporal = "image"\ninput_size = [64, 64]\n'
                        "encoder = { num_layers = 1 }")  # fmt: skip
    text = text.replace("[data]\n", f'[data]\nkind = "coco"\nroot = "{labels}"\n')
    text = text.replace("max_steps = 2", "max_steps = 1")
    text += "[eval]\nvideos = 0\n"
    path = _write_config(tmp_path, text.replace("[optim]\n", "[optim]\nbackbone_lr_mult = 0.0\n"))
    assert cli_main(["train", str(path), "--out", str(tmp_path / "r"), "--no-progress"]) == 0
    saved = read_checkpoint(tmp_path / "r" / "last.pt")["model"]
    weights = load_extractor(MOVENET).state_dict
    for name, tensor in weights.items():  # every tensor loaded, unchanged by a zero backbone lr
        torch.testing.assert_close(saved[f"backbone.{name}"], tensor)
