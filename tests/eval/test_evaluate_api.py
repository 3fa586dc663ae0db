"""In-memory evaluation, the PT18 writer as prediction format, real data and the CLI."""

from __future__ import annotations

import copy
import json
import math
import shutil
import time

import numpy as np
import pytest
from posetrack_cases import shared_data

from pavenet_sdk.cli import main as cli_main
from pavenet_sdk.data.posetrack import load_posetrack, write_posetrack18_videos
from pavenet_sdk.data.types import Frame, Person, Sequence
from pavenet_sdk.eval import TABLE_COLUMNS, evaluate_posetrack, evaluate_sequences
from pavenet_sdk.layouts import COCO_17, POSETRACK_15

MINI = shared_data()
needs_mini = pytest.mark.skipif(not MINI.is_dir(), reason="shared PoseTrack sample not found")


def random_dataset(num_frames: int, num_persons: int, seed: int = 0) -> list[Sequence]:
    """Persons with random poses, head boxes and a few unannotated joints."""
    rng = np.random.default_rng(seed)
    seqs = []
    for s in range(max(1, num_frames // 100)):
        frames = []
        for k in range(min(100, num_frames)):
            persons = []
            for t in range(num_persons):
                xy = rng.uniform(0, 1000, size=(15, 2))
                vis = (rng.random(15) > 0.1).astype(np.float32)
                kps = np.c_[xy * vis[:, None], vis].astype(np.float32)
                hx, hy = xy[2]
                persons.append(Person(t, kps, (hx - 20, hy - 25, hx + 20, hy + 25)))
            frames.append(Frame(k, f"/d/images/val/{s:06d}_mpii_test/{k:06d}.jpg", True, persons))
        seqs.append(Sequence(f"{s:06d}_mpii_test", frames))
    return seqs


def noisy_predictions(gt: list[Sequence], sigma: float, seed: int = 1) -> list[Sequence]:
    rng = np.random.default_rng(seed)
    out = copy.deepcopy(gt)
    for seq in out:
        for frame in seq.frames:
            for p in frame.persons:
                p.keypoints[:, :2] += rng.normal(0, sigma, size=(15, 2)).astype(np.float32)
                p.keypoints[:, 2] = 1.0
                p.scores = rng.random(15).astype(np.float32)
                p.head_box = None
    return out


def test_gt_as_prediction_scores_100_in_memory():
    gt = random_dataset(200, 4)
    r = evaluate_sequences(gt, copy.deepcopy(gt))
    assert all(r[c] == 100.0 for c in TABLE_COLUMNS)
    assert r["num_frames"] == 200


def test_in_memory_equals_files_written_by_the_writer(tmp_path):
    gt = random_dataset(300, 5)
    pred = noisy_predictions(gt, sigma=8.0)
    in_memory = evaluate_sequences(gt, pred)
    assert 5.0 < in_memory["mean"] < 95.0  # a non-trivial score
    write_posetrack18_videos(gt, tmp_path / "gt", scores=False, image_root="/d")
    write_posetrack18_videos(pred, tmp_path / "pred", scores=True, image_root="/d")
    from_files = evaluate_posetrack(tmp_path / "gt", tmp_path / "pred")
    for key in (*TABLE_COLUMNS,):
        assert from_files[key] == pytest.approx(in_memory[key], abs=1e-6), key


def test_in_memory_pairs_by_name_and_validates():
    gt = random_dataset(100, 2)
    pred = noisy_predictions(gt, 2.0)
    pred[0].name = "other"
    with pytest.raises(ValueError, match="no prediction sequence"):
        evaluate_sequences(gt, pred)
    with pytest.raises(TypeError):
        evaluate_sequences(gt, [1, 2])


def test_speed_thousands_of_frames():
    gt = random_dataset(3000, 6)
    pred = noisy_predictions(gt, 8.0)
    start = time.perf_counter()
    r = evaluate_sequences(gt, pred)
    elapsed = time.perf_counter() - start
    assert r["num_frames"] == 3000
    assert elapsed < 20.0, f"3000 frames took {elapsed:.1f} s"


@needs_mini
def test_real_gt_as_prediction_scores_100(tmp_path):
    gt_dir = MINI / "annotations" / "val"
    r = evaluate_posetrack(gt_dir, gt_dir)
    assert all(r[c] == 100.0 for c in TABLE_COLUMNS)
    assert r["num_sequences"] == 3 and r["num_frames"] == 3
    assert sum(r["num_gt"].values()) > 150


@needs_mini
def test_real_shifted_predictions_lose_points(tmp_path):
    seqs = load_posetrack(MINI / "annotations" / "val")
    preds = copy.deepcopy(seqs)
    for seq in preds:
        for frame in seq.frames:
            for p in frame.persons:
                p.keypoints[:, 0] += 60.0  # far beyond most PCKh radii
                p.scores = np.full(15, 0.5, np.float32)
    write_posetrack18_videos(preds, tmp_path, scores=True, image_root=MINI)
    r = evaluate_posetrack(MINI / "annotations" / "val", tmp_path)
    assert r["mean"] < 50.0


def test_cli_writes_table_and_json(tmp_path, capsys):
    gt = random_dataset(100, 3)
    write_posetrack18_videos(gt, tmp_path / "gt", image_root="/d")
    shutil.copytree(tmp_path / "gt", tmp_path / "pred")
    out_json = tmp_path / "out" / "metrics.json"
    code = cli_main(["eval", "--gt", str(tmp_path / "gt"), "--pred", str(tmp_path / "pred"),
                     "--json", str(out_json)])  # fmt: skip
    assert code == 0
    text = capsys.readouterr().out
    assert "| Head" in text and "Mean" in text and "100.0" in text
    data = json.loads(out_json.read_text())
    assert set(TABLE_COLUMNS) <= set(data) and data["mean"] == 100.0
    assert len(data["joints"]) == 15


def test_cli_nan_becomes_null_and_errors_exit_nonzero(tmp_path, capsys):
    gt = random_dataset(100, 1)
    for frame in gt[0].frames:
        frame.persons[0].keypoints[0] = 0.0  # nose never annotated -> NaN AP
    pred = noisy_predictions(gt, 1.0)
    write_posetrack18_videos(gt, tmp_path / "gt", image_root="/d")
    write_posetrack18_videos(pred, tmp_path / "pred", image_root="/d")
    out_json = tmp_path / "m.json"
    assert cli_main(["eval", "--gt", str(tmp_path / "gt"), "--pred", str(tmp_path / "pred"),
                     "--json", str(out_json)]) == 0  # fmt: skip
    data = json.loads(out_json.read_text())
    assert data["joints"]["nose"] is None and data["head"] is None
    assert not math.isnan(data["mean"])
    assert cli_main(["eval", "--gt", str(tmp_path / "nope"), "--pred", str(tmp_path)]) == 2
    assert "error" in capsys.readouterr().err


def _to_layout(seqs: list[Sequence], layout) -> list[Sequence]:
    """The same persons with keypoints (and scores) in ``layout``, by joint name (joints
    posetrack-15 lacks are absent)."""
    src = {name: i for i, name in enumerate(POSETRACK_15.joints)}
    out = copy.deepcopy(seqs)
    for seq in out:
        for frame in seq.frames:
            for p in frame.persons:
                kps = np.zeros((layout.num_joints, 3), np.float32)
                scores = np.zeros(layout.num_joints, np.float32)
                for j, name in enumerate(layout.joints):
                    if name in src:
                        kps[j] = p.keypoints[src[name]]
                        if p.scores is not None:
                            scores[j] = p.scores[src[name]]
                p.keypoints, p.scores = kps, scores if p.scores is not None else None
    return out


def test_predictions_in_another_layout_are_matched_by_name(tmp_path):
    gt = random_dataset(100, 3)
    pred = noisy_predictions(gt, sigma=3.0)
    same = evaluate_sequences(gt, pred)
    r = evaluate_sequences(gt, _to_layout(pred, COCO_17), pred_layout="coco-17")
    for name in POSETRACK_15.joints:  # head_bottom and head_top are never predicted
        expected = 0.0 if name in ("head_bottom", "head_top") else same["joints"][name]
        assert r["joints"][name] == pytest.approx(expected), name
    assert 20.0 < r["joints"]["nose"] < 95.0
    # the same predictions written to PoseTrack files by the writer, scored as poseval would
    noisy = _to_layout(noisy_predictions(gt, sigma=8.0), COCO_17)
    write_posetrack18_videos(gt, tmp_path / "gt", scores=False, image_root="/d")
    write_posetrack18_videos(noisy, tmp_path / "pred", scores=True, image_root="/d",
                             layout="coco-17")  # fmt: skip
    from_files = evaluate_posetrack(tmp_path / "gt", tmp_path / "pred")
    in_memory = evaluate_sequences(gt, noisy, pred_layout="coco-17")
    for key in TABLE_COLUMNS:
        assert from_files[key] == pytest.approx(in_memory[key], abs=1e-6), key
    assert 5.0 < in_memory["mean"] < 80.0
    with pytest.raises(ValueError, match=r"\(17, 3\) for layout 'coco-17'"):
        evaluate_sequences(gt, pred, pred_layout="coco-17")


def test_ground_truth_in_coco17_lacks_the_head_joints():
    gt = random_dataset(100, 2)
    r = evaluate_sequences(_to_layout(gt, COCO_17), _to_layout(copy.deepcopy(gt), COCO_17),
                           gt_layout="coco-17", pred_layout="coco-17")  # fmt: skip
    assert r["num_gt"]["head_top"] == r["num_gt"]["head_bottom"] == 0
    assert r["num_gt"]["nose"] > 0 and r["joints"]["nose"] == 100.0
    assert r["joints"]["head_top"] == 0.0  # neither annotated nor predicted: poseval's 0
    assert r["mean"] == pytest.approx(1300 / 15)
