"""Span precision, recall and F1 under the three matchings."""

import itertools
import time

import numpy as np
import pytest

from annotator.agreement import PRF, span_f1, span_prf
from annotator.agreement.matching import hopcroft_karp, one_to_one


def test_exact_matching_needs_same_start_end_and_label():
    a = [(0, 5, "ACTOR"), (10, 15, "DATE"), (20, 25, "LOCATION")]
    b = [(0, 5, "ACTOR"), (10, 14, "DATE"), (20, 25, "ACTOR")]
    assert span_prf(a, b) == PRF(1 / 3, 1 / 3, pytest.approx(1 / 3), 1, 3, 3)


def test_exact_duplicates_match_only_as_many_copies_as_the_other_side_has():
    a = [(0, 5, "ACTOR"), (0, 5, "ACTOR")]
    b = [(0, 5, "ACTOR")]
    result = span_prf(a, b)
    assert (result.tp, result.precision, result.recall) == (1, 1.0, 0.5)


def test_overlap_matching_needs_the_same_label():
    assert span_f1([(0, 10, "ACTOR")], [(2, 8, "LOCATION")], matching="overlap") == 0.0


def test_touching_spans_do_not_overlap():
    assert span_f1([(0, 5, "ACTOR")], [(5, 9, "ACTOR")], matching="overlap") == 0.0


def test_overlap_matching_finds_the_maximum_where_greedy_would_not():
    # Greedy by start pairs the long reference span with the first candidate (0, 3) and leaves
    # the short reference span (0, 3) with nothing; the maximum matching pairs both.
    a = [(0, 10, "ACTOR"), (0, 3, "ACTOR")]
    b = [(0, 3, "ACTOR"), (5, 10, "ACTOR")]
    result = span_prf(a, b, matching="overlap")
    assert (result.tp, result.f1) == (2, 1.0)


def test_overlap_matching_is_one_to_one():
    a = [(0, 10, "ACTOR")]
    b = [(0, 3, "ACTOR"), (5, 9, "ACTOR")]
    result = span_prf(a, b, matching="overlap")
    assert (result.tp, result.precision, result.recall) == (1, 0.5, 1.0)


def test_overlap_any_counts_each_side_that_overlaps_something():
    a = [(0, 10, "ACTOR"), (20, 30, "ACTOR")]
    b = [(0, 3, "ACTOR"), (5, 9, "ACTOR"), (40, 45, "ACTOR")]
    result = span_prf(a, b, matching="overlap_any")
    assert result.precision == pytest.approx(2 / 3)
    assert result.recall == pytest.approx(1 / 2)
    assert result.tp == 1
    assert result.f1 == pytest.approx(2 * (2 / 3) * 0.5 / (2 / 3 + 0.5))


def test_f1_is_none_when_both_sides_are_empty():
    for matching in ("exact", "overlap", "overlap_any"):
        assert span_prf([], [], matching=matching) == PRF(None, None, None, 0, 0, 0)


def test_f1_is_zero_when_only_the_prediction_is_empty():
    result = span_prf([(0, 5, "ACTOR")], [], matching="overlap")
    assert (result.precision, result.recall, result.f1) == (None, 0.0, 0.0)


def test_f1_is_zero_when_only_the_reference_is_empty():
    result = span_prf([], [(0, 5, "ACTOR")])
    assert (result.precision, result.recall, result.f1) == (0.0, None, 0.0)


def test_spans_ending_before_they_start_are_rejected():
    with pytest.raises(ValueError, match="end <= start"):
        span_f1([(5, 5, "ACTOR")], [])


def test_unknown_matching_is_rejected():
    with pytest.raises(ValueError, match="unknown matching 'fuzzy'"):
        span_f1([], [], matching="fuzzy")


def brute_force_matching_size(edges, n_left, n_right):
    best = 0
    for size in range(min(n_left, n_right), 0, -1):
        for chosen in itertools.combinations(edges, size):
            lefts = {u for u, _ in chosen}
            rights = {v for _, v in chosen}
            if len(lefts) == size and len(rights) == size:
                return size
    return best


@pytest.mark.parametrize("seed", range(30))
def test_hopcroft_karp_finds_a_maximum_matching(seed):
    rng = np.random.default_rng(seed)
    n_left, n_right = int(rng.integers(1, 7)), int(rng.integers(1, 7))
    edges = sorted(
        {(int(rng.integers(n_left)), int(rng.integers(n_right))) for _ in range(rng.integers(12))}
    )
    adjacency = [[v for u, v in edges if u == left] for left in range(n_left)]
    mate = hopcroft_karp(adjacency, n_right)
    matched = [(u, v) for u, v in enumerate(mate) if v >= 0]
    assert all((u, v) in edges for u, v in matched)
    assert len({v for _, v in matched}) == len(matched)
    assert len(matched) == brute_force_matching_size(edges, n_left, n_right)


@pytest.mark.parametrize("seed", range(10))
def test_overlap_f1_matches_a_brute_force_maximum_matching(seed):
    rng = np.random.default_rng(seed)

    def spans(count):
        starts = rng.integers(0, 40, count)
        return [(int(s), int(s + rng.integers(1, 12)), "XY"[int(rng.integers(2))]) for s in starts]

    a, b = spans(int(rng.integers(0, 6))), spans(int(rng.integers(0, 6)))
    edges = [
        (i, j)
        for (i, (s1, e1, l1)), (j, (s2, e2, l2)) in itertools.product(enumerate(a), enumerate(b))
        if l1 == l2 and s1 < e2 and s2 < e1
    ]
    assert span_prf(a, b, matching="overlap").tp == brute_force_matching_size(edges, len(a), len(b))


def test_one_to_one_resolves_a_long_alternating_chain():
    # a_k overlaps b_k and b_{k+1}: only shifting every pair along the chain matches them all.
    n = 2000
    a = np.concatenate([np.arange(n), np.arange(n)])
    b = np.concatenate([np.arange(n), np.arange(1, n + 1)])
    matched_a, matched_b = one_to_one(a, b, n, n + 1)
    assert len(matched_a) == n
    assert len(set(matched_b.tolist())) == n


def test_overlap_matching_on_a_long_document_avoids_quadratic_work():
    rng = np.random.default_rng(1)
    starts = np.sort(rng.choice(2_000_000, 50_000, replace=False))
    a = [(int(s), int(s) + 20, "ACTOR") for s in starts]
    b = [(int(s) + 5, int(s) + 30, "ACTOR") for s in starts]
    started = time.perf_counter()
    assert span_f1(a, b, matching="overlap") > 0.9
    assert time.perf_counter() - started < 10
