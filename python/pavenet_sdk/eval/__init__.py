"""PoseTrack evaluation: per-joint AP / mAP matching the official poseval (numpy only)."""

from pavenet_sdk.eval.posetrack_map import (
    TABLE_COLUMNS,
    evaluate_posetrack,
    evaluate_sequences,
    format_table,
)

__all__ = ["TABLE_COLUMNS", "evaluate_posetrack", "evaluate_sequences", "format_table"]
