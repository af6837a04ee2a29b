"""Krippendorff's alpha_U against DKPro Statistics' test values and a brute-force reference."""

from itertools import combinations

import numpy as np
import pytest

from annotator.agreement import unitized_alpha
from annotator.agreement.unitizing import unitized_disagreement


def krippendorff_2004_example():
    """Krippendorff (2004: 254) as in DKPro's Krippendorff2004Test: continuum 150..450."""
    spans = [
        (0, 225, 295, "c"), (0, 370, 400, "c"),
        (1, 220, 300, "c"), (1, 355, 375, "c"), (1, 400, 420, "c"),
        (0, 180, 240, "k"), (0, 300, 350, "k"),
        (1, 180, 240, "k"), (1, 300, 350, "k"),
    ]  # fmt: skip
    return spans, (150, 450)


def krippendorff_1995_example(stretch):
    """Krippendorff (1995: 57) as in DKPro's Krippendorff1995Test, (offset, length, coder, label)."""
    units = [
        (2, 8, 0, "A"), (14, 6, 0, "A"), (4, 4, 1, "A"), (15, 2, 1, "A"),
        (0, 18, 0, "B"), (0, 2, 1, "B"), (2, 1, 1, "B"), (3, 1, 1, "B"), (4, 1, 1, "B"),
        (5, 1, 1, "B"), (6, 3, 1, "B"), (9, 1, 1, "B"),
        (2, 6, 0, "C"), (10, 2, 0, "C"), (14, 4, 0, "C"), (20, 2, 0, "C"), (0, 2, 1, "C"),
        (4, 4, 1, "C"), (10, 4, 1, "C"), (16, 2, 1, "C"), (20, 2, 1, "C"),
        (0, 2, 0, "D"), (2, 8, 0, "D"), (10, 4, 0, "D"), (14, 6, 0, "D"), (20, 4, 0, "D"),
        (0, 4, 1, "D"), (4, 4, 1, "D"), (8, 7, 1, "D"), (15, 2, 1, "D"), (17, 7, 1, "D"),
    ]  # fmt: skip
    spans = [
        (coder, int(offset * stretch), int(offset * stretch) + int(length * stretch), label)
        for offset, length, coder, label in units
    ]
    return spans, (0, int(24 * stretch))


def test_krippendorff_2004_example_gives_dkpro_overall_alpha():
    spans, continuum = krippendorff_2004_example()
    assert unitized_alpha(spans, continuum) == pytest.approx(0.8591, abs=5e-4)


def test_krippendorff_2004_example_gives_dkpro_values_for_category_c():
    spans, continuum = krippendorff_2004_example()
    observed, expected = unitized_disagreement(spans, continuum, "c")
    assert observed == pytest.approx(0.0144, abs=1e-4)
    assert expected == pytest.approx(0.0532, abs=1e-4)
    assert unitized_alpha(spans, continuum, "c") == pytest.approx(0.7286, abs=1e-4)


def test_identical_units_give_alpha_one_for_category_k():
    spans, continuum = krippendorff_2004_example()
    observed, expected = unitized_disagreement(spans, continuum, "k")
    assert observed == 0.0
    assert expected == pytest.approx(0.0490, abs=1e-4)
    assert unitized_alpha(spans, continuum, "k") == pytest.approx(1.0)


def test_one_long_unit_against_three_short_ones_gives_dkpro_values():
    # DKPro UnitizingAgreementTest: r0 -11111111-, r1 --1-1-1---
    spans = [(0, 1, 9, "A"), (1, 2, 3, "A"), (1, 4, 5, "A"), (1, 6, 7, "A")]
    observed, expected = unitized_disagreement(spans, (0, 10), "A")
    assert observed == pytest.approx(0.9100, abs=1e-4)
    assert expected == pytest.approx(0.5351, abs=1e-4)
    assert unitized_alpha(spans, (0, 10), "A") == pytest.approx(-0.7003, abs=1e-4)


@pytest.mark.parametrize(
    ("label", "published"),
    [("A", 0.03125), ("B", 2.26736), ("C", 0.02777), ("D", 0.38715)],
)
def test_krippendorff_1995_observed_disagreements_match_dkpro(label, published):
    spans, continuum = krippendorff_1995_example(1)
    observed, _ = unitized_disagreement(spans, continuum, label)
    assert observed == pytest.approx(published, abs=1e-5)


@pytest.mark.parametrize(
    ("label", "expected_published", "alpha_published"),
    [("A", 0.06990, 0.553), ("B", 1.17731, -0.926), ("C", 0.08642, 0.679), ("D", 0.41445, 0.066)],
)
def test_krippendorff_1995_stretched_example_matches_dkpro(
    label, expected_published, alpha_published
):
    # DKPro's own tolerances: these figures come from the 1995 paper, whose D_e DKPro notes
    # is slightly off, so they hold to 0.005 (D_e) and 0.02 (alpha) only.
    spans, continuum = krippendorff_1995_example(1_200_000 / 24)
    _, expected = unitized_disagreement(spans, continuum, label)
    assert expected == pytest.approx(expected_published, abs=5e-3)
    assert unitized_alpha(spans, continuum, label) == pytest.approx(alpha_published, abs=2e-2)


def test_a_single_unit_among_three_coders_gives_zero():
    # DKPro testSingleAnnotationUnit: coders who marked nothing still count.
    assert unitized_alpha([(0, 0, 1, "X")], (0, 20), coders=[0, 1, 2]) == pytest.approx(0.0)


