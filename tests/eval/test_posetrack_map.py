"""poseval test vectors (posetrack-eval.md section 8) with the exact expected numbers."""

from __future__ import annotations

import json
import math

import pytest
from posetrack_cases import (
    HEAD_A,
    POSE_A,
    person,
    shift,
    video,
    video17,
    write_case,
)

from pavenet_sdk.eval import evaluate_posetrack
from pavenet_sdk.layouts import POSETRACK_15

FAR = shift(POSE_A, 400, 0)
GROUPS = ("head", "shoulder", "elbow", "wrist", "hip", "knee", "ankle")


def run(tmp_path, gt_frames, pred_frames, **kw) -> dict:
    ignore = kw.pop("ignore", None)
    gt_dir, pred_dir = write_case(tmp_path, video(gt_frames, ignore=ignore), video(pred_frames))
    return evaluate_posetrack(gt_dir, pred_dir, **kw)


def assert_all(result: dict, value: float) -> None:
    for name in POSETRACK_15.joints:
        assert result["joints"][name] == pytest.approx(value, abs=1e-9), name
    for key in (*GROUPS, "mean"):
        assert result[key] == pytest.approx(value, abs=1e-9), key


def test_w1_exact_prediction(tmp_path):
    assert_all(run(tmp_path, [[person(score=None)]], [[person()]]), 100.0)


def test_w2_duplicate_ranked_below_is_harmless(tmp_path):
    preds = [person(score=0.9), person(shift(POSE_A, 3, 4), score=0.8, track_id=1)]
    assert_all(run(tmp_path, [[person(score=None)]], [preds]), 100.0)


def test_w3_matching_ignores_scores(tmp_path):
    preds = [person(score=0.9), person(score=0.95, track_id=1)]
    assert_all(run(tmp_path, [[person(score=None)]], [preds]), 50.0)


def test_w4_pckh_threshold_is_inclusive(tmp_path):
    pose = shift(shift(POSE_A, 9, 12, only={"right_ankle"}), 9, 12.01, only={"left_ankle"})
    r = run(tmp_path, [[person(score=None)]], [[person(pose)]])
    assert r["joints"]["right_ankle"] == 100.0
    assert r["joints"]["left_ankle"] == 0.0
    assert r["ankle"] == 50.0
    assert r["mean"] == pytest.approx(1400 / 15)
    assert round(r["mean"], 2) == 93.33


def test_w5_pooled_ranking_over_frames(tmp_path):
    gt = [[person(score=None)]] * 3
    preds = [[person(score=0.9)], [person(FAR, score=0.8)], [person(score=0.7)]]
    r = run(tmp_path, gt, preds)
    assert_all(r, 500 / 9)
    assert round(r["mean"], 2) == 55.56
    assert r["precision"]["nose"] == pytest.approx(200 / 3)
    assert r["recall"]["nose"] == pytest.approx(200 / 3)


def test_w6_joint_without_gt_is_nan(tmp_path):
    pose = {k: v for k, v in POSE_A.items() if k != "head_top"}
    r = run(tmp_path, [[person(pose, score=None)]], [[person()]])
    assert math.isnan(r["joints"]["head_top"])
    assert math.isnan(r["head"])
    assert r["mean"] == 100.0
    assert r["shoulder"] == 100.0


def test_w7_frames_without_gt_are_dropped_with_their_predictions(tmp_path):
    r = run(tmp_path, [[], [person(score=None)]], [[person(FAR, score=0.99)], [person(score=0.5)]])
    assert_all(r, 100.0)
    assert r["num_frames"] == 1


POLY = [[(450, 50), (700, 50), (700, 400), (450, 400)]]


def test_w8_ignore_region_deletes_predictions(tmp_path):
    preds = [[person(FAR, score=0.99), person(score=0.5, track_id=1)]]
    assert_all(run(tmp_path, [[person(score=None)]], preds, ignore={0: POLY}), 100.0)


def test_w9_without_ignore_region(tmp_path):
    preds = [[person(FAR, score=0.99), person(score=0.5, track_id=1)]]
    assert_all(run(tmp_path, [[person(score=None)]], preds), 50.0)


def test_ignore_region_boundary_point_is_kept(tmp_path):
    # a polygon whose left edge passes exactly through the far prediction's nose (515, 130)
    poly = [[(515, 50), (700, 50), (700, 400), (515, 400)]]
    preds = [[person(FAR, score=0.99), person(score=0.5, track_id=1)]]
    r = run(tmp_path, [[person(score=None)]], preds, ignore={0: poly})
    assert r["joints"]["nose"] == 50.0  # on the boundary: still a prediction (FP)
    assert r["joints"]["left_shoulder"] == 100.0  # (540, 160) is strictly inside


