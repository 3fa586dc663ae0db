"""Difficulty presets of the synthetic video generator.

A preset fixes the distributions a clip is drawn from: how many people, how large they appear,
which motions they perform and how often single frames are degraded. Probabilities marked
"per frame" are drawn independently for every frame so that neighbouring frames usually still
carry what one frame lost (that is what temporal models can learn to exploit).
"""

from __future__ import annotations

from dataclasses import dataclass, field

MOTIONS: tuple[str, ...] = ("walk", "run", "wave", "walk_wave", "stand", "jack")
DEGRADATIONS: tuple[str, ...] = ("motion_blur", "defocus", "contrast", "noise")


@dataclass(frozen=True)
class Preset:
    """Distributions for one kind of clip. Pixel quantities are for a 240-px-high frame and
    scale with the frame height."""

    name: str
    persons: tuple[int, int]  # inclusive range of annotated people per clip
    persons_skew: float  # > 1 favours the low end of ``persons``
    height_frac: tuple[float, float]  # person height / frame height (sets the depth range)
    motions: dict[str, float]  # motion name -> sampling weight
    background_people: tuple[float, int]  # (probability per clip, max count) of tiny people
    p_occluder: float  # per frame: probability that an occluder starts passing a person
    occluder_frames: tuple[int, int]  # inclusive range of frames an occluder stays
    p_degrade: float  # per frame: probability of one global degradation
    degrade_weights: dict[str, float] = field(default_factory=dict)  # over DEGRADATIONS
    camera_shake: float = 1.0  # px, std of the per-frame camera translation
    dt_range: tuple[float, float] = (1 / 30, 1 / 12)  # seconds between frames
    clutter: tuple[int, int] = (8, 24)  # background shapes
    base_noise: tuple[float, float] = (1.0, 4.0)  # sensor noise std (grey levels) per clip


_EVEN = {"motion_blur": 1.0, "defocus": 1.0, "contrast": 1.0, "noise": 1.0}

PRESETS: dict[str, Preset] = {
    "easy": Preset(
        name="easy",
        persons=(1, 3),
        persons_skew=1.0,
        height_frac=(0.45, 0.85),
        motions={"walk": 3, "run": 1, "wave": 1, "walk_wave": 1, "stand": 1, "jack": 0.5},
        background_people=(0.2, 2),
        p_occluder=0.02,
        occluder_frames=(1, 2),
        p_degrade=0.05,
        degrade_weights=_EVEN,
        camera_shake=0.5,
        clutter=(4, 12),
        base_noise=(0.5, 2.0),
    ),
    "crowd": Preset(
        name="crowd",
        persons=(8, 20),
        persons_skew=1.0,
        height_frac=(0.22, 0.65),
        motions={"walk": 5, "run": 1, "wave": 1, "walk_wave": 1, "stand": 2, "jack": 0.3},
        background_people=(0.6, 4),
        p_occluder=0.08,
        occluder_frames=(1, 3),
        p_degrade=0.12,
        degrade_weights=_EVEN,
        camera_shake=1.0,
        clutter=(8, 24),
    ),
    "occlusion": Preset(
        name="occlusion",
        persons=(2, 6),
        persons_skew=1.0,
        height_frac=(0.35, 0.8),
        motions={"walk": 3, "run": 1.5, "wave": 1, "walk_wave": 1, "stand": 1, "jack": 0.5},
        background_people=(0.3, 2),
        p_occluder=0.4,
        occluder_frames=(1, 3),
        p_degrade=0.4,
        degrade_weights={"motion_blur": 1.0, "defocus": 1.0, "contrast": 1.0, "noise": 0.5},
        camera_shake=1.5,
        clutter=(8, 24),
        base_noise=(1.0, 5.0),
    ),
    "mixed": Preset(
        name="mixed",
        persons=(1, 10),
        persons_skew=2.0,
        height_frac=(0.25, 0.85),
        motions={"walk": 4, "run": 1.5, "wave": 1, "walk_wave": 1, "stand": 1.5, "jack": 0.5},
        background_people=(0.35, 3),
        p_occluder=0.15,
        occluder_frames=(1, 3),
        p_degrade=0.2,
        degrade_weights=_EVEN,
        camera_shake=1.0,
        clutter=(6, 24),
    ),
}


def get_synth_preset(name: str) -> Preset:
    """Return the preset called ``name``; raise ``ValueError`` listing the valid names."""
    if not isinstance(name, str):
        raise TypeError(f"preset must be a str, got {type(name).__name__}")
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}") from None
