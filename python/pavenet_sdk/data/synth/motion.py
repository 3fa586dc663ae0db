"""Motion programs (joint angles over time) and ground paths of the synthetic people.

Gaits are phase based: one phase per person advances with the stride frequency and drives
hips, knees and the opposite arm swing, so consecutive frames move smoothly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from pavenet_sdk.data.synth.skeleton import Body, Pose

_PI = math.pi


@dataclass(frozen=True)
class Arena:
    """The ground region people stay in: depth range (m) and half view angle (tan) in X."""

    z_near: float
    z_far: float
    tan_half: float

    def contains(self, x: float, z: float) -> bool:
        return self.z_near <= z <= self.z_far and abs(x) <= z * self.tan_half


def _rad(v: np.ndarray | float) -> np.ndarray:
    return np.radians(np.asarray(v, dtype=np.float64))


def _both(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    return np.stack([np.broadcast_to(left, right.shape), right], axis=-1)


def _static_arm(rng: np.random.Generator) -> tuple[float, float, float, tuple[float, ...]]:
    """One resting arm pose: flexion, abduction, elbow (degrees) and bend weights."""
    kind = rng.choice(["hang", "hang", "hip", "cross", "phone", "point", "raise"])
    if kind == "hang":
        return rng.uniform(-10, 15), rng.uniform(4, 15), rng.uniform(5, 25), (1.0, 0.0, 0.2)
    if kind == "hip":
        return rng.uniform(-20, -5), rng.uniform(35, 50), rng.uniform(95, 115), (-0.4, 0.1, 1.0)
    if kind == "cross":
        return rng.uniform(25, 45), rng.uniform(0, 10), rng.uniform(105, 125), (0.3, 0.2, 1.0)
    if kind == "phone":
        return rng.uniform(10, 30), rng.uniform(5, 20), rng.uniform(110, 135), (0.6, 1.0, 0.3)
    if kind == "point":
        return rng.uniform(60, 100), rng.uniform(0, 40), rng.uniform(0, 15), (1.0, 0.0, 0.0)
    return rng.uniform(140, 170), rng.uniform(10, 40), rng.uniform(0, 30), (0.2, 0.0, 1.0)


def _standing_legs(rng: np.random.Generator, t: np.ndarray) -> tuple[np.ndarray, ...]:
    shift = np.sin(2 * _PI * rng.uniform(0.1, 0.4) * t + rng.uniform(0, 2 * _PI))
    hip_flex = _rad(rng.uniform(-6, 8, size=2)) + _rad(3.0) * shift[:, None] * [1, -1]
    hip_abd = np.broadcast_to(_rad(rng.uniform(2, 12, size=2)), hip_flex.shape)
    knee = np.broadcast_to(_rad(rng.uniform(2, 12, size=2)), hip_flex.shape)
    return hip_flex, hip_abd.copy(), knee.copy()


def _wave_arm(rng: np.random.Generator, t: np.ndarray) -> tuple[np.ndarray, ...]:
    freq, phase = rng.uniform(1.2, 2.5), rng.uniform(0, 2 * _PI)
    osc = np.sin(2 * _PI * freq * t + phase)
    flex = _rad(rng.uniform(5, 35)) + 0 * t
    abd = _rad(rng.uniform(95, 145)) + _rad(6.0) * osc
    elbow = _rad(rng.uniform(35, 55)) + _rad(rng.uniform(20, 35)) * osc
    return flex, abd, elbow


def _head_yaw(rng: np.random.Generator, t: np.ndarray, max_deg: float) -> np.ndarray:
    amp = _rad(rng.uniform(0, max_deg))
    return amp * np.sin(2 * _PI * rng.uniform(0.05, 0.4) * t + rng.uniform(0, 2 * _PI))


def make_pose(kind: str, rng: np.random.Generator, t: np.ndarray, body: Body) -> tuple[Pose, float]:
    """Joint angles for motion ``kind`` at times ``t`` (T,) seconds; returns (pose, speed m/s)."""
    n = len(t)
    zeros = np.zeros(n)
    lean, twist, bounce, speed = zeros + _rad(rng.uniform(-2, 4)), zeros, zeros, 0.0
    bend = np.array([[1.0, 0.0, 0.2], [1.0, 0.0, 0.2]])
    if kind in ("walk", "walk_wave", "run"):
        run = kind == "run"
        cadence = rng.uniform(1.25, 1.55) if run else rng.uniform(0.8, 1.05)  # strides/s
        phase = (rng.uniform(0, 2 * _PI) + 2 * _PI * cadence * t)[:, None] + [0.0, _PI]
        s = np.sin(phase)
        amp = rng.uniform(0.8, 1.2)
        if run:
            hip_flex = _rad(15 + 38 * amp * s)
            knee = _rad(20 + 90 * np.maximum(0, np.cos(phase + 0.5)) ** 2)
            sh_flex = _rad(-40 * amp * s)
            elbow = _rad(rng.uniform(75, 100) + 10 * s)
            lean = zeros + _rad(rng.uniform(7, 14))
            bounce = 0.02 * body.height * (1 + np.cos(2 * phase[:, 0])) / 2
            speed = cadence * 1.25 * body.height * amp
        else:
            hip_flex = _rad(4 + 22 * amp * s)
            knee = _rad(5 + 55 * np.maximum(0, np.cos(phase + 0.3)) ** 3)
            sh_flex = _rad(-20 * amp * s)
            elbow = _rad(15 + 20 * np.maximum(0, -s))
            speed = cadence * 0.75 * body.height * amp
        hip_abd = zeros[:, None] + _rad(rng.uniform(0, 4, size=2))
        sh_abd = zeros[:, None] + _rad(rng.uniform(5, 15, size=2))
        twist = _rad(8 * amp) * -s[:, 0]
        if kind == "walk_wave":
            arm = int(rng.integers(2))
            sh_flex[:, arm], sh_abd[:, arm], elbow[:, arm] = _wave_arm(rng, t)
            bend[arm] = (0.3, 1.0, 0.0)
        yaw = _head_yaw(rng, t, 20)
    elif kind in ("stand", "wave"):
        hip_flex, hip_abd, knee = _standing_legs(rng, t)
        arms = [_static_arm(rng) for _ in range(2)]
        sway = _rad(4.0) * np.sin(2 * _PI * rng.uniform(0.2, 0.6) * t)[:, None]
        sh_flex = _rad([a[0] for a in arms]) + sway
        sh_abd = zeros[:, None] + _rad([a[1] for a in arms])
        elbow = zeros[:, None] + _rad([a[2] for a in arms])
        bend = np.array([a[3] for a in arms], dtype=np.float64)
        if kind == "wave":
            waving = [0, 1] if rng.random() < 0.35 else [int(rng.integers(2))]
            for arm in waving:
                sh_flex[:, arm], sh_abd[:, arm], elbow[:, arm] = _wave_arm(rng, t)
                bend[arm] = (0.3, 1.0, 0.0)
        yaw = _head_yaw(rng, t, 40)
    elif kind == "jack":
        freq = rng.uniform(0.7, 1.2)
        u = (1 - np.cos(2 * _PI * freq * t + rng.uniform(0, 2 * _PI))) / 2  # 0 closed .. 1 open
        hip_flex = zeros[:, None] + _rad([2.0, 2.0])
        hip_abd = _both(_rad(3 + 15 * u), _rad(3 + 15 * u))
        knee = _both(_rad(5 + 15 * u), _rad(5 + 15 * u))
        sh_flex = zeros[:, None] + _rad(rng.uniform(-5, 15, size=2))
        sh_abd = _both(_rad(12 + 150 * u), _rad(12 + 150 * u))
        elbow = zeros[:, None] + _rad(rng.uniform(5, 25, size=2))
        bend = np.array([[0.2, 1.0, 0.0], [0.2, 1.0, 0.0]])
        bounce = 0.03 * body.height * np.abs(np.sin(2 * _PI * freq * t))
        yaw = _head_yaw(rng, t, 15)
    else:
        raise ValueError(f"unknown motion {kind!r}")
    pose = Pose(
        hip_flex=hip_flex, hip_abd=hip_abd, knee=knee, sh_flex=sh_flex, sh_abd=sh_abd,
        elbow=elbow, bend=bend, lean=lean, twist=twist, bounce=bounce, head_yaw=yaw,
    )  # fmt: skip
    return pose, float(speed)


def _wrap(a: float) -> float:
    return (a + _PI) % (2 * _PI) - _PI


def simulate_path(
    rng: np.random.Generator,
    num_frames: int,
    dt: float,
    speed: float,
    start: tuple[float, float],
    heading: float,
    arena: Arena,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ground path (x, z, heading), each (T,), with smooth random turns that steer people back
    into ``arena`` when they leave it. ``dt`` in seconds, ``speed`` in m/s."""
    xs, zs, hs = np.empty(num_frames), np.empty(num_frames), np.empty(num_frames)
    x, z = start
    turn = 0.0  # rad/s, an Ornstein-Uhlenbeck process keeps turns smooth
    turn_std = 0.6 if speed > 0 else 0.3
    noise = rng.standard_normal(num_frames)
    for i in range(num_frames):
        xs[i], zs[i], hs[i] = x, z, heading
        turn += -2.0 * turn * dt + turn_std * math.sqrt(2 * 2.0 * dt) * noise[i]
        steer = 0.0
        if speed > 0 and not arena.contains(x, z):
            target = math.atan2(-x, 0.5 * (arena.z_near + arena.z_far) - z)
            steer = 2.5 * _wrap(target - heading)
        heading = _wrap(heading + (turn + steer) * dt)
        x += speed * dt * math.sin(heading)
        z += speed * dt * math.cos(heading)
    return xs, zs, hs
