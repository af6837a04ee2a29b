"""Krippendorff's alpha against published values and reference implementations."""

import time

import krippendorff
import numpy as np
import pytest
from nltk.metrics.agreement import AnnotationTask

from annotator.agreement import krippendorff_alpha

# Krippendorff (2011) "Computing Krippendorff's Alpha-Reliability", reliability data with
# missing values: 4 observers x 12 units.
N = None
RELIABILITY_DATA = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, N, N, N],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, N, 3],
    [N, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, N],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, N],
]


@pytest.mark.parametrize(
    ("level", "published"),
    [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)],
)
def test_reliability_data_gives_krippendorffs_published_values(level, published):
    assert krippendorff_alpha(RELIABILITY_DATA, level) == pytest.approx(published, abs=5e-4)


def test_two_coder_table_matches_gwets_irrcac_value():
    # irrCAC's cont3x3abstractors, krippen2.table: 0.7972585.
    table = [[13, 0, 0], [0, 20, 7], [0, 4, 56]]
    a = [i for i, row in enumerate(table) for j, n in enumerate(row) for _ in range(n)]
    b = [j for i, row in enumerate(table) for j, n in enumerate(row) for _ in range(n)]
    assert krippendorff_alpha([a, b]) == pytest.approx(0.7972585, abs=1e-7)


def _random_reliability_data(seed, coders=4, units=80, values=6, missing=0.25):
    rng = np.random.default_rng(seed)
    matrix = rng.integers(1, values + 1, size=(coders, units)).astype(float)
    matrix[rng.random(matrix.shape) < missing] = np.nan
    rows = [[None if np.isnan(value) else float(value) for value in row] for row in matrix]
    return matrix, rows


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval", "ratio"])
@pytest.mark.parametrize("seed", range(5))
def test_alpha_agrees_with_the_krippendorff_package_on_random_data(level, seed):
    matrix, rows = _random_reliability_data(seed)
    expected = krippendorff.alpha(reliability_data=matrix, level_of_measurement=level)
    assert krippendorff_alpha(rows, level) == pytest.approx(expected, abs=1e-9)


def test_alpha_agrees_with_the_krippendorff_package_on_many_distinct_values():
    # The reference package builds V x V tables, so a few hundred values keep it quick.
    rng = np.random.default_rng(7)
    truth = rng.integers(0, 2000, size=150).astype(float)
    matrix = truth + rng.normal(0, 20, size=(3, 150)).round()
    matrix[rng.random(matrix.shape) < 0.1] = np.nan
    rows = [[None if np.isnan(value) else value for value in row] for row in matrix]
    for level in ("interval", "ratio"):
        expected = krippendorff.alpha(reliability_data=matrix, level_of_measurement=level)
        assert krippendorff_alpha(rows, level) == pytest.approx(expected, abs=1e-9)


def test_nominal_alpha_agrees_with_nltk_on_complete_data():
    rng = np.random.default_rng(3)
    data = rng.integers(0, 4, size=(3, 60))
    task = AnnotationTask(
        data=[(f"c{c}", unit, int(data[c, unit])) for c in range(3) for unit in range(60)]
    )
    assert krippendorff_alpha(data.tolist()) == pytest.approx(task.alpha(), abs=1e-12)


def test_text_categories_give_the_same_alpha_as_their_codes():
    names = {1: "army", 2: "police", 3: "rebels", 4: "civilians", 5: "unknown"}
    text = [[None if value is None else names[value] for value in row] for row in RELIABILITY_DATA]
    assert krippendorff_alpha(text) == pytest.approx(krippendorff_alpha(RELIABILITY_DATA))


def test_ordinal_alpha_orders_text_values_alphabetically():
    letters = [
        [None if value is None else "abcde"[value - 1] for value in row] for row in RELIABILITY_DATA
    ]
    assert krippendorff_alpha(letters, "ordinal") == pytest.approx(0.815, abs=5e-4)


def test_units_coded_by_one_coder_do_not_change_alpha():
    extra = [row + [value] for row, value in zip(RELIABILITY_DATA, [7, N, N, N], strict=True)]
    assert krippendorff_alpha(extra) == pytest.approx(krippendorff_alpha(RELIABILITY_DATA))


def test_alpha_is_none_when_no_unit_has_two_values():
    assert krippendorff_alpha([[1, None, 2], [None, 3, None]]) is None


def test_alpha_is_none_when_every_pairable_value_is_the_same():
    assert krippendorff_alpha([[0.1, 0.1, 0.1], [0.1, 0.1, 0.1]], "interval") is None


def test_alpha_is_none_for_no_data():
    assert krippendorff_alpha([]) is None
    assert krippendorff_alpha([[], []]) is None


def test_perfect_agreement_with_variation_is_one():
    assert krippendorff_alpha([[1, 2, 3], [1, 2, 3]], "interval") == pytest.approx(1.0)


def test_unknown_level_is_rejected():
    with pytest.raises(ValueError, match="unknown level 'metric'"):
        krippendorff_alpha(RELIABILITY_DATA, "metric")


def test_rows_of_unequal_length_are_rejected():
    with pytest.raises(ValueError, match="rows of unequal length"):
        krippendorff_alpha([[1, 2, 3], [1, 2]])


def test_interval_level_rejects_text_values():
    with pytest.raises(ValueError, match="interval level needs numeric values"):
        krippendorff_alpha([["a", "b"], ["a", "c"]], "interval")


def test_alpha_handles_tens_of_thousands_of_units_quickly():
    rng = np.random.default_rng(11)
    data = rng.integers(0, 500, size=(4, 50_000)).astype(float)
    data[rng.random(data.shape) < 0.3] = np.nan
    rows = [[None if np.isnan(value) else value for value in row] for row in data]
    started = time.perf_counter()
    for level in ("nominal", "ordinal", "interval", "ratio"):
        assert krippendorff_alpha(rows, level) is not None
    # Generous bound: the point is vectorised work, not a benchmark on a shared machine.
    assert time.perf_counter() - started < 10


def test_numeric_looking_text_codes_stay_distinct():
    # "01" and "1" are different nominal codes, not the same number.
    assert krippendorff_alpha([["01", "2", "1"], ["1", "2", "1"]]) < 1.0
