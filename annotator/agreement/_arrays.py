"""Small numpy helpers shared by the agreement modules."""

from __future__ import annotations

import numpy as np


def unique(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values of a 1-D array.

    ``np.unique`` in numpy 2.x takes a hashing path that is two orders of magnitude slower than
    sorting for the integer keys used here (0.4 s against 8 ms for 400k values).
    """
    ordered = np.sort(values, kind="stable")
    if ordered.size == 0:
        return ordered
    keep = np.empty(ordered.size, bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def unique_inverse(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct values and, for each input, the index of its value among them."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    if ordered.size == 0:
        return ordered, np.empty(0, np.int64)
    fresh = np.empty(ordered.size, bool)
    fresh[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=fresh[1:])
    inverse = np.empty(values.size, np.int64)
    inverse[order] = np.cumsum(fresh) - 1
    return ordered[fresh], inverse


def order_by(*keys: np.ndarray) -> np.ndarray:
    """Indices sorting by the integer ``keys``, most significant first (stable).

    Folds the keys into one int64 when their ranges allow it: one argsort is about twice as fast
    as ``np.lexsort`` on the sizes a report meets.
    """
    if not keys or keys[0].size == 0:
        return np.arange(keys[0].size if keys else 0)
    combined = np.zeros(keys[0].size, np.int64)
    capacity = 1
    for key in keys:
        low = int(key.min())
        width = int(key.max()) - low + 1
        capacity *= width
        if capacity >= 2**62:
            return np.lexsort(keys[::-1])
        combined = combined * width + (key - low)
    return np.argsort(combined, kind="stable")
