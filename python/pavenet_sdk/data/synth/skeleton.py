"""Articulated figures: body proportions and forward kinematics to world-space points.

World frame (metres): X to the camera's right, Y up, Z away from the camera; the ground is
Y = 0. A person's heading ``theta`` is the yaw of their forward direction
f = (sin theta, 0, cos theta); theta = pi faces the camera. Their left is
l = (-cos theta, 0, sin theta), so a person facing the camera has their left on the image right.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from pavenet_sdk.layouts import POSETRACK_15

# Points computed per frame: the 15 ``posetrack-15`` joints first, then drawing helpers, then
# the ears (annotation only: they lie inside the drawn head and do not bound the figure).
NUM_BODY_JOINTS = POSETRACK_15.num_joints
NECK_BASE, PELVIS, L_TOE, R_TOE, L_HAND, R_HAND, HEAD_CENTRE, L_EYE, R_EYE = range(
    NUM_BODY_JOINTS, 24
)
TORSO_CORNERS = list(range(24, 32))  # shoulders and outer hips, each pushed to front and back
FIGURE_POINTS = 32  # points [0, FIGURE_POINTS) bound the drawn figure
L_EAR, R_EAR = 32, 33
NUM_POINTS = 34
# joint name -> point: every joint a synthetic annotation can carry, whatever the layout
NAMED_POINTS: dict[str, int] = {
    **{name: i for i, name in enumerate(POSETRACK_15.joints)},
    "left_eye": L_EYE, "right_eye": R_EYE, "left_ear": L_EAR, "right_ear": R_EAR,
}  # fmt: skip

_UP = np.array([0.0, 1.0, 0.0])
_SIDES = np.array([1.0, -1.0])  # left, right
# joint limits in degrees: the motion programs stay inside them, this clamps noise-driven excess
LIMITS_DEG = {
    "hip_flex": (-35.0, 110.0), "hip_abd": (-10.0, 45.0), "knee": (0.0, 140.0),
    "sh_flex": (-60.0, 180.0), "sh_abd": (0.0, 175.0), "elbow": (0.0, 150.0),
}  # fmt: skip


@dataclass(frozen=True)
class Body:
    """Segment lengths and limb radii of one person, in metres."""

    height: float
    head: float  # head_bottom -> head_top
    neck: float  # shoulder line -> head_bottom
    torso: float  # hip line -> shoulder line
    shoulder_half: float
    hip_half: float
    upper_arm: float
    forearm: float
    hand: float
    thigh: float
    shin: float
    ankle: float  # ankle height above the ground
    foot: float
    chest_depth: float
    r_head: float  # half width of the head
    r_neck: float
    r_upper_arm: float
    r_forearm: float
    r_hand: float
    r_thigh: float
    r_shin: float
    r_foot: float


def sample_body(rng: np.random.Generator, child_prob: float = 0.08) -> Body:
    """Draw plausible adult (or, with ``child_prob``, child) proportions with a random build."""
    child = rng.random() < child_prob
    h = rng.uniform(1.05, 1.45) if child else rng.uniform(1.52, 1.95)
    head_scale = 1.25 if child else 1.0
    build = rng.uniform(0.8, 1.3)  # limb thickness
    j = rng.uniform(0.95, 1.05, size=8)  # per-segment length jitter
    head = 0.13 * h * head_scale * j[0]
    return Body(
        height=h,
        head=head,
        neck=0.045 * h,
        torso=0.29 * h * j[1],
        shoulder_half=0.105 * h * j[2] * (0.9 if child else 1.0),
        hip_half=0.06 * h * j[3],
        upper_arm=0.175 * h * j[4],
        forearm=0.15 * h * j[5],
        hand=0.055 * h,
        thigh=0.245 * h * j[6],
        shin=0.235 * h * j[7],
        ankle=0.045 * h,
        foot=0.14 * h,
        chest_depth=0.12 * h * build,
        r_head=0.4 * head,
        r_neck=0.03 * h,
        r_upper_arm=0.03 * h * build,
        r_forearm=0.024 * h * build,
        r_hand=0.026 * h,
        r_thigh=0.046 * h * build,
        r_shin=0.033 * h * build,
        r_foot=0.022 * h,
    )


@dataclass
class Pose:
    """Joint angles over T frames, in radians. (T, 2) arrays hold [:, 0] left, [:, 1] right.

    Flexion is forward rotation about the body's left axis, abduction rotation away from the
    body midline; the elbow bends its forearm towards ``bend`` = weights of (forward, up,
    medial) directions per arm, shape (2, 3).
    """

    hip_flex: np.ndarray
    hip_abd: np.ndarray
    knee: np.ndarray
    sh_flex: np.ndarray
    sh_abd: np.ndarray
    elbow: np.ndarray
    bend: np.ndarray
    lean: np.ndarray  # (T,) forward trunk lean
    twist: np.ndarray  # (T,) shoulder-line yaw relative to the hips (+ = left shoulder forward)
    bounce: np.ndarray  # (T,) metres added to the pelvis height (flight phases)
    head_yaw: np.ndarray  # (T,) head turn to the left


def _limb_dir(flex: np.ndarray, abd: np.ndarray, fwd: np.ndarray, side: np.ndarray) -> np.ndarray:
    """Unit direction (T, 2, 3) of a segment hanging down, rotated by flex then abduction."""
    ca = np.cos(abd)[..., None]
    down = -_UP * np.cos(flex)[..., None] + fwd[:, None, :] * np.sin(flex)[..., None]
    return down * ca + side * np.sin(abd)[..., None]


def _clamped(pose: Pose, name: str) -> np.ndarray:
    lo, hi = np.radians(LIMITS_DEG[name])
    return np.clip(getattr(pose, name), lo, hi)


def stack_bodies(bodies: list[Body], repeats: int) -> Body:
    """One ``Body`` whose fields are (len(bodies) * repeats,) arrays, each body repeated for
    its ``repeats`` frames, so ``forward_kinematics`` handles many people in one call."""
    return Body(**{
        f.name: np.repeat(np.array([getattr(b, f.name) for b in bodies]), repeats)
        for f in fields(Body)
    })  # fmt: skip


def concat_poses(poses: list[Pose]) -> Pose:
    """Concatenate poses along time (the per-arm ``bend`` becomes per row, (R, 2, 3))."""
    out = {f.name: np.concatenate([getattr(p, f.name) for p in poses]) for f in fields(Pose)
           if f.name != "bend"}  # fmt: skip
    out["bend"] = np.concatenate([np.broadcast_to(p.bend, (len(p.lean), 2, 3)) for p in poses])
    return Pose(**out)


def forward_kinematics(
    body: Body, pose: Pose, x: np.ndarray, z: np.ndarray, heading: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """World points of people over R rows (frames of one person, or of several people).

    body: one person, or ``stack_bodies`` with one value per row. x, z, heading: (R,) ground
    position (m) and heading (rad). Returns ``points`` (R, NUM_POINTS, 3) in metres
    (15 joints, NECK_BASE ... R_EYE, TORSO_CORNERS, L_EAR, R_EAR) and the head's forward
    direction (R, 3).
    """
    # body values as (R, 1) or (1,) arrays, broadcasting against (R, 3); b2 against (R, 2, 3)
    b1 = {f.name: np.asarray(getattr(body, f.name), dtype=np.float64)[..., None]
          for f in fields(Body)}  # fmt: skip
    b2 = {k: v[..., None] for k, v in b1.items()}
    fwd = np.stack([np.sin(heading), np.zeros_like(heading), np.cos(heading)], axis=-1)
    left = np.stack([-np.cos(heading), np.zeros_like(heading), np.sin(heading)], axis=-1)
    side = _SIDES[None, :, None] * left[:, None, :]  # (R, 2, 3) outward direction per side
    pts = np.empty((len(x), NUM_POINTS, 3))

    # legs first: the pelvis height keeps the lower ankle at ankle height (ground contact)
    hip_flex, knee = _clamped(pose, "hip_flex"), _clamped(pose, "knee")
    hip_abd = _clamped(pose, "hip_abd")
    thigh_dir = _limb_dir(hip_flex, hip_abd, fwd, side)
    shin_dir = _limb_dir(hip_flex - knee, hip_abd, fwd, side)
    drop = b1["thigh"] * thigh_dir[..., 1] + b1["shin"] * shin_dir[..., 1]  # (R, 2), negative
    pelvis = np.stack([x, b1["ankle"][..., 0] - drop.min(axis=1) + pose.bounce, z], axis=-1)
    hips = pelvis[:, None] + side * b2["hip_half"]
    knees = hips + b2["thigh"] * thigh_dir
    ankles = knees + b2["shin"] * shin_dir
    toes = ankles + b2["foot"] * (0.95 * fwd - 0.3 * _UP)[:, None, :]

    # trunk, shoulders (twisted against the hips) and head
    trunk_up = _UP * np.cos(pose.lean)[:, None] + fwd * np.sin(pose.lean)[:, None]
    neck_base = pelvis + b1["torso"] * trunk_up
    twist = pose.twist[:, None]
    shoulder_line = left * np.cos(twist) + fwd * np.sin(twist)
    offsets = b2["shoulder_half"] * _SIDES[None, :, None] * shoulder_line[:, None]
    shoulders = neck_base[:, None] + offsets
    head_bottom = neck_base + b1["neck"] * trunk_up
    head_top = head_bottom + b1["head"] * trunk_up
    yaw = pose.head_yaw[:, None]
    head_fwd = fwd * np.cos(yaw) + left * np.sin(yaw)
    head_fwd -= np.sum(head_fwd * trunk_up, axis=1, keepdims=True) * trunk_up
    head_fwd /= np.linalg.norm(head_fwd, axis=1, keepdims=True)
    head_left = np.cross(head_fwd, trunk_up)  # forward x up points to the person's left

    # arms: upper arm by flexion/abduction, forearm bent towards the per-arm bend direction
    upper_dir = _limb_dir(_clamped(pose, "sh_flex"), _clamped(pose, "sh_abd"), fwd, side)
    w = np.asarray(pose.bend)  # (2, 3) or (R, 2, 3)
    bend = (
        w[..., 0:1] * fwd[:, None, :]
        + w[..., 1:2] * _UP
        - w[..., 2:3] * side  # medial = towards the midline
    )
    bend = bend - np.sum(bend * upper_dir, axis=-1, keepdims=True) * upper_dir
    norm = np.linalg.norm(bend, axis=-1, keepdims=True)
    fallback = fwd[:, None, :] - np.sum(fwd[:, None, :] * upper_dir, -1, keepdims=True) * upper_dir
    bend = np.where(norm > 1e-6, bend / np.maximum(norm, 1e-9), fallback)
    bend /= np.maximum(np.linalg.norm(bend, axis=-1, keepdims=True), 1e-9)
    elbow = _clamped(pose, "elbow")[..., None]
    fore_dir = upper_dir * np.cos(elbow) + bend * np.sin(elbow)
    elbows = shoulders + b2["upper_arm"] * upper_dir
    wrists = elbows + b2["forearm"] * fore_dir
    hands = wrists + 0.5 * b2["hand"] * fore_dir

    head, r_head = b1["head"], b1["r_head"]
    pts[:, 0] = head_bottom + 0.38 * head * trunk_up + head_fwd * r_head  # nose tip
    pts[:, 1], pts[:, 2] = head_bottom, head_top
    pts[:, 3:5], pts[:, 5:7], pts[:, 7:9] = shoulders, elbows, wrists
    pts[:, 9:11], pts[:, 11:13], pts[:, 13:15] = hips, knees, ankles
    pts[:, NECK_BASE], pts[:, PELVIS] = neck_base, pelvis
    pts[:, L_TOE], pts[:, R_TOE] = toes[:, 0], toes[:, 1]
    pts[:, L_HAND], pts[:, R_HAND] = hands[:, 0], hands[:, 1]
    pts[:, HEAD_CENTRE] = head_bottom + 0.5 * head * trunk_up
    eye_base = head_bottom + 0.56 * head * trunk_up + 0.8 * r_head * head_fwd
    pts[:, L_EYE] = eye_base + 0.38 * r_head * head_left
    pts[:, R_EYE] = eye_base - 0.38 * r_head * head_left
    ear_base = head_bottom + 0.45 * head * trunk_up - 0.1 * r_head * head_fwd
    pts[:, L_EAR] = ear_base + 0.95 * r_head * head_left
    pts[:, R_EAR] = ear_base - 0.95 * r_head * head_left
    half_depth = 0.5 * b2["chest_depth"] * fwd[:, None, :]
    outline = np.concatenate([shoulders, hips + side * 0.6 * b2["r_thigh"]], axis=1)  # (R, 4, 3)
    pts[:, TORSO_CORNERS] = np.concatenate([outline + half_depth, outline - half_depth], axis=1)
    return pts, head_fwd
