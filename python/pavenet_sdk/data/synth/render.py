"""Drawing one projected figure: clothing, limb shapes in depth order, head with a face cue.

Left limbs are drawn darker than right ones so that left and right can be told apart, and the
head shows hair at the back and a face with a nose (and eyes when large enough) at the front.
"""

from __future__ import annotations

import colorsys
import math
from dataclasses import dataclass

import cv2
import numpy as np

from pavenet_sdk.data.synth.skeleton import (
    HEAD_CENTRE,
    L_EYE,
    L_HAND,
    L_TOE,
    NECK_BASE,
    R_EYE,
    R_HAND,
    R_TOE,
    TORSO_CORNERS,
    Body,
)

Colour = tuple[float, float, float]  # BGR 0..255

SHIFT = 4  # sub-pixel bits for OpenCV drawing
_ONE = 1 << SHIFT
LEFT_SHADE = 0.6  # left limbs are this much darker
_SKIN = np.array([[60, 80, 120], [95, 130, 190], [130, 170, 220], [165, 195, 235], [40, 55, 85]])
_HAIR = np.array([[20, 20, 25], [30, 45, 70], [60, 90, 140], [120, 170, 210], [150, 150, 150]])


@dataclass(frozen=True)
class Appearance:
    """Colours (BGR) and clothing style of one person."""

    skin: Colour
    hair: Colour
    shirt: Colour
    pattern_colour: Colour
    trousers: Colour
    shoes: Colour
    pattern: str  # plain | hstripes | vstripes | jacket
    long_sleeves: bool
    long_trousers: bool
    bald: bool


def _hsv(h: float, s: float, v: float) -> Colour:
    r, g, b = colorsys.hsv_to_rgb(h, s, v)
    return (b * 255.0, g * 255.0, r * 255.0)


def sample_appearance(rng: np.random.Generator) -> Appearance:
    """Random skin/hair tones and clothing colours, pattern and sleeve/trouser lengths."""
    skin = _SKIN[rng.integers(len(_SKIN))] * rng.uniform(0.9, 1.1)
    hair = _HAIR[rng.integers(len(_HAIR))] * rng.uniform(0.8, 1.2)
    shirt = _hsv(rng.random(), rng.uniform(0.2, 1.0), rng.uniform(0.3, 1.0))
    if rng.random() < 0.6:  # dark/denim/khaki trousers are common
        base = [(60, 40, 30), (40, 40, 40), (110, 150, 170), (90, 60, 40), (20, 20, 20)]
        trousers = tuple(np.array(base[rng.integers(len(base))]) * rng.uniform(0.8, 1.3))
    else:
        trousers = _hsv(rng.random(), rng.uniform(0.2, 0.9), rng.uniform(0.2, 0.9))
    return Appearance(
        skin=tuple(np.clip(skin, 0, 255)),
        hair=tuple(np.clip(hair, 0, 255)),
        shirt=shirt,
        pattern_colour=_hsv(rng.random(), rng.uniform(0.0, 1.0), rng.uniform(0.2, 1.0)),
        trousers=tuple(np.clip(trousers, 0, 255)),
        shoes=_hsv(rng.random(), rng.uniform(0.0, 0.6), rng.uniform(0.05, 0.5)),
        pattern=str(rng.choice(["plain", "plain", "hstripes", "vstripes", "jacket"])),
        long_sleeves=bool(rng.random() < 0.6),
        long_trousers=bool(rng.random() < 0.75),
        bald=bool(rng.random() < 0.08),
    )


def _shade(c: Colour, k: float) -> Colour:
    return (min(c[0] * k, 255.0), min(c[1] * k, 255.0), min(c[2] * k, 255.0))


def _fx(p: np.ndarray) -> tuple[int, int]:
    return int(p[0] * _ONE + 0.5), int(p[1] * _ONE + 0.5)


