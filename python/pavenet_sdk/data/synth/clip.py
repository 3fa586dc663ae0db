"""Generate one synthetic clip in memory: frames plus PoseTrack-style annotations."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from pavenet_sdk.data.synth.degrade import (
    FrameInfo,
    Occluder,
    apply_degradations,
    draw_occluder,
    sample_frame_infos,
    sample_occluders,
)
from pavenet_sdk.data.synth.motion import Arena, make_pose, simulate_path
from pavenet_sdk.data.synth.presets import Preset, get_preset
from pavenet_sdk.data.synth.render import (
    Appearance,
    Limb,
    draw_person,
    limb_table,
    sample_appearance,
)
from pavenet_sdk.data.synth.scene import (
    REFERENCE_HEIGHT,
    Camera,
    camera_offsets,
    make_background,
    sample_camera,
)
from pavenet_sdk.data.synth.skeleton import (
    HEAD_CENTRE,
    PELVIS,
    Body,
    Pose,
    concat_poses,
    forward_kinematics,
    sample_body,
    stack_bodies,
)
from pavenet_sdk.data.types import NUM_JOINTS, Frame, Person, Sequence

MIN_ANNOTATED_FRAC = 0.12  # people shorter than this fraction of the frame height are ignored
MIN_INSIDE_JOINTS = 6  # people with fewer joints inside the frame are ignored
MAX_FRAMES = 10000  # PoseTrack frame ids have four digits
MAX_PERSONS = 99  # PoseTrack annotation ids reserve two digits per person


@dataclass
class SyntheticClip:
    """A generated clip.

    frames: T images, each (H, W, 3) uint8 BGR. sequence: the annotations (``image_path`` is
    empty until the clip is written). info: per-frame record of camera jitter and degradations.
    num_persons: annotatable people, track ids 0..num_persons-1 (tiny background people,
    only ever annotated as ignore regions, have the ids after them).
    """

    frames: list[np.ndarray]
    sequence: Sequence
    info: list[FrameInfo]
    preset: str
    seed: int
    num_persons: int


@dataclass
class _Figure:
    track: int
    body: Body
    app: Appearance
    pts: np.ndarray  # (T, NUM_POINTS, 2) px before camera jitter
    depth: np.ndarray  # (T, NUM_POINTS) m
    head_fwd: np.ndarray  # (T, 3)
    main: bool  # False for tiny background people that are never annotated
    limbs: list[Limb]


def _check_int(name: str, value: object, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if not lo <= int(value) <= hi:
        raise ValueError(f"{name} must be in [{lo}, {hi}], got {value}")
    return int(value)


def _check_size(size: object) -> tuple[int, int]:
    if not isinstance(size, (tuple, list)) or len(size) != 2:
        raise TypeError(f"size must be a (width, height) pair, got {size!r}")
    return _check_int("width", size[0], 32, 4096), _check_int("height", size[1], 32, 4096)


def _sample_motion(
    rng: np.random.Generator, camera: Camera, arena: Arena, times: np.ndarray, preset: Preset,
    frac: tuple[float, float], frame_h: int,
) -> tuple[Body, Appearance, Pose, np.ndarray]:  # fmt: skip
    """One person's body, looks, joint angles and ground path (3, T) of x, z, heading."""
    body = sample_body(rng)
    app = sample_appearance(rng)
    names = list(preset.motions)
    weights = np.array([preset.motions[n] for n in names], dtype=np.float64)
    kind = names[int(rng.choice(len(names), p=weights / weights.sum()))]
    pose, speed = make_pose(kind, rng, times, body)
    z = camera.focal * body.height / (rng.uniform(*frac) * frame_h)
    x = rng.uniform(-0.9, 0.9) * z * arena.tan_half
    dt = float(times[1] - times[0]) if len(times) > 1 else 0.04
    path = simulate_path(rng, len(times), dt, speed, (x, z), rng.uniform(-math.pi, math.pi), arena)
    return body, app, pose, np.stack(path)


