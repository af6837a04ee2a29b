"""annotator.agreement.adjudication: units, bulk choices and scores over plain data (no
database)."""

from fractions import Fraction

from annotator.agreement.adjudication import (
    Link,
    Version,
    align,
    bulk_candidates,
    disagreement,
    link_differences,
    link_signatures,
    merge_attributes,
    scores_against_gold,
    settle,
)

A, B, C = "A", "B", "C"


def v(id, coder, start, end, label="ACTOR", **attributes):
    return Version(id, coder, start, end, label, attributes)


def test_overlapping_spans_of_different_coders_form_one_unit():
    units = align([v(1, A, 0, 7), v(2, B, 0, 19), v(3, A, 30, 35)], [A, B])

    assert [(u.start, u.end, [s.id for s in u.spans]) for u in units] == [
        (0, 19, [1, 2]),
        (30, 35, [3]),
    ]


def test_a_unit_is_keyed_by_its_smallest_span_id():
    [unit] = align([v(9, A, 0, 7), v(4, B, 2, 7)], [A, B])

    assert unit.key == 4


def test_touching_spans_are_separate_units():
    units = align([v(1, A, 0, 7), v(2, B, 7, 12)], [A, B])

    assert len(units) == 2


def test_identical_spans_of_every_coder_are_agreed():
    [unit] = align([v(1, A, 0, 7), v(2, B, 0, 7), v(3, C, 0, 7)], [A, B, C])

    assert unit.agreed
    assert unit.disagreements() == frozenset()


def test_a_coder_who_marked_nothing_makes_the_unit_disagree():
    [unit] = align([v(1, A, 0, 7), v(2, B, 0, 7)], [A, B, C])

    assert not unit.agreed
    assert unit.disagreements() == {"missing"}


def test_a_cross_label_overlap_is_a_label_disagreement_in_one_unit():
    [unit] = align([v(1, A, 0, 7, "ACTOR"), v(2, B, 0, 7, "SOURCE")], [A, B])

    assert unit.disagreements() == {"label"}


def test_different_boundaries_are_a_boundary_disagreement():
    [unit] = align([v(1, A, 0, 7), v(2, B, 0, 19)], [A, B])

    assert unit.disagreements() == {"boundary"}


def test_same_span_different_attribute_is_an_attribute_disagreement():
    [unit] = align([v(1, A, 0, 7, outcome="killed"), v(2, B, 0, 7, outcome="injured")], [A, B])

    assert unit.agreed
    assert unit.disagreements() == {"attributes"}


def test_links_to_different_units_are_a_links_difference():
    spans = [
        v(1, A, 0, 7, "CASUALTY"),
        v(2, B, 0, 7, "CASUALTY"),
        v(3, A, 20, 25, "SOURCE"),
        v(4, B, 20, 25, "SOURCE"),
    ]
    units = align(spans, [A, B])
    signatures = link_signatures(units, [Link(10, A, "claimed_by", 1, 3)])

    assert link_differences(units[0], signatures[units[0].key]) == {("out", "claimed_by", 3)}


def test_attributes_where_coders_agree_are_taken():
    merged, disputed = merge_attributes([v(1, A, 0, 7, x=1), v(2, B, 0, 7, x=1)])

    assert (merged, disputed) == ({"x": 1}, [])


def test_attributes_take_the_majority_value():
    merged, disputed = merge_attributes(
        [v(1, A, 0, 7, x="a"), v(2, B, 0, 7, x="b"), v(3, C, 0, 7, x="b")]
    )

    assert (merged, disputed) == ({"x": "b"}, [])


def test_attributes_without_a_majority_take_the_first_coders_and_say_so():
    merged, disputed = merge_attributes([v(1, A, 0, 7, x=["p", "q"]), v(2, B, 0, 7, x=["q"])])

    assert (merged, disputed) == ({"x": ["p", "q"]}, ["x"])


def test_an_unset_value_can_be_the_majority():
    merged, disputed = merge_attributes([v(1, A, 0, 7, x="a"), v(2, B, 0, 7), v(3, C, 0, 7)])

    assert (merged, disputed) == ({}, [])


def test_bulk_with_threshold_one_takes_spans_every_coder_made():
    units = align([v(1, A, 0, 7), v(2, B, 0, 7), v(3, A, 10, 12), v(4, B, 10, 13)], [A, B])

    candidates = bulk_candidates(units, Fraction(1))

    assert [[x.id for x in c.versions] for c in candidates] == [[1, 2]]


def test_bulk_with_two_thirds_takes_spans_two_of_three_coders_made():
    units = align([v(1, A, 0, 7), v(2, B, 0, 7), v(3, C, 0, 19)], [A, B, C])

    candidates = bulk_candidates(units, Fraction(2, 3))

    assert [(c.share, [x.id for x in c.versions]) for c in candidates] == [(Fraction(2, 3), [1, 2])]


def test_a_unit_under_a_gold_span_is_settled_and_others_open():
    units = align([v(1, A, 0, 7), v(2, B, 30, 35)], [A, B])

    status = settle(units, [(100, 0, 5)], rejected=[])

    assert [(s.status, s.gold) for s in status.values()] == [("gold", (100,)), ("open", ())]


def test_a_unit_whose_spans_were_all_rejected_is_settled():
    [unit] = align([v(1, A, 0, 7), v(2, B, 0, 9)], [A, B])

    assert settle([unit], [], rejected=[1, 2])[unit.key].status == "rejected"
    assert settle([unit], [], rejected=[1])[unit.key].status == "open"


def test_a_long_gold_span_reaching_a_later_unit_settles_it():
    units = align([v(1, A, 0, 3), v(2, B, 50, 55)], [A, B])

    status = settle(units, [(7, 0, 60)], rejected=[])

    assert [s.status for s in status.values()] == ["gold", "gold"]


def test_disagreement_is_zero_when_coders_agree_and_one_when_nothing_overlaps():
    same = {A: [(0, 7, "ACTOR")], B: [(0, 7, "ACTOR")]}
    apart = {A: [(0, 7, "ACTOR")], B: [(10, 17, "ACTOR")]}

    assert (disagreement(same), disagreement(apart)) == (0.0, 1.0)


def test_coders_are_scored_against_gold_per_label_and_overall():
    gold = [("d1", 0, 7, "ACTOR"), ("d1", 10, 15, "LOCATION")]
    coded = [("d1", A, 0, 7, "ACTOR"), ("d1", A, 10, 14, "LOCATION")]

    scores = scores_against_gold(gold, coded, {A: ["d1"]})

    by_label = {s.label: s for s in scores}
    assert (by_label[None].exact.tp, by_label[None].exact.n_reference) == (1, 2)
    assert by_label["LOCATION"].overlap.f1 == 1.0
    assert by_label["ACTOR"].exact.f1 == 1.0


def test_the_adjudication_arithmetic_imports_no_django():
    import subprocess
    import sys
    from pathlib import Path

    check = (
        "import annotator.agreement.adjudication, sys; "
        "assert not any(m.startswith('django') for m in sys.modules)"
    )
    subprocess.run(
        [sys.executable, "-c", check], cwd=Path(__file__).resolve().parents[2], check=True
    )
