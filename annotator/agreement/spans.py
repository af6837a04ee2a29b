"""Precision, recall and F1 between two coders' spans of one text."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass

import numpy as np

from annotator.agreement._arrays import unique
from annotator.agreement.matching import cross_overlaps, one_to_one

MATCHINGS = ("exact", "overlap", "overlap_any")

Span = tuple[int, int, Hashable]


@dataclass(frozen=True, slots=True)
class PRF:
    """Precision, recall and F1 of ``b`` against the reference ``a``, with their counts.

    Precision (recall) is ``None`` when there is no predicted (reference) span; F1 is ``None``
    only when both sides are empty. For ``overlap_any`` ``tp`` counts the matched reference
    spans (recall's numerator); precision's numerator is the number of predicted spans that
    overlap a reference span.
    """

    precision: float | None
    recall: float | None
    f1: float | None
    tp: int
    n_reference: int
    n_predicted: int


def span_f1(a: Iterable[Span], b: Iterable[Span], matching: str = "exact") -> float | None:
    """F1 of spans ``b`` against reference spans ``a``; see :func:`span_prf`."""
    return span_prf(a, b, matching=matching).f1


def span_prf(a: Iterable[Span], b: Iterable[Span], matching: str = "exact") -> PRF:
    """Compare ``(start, end, label)`` spans ``b`` with the reference ``a``.

    ``exact``: same start, end and label, one-to-one. ``overlap``: same label and at least one
    shared character, one-to-one by maximum bipartite matching. ``overlap_any``: a span counts if
    it overlaps any same-label span of the other side.

    F1 is ``None`` when both sides are empty. When only one side is empty it is 0.0: every span
    there is a miss, even though precision (or recall) has no denominator and stays ``None``.
    """
    if matching not in MATCHINGS:
        raise ValueError(f"unknown matching {matching!r}: expected one of {', '.join(MATCHINGS)}")
    left, right = _checked(a, "a"), _checked(b, "b")
    n_a, n_b = len(left), len(right)
    if matching == "exact":
        return prf_from_counts(_exact_matches(left, right), n_a, n_b)
    labels: dict[Hashable, int] = {}
    group_a, start_a, end_a = _arrays(left, labels)
    group_b, start_b, end_b = _arrays(right, labels)
    ia, ib = cross_overlaps(group_a, start_a, end_a, group_b, start_b, end_b)
    if matching == "overlap":
        matched, _ = one_to_one(ia, ib, n_a, n_b)
        return prf_from_counts(len(matched), n_a, n_b)
    return prf_from_counts(len(unique(ia)), n_a, n_b, tp_predicted=len(unique(ib)))


def prf_from_counts(
    tp: int, n_reference: int, n_predicted: int, *, tp_predicted: int | None = None
) -> PRF:
    """PRF from match counts; ``tp_predicted`` differs from ``tp`` only for ``overlap_any``."""
    n_a, n_b = n_reference, n_predicted
    precision = (tp if tp_predicted is None else tp_predicted) / n_b if n_b else None
    recall = tp / n_a if n_a else None
    if precision is None and recall is None:
        f1 = None
    elif precision is None or recall is None or precision + recall == 0:
        f1 = 0.0
    else:
        f1 = 2 * precision * recall / (precision + recall)
    return PRF(precision, recall, f1, tp, n_a, n_b)


def _exact_matches(left: list[Span], right: list[Span]) -> int:
    # Identical spans coded twice by one side can only pair with as many copies on the other.
    counts: dict[Span, int] = {}
    for span in left:
        counts[span] = counts.get(span, 0) + 1
    tp = 0
    for span in right:
        remaining = counts.get(span, 0)
        if remaining:
            counts[span] = remaining - 1
            tp += 1
    return tp


def _checked(spans: Iterable[Span], side: str) -> list[Span]:
    checked = []
    for span in spans:
        start, end, label = span
        if end <= start:
            raise ValueError(f"span {span!r} in {side}: end <= start")
        checked.append((start, end, label))
    return checked


def _arrays(
    spans: list[Span], labels: dict[Hashable, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    group = np.array([labels.setdefault(label, len(labels)) for _, _, label in spans], np.int64)
    start = np.array([start for start, _, _ in spans], np.int64)
    end = np.array([end for _, end, _ in spans], np.int64)
    return group, start, end
