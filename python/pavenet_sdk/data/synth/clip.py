"""Generate one synthetic clip in memory: frames plus PoseTrack-style annotations.

Who is annotated (and who becomes an ignore region) and every pixel depend only on the
arguments that shape the scene; ``layout`` only chooses which named points of the 3-D figures
are written as keypoints, so the same seed gives the same images in every layout.
"""

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
from pavenet_sdk.data.synth.presets import Preset, get_synth_preset
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
    FIGURE_POINTS,
    HEAD_CENTRE,
    L_EAR,
    L_EYE,
    NAMED_POINTS,
    NUM_BODY_JOINTS,
    PELVIS,
    R_EAR,
    R_EYE,
    Body,
    Pose,
    concat_poses,
    forward_kinematics,
    sample_body,
    stack_bodies,
)
from pavenet_sdk.data.types import Frame, Person, Sequence
from pavenet_sdk.layouts import DEFAULT_LAYOUT, POSETRACK_15, JointLayout, get_layout

MIN_ANNOTATED_FRAC = 0.12  # people shorter than this fraction of the frame height are ignored
MIN_INSIDE_JOINTS = 6  # people with fewer joints inside the frame are ignored
MAX_FRAMES = 10000  # PoseTrack frame ids have four digits
MAX_PERSONS = 99  # PoseTrack annotation ids reserve two digits per person
# eyes and ears hidden by their own head: the cosine between the point's outward direction
# from the head centre and the direction to the camera is below this (slightly past the
# silhouette, since ears and eyes stand out of a round head)
HEAD_HIDDEN_COS = -0.2
_HEAD_SIDE_POINTS = (L_EYE, R_EYE, L_EAR, R_EAR)


@dataclass
class SyntheticClip:
    """A generated clip.

    frames: T images, each (H, W, 3) uint8 BGR. sequence: the annotations (``image_path`` is
    empty until the clip is written). info: per-frame record of camera jitter and degradations.
    num_persons: annotatable people, track ids 0..num_persons-1 (tiny background people,
    only ever annotated as ignore regions, have the ids after them). layout: the joint layout
    of the annotations' keypoints.
    """

    frames: list[np.ndarray]
    sequence: Sequence
    info: list[FrameInfo]
    preset: str
    seed: int
    num_persons: int
    layout: JointLayout = POSETRACK_15


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
    hidden: np.ndarray  # (T, NUM_POINTS) bool: eyes and ears turned away behind the head


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
    hidden = _hidden_by_head(world, camera)
    out = []
    for k, (body_k, app, _, _) in enumerate(people):
        rows = slice(k * num_frames, (k + 1) * num_frames)
        out.append(_Figure(k, body_k, app, pts[rows], depth[rows], head_fwd[rows], k < num_main,
                           limb_table(body_k, app), hidden[rows]))  # fmt: skip
    return out


def _hidden_by_head(world: np.ndarray, camera: Camera) -> np.ndarray:
    """(R, NUM_POINTS) bool: eyes and ears on the far side of their own head.

    world: (R, NUM_POINTS, 3) m. A point is hidden when the angle between its direction from
    the head centre and its direction to the camera (at (0, height, 0)) passes
    ``HEAD_HIDDEN_COS``: eyes of a head turned away, the far ear of a head in profile.
    """
    side = list(_HEAD_SIDE_POINTS)
    out = world[:, side] - world[:, None, HEAD_CENTRE]
    view = np.array([0.0, camera.height, 0.0]) - world[:, side]
    cos = np.sum(out * view, axis=-1) / (
        np.linalg.norm(out, axis=-1) * np.linalg.norm(view, axis=-1) + 1e-12
    )
    hidden = np.zeros(world.shape[:2], dtype=bool)
    hidden[:, side] = cos < HEAD_HIDDEN_COS
    return hidden


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


