"""Pose evaluation on :class:`~pavenet_sdk.data.types.Sequence` data in any joint layout.

- PoseTrack per-joint AP / mAP exactly as the official poseval computes it (numpy only):
  :func:`evaluate_posetrack` (files or sequences), :func:`evaluate_sequences` (in memory).
- COCO keypoint AP / AR (OKS) computed by pycocotools: :func:`evaluate_coco`.
"""

from pavenet_sdk.eval.coco_ap import COCO_COLUMNS, evaluate_coco, format_coco_table
from pavenet_sdk.eval.posetrack_map import (
    TABLE_COLUMNS,
    evaluate_posetrack,
    evaluate_sequences,
    format_table,
)

__all__ = [
    "COCO_COLUMNS",
    "TABLE_COLUMNS",
    "evaluate_coco",
    "evaluate_posetrack",
    "evaluate_sequences",
    "format_coco_table",
    "format_table",
]
