"""Ignore-region test: is a point strictly inside a polygon (poseval's ``Polygon.contains``)."""

from __future__ import annotations

import numpy as np


def points_in_polygon(points: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Which points lie strictly inside ``polygon`` (points on its boundary do not).

    Even-odd rule over the closed ring, as GEOS locates a point in a polygon shell; the
    crossing test uses the sign of a cross product, so integer vertices are handled exactly.

    Args:
        points: (N, 2) float x, y px.
        polygon: (M, 2) float vertices, M >= 3 (the ring is closed automatically).

    Returns:
        (N,) bool.

    Raises:
        ValueError: fewer than 3 vertices (shapely refuses such a polygon too).
    """
    poly = np.asarray(polygon, dtype=np.float64).reshape(-1, 2)
    if len(poly) < 3:
        raise ValueError(f"an ignore region needs at least 3 vertices, got {len(poly)}")
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 1, 2)  # (N, 1, 2)
    a = poly[None, :, :]  # (1, M, 2) edge starts
    b = np.roll(poly, -1, axis=0)[None]  # (1, M, 2) edge ends (closes the ring)
    ex, ey = b[..., 0] - a[..., 0], b[..., 1] - a[..., 1]
    px, py = pts[..., 0] - a[..., 0], pts[..., 1] - a[..., 1]
    cross = ex * py - ey * px  # (N, M); > 0: point left of the edge
    lo_x, hi_x = np.minimum(a[..., 0], b[..., 0]), np.maximum(a[..., 0], b[..., 0])
    lo_y, hi_y = np.minimum(a[..., 1], b[..., 1]), np.maximum(a[..., 1], b[..., 1])
    x, y = pts[..., 0], pts[..., 1]
    on_edge = (cross == 0) & (x >= lo_x) & (x <= hi_x) & (y >= lo_y) & (y <= hi_y)
    # a ray to +x crosses an edge spanning y iff the point is left of an upward edge
    # (right of a downward one)
    spans = (a[..., 1] > y) != (b[..., 1] > y)
    crosses = spans & (cross * np.sign(ey) > 0)
    inside = (np.count_nonzero(crosses, axis=1) % 2) == 1
    return inside & ~on_edge.any(axis=1)


def points_in_regions(points: np.ndarray, regions: list[np.ndarray]) -> np.ndarray:
    """(N, 2) points -> (N,) bool: strictly inside any of the polygons."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    out = np.zeros(len(pts), dtype=bool)
    for region in regions:
        out |= points_in_polygon(pts, region)
    return out
