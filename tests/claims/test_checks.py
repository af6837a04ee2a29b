"""Checks run before a coder submits: each finding names the span and the problem."""

import pytest

from annotator.claims.checks import (
    CLAIM_WITH_SEVERAL_SOURCES,
    CLAIM_WITHOUT_SOURCE,
    COUNT_BOUNDS_OUT_OF_ORDER,
    COUNT_NOT_A_NUMBER,
    DATE_NOT_EVENT_DATE,
    RELATION_TO_MISSING_SPAN,
    RELATION_WRONG_LABELS,
    SUBSET_LARGER_THAN_SUPERSET,
    TOO_MANY_RELATIONS,
    Relation,
    Span,
    run_checks,
)


def claim(span_id="C1", text="16 ISIS field commanders", **counts):
    return Span(span_id, "CASUALTY", counts, text)


SOURCE = Span("S1", "SOURCE", {}, "statement")
OTHER_SOURCE = Span("S2", "SOURCE", {}, "local media reports")


def claimed(span_id="C1", source="S1"):
    return Relation("claimed_by", span_id, source)


def codes(findings):
    return [f.code for f in findings]


def test_the_demo_gold_passes_every_check(seed_gold):
    assert run_checks(seed_gold["spans"], seed_gold["relations"]) == []


def test_a_claim_with_its_source_and_ordered_counts_passes():
    assert run_checks([claim(low=16, best=16, high=16), SOURCE], [claimed()]) == []


def test_a_claim_without_a_source_is_reported_by_its_text():
    [finding] = run_checks([claim()], [])
    assert finding.code == CLAIM_WITHOUT_SOURCE
    assert '"16 ISIS field commanders"' in finding.message
    assert (finding.span_ids, finding.severity) == (("C1",), "error")


def test_a_claim_with_two_sources_is_reported_once():
    findings = run_checks([claim(), SOURCE, OTHER_SOURCE], [claimed(), claimed(source="S2")])
    assert codes(findings) == [CLAIM_WITH_SEVERAL_SOURCES]
    assert "2 claimed_by links" in findings[0].message


def test_low_above_best_is_reported():
    [finding] = run_checks([claim(low=20, best=16, high=30), SOURCE], [claimed()])
    assert finding.code == COUNT_BOUNDS_OUT_OF_ORDER
    assert "low 20 > best 16" in finding.message


def test_best_above_high_is_reported():
    findings = run_checks([claim(low=10, best=40, high=30), SOURCE], [claimed()])
    assert codes(findings) == [COUNT_BOUNDS_OUT_OF_ORDER]
    assert "best 40 > high 30" in findings[0].message


def test_bounds_are_compared_even_when_best_is_absent():
    findings = run_checks([claim(low=99, best=None, high=24), SOURCE], [claimed()])
    assert codes(findings) == [COUNT_BOUNDS_OUT_OF_ORDER]


def test_a_lower_bound_without_high_passes():
    assert run_checks([claim(low=400, best=400, high=None), SOURCE], [claimed()]) == []


@pytest.mark.parametrize("value", ["16", 16.5, -1, True])
def test_a_count_that_is_not_a_whole_number_of_people_is_reported(value):
    findings = run_checks([claim(best=value), SOURCE], [claimed()])
    assert codes(findings) == [COUNT_NOT_A_NUMBER]


def test_a_subset_larger_than_its_superset_is_reported():
    spans = [
        claim("C1", "2,359 ISIS terrorists", best=2359),
        claim("C2", "3,000 commanders", best=3000),
        SOURCE,
    ]
    relations = [claimed("C1"), claimed("C2"), Relation("subset_of", "C2", "C1")]
    [finding] = run_checks(spans, relations)
    assert finding.code == SUBSET_LARGER_THAN_SUPERSET
    assert '"3,000 commanders"' in finding.message and '"2,359 ISIS terrorists"' in finding.message
    assert finding.span_ids == ("C2", "C1")


