"""The claims table's arithmetic on plain data (no database): subsets never add to their
superset, totals are per layer, and the weekly chart counts each article once."""

import datetime as dt

import pytest

from annotator.claims.table import (
    GOLD,
    Figure,
    counted,
    nice_ceiling,
    stacked_bars,
    totals,
    weekly_deaths,
)

MONDAY = dt.date(2017, 9, 25)


def gold(id, low, best, high, subset_of=(), **fields):
    defaults = {"document": "d1", "outcome": "killed", "published": MONDAY}
    return Figure(f"gold:{id}", GOLD, low=low, best=best, high=high,
                  subset_of=tuple(f"gold:{s}" for s in subset_of), **{**defaults, **fields})  # fmt: skip


SEED = [
    gold("C1", 2359, 2359, 2359, partisanship="party_to_conflict"),
    gold("C2", 16, 16, 16, subset_of=["C1"], partisanship="party_to_conflict"),
    gold("C3", 400, 400, None, subset_of=["C1"], partisanship="party_to_conflict"),
    gold("C4", 24, None, 99, partisanship="unknown"),
]


def test_the_seed_total_is_the_2359_plus_dozens_not_2775():
    (total,) = totals(SEED)

    assert (total.low, total.high, total.best) == (2383, 2458, 2359)
    assert (total.claims, total.counted, total.subsets_left_out) == (4, 2, 2)
    assert (total.open_ended, total.without_best) == (0, 1)


def test_a_subset_counts_when_its_superset_is_not_shown():
    shown = [SEED[1], SEED[3]]

    assert [f.id for f in counted(shown, SEED)] == ["gold:C2", "gold:C4"]


def test_a_subset_of_a_subset_is_left_out_through_the_chain():
    chain = [gold("A", 100, 100, 100), gold("B", 50, 50, 50, ["A"]), gold("C", 5, 5, 5, ["B"])]

    assert [f.id for f in counted([chain[0], chain[2]], chain)] == ["gold:A"]


def test_a_subset_cycle_counts_one_claim_of_it():
    cycle = [gold("A", 10, 10, 10, ["B"]), gold("B", 10, 10, 10, ["A"])]

    assert [f.id for f in counted(cycle)] == ["gold:A"]


def test_an_open_ended_claim_is_counted_as_such():
    (total,) = totals([gold("A", 400, 400, None), gold("B", None, 50, 50)])

    assert (total.low, total.high, total.open_ended, total.without_low) == (400, 50, 1, 1)


def test_totals_are_per_layer_gold_first():
    coder = Figure("c1:1", "c1", "d2", low=10, best=10, high=10)

    layers = totals([coder, *SEED])

    assert [t.layer for t in layers] == [GOLD, "c1"]
    assert layers[1].best == 10


def test_weekly_deaths_split_by_partisanship_without_subsets():
    weeks, undated = weekly_deaths(SEED)

    assert undated == 0
    assert [w.start for w in weeks] == [MONDAY]
    assert weeks[0].values == {
        "party_to_conflict": 2359,
        "aligned_with_party": 0,
        "independent": 0,
        "unknown": 24,  # dozens: no best, its low
    }


def test_an_article_counts_once_as_its_gold_when_it_has_one():
    coder = Figure("c1:9", "c1", "d1", low=5000, best=5000, high=5000, outcome="killed",
                   published=MONDAY)  # fmt: skip

    weeks, _ = weekly_deaths([*SEED, coder])

    assert weeks[0].total == 2359 + 24


def test_an_article_without_gold_counts_as_the_mean_of_its_coders():
    a = Figure("c1:1", "c1", "d9", best=10, outcome="killed", published=MONDAY)
    b = Figure("c2:2", "c2", "d9", best=30, outcome="killed", published=MONDAY)
    c = Figure("c3:3", "c3", "d9", best=3, outcome="injured", published=MONDAY)

    weeks, _ = weekly_deaths([a, b, c])

    assert weeks[0].values["unknown"] == pytest.approx((10 + 30 + 0) / 3)


def test_empty_weeks_between_are_kept_and_undated_claims_counted_apart():
    later = gold("Z", 5, 5, 5, document="d3", published=MONDAY + dt.timedelta(days=15))
    undated = gold("U", 7, 7, 7, document="d4", published=None)

    weeks, missing = weekly_deaths([SEED[0], later, undated])

    assert [w.start for w in weeks] == [MONDAY + dt.timedelta(weeks=n) for n in range(3)]
    assert [w.total for w in weeks] == [2359, 0, 5]
    assert missing == 1


def test_bars_stack_from_the_axis_and_fit_the_plot():
    weeks, _ = weekly_deaths(SEED)

    chart = stacked_bars(weeks, width=720, height=240)

    party, unknown = chart.bars
    assert (party.party, unknown.party) == ("party_to_conflict", "unknown")
    assert party.y + party.height == chart.plot_bottom
    assert unknown.y + unknown.height == party.y
    assert chart.maximum == 2500 and chart.y_ticks[-1] == (chart.plot_top, 2500)


def test_nice_ceilings():
    assert [nice_ceiling(v) for v in (0, 1, 7, 12, 24, 2383, 40001)] == [
        1,
        1,
        10,
        20,
        25,
        2500,
        50000,
    ]