def test_alpha_is_none_without_spans():
    assert unitized_alpha([], (0, 20), coders=["ann", "bob"]) is None


def test_alpha_is_none_with_a_single_coder():
    assert unitized_alpha([("ann", 0, 5, "X"), ("ann", 8, 9, "Y")], (0, 20)) is None


def test_alpha_is_none_for_a_label_nobody_used():
    spans, continuum = krippendorff_2004_example()
    assert unitized_alpha(spans, continuum, "nope") is None


def test_touching_units_of_one_coder_stay_separate():
    touching = [("a", 0, 5, "X"), ("a", 5, 10, "X"), ("b", 0, 10, "X")]
    joined = [("a", 0, 10, "X"), ("b", 0, 10, "X")]
    assert unitized_alpha(touching, (0, 20)) < unitized_alpha(joined, (0, 20))


def test_overlapping_units_of_one_coder_and_label_are_rejected():
    with pytest.raises(ValueError, match="overlaps another span of the same coder and label"):
        unitized_alpha([("a", 0, 5, "X"), ("a", 4, 8, "X"), ("b", 0, 5, "X")], (0, 20))


def test_spans_outside_the_continuum_are_rejected():
    with pytest.raises(ValueError, match="outside the continuum"):
        unitized_alpha([("a", 15, 25, "X"), ("b", 0, 5, "X")], (0, 20))


def test_empty_spans_are_rejected():
    with pytest.raises(ValueError, match="end <= start"):
        unitized_alpha([("a", 5, 5, "X"), ("b", 0, 5, "X")], (0, 20))


def test_an_empty_continuum_is_rejected():
    with pytest.raises(ValueError, match="end <= begin"):
        unitized_alpha([], (10, 10))


def test_spans_by_unlisted_coders_are_rejected():
    with pytest.raises(ValueError, match="not listed in coders"):
        unitized_alpha([("a", 0, 5, "X"), ("c", 0, 5, "X")], (0, 20), coders=["a", "b"])


# --- brute force from the definitions -------------------------------------------------------


def segments(spans, coder, label, begin, end):
    """A coder's continuum cut into (begin, end, is_unit) for one label."""
    units = sorted((s, e) for c, s, e, lab in spans if c == coder and lab == label)
    cut, position = [], begin
    for s, e in units:
        if s > position:
            cut.append((position, s, False))
        cut.append((s, e, True))
        position = e
    if position < end:
        cut.append((position, end, False))
    return cut


def brute_force_disagreement(spans, continuum, label, coders):
    """Walk every pair of overlapping segments of every coder pair (Krippendorff 2004, 11.6)."""
    begin, end = continuum
    length, raters = end - begin, len(coders)

    def delta(g, h):
        (b1, e1, unit1), (b2, e2, unit2) = g, h
        if unit1 and unit2:
            return (b1 - b2) ** 2 + (e1 - e2) ** 2
        if unit1 and b2 <= b1 and e1 <= e2:
            return (e1 - b1) ** 2
        if unit2 and b1 <= b2 and e2 <= e1:
            return (e2 - b2) ** 2
        return 0

    total = 0
    for first, second in combinations(coders, 2):
        for g in segments(spans, first, label, begin, end):
            for h in segments(spans, second, label, begin, end):
                if g[0] < h[1] and h[0] < g[1]:
                    total += delta(g, h)
    observed = 2 * total / (raters * (raters - 1) * length * length)

    lengths = [e - s for _, s, e, lab in spans if lab == label]
    gaps = [
        e - s
        for coder in coders
        for s, e, unit in segments(spans, coder, label, begin, end)
        if not unit
    ]
    numerator = 0.0
    for size in lengths:
        numerator += (len(lengths) - 1) * (2 * size**3 - 3 * size**2 + size) / 3
        numerator += size * size * sum(gap - size + 1 for gap in gaps if gap >= size)
    denominator = raters * length * (raters * length - 1) - sum(s * (s - 1) for s in lengths)
    return observed, 2 / length * numerator / denominator


def random_study(seed, coders, labels="XYZ", length=120):
    rng = np.random.default_rng(seed)
    spans = []
    for coder in coders:
        for label in labels:
            position = int(rng.integers(0, 10))
            while position < length - 2 and rng.random() < 0.85:
                size = int(rng.integers(1, 15))
                if position + size > length:
                    break
                spans.append((coder, position + 5, position + size + 5, label))
                position += size + int(rng.integers(0, 12))
    return spans, (5, length + 5)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("n_coders", [2, 3, 4])
def test_disagreements_equal_a_brute_force_walk_over_segment_pairs(seed, n_coders):
    coders = [f"c{k}" for k in range(n_coders)]
    spans, continuum = random_study(seed, coders)
    for label in "XYZ":
        found = unitized_disagreement(spans, continuum, label, coders=coders)
        if not any(lab == label for *_, lab in spans):
            assert found is None
            continue
        reference = brute_force_disagreement(spans, continuum, label, coders)
        assert found == pytest.approx(reference, rel=1e-12, abs=1e-15)


def test_overall_alpha_divides_mean_disagreements_over_labels():
    coders = ["a", "b", "c"]
    spans, continuum = random_study(99, coders)
    assert {label for *_, label in spans} == set("XYZ")
    parts = [brute_force_disagreement(spans, continuum, label, coders) for label in "XYZ"]
    observed = sum(p[0] for p in parts) / 3
    expected = sum(p[1] for p in parts) / 3
    assert unitized_alpha(spans, continuum) == pytest.approx(1 - observed / expected)
