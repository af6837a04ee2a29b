"""Fleiss' kappa and Gwet's AC1 for several coders, with missing ratings."""

import numpy as np
import pytest
from nltk.metrics.agreement import AnnotationTask
from statsmodels.stats.inter_rater import aggregate_raters
from statsmodels.stats.inter_rater import fleiss_kappa as statsmodels_fleiss_kappa

from annotator.agreement import fleiss_kappa, gwet_ac1

# Fleiss (1971: 379): 30 patients, 6 psychiatrists each, 5 diagnoses (as in DKPro Statistics).
FLEISS_1971 = [
    (4, 4, 4, 4, 4, 4), (2, 2, 2, 5, 5, 5), (2, 3, 3, 3, 3, 5), (5, 5, 5, 5, 5, 5),
    (2, 2, 2, 4, 4, 4), (1, 1, 3, 3, 3, 3), (3, 3, 3, 3, 5, 5), (1, 1, 3, 3, 3, 4),
    (1, 1, 4, 4, 4, 4), (5, 5, 5, 5, 5, 5), (1, 4, 4, 4, 4, 4), (1, 2, 4, 4, 4, 4),
    (2, 2, 2, 3, 3, 3), (1, 4, 4, 4, 4, 4), (2, 2, 4, 4, 4, 5), (3, 3, 3, 3, 3, 5),
    (1, 1, 1, 4, 5, 5), (1, 1, 1, 1, 1, 2), (2, 2, 4, 4, 4, 4), (1, 3, 3, 5, 5, 5),
    (5, 5, 5, 5, 5, 5), (2, 4, 4, 4, 4, 4), (2, 2, 4, 5, 5, 5), (1, 1, 4, 4, 4, 4),
    (1, 4, 4, 4, 4, 5), (2, 2, 2, 2, 2, 4), (1, 1, 1, 1, 5, 5), (2, 2, 4, 4, 4, 4),
    (1, 3, 3, 3, 3, 3), (5, 5, 5, 5, 5, 5),
]  # fmt: skip

# Krippendorff (2011) reliability data, which Gwet's irrCAC ships as cac.raw4raters.
N = None
RAW_4_RATERS = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, N, N, N],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, N, 3],
    [N, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, N],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, N],
]


def coders_by_units(units):
    """Coders x units rows from per-unit rating tuples."""
    return [list(row) for row in zip(*units, strict=True)]


def test_fleiss_1971_example_gives_0_430():
    assert fleiss_kappa(coders_by_units(FLEISS_1971)) == pytest.approx(0.430, abs=5e-4)


def test_first_fifteen_fleiss_patients_match_irrcac_distrib_6raters():
    # irrCAC's distrib.6raters are Fleiss' first 15 patients: Fleiss 0.4139265, AC1 0.4448007.
    rows = coders_by_units(FLEISS_1971[:15])
    assert fleiss_kappa(rows) == pytest.approx(0.4139265, abs=1e-7)
    assert gwet_ac1(rows) == pytest.approx(0.4448007, abs=1e-7)


def test_missing_ratings_follow_gwets_generalisation_of_fleiss_kappa():
    # irrCAC README, fleiss.kappa.raw(cac.raw4raters): 0.76117 (pa 0.8181818, pe 0.2387153).
    assert fleiss_kappa(RAW_4_RATERS) == pytest.approx(0.76117, abs=5e-6)


def test_gwet_ac1_with_missing_ratings_matches_gwets_published_value():
    # irrCAC README, gwet.ac1.raw(cac.raw4raters): 0.77544 (pe 0.1903212).
    assert gwet_ac1(RAW_4_RATERS) == pytest.approx(0.77544, abs=5e-6)


def _two_raters(table):
    first = [i for i, row in enumerate(table) for count in row for _ in range(count)]
    second = [j for row in table for j, count in enumerate(row) for _ in range(count)]
    return [first, second]


@pytest.mark.parametrize(
    ("table", "published"),
    [
        ([[80, 7], [8, 5]], 0.808),  # irrCAC fixture of DKPro Statistics
        ([[88, 14, 18], [10, 40, 10], [2, 6, 12]], 0.57597),  # Cohen (1960: 45)
        ([[13, 0, 0], [0, 20, 7], [0, 4, 56]], 0.8493305),  # irrCAC cont3x3abstractors
    ],
)
def test_gwet_ac1_for_two_raters_matches_irrcac(table, published):
    assert gwet_ac1(_two_raters(table)) == pytest.approx(published, abs=5e-6)


def test_gwet_ac1_stays_high_where_skewed_categories_pull_kappa_down():
    # DKPro's Gwet2008Test hand example: AC1 0.8658.
    rows = [["y"] * 8 + ["n", "y"], ["y"] * 8 + ["n", "n"]]
    assert gwet_ac1(rows) == pytest.approx(0.8658, abs=1e-4)


@pytest.mark.parametrize("seed", range(5))
def test_fleiss_kappa_agrees_with_statsmodels_on_complete_data(seed):
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 4, size=(5, 40))
    table, _ = aggregate_raters(data.T)
    assert fleiss_kappa(data.tolist()) == pytest.approx(statsmodels_fleiss_kappa(table))


def test_fleiss_kappa_agrees_with_nltks_multi_pi_on_complete_data():
    rng = np.random.default_rng(5)
    data = rng.integers(0, 3, size=(3, 50))
    task = AnnotationTask(
        data=[(f"c{c}", unit, int(data[c, unit])) for c in range(3) for unit in range(50)]
    )
    assert fleiss_kappa(data.tolist()) == pytest.approx(task.pi(), abs=1e-12)


def test_units_with_a_single_rating_do_not_count_as_agreement():
    rows = [["a", "a", "b", "a"], ["a", "b", "b", None]]
    with_single = fleiss_kappa(rows)
    # Same observed agreement as without the last unit; only the prevalences move.
    assert with_single == pytest.approx((2 / 3 - 0.53125) / (1 - 0.53125))


def test_coefficients_are_none_without_a_unit_rated_twice():
    rows = [["a", None], [None, "b"]]
    assert fleiss_kappa(rows) is None
    assert gwet_ac1(rows) is None


def test_coefficients_are_none_when_only_one_category_is_used():
    rows = [["a", "a", "a"], ["a", "a", "a"]]
    assert fleiss_kappa(rows) is None
    assert gwet_ac1(rows) is None


def test_rows_of_unequal_length_are_rejected():
    with pytest.raises(ValueError, match="rows of unequal length"):
        fleiss_kappa([["a", "b"], ["a"]])