def test_w10_missing_scores_still_count(tmp_path):
    assert_all(run(tmp_path, [[person(score=None)]], [[person(score=None)]]), 100.0)


def test_w11_missed_person_halves_recall(tmp_path):
    gt = [[person(score=None), person(FAR, score=None, head=[500, 100, 30, 40], track_id=1)]]
    assert_all(run(tmp_path, gt, [[person()]]), 50.0)


def test_w12_mean_is_over_joints_not_groups(tmp_path):
    pose = shift(POSE_A, 20, 0, only={"left_wrist", "right_wrist"})
    r = run(tmp_path, [[person(score=None)]], [[person(pose)]])
    assert r["wrist"] == 0.0
    assert all(r[g] == 100.0 for g in GROUPS if g != "wrist")
    assert r["mean"] == pytest.approx(1300 / 15)
    assert round(r["mean"], 2) == 86.67


def _w13():
    b = person(shift(POSE_A, 24, 0), score=None, head=[124, 100, 30, 40], track_id=1)
    gt = [[person(score=None), b]]
    p2 = shift(POSE_A, 12, 0)
    p2.update(shift(POSE_A, -12, 0, only={"right_ankle", "left_ankle"}))
    p2["nose"] = (POSE_A["nose"][0] + 40, POSE_A["nose"][1])
    preds = [[person(score=0.9), person(p2, score=0.8, track_id=1)]]
    return gt, preds


def test_w13_greedy_no_fallback(tmp_path):
    gt, preds = _w13()
    assert_all(run(tmp_path, gt, preds), 50.0)


def _b_person(**kw):
    return person(shift(POSE_A, 24, 0), score=None, head=[124, 100, 30, 40], **kw)


def test_prediction_keeps_its_best_gt_listed_second(tmp_path):
    # W13's p2 alone, with the GTs swapped: p2 picks A (14/15 > 12/15) although B comes first.
    # B then has no candidate and must stay unassigned (not default to prediction 0).
    p2 = shift(POSE_A, 12, 0)
    p2.update(shift(POSE_A, -12, 0, only={"right_ankle", "left_ankle"}))
    p2["nose"] = (POSE_A["nose"][0] + 40, POSE_A["nose"][1])
    r = run(tmp_path, [[_b_person(track_id=1), person(score=None)]], [[person(p2, score=0.8)]])
    assert r["joints"]["nose"] == 0.0  # 40 px from A's nose
    for name in POSETRACK_15.joints[1:]:
        assert r["joints"][name] == 50.0, name  # 1 TP of 2 GT (ankles: 12 px from A's)
    assert r["head"] == pytest.approx(100 / 3)
    assert r["mean"] == pytest.approx(14 * 50 / 15)


def test_gt_only_considers_predictions_that_chose_it(tmp_path):
    # p0 = A+13 with its nose at B's nose+4: pck(p0, B) = 1 > pck(p0, A) = 14/15, so p0 chose B.
    # p1 = A with both ankles 100 px off: pck(p1, A) = 13/15. A must take p1 (its only
    # candidate), not p0 (higher raw pck for A but it chose B).
    p0 = shift(POSE_A, 13, 0)
    p0["nose"] = (POSE_A["nose"][0] + 28, POSE_A["nose"][1])
    p1 = shift(POSE_A, 100, 0, only={"right_ankle", "left_ankle"})
    preds = [[person(p0, score=0.9), person(p1, score=0.8, track_id=1)]]
    r = run(tmp_path, [[person(score=None), _b_person(track_id=1)]], preds)
    assert r["ankle"] == 50.0  # [.9 TP (p0-B), .8 FP (p1 ankles)], 2 GT
    assert all(r[g] == 100.0 for g in GROUPS if g != "ankle")
    assert r["mean"] == pytest.approx((13 * 100 + 2 * 50) / 15)


def test_p17_annolist_format(tmp_path):
    gt, preds = _w13()
    gt_json, pred_json = video17(gt), video17(preds)
    gt_dir, pred_dir = write_case(tmp_path, gt_json, pred_json, name="000342_mpii")
    assert_all(evaluate_posetrack(gt_dir, pred_dir), 50.0)


def _e_case(tmp_path, r_ank):
    preds = [[person(score=0.5)], [person(score=0.5, raw={"right_ankle": r_ank})]]
    pred = video(preds)
    slot = 16  # right_ankle in the 17-slot layout
    pred["annotations"][1]["scores"][slot] = 0.9
    gt_dir, pred_dir = write_case(tmp_path, video([[person(score=None)]] * 2), pred)
    return evaluate_posetrack(gt_dir, pred_dir)


