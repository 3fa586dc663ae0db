"""Ranked per-joint AP (poseval ``computeRPC`` + ``VOCap``) and the paper's joint groups.

Internal joint order is poseval's (``POSEVAL_JOINT_NAMES``: 0 right_ankle ... 12 head_bottom
("neck"), 13 nose, 14 head_top) so that group and total means sum in the same order.
"""

from __future__ import annotations

import numpy as np

from pavenet_sdk.data.posetrack import POSEVAL_JOINT_NAMES

# the paper table columns -> poseval joint ids, in poseval's ``getCum`` order
GROUPS: dict[str, tuple[int, ...]] = {
    "head": (14, 12, 13),
    "shoulder": (8, 9),
    "elbow": (7, 10),
    "wrist": (6, 11),
    "hip": (2, 3),
    "knee": (1, 4),
    "ankle": (0, 5),
}


def precision_recall(
    scores: np.ndarray, labels: np.ndarray, num_positives: int
) -> tuple[np.ndarray, np.ndarray]:
    """Precision and recall after each detection, ranked by descending score.

    Args:
        scores: (n,) float64 detection scores.
        labels: (n,) bool, True = true positive.
        num_positives: number of ground-truth instances (0 gives NaN recall, as poseval).

    Returns:
        precision (n,), recall (n,) float64 in [0, 1].
    """
    # numpy's default argsort reversed, exactly as poseval ranks (ties stay unspecified)
    order = np.asarray(scores, dtype=np.float64).argsort()[::-1]
    tp = np.cumsum(np.asarray(labels, dtype=bool)[order] == 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        recall = tp / float(num_positives)
    precision = tp / np.arange(1, len(order) + 1)
    return precision, recall


def voc_ap(recall: np.ndarray, precision: np.ndarray) -> float:
    """PASCAL VOC all-point interpolated AP in [0, 1] (NaN if recall is NaN)."""
    mrec = np.concatenate([[0.0], recall, [1.0]])
    mpre = np.concatenate([[0.0], precision, [0.0]])
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]  # precision envelope
    i = np.flatnonzero(mrec[1:] != mrec[:-1]) + 1
    return float(np.sum((mrec[i] - mrec[i - 1]) * mpre[i]))


def joint_ap(
    scores: list[np.ndarray], labels: list[np.ndarray], num_gt: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-joint AP, final precision and final recall, in percent (poseval ``computeMetrics``).

    Args:
        scores, labels: per poseval joint id, the concatenated (n_j,) detections.
        num_gt: (15,) annotated ground-truth joints per id.

    Returns:
        ap, precision, recall: (15,) float64; AP 0 for a joint never predicted, NaN for a
        predicted joint without ground truth.
    """
    n = len(num_gt)
    ap, pre, rec = np.zeros(n), np.zeros(n), np.zeros(n)
    for j in range(n):
        if len(scores[j]) == 0:
            continue
        p, r = precision_recall(scores[j], labels[j], int(num_gt[j]))
        ap[j], pre[j], rec[j] = voc_ap(r, p) * 100.0, p[-1] * 100.0, r[-1] * 100.0
    return ap, pre, rec


def summarize(ap: np.ndarray) -> dict[str, float]:
    """(15,) AP in poseval order -> the seven groups plus ``mean`` (NaN-free mean of the 15).

    A group with a NaN member is NaN (plain mean), while ``mean`` skips NaNs, as in poseval.
    """
    out = {name: float(np.mean(ap[list(ids)])) for name, ids in GROUPS.items()}
    valid = ap[~np.isnan(ap)]
    out["mean"] = float(valid.mean()) if len(valid) else float("nan")
    return out


def joint_dict(values: np.ndarray) -> dict[str, float]:
    """(15,) values in poseval order -> {joint name: value}."""
    return {name: float(v) for name, v in zip(POSEVAL_JOINT_NAMES, values, strict=True)}