def _capsule(
    img: np.ndarray, p: list, q: list, r1: float, r2: float, c: Colour, edge: Colour | None = None
) -> None:
    """Filled tapered capsule from p (radius r1 px) to q (radius r2 px); p, q are fixed-point
    (``SHIFT``) integer pairs. ``edge``: colour of a thin outline (drawn when r >= 2 px)."""
    if edge is not None and min(r1, r2) >= 2.0:
        _capsule(img, p, q, r1 + 0.8, r2 + 0.8, edge)
    dx, dy = q[0] - p[0], q[1] - p[1]
    n = math.hypot(dx, dy)
    if abs(r1 - r2) < 1.0 or n < 1.0:
        cv2.line(img, p, q, c, max(1, round(r1 + r2)), cv2.LINE_AA, SHIFT)
        return
    nx, ny = -dy / n * _ONE, dx / n * _ONE
    quad = np.array([
        (p[0] + nx * r1, p[1] + ny * r1), (q[0] + nx * r2, q[1] + ny * r2),
        (q[0] - nx * r2, q[1] - ny * r2), (p[0] - nx * r1, p[1] - ny * r1),
    ], dtype=np.int32)  # fmt: skip
    cv2.fillConvexPoly(img, quad, c, cv2.LINE_AA, SHIFT)
    cv2.circle(img, p, round(r1 * _ONE), c, -1, cv2.LINE_AA, SHIFT)
    cv2.circle(img, q, round(r2 * _ONE), c, -1, cv2.LINE_AA, SHIFT)


def _draw_torso(img: np.ndarray, pts: np.ndarray, app: Appearance, facing: float) -> None:
    hull = cv2.convexHull(np.round(pts[TORSO_CORNERS] * _ONE).astype(np.int32))
    cv2.fillConvexPoly(img, hull, app.shirt, cv2.LINE_AA, SHIFT)
    ls, rs, lh, rh = pts[3], pts[4], pts[9], pts[10]
    height = float(np.hypot(*(ls + rs - lh - rh))) / 2
    if app.pattern == "plain" or height < 16:
        return
    width = max(1, round(height * 0.06))
    if app.pattern == "hstripes":
        for t in (0.2, 0.45, 0.7):
            cv2.line(img, _fx(ls + (lh - ls) * t), _fx(rs + (rh - rs) * t),
                     app.pattern_colour, width, cv2.LINE_AA, SHIFT)  # fmt: skip
    elif app.pattern == "vstripes":
        for t in (0.3, 0.5, 0.7):
            cv2.line(img, _fx(ls + (rs - ls) * t), _fx(lh + (rh - lh) * t),
                     app.pattern_colour, width, cv2.LINE_AA, SHIFT)  # fmt: skip
    elif facing > 0.3:  # an open jacket shows the shirt underneath from the front
        band = np.array([ls + (rs - ls) * 0.38, ls + (rs - ls) * 0.62,
                         lh + (rh - lh) * 0.62, lh + (rh - lh) * 0.38])  # fmt: skip
        cv2.fillConvexPoly(img, np.round(band * _ONE).astype(np.int32),
                           app.pattern_colour, cv2.LINE_AA, SHIFT)  # fmt: skip


def _draw_head(
    img: np.ndarray, pts: np.ndarray, px_per_m: float, body: Body, app: Appearance,
    head_fwd: np.ndarray,
) -> None:  # fmt: skip
    c, axis = pts[HEAD_CENTRE], pts[2] - pts[1]
    length = float(np.hypot(axis[0], axis[1]))
    b = max(body.r_head * px_per_m, 0.8)
    a = max(length / 2, 0.75 * b)
    angle = float(np.degrees(np.arctan2(axis[1], axis[0]))) if length > 1e-3 else -90.0
    centre = _fx(c)
    hair = app.skin if app.bald else app.hair
    cv2.ellipse(img, centre, (round(a * _ONE), round(b * _ONE)), angle, 0, 360, hair, -1,
                cv2.LINE_AA, SHIFT)  # fmt: skip
    facing = -float(head_fwd[2])  # the camera looks along +Z
    if facing < -0.25:
        return  # seen from behind: only hair
    unit = axis / max(length, 1e-6)
    face_c = c - unit * 0.12 * a + np.array([head_fwd[0], -head_fwd[1]]) * 0.35 * b
    fb = b * (0.55 + 0.35 * max(facing, 0.0))
    cv2.ellipse(img, _fx(face_c), (round(0.8 * a * _ONE), round(fb * _ONE)), angle, 0, 360,
                app.skin, -1, cv2.LINE_AA, SHIFT)  # fmt: skip
    dot = max(0.7, 0.17 * b)
    if facing > 0.3 and b >= 4:
        for e in (L_EYE, R_EYE):
            cv2.circle(img, _fx(pts[e]), round(0.6 * dot * _ONE), (30, 30, 30), -1,
                       cv2.LINE_AA, SHIFT)  # fmt: skip
    cv2.circle(img, _fx(pts[0]), round(dot * _ONE), _shade(app.skin, 0.65), -1, cv2.LINE_AA, SHIFT)


