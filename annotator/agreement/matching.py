"""Finding overlapping intervals and matching them one-to-one.

Vectorised with numpy so that a whole project's spans can go through in one call; only the rare
tangled cases (a span overlapping several candidates) reach the pure-Python Hopcroft-Karp.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from annotator.agreement._arrays import order_by, unique_inverse


def overlapping_pairs(
    group: np.ndarray, start: np.ndarray, end: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs ``(i, j)``, ``i < j``, of intervals in the same group sharing a position.

    The arrays must be sorted by ``(group, start)``. For each ``i`` its partners form a run
    ``i+1, i+2, ...`` that stops at the first interval starting at or after ``end[i]``, so
    stepping all intervals forward together costs time in proportion to the pairs found.
    """
    n = len(start)
    firsts: list[np.ndarray] = []
    seconds: list[np.ndarray] = []
    active = np.arange(max(n - 1, 0))
    offset = 1
    while active.size:
        active = active[active + offset < n]
        partner = active + offset
        keep = (group[partner] == group[active]) & (start[partner] < end[active])
        active, partner = active[keep], partner[keep]
        firsts.append(active)
        seconds.append(partner)
        offset += 1
    if not firsts:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    return np.concatenate(firsts), np.concatenate(seconds)


def cross_overlaps(
    group_a: np.ndarray,
    start_a: np.ndarray,
    end_a: np.ndarray,
    group_b: np.ndarray,
    start_b: np.ndarray,
    end_b: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """All pairs ``(i, j)`` of an ``a`` interval and a ``b`` interval of one group that overlap."""
    na = len(start_a)
    group = np.concatenate([group_a, group_b])
    start = np.concatenate([start_a, start_b])
    end = np.concatenate([end_a, end_b])
    order = order_by(group, start)
    i, j = overlapping_pairs(group[order], start[order], end[order])
    i, j = order[i], order[j]
    cross = (i < na) != (j < na)
    i, j = i[cross], j[cross]
    a = np.where(i < na, i, j)
    b = np.where(i < na, j, i) - na
    return a.astype(np.int64), b.astype(np.int64)


def one_to_one(a: np.ndarray, b: np.ndarray, n_a: int, n_b: int) -> tuple[np.ndarray, np.ndarray]:
    """A maximum one-to-one matching on the bipartite edges ``a[k] -- b[k]``.

    Edges whose two ends have no other edge are matched outright; what is left (spans with
    several candidates) goes to Hopcroft-Karp, which a greedy choice cannot replace.
    """
    if a.size == 0:
        return a, b
    degree_a = np.bincount(a, minlength=n_a)
    degree_b = np.bincount(b, minlength=n_b)
    simple = (degree_a[a] == 1) & (degree_b[b] == 1)
    tangled_a, tangled_b = a[~simple], b[~simple]
    if tangled_a.size == 0:
        return a, b
    left, left_index = unique_inverse(tangled_a)
    right, right_index = unique_inverse(tangled_b)
    adjacency: list[list[int]] = [[] for _ in range(len(left))]
    for u, v in zip(left_index.tolist(), right_index.tolist(), strict=True):
        adjacency[u].append(v)
    mate = hopcroft_karp(adjacency, len(right))
    matched_left = np.array([u for u, v in enumerate(mate) if v >= 0], dtype=np.int64)
    matched_right = np.array([v for v in mate if v >= 0], dtype=np.int64)
    return (
        np.concatenate([a[simple], left[matched_left]]),
        np.concatenate([b[simple], right[matched_right]]),
    )


def hopcroft_karp(adjacency: Sequence[Sequence[int]], n_right: int) -> list[int]:
    """Maximum bipartite matching; returns the right partner of each left node or ``-1``.

    Iterative (no recursion limit on long alternating paths): breadth-first layering from the
    free left nodes, then depth-first augmentation along the layers.
    """
    n_left = len(adjacency)
    mate_left = [-1] * n_left
    mate_right = [-1] * n_right
    while True:
        layer = [-1] * n_left
        queue = [u for u in range(n_left) if mate_left[u] == -1]
        for u in queue:
            layer[u] = 0
        reachable_free = False
        head = 0
        while head < len(queue):
            u = queue[head]
            head += 1
            for v in adjacency[u]:
                w = mate_right[v]
                if w == -1:
                    reachable_free = True
                elif layer[w] == -1:
                    layer[w] = layer[u] + 1
                    queue.append(w)
        if not reachable_free:
            return mate_left
        cursor = [0] * n_left
        for root in range(n_left):
            if mate_left[root] != -1:
                continue
            stack = [root]
            while stack:
                u = stack[-1]
                if cursor[u] == len(adjacency[u]):
                    layer[u] = -1  # dead end for the rest of this phase
                    stack.pop()
                    continue
                v = adjacency[u][cursor[u]]
                cursor[u] += 1
                w = mate_right[v]
                if w == -1:
                    # Each left node on the stack takes the right node it last stepped through.
                    for node in stack:
                        partner = adjacency[node][cursor[node] - 1]
                        mate_left[node] = partner
                        mate_right[partner] = node
                    break
                if layer[w] == layer[u] + 1:
                    stack.append(w)
