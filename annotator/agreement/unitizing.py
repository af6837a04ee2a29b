"""Krippendorff's alpha_U for unitizing a continuum (Krippendorff 1995; Content Analysis 2004, 11.6).

Follows DKPro Statistics' ``KrippendorffAlphaUnitizingAgreement``: each coder's continuum is cut,
per category, into marked units and the unmarked gaps between them; the overall value divides
the mean observed by the mean expected disagreement over the categories used.

Rather than walking both coders' segmentations side by side, the observed disagreement is summed
in closed form, which is the same sum: an overlapping pair of units from two coders contributes
``(b1 - b2)**2 + (e1 - e2)**2``; a unit that overlaps no unit of another coder sits inside that
coder's gap and contributes ``length**2``; every other segment pair contributes nothing.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable

import numpy as np

from annotator.agreement._arrays import order_by, unique
from annotator.agreement.matching import overlapping_pairs

UnitizedSpan = tuple[Hashable, int, int, Hashable]


def unitized_alpha(
    spans: Iterable[UnitizedSpan],
    continuum: tuple[int, int],
    label: Hashable | None = None,
    *,
    coders: Iterable[Hashable] | None = None,
) -> float | None:
    """alpha_U of ``(coder, start, end, label)`` spans over the half-open ``continuum``.

    ``label=None`` gives the overall value over all labels used, a label that label's value.
    ``coders`` lists everyone who coded the continuum, including coders who marked nothing
    (who otherwise cannot be seen in ``spans``); by default the coders of ``spans``.
    Spans of one coder and one label must not overlap (Krippendorff's unitizing assumes it).
    """
    parts = unitized_disagreement(spans, continuum, label, coders=coders)
    if parts is None:
        return None
    observed, expected = parts
    return 1.0 - observed / expected


def unitized_disagreement(
    spans: Iterable[UnitizedSpan],
    continuum: tuple[int, int],
    label: Hashable | None = None,
    *,
    coders: Iterable[Hashable] | None = None,
) -> tuple[float, float] | None:
    """Observed and expected disagreement ``(D_o, D_e)`` behind :func:`unitized_alpha`.

    ``None`` when alpha_U is undefined: fewer than two coders, no span (with that label), or no
    expected disagreement.
    """
    begin, end = continuum
    if end <= begin:
        raise ValueError(f"continuum {continuum!r}: end <= begin")
    rows = list(spans)
    coder_index = _index(coders if coders is not None else (row[0] for row in rows))
    label_index = _index(row[3] for row in rows)
    for row in rows:
        coder, start, stop, _ = row
        if stop <= start:
            raise ValueError(f"span {row!r}: end <= start")
        if start < begin or stop > end:
            raise ValueError(f"span {row!r} lies outside the continuum {continuum!r}")
        if coder not in coder_index:
            raise ValueError(f"span {row!r} is by a coder not listed in coders")
    rater = np.array([coder_index[row[0]] for row in rows], np.int64)
    group = np.array([label_index[row[3]] for row in rows], np.int64)
    start = np.array([row[1] for row in rows], np.int64)
    stop = np.array([row[2] for row in rows], np.int64)
    _reject_self_overlap(rows, rater, group, start, stop)
    n_raters, n_labels = len(coder_index), len(label_index)
    if n_raters < 2 or not rows:
        return None
    observed, expected = disagreements(
        rater, group, start, stop, begin, end - begin, n_raters, n_labels
    )
    if label is None:
        observed_mean, expected_mean = observed.mean(), expected.mean()
    elif label in label_index:
        observed_mean, expected_mean = observed[label_index[label]], expected[label_index[label]]
    else:
        return None
    if expected_mean <= 0.0:
        return None
    return float(observed_mean), float(expected_mean)


def disagreements(
    rater: np.ndarray,
    label: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    begin: int,
    length: int,
    n_raters: int,
    n_labels: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-label ``D_o`` and ``D_e`` arrays for integer-coded raters and labels.

    Units of one rater and label must not overlap (see :func:`merge_overlaps`).
    """
    r, big_l = float(n_raters), float(length)
    start = start.astype(np.int64)
    end = end.astype(np.int64)
    size = (end - start).astype(float)
    order = order_by(label, start)
    i, j = overlapping_pairs(label[order], start[order], end[order])
    i, j = order[i], order[j]
    cross = rater[i] != rater[j]
    i, j = i[cross], j[cross]

    pair_terms = (start[i] - start[j]).astype(float) ** 2 + (end[i] - end[j]).astype(float) ** 2
    # How many other raters each unit overlaps; the rest see it fall inside one of their gaps.
    ends = np.concatenate([i, j])
    other = np.concatenate([rater[j], rater[i]])
    seen = unique(ends * n_raters + other) // n_raters
    overlapped_raters = np.bincount(seen, minlength=len(start))
    isolated_terms = size**2 * (n_raters - 1 - overlapped_raters)
    observed = np.bincount(label[i], pair_terms, minlength=n_labels) + np.bincount(
        label, isolated_terms, minlength=n_labels
    )
    observed *= 2.0 / (r * (r - 1.0) * big_l * big_l)

    expected = np.zeros(n_labels)
    gaps = _gaps(rater, label, start, end, begin, length, n_raters, n_labels)
    for category in range(n_labels):
        lengths = size[label == category]
        if lengths.size == 0:
            continue
        expected[category] = _expected(lengths, gaps[category], r, big_l)
    return observed, expected


def merge_overlaps(
    group: np.ndarray, start: np.ndarray, end: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Union overlapping intervals within each group (touching intervals stay apart)."""
    if start.size == 0:
        return group, start, end
    order = order_by(group, start)
    group, start, end = group[order], start[order], end[order]
    shift = int(end.max()) + 1
    reach = np.maximum.accumulate(group * shift + end) - group * shift
    fresh = np.ones(start.size, bool)
    fresh[1:] = (group[1:] != group[:-1]) | (start[1:] >= reach[:-1])
    firsts = np.flatnonzero(fresh)
    return group[firsts], start[firsts], np.maximum.reduceat(end, firsts)


def _expected(lengths: np.ndarray, gaps: np.ndarray, r: float, big_l: float) -> float:
    """Krippendorff's (2004) expected disagreement for one category."""
    n_units = lengths.size
    within = (n_units - 1.0) * np.sum(lengths * (lengths - 1.0) * (2.0 * lengths - 1.0)) / 3.0
    # For each unit length l: sum over gaps g >= l of (g - l + 1), the placements it fits in.
    gaps = np.sort(gaps.astype(float))
    suffix = np.concatenate([np.cumsum(gaps[::-1])[::-1], [0.0]])
    first_fit = np.searchsorted(gaps, lengths, side="left")
    fitting = gaps.size - first_fit
    placements = suffix[first_fit] - (lengths - 1.0) * fitting
    across = float(np.sum(lengths**2 * placements))
    denominator = r * big_l * (r * big_l - 1.0) - float(np.sum(lengths * (lengths - 1.0)))
    return 2.0 / big_l * (within + across) / denominator


def _gaps(
    rater: np.ndarray,
    label: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    begin: int,
    length: int,
    n_raters: int,
    n_labels: int,
) -> list[np.ndarray]:
    """Per label, the lengths of every rater's unmarked stretches (raters with no unit: whole)."""
    order = order_by(label, rater, start)
    label, rater, start, end = label[order], rater[order], start[order], end[order]
    key = label * n_raters + rater
    first = np.ones(key.size, bool)
    first[1:] = key[1:] != key[:-1]
    last = np.ones(key.size, bool)
    last[:-1] = key[1:] != key[:-1]
    inner = start[1:] - end[:-1]
    inner_label = label[1:][~first[1:]]
    inner = inner[~first[1:]]
    leading, trailing = start[first] - begin, begin + length - end[last]
    pieces = np.concatenate([inner, leading, trailing])
    owner = np.concatenate([inner_label, label[first], label[last]])
    keep = pieces > 0
    pieces, owner = pieces[keep], owner[keep]
    raters_marking = np.bincount(label[first], minlength=n_labels)
    result = []
    for category in range(n_labels):
        blank = np.full(n_raters - raters_marking[category], length)
        result.append(np.concatenate([pieces[owner == category], blank]))
    return result


def _reject_self_overlap(
    rows: list[UnitizedSpan],
    rater: np.ndarray,
    label: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
) -> None:
    group = label * (int(rater.max()) + 1 if rater.size else 1) + rater
    order = np.lexsort((start, group))
    i, _ = overlapping_pairs(group[order], start[order], end[order])
    if i.size:
        first = order[i[0]]
        raise ValueError(
            f"span {rows[first]!r} overlaps another span of the same coder and label; "
            "merge them first (alpha_U assumes a coder's units of one label do not overlap)"
        )


def _index(keys: Iterable[Hashable]) -> dict[Hashable, int]:
    index: dict[Hashable, int] = {}
    for key in keys:
        index.setdefault(key, len(index))
    return index
