"""Procedural multi-person video generator with pose annotations (numpy + OpenCV).

Articulated 3-D figures walk, run, wave and jump through cluttered scenes with camera
jitter; single frames are degraded (passing occluders, motion blur, defocus, contrast drops,
noise bursts) so that neighbouring frames hold what one frame lost. Annotations come in any
joint layout of the figures' named points (``posetrack-15`` by default, ``coco-17`` with eyes
and ears); the images do not depend on the layout. Everything is deterministic for a given
seed.

    clip = generate_clip("mixed", seed=7, num_frames=3)      # in memory, for training
    clip = generate_clip("mixed", seed=7, num_frames=3, layout="coco-17")
    write_dataset("out/", preset="occlusion", seed=1, videos=4, frames=30)  # PoseTrack 2018

Modules: ``presets`` (difficulty), ``scene`` (camera, background), ``skeleton`` (bodies and
forward kinematics), ``motion``, ``render``, ``degrade``, ``clip`` (one clip in memory),
``writer`` (datasets on disk), ``preview`` (contact sheets).
"""

from __future__ import annotations

from pavenet_sdk.data.synth.clip import SyntheticClip, generate_clip
from pavenet_sdk.data.synth.degrade import FrameInfo
from pavenet_sdk.data.synth.presets import PRESETS, Preset, get_synth_preset
from pavenet_sdk.data.synth.preview import contact_sheet, draw_ground_truth
from pavenet_sdk.data.synth.skeleton import NAMED_POINTS
from pavenet_sdk.data.synth.writer import (
    FORMATS,
    default_format,
    video_name,
    video_seed,
    write_clip_frames,
    write_clip_posetrack18,
    write_dataset,
)

__all__ = [
    "FORMATS",
    "NAMED_POINTS",
    "PRESETS",
    "FrameInfo",
    "Preset",
    "SyntheticClip",
    "contact_sheet",
    "default_format",
    "draw_ground_truth",
    "generate_clip",
    "get_synth_preset",
    "video_name",
    "video_seed",
    "write_clip_frames",
    "write_clip_posetrack18",
    "write_dataset",
]