# point indices, radii (m) at both ends, colour, outline colour or None
Limb = tuple[int, int, float, float, Colour, "Colour | None"]


def limb_table(body: Body, app: Appearance) -> list[Limb]:
    """The capsules of one person's arms, hands, legs and feet (computed once per person)."""
    sleeve = app.shirt if app.long_sleeves else app.skin
    shin = app.trousers if app.long_trousers else app.skin
    limbs: list[Limb] = []
    for side, (sh, el, wr, hand, hip, kn, an, toe) in enumerate(
        ((3, 5, 7, L_HAND, 9, 11, 13, L_TOE), (4, 6, 8, R_HAND, 10, 12, 14, R_TOE))
    ):
        k = LEFT_SHADE if side == 0 else 1.0
        # outlines separate an arm from a same-coloured torso and overlapping legs
        limbs += [
            (sh, el, body.r_upper_arm, body.r_forearm * 1.1, _shade(app.shirt, k),
             _shade(app.shirt, 0.45 * k)),
            (el, wr, body.r_forearm, body.r_forearm * 0.85, _shade(sleeve, k),
             _shade(sleeve, 0.45 * k)),
            (wr, hand, body.r_hand, body.r_hand, _shade(app.skin, k), None),
            (hip, kn, body.r_thigh, body.r_shin * 1.1, _shade(app.trousers, k),
             _shade(app.trousers, 0.45 * k)),
            (kn, an, body.r_shin, body.r_shin * 0.8, _shade(shin, k), _shade(shin, 0.45 * k)),
            (an, toe, body.r_foot, body.r_foot, _shade(app.shoes, k), None),
        ]  # fmt: skip
    return limbs


def draw_person(
    img: np.ndarray,
    pts: np.ndarray,
    depth: np.ndarray,
    focal: float,
    body: Body,
    app: Appearance,
    head_fwd: np.ndarray,
    limbs: list[Limb] | None = None,
) -> None:
    """Draw one person in place.

    img: (H, W, 3) uint8 BGR. pts: (NUM_POINTS, 2) px. depth: (NUM_POINTS,) metres in front of
    the camera. focal: px per metre at 1 m. head_fwd: (3,) world direction the face points to.
    limbs: ``limb_table(body, app)`` (pass it to avoid recomputing it every frame).
    Parts are drawn far to near so a person's own near limbs cover the far ones.
    """
    if limbs is None:
        limbs = limb_table(body, app)
    s = focal / depth  # px per metre at each point
    z = depth.tolist()
    parts = [(0.5 * (z[i] + z[j]), 0, n) for n, (i, j, *_) in enumerate(limbs)]
    torso_depth = float(depth[TORSO_CORNERS].mean())
    parts.append((torso_depth + 0.01, 1, 0))  # torso behind limbs at the same depth
    parts.append((z[NECK_BASE], 2, 0))
    parts.append((z[HEAD_CENTRE] - 0.01, 3, 0))
    shoulder_gap = float(pts[3, 0] - pts[4, 0])
    facing = shoulder_gap / max(2 * body.shoulder_half * float(s[NECK_BASE]), 1e-6)
    fixed = np.round(pts * _ONE).astype(np.int64).tolist()
    scale = s.tolist()
    for _, kind, n in sorted(parts, key=lambda x: -x[0]):
        if kind == 0:
            i, j, r1, r2, colour, edge = limbs[n]
            _capsule(img, fixed[i], fixed[j], r1 * scale[i], r2 * scale[j], colour, edge)
        elif kind == 1:
            _draw_torso(img, pts, app, facing)
        elif kind == 2:
            r = body.r_neck * scale[NECK_BASE]
            _capsule(img, fixed[NECK_BASE], fixed[1], r, r, app.skin)
        else:
            _draw_head(img, pts, float(s[HEAD_CENTRE]), body, app, head_fwd)