def _make_figures(
    people: list[tuple[Body, Appearance, Pose, np.ndarray]], num_main: int, camera: Camera
) -> list[_Figure]:
    """Pose and project everyone in one batched forward-kinematics call."""
    if not people:
        return []
    num_frames = people[0][3].shape[1]
    body = stack_bodies([p[0] for p in people], num_frames)
    pose = concat_poses([p[2] for p in people])
    x, z, heading = np.concatenate([p[3] for p in people], axis=1)
    world, head_fwd = forward_kinematics(body, pose, x, z, heading)
    pts, depth = camera.project(world)
    out = []
    for k, (body_k, app, _, _) in enumerate(people):
        rows = slice(k * num_frames, (k + 1) * num_frames)
        out.append(_Figure(k, body_k, app, pts[rows], depth[rows], head_fwd[rows], k < num_main,
                           limb_table(body_k, app)))  # fmt: skip
    return out


def _head_box(fig: _Figure, pts: np.ndarray, t: int, focal: float) -> tuple[float, ...]:
    """Axis-aligned box (x1, y1, x2, y2) px around the drawn head ellipse."""
    axis = pts[2] - pts[1]
    length = float(np.hypot(axis[0], axis[1]))
    b = fig.body.r_head * focal / float(fig.depth[t, HEAD_CENTRE])
    a = max(length / 2, 0.75 * b)
    ux, uy = (axis / length) if length > 1e-6 else (0.0, -1.0)
    hx, hy = math.hypot(a * ux, b * uy), math.hypot(a * uy, b * ux)
    cx, cy = pts[HEAD_CENTRE]
    return tuple(round(float(v), 2) for v in (cx - hx, cy - hy, cx + hx, cy + hy))


def _annotate(
    fig: _Figure, pts: np.ndarray, t: int, focal: float, size: tuple[int, int], frame_h: int
) -> tuple[Person | None, np.ndarray | None]:
    """The person annotation, or an ignore polygon for tiny / mostly off-screen people."""
    w, h = size
    joints = pts[:NUM_JOINTS]
    inside = (joints[:, 0] >= 0) & (joints[:, 0] < w) & (joints[:, 1] >= 0) & (joints[:, 1] < h)
    height_px = fig.body.height * focal / float(fig.depth[t, PELVIS])
    if fig.main and height_px >= MIN_ANNOTATED_FRAC * frame_h and inside.sum() >= MIN_INSIDE_JOINTS:
        kps = np.zeros((NUM_JOINTS, 3), dtype=np.float32)
        kps[inside, :2] = np.round(joints[inside], 2)
        kps[inside, 2] = 1.0
        return Person(fig.track, kps, _head_box(fig, pts, t, focal)), None
    pad = fig.body.r_thigh * focal / float(fig.depth[t, PELVIS]) + 2
    x1, y1 = np.maximum(np.floor(pts.min(axis=0) - pad), 0)
    x2, y2 = np.minimum(np.ceil(pts.max(axis=0) + pad), [w - 1, h - 1])
    if x2 - x1 < 2 or y2 - y1 < 2:
        return None, None  # not in the frame at all
    poly = np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]], dtype=np.float32)
    return None, poly