def test_subset_size_falls_back_to_low_when_best_is_absent():
    spans = [
        claim("C1", "a dozen", best=12),
        claim("C2", "dozens of fighters", low=24, high=99),
        SOURCE,
    ]
    relations = [claimed("C1"), claimed("C2"), Relation("subset_of", "C2", "C1")]
    assert codes(run_checks(spans, relations)) == [SUBSET_LARGER_THAN_SUPERSET]


def test_a_subset_without_numbers_is_not_compared():
    spans = [claim("C1", best=12), claim("C2", "ISIS terrorists"), SOURCE]
    relations = [claimed("C1"), claimed("C2"), Relation("subset_of", "C2", "C1")]
    assert run_checks(spans, relations) == []


def test_a_claim_dated_by_a_statement_date_is_reported():
    saturday = Span("D2", "DATE", {"date_role": "statement_date"}, "Saturday")
    [finding] = run_checks([claim(), SOURCE, saturday], [claimed(), Relation("date", "C1", "D2")])
    assert finding.code == DATE_NOT_EVENT_DATE
    assert '"Saturday"' in finding.message and "statement_date" in finding.message


def test_a_date_without_a_role_counts_as_an_event_date():
    date = Span("D1", "DATE", {}, "September 19-29")
    assert run_checks([claim(), SOURCE, date], [claimed(), Relation("date", "C1", "D1")]) == []


def test_a_date_link_to_a_span_that_is_not_a_date_is_reported():
    place = Span("L1", "LOCATION", {}, "Syria")
    findings = run_checks([claim(), SOURCE, place], [claimed(), Relation("date", "C1", "L1")])
    assert codes(findings) == [RELATION_WRONG_LABELS]


def test_more_links_than_the_cardinality_allows_are_reported():
    spans = [claim("C1", best=10), claim("C2", best=100), claim("C3", "3 fighters", best=3), SOURCE]
    relations = [
        *(claimed(c) for c in ("C1", "C2", "C3")),
        Relation("subset_of", "C3", "C1"),
        Relation("subset_of", "C3", "C2"),
    ]
    [finding] = run_checks(spans, relations)
    assert finding.code == TOO_MANY_RELATIONS
    assert '"3 fighters"' in finding.message and "2 subset_of links; at most 1" in finding.message


def test_a_project_may_set_its_own_cardinalities():
    spans = [
        claim(),
        SOURCE,
        Span("A1", "ACTOR", {}, "Russian"),
        Span("A2", "ACTOR", {}, "Syrian army"),
    ]
    relations = [
        claimed(),
        Relation("perpetrator", "C1", "A1"),
        Relation("perpetrator", "C1", "A2"),
    ]
    assert codes(run_checks(spans, relations, cardinalities={"perpetrator": 1})) == [
        TOO_MANY_RELATIONS
    ]


def test_a_project_without_limits_gets_no_default_limits():
    spans = [claim(), claim("C2", "3 fighters"), claim("C3", "2 fighters"), SOURCE]
    relations = [
        claimed(),
        claimed("C2"),
        claimed("C3"),
        Relation("subset_of", "C3", "C1"),
        Relation("subset_of", "C3", "C2"),
    ]

    assert codes(run_checks(spans, relations, cardinalities={})) == []


def test_a_link_to_a_missing_span_is_reported():
    findings = run_checks([claim()], [claimed(source="S9")])
    assert codes(findings) == [RELATION_TO_MISSING_SPAN, CLAIM_WITHOUT_SOURCE]


def test_a_span_without_text_is_named_by_label_and_id():
    [finding] = run_checks([Span("C7", "CASUALTY")], [])
    assert "CASUALTY C7" in finding.message


def test_plain_mappings_are_accepted_for_spans_and_relations():
    spans = [
        {"id": "C1", "label": "CASUALTY", "attributes": {"best": 3}},
        {"id": "S1", "label": "SOURCE"},
    ]
    assert run_checks(spans, [{"type": "claimed_by", "from_id": "C1", "to_id": "S1"}]) == []
