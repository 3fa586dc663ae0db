"""COCO keypoint AP: our inputs to pycocotools against its own COCOeval, hand-derived values,
joint subsets and layouts, and ``pavenet eval --metric coco``."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import math

import numpy as np
import pytest

pytest.importorskip("pycocotools")
from pycocotools.coco import COCO  # noqa: E402
from pycocotools.cocoeval import COCOeval  # noqa: E402

from pavenet_sdk.cli import main as cli_main  # noqa: E402
from pavenet_sdk.data.types import Frame, Person, Sequence  # noqa: E402
from pavenet_sdk.eval import COCO_COLUMNS, evaluate_coco  # noqa: E402
from pavenet_sdk.layouts import COCO_17, LIMB_JOINTS, POSETRACK_15  # noqa: E402


def _pycocotools(gt: dict, results: list[dict], sigmas=None) -> np.ndarray:
    """pycocotools on its own inputs, the way its documentation runs it (files, loadRes)."""
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO()
        coco_gt.dataset = copy.deepcopy(gt)
        coco_gt.createIndex()
        coco_dt = coco_gt.loadRes(copy.deepcopy(results))
        ev = COCOeval(coco_gt, coco_dt, "keypoints")
        if sigmas is not None:
            ev.params.kpt_oks_sigmas = np.asarray(sigmas, dtype=np.float64)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev.stats


def _hand_made_case(joints: np.ndarray):
    """Five images of people with hidden joints, noisy and false detections, a crowd region,
    an ignored person without joints and an image with more than 20 detections; returned
    both as COCO dicts (for pycocotools) and as sequences (for us), ``joints`` selecting the
    keypoints the COCO dicts hold."""
    rng = np.random.default_rng(7)
    k = len(joints)
    images, anns, results, frames = [], [], [], []
    for i in range(5):
        image_id = i + 1
        images.append({"id": image_id, "width": 640, "height": 480})
        gts, preds, regions = [], [], []
        for _ in range(int(rng.integers(1, 4)) if i != 3 else 0):  # image 4: no person
            xy = rng.uniform(50, 400, (17, 2))
            vis = rng.random(17) > 0.2
            x0, y0 = xy.min(0) - 10
            x1, y1 = xy.max(0) + 10
            area = float(rng.uniform(0.3, 0.8) * (x1 - x0) * (y1 - y0))
            kps = np.c_[xy * vis[:, None], vis].astype(np.float32)
            gts.append(Person(len(gts), kps, box=(x0, y0, x1, y1), area=area))
            v = 2 * vis[joints]
            anns.append(
                {
                    "id": len(anns) + 1,
                    "image_id": image_id,
                    "category_id": 1,
                    "iscrowd": 0,
                    "area": area,
                    "bbox": [x0, y0, x1 - x0, y1 - y0],
                    "num_keypoints": int(v.astype(bool).sum()),
                    "keypoints": np.c_[xy[joints] * vis[joints, None], v].ravel().tolist(),
                }
            )
            for _ in range(int(rng.integers(0, 3))):  # noisy detections of this person
                guess = xy + rng.normal(0, rng.uniform(1, 25), (17, 2))
                preds.append((guess, float(rng.random())))
        if i == 1:  # an ignored person: a box, no annotated joint
            gts.append(
                Person(9, np.zeros((17, 3), np.float32), box=(0.0, 0.0, 30.0, 30.0), area=900.0)
            )
            anns.append(
                {
                    "id": len(anns) + 1,
                    "image_id": image_id,
                    "category_id": 1,
                    "iscrowd": 0,
                    "area": 900.0,
                    "bbox": [0.0, 0.0, 30.0, 30.0],
                    "num_keypoints": 0,
                    "keypoints": [0.0] * (3 * k),
                }
            )
        if i == 2:  # a crowd region with a detection inside it
            regions.append(np.array([[500, 300], [600, 300], [600, 420], [500, 420]], np.float32))
            anns.append(
                {
                    "id": len(anns) + 1,
                    "image_id": image_id,
                    "category_id": 1,
                    "iscrowd": 1,
                    "area": 100.0 * 120.0,
                    "bbox": [500.0, 300.0, 100.0, 120.0],
                    "num_keypoints": 0,
                    "keypoints": [0.0] * (3 * k),
                }
            )
            preds.append((rng.uniform([505, 305], [595, 415], (17, 2)), 0.95))
        for _ in range(int(rng.integers(1, 3)) + (20 if i == 4 else 0)):  # false detections
            preds.append((rng.uniform(0, 640, (17, 2)), float(rng.random())))
        persons = []
        for guess, score in preds:
            persons.append(Person(-1, np.c_[guess, np.ones(17)].astype(np.float32), score=score))
            results.append(
                {
                    "image_id": image_id,
                    "category_id": 1,
                    "score": score,
                    "keypoints": np.c_[guess[joints], np.ones(k)].ravel().tolist(),
                }
            )
        frames.append((Frame(i, "", True, gts, regions), Frame(i, "", True, persons)))
    category = {"id": 1, "name": "person", "keypoints": [COCO_17.joints[j] for j in joints]}
    gt = {"images": images, "annotations": anns, "categories": [category]}
    seq_gt = Sequence("v", [g for g, _ in frames])
    seq_pred = Sequence("v", [p for _, p in frames])
    return gt, results, seq_gt, seq_pred


def _assert_stats(ours: dict, theirs: np.ndarray) -> None:
    for name, value in zip(COCO_COLUMNS, theirs, strict=True):
        if value < 0:
            assert math.isnan(ours[name]), name
        else:
            assert ours[name] == pytest.approx(value, abs=1e-12), name


def test_equals_pycocotools_on_a_hand_made_case():
    gt, results, seq_gt, seq_pred = _hand_made_case(np.arange(17))
    theirs = _pycocotools(gt, results)  # COCO's default (17-joint) sigmas
    ours = evaluate_coco([seq_gt], [seq_pred], gt_layout="coco-17", pred_layout="coco-17")
    assert 0.05 < theirs[0] < 0.95  # a non-trivial value
    _assert_stats(ours, theirs)
    assert ours["num_images"] == 5 and ours["num_pred"] == len(results)


def test_joint_subset_equals_pycocotools_with_those_joints_and_sigmas():
    joints = COCO_17.index(LIMB_JOINTS)
    gt, results, seq_gt, seq_pred = _hand_made_case(joints)
    sigmas = np.asarray(COCO_17.sigmas)[joints]
    theirs = _pycocotools(gt, results, sigmas)
    ours = evaluate_coco([seq_gt], [seq_pred], gt_layout="coco-17", pred_layout="coco-17",
                         joints=LIMB_JOINTS)  # fmt: skip
    assert ours["joints"] == list(LIMB_JOINTS) and ours["sigmas"] == pytest.approx(sigmas)
    _assert_stats(ours, theirs)
    full = evaluate_coco([seq_gt], [seq_pred], gt_layout="coco-17", pred_layout="coco-17")
    assert full["AP"] != pytest.approx(ours["AP"])  # the subset is really another metric


def _one(layout, xy: np.ndarray, area: float = 10000.0) -> Sequence:
    kps = np.c_[xy, np.ones(len(xy))].astype(np.float32)
    return Sequence("v", [Frame(0, "", True, [Person(0, kps, box=(0, 0, 100, 100), area=area)])])


def _pred(seq: Sequence, score: float = 0.9) -> Sequence:
    out = copy.deepcopy(seq)
    for frame in out.frames:
        for p in frame.persons:
            p.score, p.area, p.box = score, None, None
    return out


def test_hand_derived_values():
    rng = np.random.default_rng(3)
    xy = rng.uniform(100, 300, (17, 2))
    gt = _one(COCO_17, xy)
    kw = {"gt_layout": "coco-17", "pred_layout": "coco-17"}
    perfect = evaluate_coco(gt, _pred(gt), **kw)
    assert perfect["AP"] == pytest.approx(1.0) and perfect["AR"] == pytest.approx(1.0)
    # posetrack-eval.md section 8: a 5 px shift at area 10000 gives OKS 0.87115, which passes
    # the thresholds .50-.85 (8 of 10)
    shifted = _pred(gt)
    shifted.frames[0].persons[0].keypoints[:, 0] += 5
    r = evaluate_coco(gt, shifted, **kw)
    assert (r["AP"], r["AP50"], r["AP75"]) == pytest.approx((0.8, 1.0, 1.0))
    # wrists swapped (far apart): OKS = 15/17 = 0.882 over all joints -> AP 0.8, but
    # (10 + 0) / 12 = 0.833 over the 12 limb joints -> 7 thresholds pass, AP 0.7
    gt.frames[0].persons[0].keypoints[COCO_17.index(["right_wrist"]), :2] += 150
    swapped = _pred(gt)
    w = COCO_17.index(["left_wrist", "right_wrist"])
    swapped.frames[0].persons[0].keypoints[w] = swapped.frames[0].persons[0].keypoints[w[::-1]]
    assert evaluate_coco(gt, swapped, **kw)["AP"] == pytest.approx(0.8)
    limbs = evaluate_coco(gt, swapped, joints=LIMB_JOINTS, **kw)
    assert (limbs["AP"], limbs["AP50"], limbs["AP75"]) == pytest.approx((0.7, 1.0, 1.0))


def test_layouts_are_matched_by_name():
    rng = np.random.default_rng(4)
    xy = rng.uniform(100, 300, (17, 2))
    gt_coco = _one(COCO_17, xy)
    # the same person from a posetrack-15 model: shared joints exact, head joints anywhere
    pt = np.zeros((15, 2))
    for j, name in enumerate(POSETRACK_15.joints):
        pt[j] = xy[COCO_17.joints.index(name)] if name in COCO_17.joints else (0.0, 0.0)
    pred_pt = _pred(_one(POSETRACK_15, pt))
    r = evaluate_coco(gt_coco, pred_pt, gt_layout="coco-17", pred_layout="posetrack-15")
    assert len(r["joints"]) == 13 and r["AP"] == pytest.approx(1.0)  # nose + 12 limbs
    # scored on all 17 COCO joints, the 4 it lacks (eyes, ears) count as missed:
    # OKS = 13/17 = 0.765 passes .50-.75 (6 thresholds)
    r = evaluate_coco(gt_coco, pred_pt, gt_layout="coco-17", pred_layout="posetrack-15",
                      joints=COCO_17.joints)  # fmt: skip
    assert (r["AP"], r["AP75"]) == pytest.approx((0.6, 1.0))
    r = evaluate_coco(_one(POSETRACK_15, pt), _pred(gt_coco), gt_layout="posetrack-15",
                      pred_layout="coco-17", joints=LIMB_JOINTS)  # fmt: skip
    assert r["AP"] == pytest.approx(1.0)
    assert r["sigmas"] == pytest.approx(np.asarray(POSETRACK_15.sigmas)[
        POSETRACK_15.index(LIMB_JOINTS)])  # fmt: skip


def test_synthetic_ground_truth_as_prediction_scores_one():
    from pavenet_sdk.data.synth import generate_clip

    for layout in ("posetrack-15", "coco-17"):
        clip = generate_clip("crowd", seed=5, num_frames=3, layout=layout)
        r = evaluate_coco(clip.sequence, _pred(clip.sequence), gt_layout=layout,
                          pred_layout=layout)  # fmt: skip
        assert r["AP"] == pytest.approx(1.0) and r["num_gt"] > 10


def test_unlabelled_frames_are_skipped_and_bad_input_is_refused():
    rng = np.random.default_rng(5)
    gt = _one(COCO_17, rng.uniform(100, 300, (17, 2)))
    gt.frames.append(Frame(1, "", False, []))
    pred = _pred(gt)
    pred.frames[1].persons = [Person(0, np.c_[rng.uniform(0, 9, (17, 2)), np.ones(17)]
                                     .astype(np.float32), score=0.99)]  # fmt: skip
    r = evaluate_coco(gt, pred, gt_layout="coco-17", pred_layout="coco-17")
    assert r["AP"] == pytest.approx(1.0) and r["num_images"] == 1
    kw = {"gt_layout": "posetrack-15", "pred_layout": "posetrack-15"}
    with pytest.raises(ValueError, match="left_eye"):
        evaluate_coco(gt, pred, joints=["left_eye"], **kw)
    with pytest.raises(ValueError, match=r"\(15, 3\)"):
        evaluate_coco(gt, pred, **kw)
    no_score = copy.deepcopy(pred)
    no_score.frames[0].persons[0].score = None
    with pytest.raises(ValueError, match="score"):
        evaluate_coco(gt, no_score, gt_layout="coco-17", pred_layout="coco-17")
    unlabelled = Sequence("v", [Frame(0, "", False)])
    empty = evaluate_coco(unlabelled, unlabelled, gt_layout="coco-17", pred_layout="coco-17")
    assert math.isnan(empty["AP"]) and empty["num_images"] == 0


def test_cli_coco_metric_on_posetrack_and_coco_files(tmp_path, capsys):
    from pavenet_sdk.data.coco import write_coco_keypoints
    from pavenet_sdk.data.posetrack import write_posetrack18_videos
    from pavenet_sdk.data.synth import generate_clip

    clips = [generate_clip("easy", seed=s, num_frames=2) for s in (1, 2)]
    gt = [c.sequence for c in clips]
    for i, seq in enumerate(gt):
        seq.name = f"{i + 1:06d}_mpii_synth"
    pred = [_pred(s) for s in gt]
    write_posetrack18_videos(gt, tmp_path / "gt", scores=False)
    write_posetrack18_videos(pred, tmp_path / "pred", scores=True)
    out = tmp_path / "m.json"
    assert cli_main(["eval", "--metric", "coco", "--gt", str(tmp_path / "gt"),
                     "--pred", str(tmp_path / "pred"), "--json", str(out)]) == 0  # fmt: skip
    text = capsys.readouterr().out
    assert "| AP " in text and "1.000" in text
    data = json.loads(out.read_text())
    assert data["metric"] == "coco" and data["AP"] == pytest.approx(1.0)
    assert data["APm"] is None or isinstance(data["APm"], float)
    assert len(data["joints"]) == 15
    # COCO files (with head boxes, so the PoseTrack metric runs on them too)
    write_coco_keypoints(tmp_path / "gt.json", gt, "posetrack-15")
    write_coco_keypoints(tmp_path / "pred.json", pred, "posetrack-15")
    args = ["eval", "--gt", str(tmp_path / "gt.json"), "--pred", str(tmp_path / "pred.json"),
            "--layout", "posetrack-15"]  # fmt: skip
    assert cli_main([*args, "--metric", "coco", "--subset", "limbs", "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["joints"] == list(LIMB_JOINTS) and data["AP"] == pytest.approx(1.0)
    assert cli_main([*args, "--json", str(out)]) == 0  # PoseTrack mAP of the same files
    assert json.loads(out.read_text())["mean"] == 100.0
    capsys.readouterr()
    assert cli_main([*args, "--subset", "limbs"]) == 2  # a coco-only option
    assert "--subset" in capsys.readouterr().err
    assert cli_main([*args, "--metric", "coco", "--subset", "left_pinky"]) == 2
    assert "left_pinky" in capsys.readouterr().err
