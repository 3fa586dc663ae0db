"""Random deformable-attention problems shared by the native-core tests (numpy only)."""

from __future__ import annotations

import numpy as np


def make_problem(
    rng: np.random.Generator,
    *,
    batch: int = 2,
    queries: int = 7,
    heads: int = 3,
    head_dim: int = 8,
    shapes: tuple[tuple[int, int], ...] = ((5, 6), (3, 3), (1, 1)),
    points: int = 4,
    low: float = -0.3,
    high: float = 1.3,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(value, spatial_shapes, level_start_index, sampling_locations, attention_weights).

    Locations cover [low, high], so corners outside the maps are exercised.
    """
    spatial = np.asarray(shapes, dtype=np.int64).reshape(-1, 2)
    sizes = spatial[:, 0] * spatial[:, 1]
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    levels = len(spatial)
    value = rng.standard_normal((batch, int(sizes.sum()), heads, head_dim), dtype=np.float32)
    loc = rng.uniform(low, high, (batch, queries, heads, levels, points, 2)).astype(np.float32)
    attn = rng.random((batch, queries, heads, levels, points), dtype=np.float32)
    attn /= attn.sum(axis=(-1, -2), keepdims=True)
    return value, spatial, starts, loc, attn