def generate_clip(
    preset: str = "mixed",
    seed: int = 0,
    num_frames: int = 5,
    num_persons: int | None = None,
    size: tuple[int, int] = (320, 240),
    label_every: int = 1,
) -> SyntheticClip:
    """Generate a clip of ``num_frames`` frames of ``size`` = (width, height) px.

    The result depends only on the arguments (no global RNG, no time): the same call gives
    identical pixels and annotations. ``num_persons`` fixes the number of annotatable people
    (tiny background people, annotated as ignore regions, come on top); by default the preset
    draws it. Frames whose index is a multiple of ``label_every`` are labelled.
    """
    spec = get_preset(preset)
    seed = _check_int("seed", seed, 0, 2**63 - 1)
    num_frames = _check_int("num_frames", num_frames, 1, MAX_FRAMES)
    width, height = _check_size(size)
    label_every = _check_int("label_every", label_every, 1, MAX_FRAMES)
    r_scene, r_people, r_cam, r_deg, r_noise = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(5)
    )
    if num_persons is None:
        lo, hi = spec.persons
        num_persons = min(hi, lo + int((hi - lo + 1) * r_people.random() ** spec.persons_skew))
    num_persons = _check_int("num_persons", num_persons, 0, MAX_PERSONS)

    scale = height / 240.0
    margin = max(4, int(round(10 * scale * max(spec.camera_shake, 0.5))))
    camera, arena = sample_camera(r_scene, width, height, spec)
    times = np.arange(num_frames) * r_scene.uniform(*spec.dt_range)
    background = make_background(r_scene, camera, (width, height), margin, spec)
    people = [
        _sample_motion(r_people, camera, arena, times, spec, spec.height_frac, height)
        for _ in range(num_persons)
    ]
    prob, most = spec.background_people
    if r_people.random() < prob:
        far = (0.04, 0.09)
        z_lo, z_hi = (camera.focal * REFERENCE_HEIGHT / (f * height) for f in (far[1], far[0]))
        far_arena = Arena(z_lo, z_hi, arena.tan_half)
        for _ in range(int(r_people.integers(1, most + 1))):
            people.append(_sample_motion(r_people, camera, far_arena, times, spec, far, height))
    figures = _make_figures(people, num_persons, camera)

    offsets = camera_offsets(r_cam, num_frames, spec.camera_shake * scale, margin)
    infos = sample_frame_infos(r_deg, spec, offsets, scale)
    # annotations first: occluders are aimed at annotated people
    per_frame = [
        [_annotate(f, f.pts[t] - offsets[t], t, camera.focal, (width, height), height)
         for f in figures]
        for t in range(num_frames)
    ]  # fmt: skip
    occluders = _sample_occluders(r_deg, spec, per_frame, figures, camera.focal)
    for occ in occluders:
        for t in range(occ.start, occ.stop):
            if occ.track not in infos[t].occluded_tracks:
                infos[t].occluded_tracks.append(occ.track)

    frames, records = [], []
    for t in range(num_frames):
        ox, oy = (int(v) for v in offsets[t])
        img = background[margin + oy:margin + oy + height, margin + ox:margin + ox + width].copy()
        _draw_people(img, figures, t, offsets[t], camera.focal)
        for occ in occluders:
            draw_occluder(img, occ, t)
        frames.append(apply_degradations(img, infos[t], r_noise))
        labeled = t % label_every == 0
        persons = [p for p, _ in per_frame[t] if p is not None] if labeled else []
        ignore = [g for _, g in per_frame[t] if g is not None] if labeled else []
        records.append(Frame(index=t, image_path="", is_labeled=labeled, persons=persons,
                             ignore_regions=ignore))  # fmt: skip
    sequence = Sequence(name=f"synth_{preset}_{seed}", frames=records)
    return SyntheticClip(frames=frames, sequence=sequence, info=infos, preset=preset, seed=seed,
                         num_persons=num_persons)  # fmt: skip


def _sample_occluders(
    rng: np.random.Generator, spec: Preset, per_frame: list, figures: list[_Figure], focal: float
) -> list[Occluder]:
    """Occluders aimed at the people annotated in each frame."""
    num_frames = len(per_frame)
    centres = np.zeros((num_frames, len(figures), 2))
    heights = np.zeros((num_frames, len(figures)))
    visible = np.zeros((num_frames, len(figures)), dtype=bool)
    for t, annos in enumerate(per_frame):
        for k, (person, _) in enumerate(annos):
            if person is not None:
                on = person.keypoints[:, 2] > 0
                centres[t, k] = person.keypoints[on, :2].mean(axis=0)
                heights[t, k] = figures[k].body.height * focal / figures[k].depth[t, PELVIS]
                visible[t, k] = True
    return sample_occluders(rng, spec, centres, heights, visible)


def _draw_people(
    img: np.ndarray, figures: list[_Figure], t: int, offset: np.ndarray, focal: float
) -> None:
    """Draw everyone in frame ``t`` far to near; ``offset`` (2,) px is the camera jitter."""
    height, width = img.shape[:2]
    for fig in sorted(figures, key=lambda f: -float(f.depth[t, PELVIS])):
        pts = fig.pts[t] - offset
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        if hi[0] < -50 or hi[1] < -50 or lo[0] > width + 50 or lo[1] > height + 50:
            continue  # entirely outside the frame
        draw_person(img, pts, fig.depth[t], focal, fig.body, fig.app, fig.head_fwd[t], fig.limbs)
