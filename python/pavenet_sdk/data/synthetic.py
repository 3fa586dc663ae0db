"""Procedural multi-person video generator with PoseTrack 2018 annotations (numpy + OpenCV).

Articulated 15-joint figures walk, run, wave and jump through cluttered scenes with camera
jitter; single frames are degraded (passing occluders, motion blur, defocus, contrast drops,
noise bursts) so that neighbouring frames hold what one frame lost. Everything is
deterministic for a given seed.

    clip = generate_clip("mixed", seed=7, num_frames=3)      # in memory, for training
    write_dataset("out/", preset="occlusion", seed=1, videos=4, frames=30)  # PoseTrack 2018
"""

from __future__ import annotations

from pavenet_sdk.data.synth.clip import SyntheticClip, generate_clip
from pavenet_sdk.data.synth.degrade import FrameInfo
from pavenet_sdk.data.synth.presets import PRESETS, Preset, get_preset
from pavenet_sdk.data.synth.preview import contact_sheet, draw_ground_truth
from pavenet_sdk.data.synth.writer import (
    POSETRACK18_CATEGORY,
    sequence_to_posetrack18,
    video_name,
    video_seed,
    write_clip_posetrack18,
    write_dataset,
)

__all__ = [
    "POSETRACK18_CATEGORY",
    "PRESETS",
    "FrameInfo",
    "Preset",
    "SyntheticClip",
    "contact_sheet",
    "draw_ground_truth",
    "generate_clip",
    "get_preset",
    "sequence_to_posetrack18",
    "video_name",
    "video_seed",
    "write_clip_posetrack18",
    "write_dataset",
]
