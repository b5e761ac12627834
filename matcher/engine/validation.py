"""Input checks shared by the optimisers: integer arrays, counts, and (candidate, other side, value) edges."""

from __future__ import annotations

import numpy as np


def int_array(name: str, value, *, ndim: int = 1) -> np.ndarray:
    """`value` as int32 with `ndim` dimensions; floats are accepted only when they hold whole numbers."""
    arr = np.asarray(value)
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-dimensional array, got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        if not np.issubdtype(arr.dtype, np.floating) or not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise ValueError(f"{name} must hold integers, got dtype {arr.dtype}")
    return arr.astype(np.int32, copy=False) if arr.size else np.zeros(arr.shape, dtype=np.int32)


def count(name: str, n) -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {n!r}")
    return int(n)


def edges(n_candidates: int, n_other: int, candidate, other, value, *, other_name: str,
          other_count_name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Check `e` (candidate, other) pairs with a finite value each, indices within range."""
    cand = int_array("edge_candidate", candidate)
    side = int_array(other_name, other)
    values = np.asarray(value, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError(f"edge_value must be a 1-dimensional array, got shape {values.shape}")
    if not (len(cand) == len(side) == len(values)):
        raise ValueError(f"edge arrays must have the same length: edge_candidate {len(cand)}, "
                         f"{other_name} {len(side)}, edge_value {len(values)}")
    if len(cand) and (cand.min() < 0 or cand.max() >= n_candidates):
        raise ValueError(f"edge_candidate must lie in [0, n_candidates={n_candidates}), "
                         f"got [{cand.min()}, {cand.max()}]")
    if len(side) and (side.min() < 0 or side.max() >= n_other):
        raise ValueError(f"{other_name} must lie in [0, {other_count_name}={n_other}), "
                         f"got [{side.min()}, {side.max()}]")
    if not np.all(np.isfinite(values)):
        raise ValueError("edge_value must be finite (no NaN or infinity)")
    return cand, side, values
