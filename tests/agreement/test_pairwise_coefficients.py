"""Cohen's kappa and Scott's pi for two coders."""

import numpy as np
import pytest
from nltk.metrics.agreement import AnnotationTask

from annotator.agreement import cohen_kappa, scott_pi


def ratings_from_table(table):
    """Two coders' ratings from a contingency table (rows: first coder, columns: second)."""
    first, second = [], []
    for i, row in enumerate(table):
        for j, count in enumerate(row):
            first += [i] * count
            second += [j] * count
    return first, second


def test_cohens_1960_example_gives_0_492():
    # Cohen (1960: 45), as in DKPro Statistics' Cohen1960Test.
    a, b = ratings_from_table([[88, 14, 18], [10, 40, 10], [2, 6, 12]])
    assert cohen_kappa(a, b) == pytest.approx(0.492, abs=5e-4)


def test_cohen_and_scott_match_gwets_irrcac_values():
    # irrCAC's cont3x3abstractors: kappa2.table 0.7964094, scott2.table 0.7962397.
    a, b = ratings_from_table([[13, 0, 0], [0, 20, 7], [0, 4, 56]])
    assert cohen_kappa(a, b) == pytest.approx(0.7964094, abs=1e-7)
    assert scott_pi(a, b) == pytest.approx(0.7962397, abs=1e-7)


def test_krippendorff_1995_digitised_unitizing_gives_dkpro_values():
    bertha = [0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0]
    bill = [0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0]
    assert cohen_kappa(bertha, bill) == pytest.approx(0.385, abs=1e-3)
    assert scott_pi(bertha, bill) == pytest.approx(0.314, abs=1e-3)


def test_skewed_categories_pull_scotts_pi_down():
    # DKPro's Gwet2008Test hand example.
    a, b = ["y"] * 8 + ["n", "y"], ["y"] * 8 + ["n", "n"]
    assert scott_pi(a, b) == pytest.approx(0.6078, abs=1e-4)


@pytest.mark.parametrize("seed", range(5))
def test_cohen_and_scott_agree_with_nltk_on_random_data(seed):
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 4, size=(2, 50))
    agree = rng.random(50) < 0.5
    data[1, agree] = data[0, agree]
    task = AnnotationTask(
        data=[(f"c{c}", unit, int(data[c, unit])) for c in range(2) for unit in range(50)]
    )
    assert cohen_kappa(data[0], data[1]) == pytest.approx(task.kappa(), abs=1e-12)
    assert scott_pi(data[0], data[1]) == pytest.approx(task.pi(), abs=1e-12)


def test_pairs_with_a_missing_rating_are_dropped():
    a, b = ["x", "y", None, "x", "z"], ["x", "y", "y", None, "y"]
    assert cohen_kappa(a, b) == pytest.approx(cohen_kappa(["x", "y", "z"], ["x", "y", "y"]))
    assert scott_pi(a, b) == pytest.approx(scott_pi(["x", "y", "z"], ["x", "y", "y"]))


def test_coefficients_are_none_without_complete_pairs():
    assert cohen_kappa([None, "x"], ["y", None]) is None
    assert scott_pi([], []) is None


def test_coefficients_are_none_when_both_coders_use_one_category():
    assert cohen_kappa(["x", "x"], ["x", "x"]) is None
    assert scott_pi(["x", "x"], ["x", "x"]) is None


def test_sequences_of_unequal_length_are_rejected():
    with pytest.raises(ValueError, match="unequal length"):
        cohen_kappa(["x"], ["x", "y"])