def test_e1_joint_at_origin_with_score_is_a_prediction(tmp_path):
    r = _e_case(tmp_path, (0, 0, 0.9))
    assert r["joints"]["right_ankle"] == 25.0
    assert r["ankle"] == 62.5
    assert r["mean"] == pytest.approx(95.0)


def test_e2_zero_triplet_is_not_a_prediction(tmp_path):
    r = _e_case(tmp_path, (0, 0, 0))
    assert r["joints"]["right_ankle"] == 50.0
    assert r["ankle"] == 75.0
    assert r["mean"] == pytest.approx(1450 / 15)


def test_fifteen_name_category_in_any_order(tmp_path):
    pred = video([[person()]])
    names = list(reversed([n for n in pred["categories"][0]["keypoints"] if "ear" not in n]))
    for ann in pred["annotations"]:
        old = pred["categories"][0]["keypoints"]
        trip = {n: ann["keypoints"][3 * i : 3 * i + 3] for i, n in enumerate(old)}
        ann["keypoints"] = [v for n in names for v in trip[n]]
        ann["scores"] = [0.9] * len(names)
    pred["categories"][0]["keypoints"] = names
    gt_dir, pred_dir = write_case(tmp_path, video([[person(score=None)]]), pred)
    assert_all(evaluate_posetrack(gt_dir, pred_dir), 100.0)


def test_joint_never_predicted_scores_zero(tmp_path):
    pose = {k: v for k, v in POSE_A.items() if k != "nose"}
    r = run(tmp_path, [[person(score=None)]], [[person(pose)]])
    assert r["joints"]["nose"] == 0.0
    assert r["head"] == pytest.approx(200 / 3)


# ---- error paths ---------------------------------------------------------------------------


def _errs(tmp_path, gt: dict, pred: dict, match: str, exc=ValueError, name="000001_bonn_test"):
    gt_dir, pred_dir = write_case(tmp_path, gt, pred, name=name)
    with pytest.raises(exc, match=match):
        evaluate_posetrack(gt_dir, pred_dir)


def test_error_missing_track_id(tmp_path):
    _errs(tmp_path, video([[person(score=None)]]), video([[person(track_id=None)]]), "track_id")


def test_error_duplicate_track_id(tmp_path):
    pred = video([[person(), person(track_id=0)]])
    _errs(tmp_path, video([[person(score=None)]]), pred, "not unique")


def test_error_track_id_too_large(tmp_path):
    _errs(tmp_path, video([[person(score=None)]]), video([[person(track_id=10000)]]), "< 10000")


def test_error_frame_count(tmp_path):
    pred = video([[person()], [person()]])
    _errs(tmp_path, video([[person(score=None)]]), pred, r"# prediction frames 2 <> # GT frames 1")


def test_error_missing_categories(tmp_path):
    pred = video([[person()]], categories=False)
    _errs(tmp_path, video([[person(score=None)]]), pred, "category")


def test_error_gt_without_head_box(tmp_path):
    _errs(tmp_path, video([[person(score=None, head=None)]]), video([[person()]]), "head box")


def test_error_bad_sequence_name(tmp_path):
    gt = video([[person(score=None)]], seq="seqA")
    _errs(tmp_path, gt, video([[person()]], seq="seqA"), "naming", name="seqA")
    # the check can be switched off; then the metric is computed as usual
    assert_all(evaluate_posetrack(tmp_path / "gt", tmp_path / "pred", check_names=False), 100.0)


def test_error_mismatched_frame_names(tmp_path):
    pred = video([[person()]], seq="000002_bonn_test")
    _errs(tmp_path, video([[person(score=None)]]), pred, "GT image")


def test_error_missing_prediction_file(tmp_path):
    gt_dir, pred_dir = write_case(tmp_path, video([[person(score=None)]]), video([[person()]]))
    (pred_dir / "000001_bonn_test.json").rename(pred_dir / "other.json")
    with pytest.raises(FileNotFoundError, match="no prediction file"):
        evaluate_posetrack(gt_dir, pred_dir)


def test_error_degenerate_ignore_region(tmp_path):
    gt = video([[person(score=None)]], ignore={0: [[(0, 0), (10, 10)]]})
    _errs(tmp_path, gt, video([[person()]]), "3 vertices")


def test_head_box_json_roundtrip_value(tmp_path):
    gt_dir, _ = write_case(tmp_path, video([[person(score=None)]]), video([[person()]]))
    data = json.loads((gt_dir / "000001_bonn_test.json").read_text())
    assert data["annotations"][0]["bbox_head"] == HEAD_A