def _inside(points: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(n, 2) px -> (n,) bool: inside the frame of ``size`` = (width, height)."""
    w, h = size
    return (points[:, 0] >= 0) & (points[:, 0] < w) & (points[:, 1] >= 0) & (points[:, 1] < h)


def _in_layout(
    person: Person, fig: _Figure, pts: np.ndarray, t: int, size: tuple[int, int],
    layout: JointLayout,
) -> Person:  # fmt: skip
    """``person`` (posetrack-15 body joints) with its keypoints in ``layout``.

    Each joint is the figure's named point; it is annotated when inside the frame and, for
    eyes and ears, not turned away behind the head (occluders and other people do not remove
    joints, as in PoseTrack).
    """
    if layout == POSETRACK_15:
        return person
    points = np.array([NAMED_POINTS[name] for name in layout.joints])
    on = _inside(pts[points], size) & ~fig.hidden[t, points]
    kps = np.zeros((layout.num_joints, 3), dtype=np.float32)
    kps[on, :2] = np.round(pts[points[on]], 2)
    kps[on, 2] = 1.0
    return Person(person.track_id, kps, person.head_box, box=person.box)


def _annotate(
    fig: _Figure, pts: np.ndarray, t: int, focal: float, size: tuple[int, int], frame_h: int
) -> tuple[Person | None, np.ndarray | None]:
    """The person annotation, or an ignore polygon for tiny / mostly off-screen people."""
    w, h = size
    inside = _inside(pts[:NUM_BODY_JOINTS], size)
    height_px = fig.body.height * focal / float(fig.depth[t, PELVIS])
    if fig.main and height_px >= MIN_ANNOTATED_FRAC * frame_h and inside.sum() >= MIN_INSIDE_JOINTS:
        kps = np.zeros((NUM_BODY_JOINTS, 3), dtype=np.float32)
        kps[inside, :2] = np.round(pts[:NUM_BODY_JOINTS][inside], 2)
        kps[inside, 2] = 1.0
        on = kps[:, :2][inside]
        lo, hi = on.min(axis=0), on.max(axis=0)
        # person box: keypoint extent x1.3 (PoseTrack's convention), clipped to the frame
        c, half = (lo + hi) / 2, 0.65 * (hi - lo)
        x1, y1 = (float(v) for v in np.maximum(c - half, 0))
        x2, y2 = (float(v) for v in np.minimum(c + half, [w, h]))
        return Person(fig.track, kps, _head_box(fig, pts, t, focal), box=(x1, y1, x2, y2)), None
    figure = pts[:FIGURE_POINTS]
    pad = fig.body.r_thigh * focal / float(fig.depth[t, PELVIS]) + 2
    x1, y1 = np.maximum(np.floor(figure.min(axis=0) - pad), 0)
    x2, y2 = np.minimum(np.ceil(figure.max(axis=0) + pad), [w - 1, h - 1])
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
    layout: str | JointLayout = DEFAULT_LAYOUT,
) -> SyntheticClip:
    """Generate a clip of ``num_frames`` frames of ``size`` = (width, height) px.

    The result depends only on the arguments (no global RNG, no time): the same call gives
    identical pixels and annotations. ``num_persons`` fixes the number of annotatable people
    (tiny background people, annotated as ignore regions, come on top); by default the preset
    draws it. Frames whose index is a multiple of ``label_every`` are labelled. ``layout``
    (``posetrack-15``, ``coco-17`` or any layout of the joints in ``NAMED_POINTS``) sets the
    annotations' keypoints and nothing else: the images do not depend on it.
    """
    layout = get_layout(layout)
    unknown = [name for name in layout.joints if name not in NAMED_POINTS]
    if unknown:
        raise ValueError(f"layout {layout.name!r}: the synthetic figures have no joint "
                         f"{unknown[0]!r}; they have {sorted(NAMED_POINTS)}")  # fmt: skip
    spec = get_synth_preset(preset)
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
        img = background[
            margin + oy : margin + oy + height, margin + ox : margin + ox + width
        ].copy()
        _draw_people(img, figures, t, offsets[t], camera.focal)
        for occ in occluders:
            draw_occluder(img, occ, t)
        frames.append(apply_degradations(img, infos[t], r_noise))
        labeled = t % label_every == 0
        persons = [
            _in_layout(p, f, f.pts[t] - offsets[t], t, (width, height), layout)
            for f, (p, _) in zip(figures, per_frame[t], strict=True) if p is not None
        ] if labeled else []  # fmt: skip
        ignore = [g for _, g in per_frame[t] if g is not None] if labeled else []
        records.append(Frame(index=t, image_path="", is_labeled=labeled, persons=persons,
                             ignore_regions=ignore))  # fmt: skip
    sequence = Sequence(name=f"synth_{preset}_{seed}", frames=records)
    return SyntheticClip(frames=frames, sequence=sequence, info=infos, preset=preset, seed=seed,
                         num_persons=num_persons, layout=layout)  # fmt: skip


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
        lo, hi = pts[:FIGURE_POINTS].min(axis=0), pts[:FIGURE_POINTS].max(axis=0)
        if hi[0] < -50 or hi[1] < -50 or lo[0] > width + 50 or lo[1] > height + 50:
            continue  # entirely outside the frame
        draw_person(img, pts, fig.depth[t], focal, fig.body, fig.app, fig.head_fwd[t], fig.limbs)
