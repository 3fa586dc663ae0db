"""Per-frame greedy PCKh person assignment (poseval ``assignGTmulti``).

Letters: P predicted persons, G ground-truth persons, J joints (poseval: 15).
"""

from __future__ import annotations

import numpy as np

PCKH_THRESHOLD = 0.5  # distance / head size, compared with <=
HEAD_SIZE_FACTOR = 0.6  # head size = 0.6 x head-box diagonal


def head_sizes(head_boxes: np.ndarray) -> np.ndarray:
    """(G, 4) head boxes x1, y1, x2, y2 px -> (G,) head sizes px."""
    d = head_boxes[:, 2:4] - head_boxes[:, 0:2]
    return HEAD_SIZE_FACTOR * np.sqrt(d[:, 0] * d[:, 0] + d[:, 1] * d[:, 1])


def assign_frame(
    pred_xy: np.ndarray, pred_has: np.ndarray, gt_xy: np.ndarray, gt_has: np.ndarray,
    gt_head_size: np.ndarray,
) -> np.ndarray:  # fmt: skip
    """Label every predicted joint of one frame as true or false positive.

    Each prediction keeps only its best ground truth by PCKh (first on ties); each ground
    truth then takes the prediction with the highest PCKh among those (first on ties); a
    prediction that loses gets nothing (no fall-back). Scores play no part.

    Args:
        pred_xy: (P, J, 2) px. pred_has: (P, J) bool, joint predicted.
        gt_xy: (G, J, 2) px. gt_has: (G, J) bool, joint annotated.
        gt_head_size: (G,) px.

    Returns:
        (P, J) bool: True iff the joint is predicted, its person is assigned to a ground
        truth and it lies within the PCKh threshold of that person's joint.
    """
    num_pred, num_gt = len(pred_xy), len(gt_xy)
    if num_pred == 0 or num_gt == 0:
        return np.zeros(pred_has.shape, dtype=bool)
    diff = pred_xy[:, None] - gt_xy[None]  # (P, G, J, 2)
    with np.errstate(divide="ignore", invalid="ignore"):  # a zero-size head box never matches
        dist = np.sqrt(diff[..., 0] ** 2 + diff[..., 1] ** 2) / gt_head_size[None, :, None]
    both = pred_has[:, None, :] & gt_has[None, :, :]  # (P, G, J)
    match = both & (dist <= PCKH_THRESHOLD)
    n_gt = gt_has.sum(axis=1)  # (G,)
    pck = match.sum(axis=2) / np.maximum(n_gt, 1)[None, :]  # (P, G); n_gt = 0 -> 0 matches
    best = pck.argmax(axis=1)  # (P,) best ground truth of each prediction
    only_best = np.zeros_like(pck)
    rows = np.arange(num_pred)
    only_best[rows, best] = pck[rows, best]
    winner = only_best.argmax(axis=0)  # (G,) prediction each ground truth takes
    winner[only_best.max(axis=0) == 0] = -1
    # a prediction has one non-zero pck left, so it wins at most one ground truth
    assigned = np.full(num_pred, -1)
    taken = np.flatnonzero(winner >= 0)
    assigned[winner[taken]] = taken
    labels = np.zeros(pred_has.shape, dtype=bool)
    hit = assigned >= 0
    labels[hit] = match[np.flatnonzero(hit), assigned[hit]]
    return labels
