"""The agreement report's arithmetic over plain coded spans."""

import json
import random
import time

import pytest

from annotator.agreement import krippendorff_alpha, span_prf, unitized_alpha
from annotator.agreement.report import (
    NO_SHARED_DOCUMENT,
    CodedRelation,
    CodedSpan,
    build_report,
)


def span(id, document, coder, start, end, label, **attributes):
    return CodedSpan(id, document, coder, start, end, label, attributes)


def two_coder_study():
    """ann and bob code d1 and d2; bob marks nothing in d2."""
    spans = [
        span("s1", "d1", "ann", 0, 10, "ACTOR", side="state"),
        span("s2", "d1", "ann", 20, 30, "LOCATION"),
        span("s3", "d1", "ann", 40, 50, "DATE"),
        span("s4", "d2", "ann", 0, 5, "ACTOR", side="rebel"),
        span("t1", "d1", "bob", 0, 10, "ACTOR", side="rebel"),
        span("t2", "d1", "bob", 22, 30, "LOCATION"),
        span("t3", "d1", "bob", 40, 50, "SOURCE"),
    ]
    relations = [
        CodedRelation("d1", "ann", "located_in", "s1", "s2"),
        CodedRelation("d1", "bob", "located_in", "t1", "t2"),
        CodedRelation("d1", "ann", "located_in", "s1", "s3"),
    ]
    coders = {"d1": ["ann", "bob"], "d2": ["ann", "bob"]}
    return spans, relations, {"d1": 100, "d2": 50}, coders


def label_row(report, label):
    return next(row for row in report.labels if row.label == label)


def test_span_f1_pools_counts_over_the_documents_both_coders_coded():
    spans, relations, lengths, coders = two_coder_study()
    report = build_report(spans, lengths, relations, coders_by_document=coders)
    (exact,) = report.overall.exact_f1.per_pair
    (overlap,) = report.overall.overlap_f1.per_pair
    assert (exact.tp, exact.spans_a, exact.spans_b, exact.documents) == (1, 4, 3, 2)
    assert exact.value == pytest.approx(2 / 7)
    assert overlap.tp == 2
    assert overlap.value == pytest.approx(4 / 7)


def test_per_label_f1_rests_on_that_labels_spans():
    spans, relations, lengths, coders = two_coder_study()
    report = build_report(spans, lengths, relations, coders_by_document=coders)
    assert label_row(report, "ACTOR").exact_f1.mean == pytest.approx(2 / 3)
    assert label_row(report, "LOCATION").exact_f1.mean == 0.0
    assert label_row(report, "LOCATION").overlap_f1.mean == 1.0
    assert label_row(report, "DATE").overlap_f1.mean == 0.0
    assert label_row(report, "ACTOR").spans == 3


def test_a_label_nobody_used_has_no_value_and_says_why():
    spans, relations, lengths, coders = two_coder_study()
    report = build_report(spans, lengths, relations, coders_by_document=coders, labels=["CASUALTY"])
    row = label_row(report, "CASUALTY")
    assert (row.spans, row.overlap_f1.mean, row.alpha_u.mean) == (0, None, None)
    assert row.overlap_f1.reason == "neither coder marked a span with this label"


def test_counts_include_a_coder_who_marked_nothing_in_a_document():
    spans, relations, lengths, coders = two_coder_study()
    counts = build_report(spans, lengths, relations, coders_by_document=coders).counts
    assert (counts.documents, counts.documents_compared, counts.coder_pairs) == (2, 2, 1)
    assert [(c.coder, c.spans, c.documents) for c in counts.spans_per_coder] == [
        ("ann", 4, 2),
        ("bob", 3, 2),
    ]


def test_without_coder_lists_only_coders_with_spans_take_part():
    spans, relations, lengths, _ = two_coder_study()
    report = build_report(spans, lengths, relations)
    assert report.counts.documents_compared == 1
    assert report.overall.exact_f1.per_pair[0].documents == 1


def test_label_confusion_counts_overlapping_spans_with_different_labels():
    spans, relations, lengths, coders = two_coder_study()
    report = build_report(spans, lengths, relations, coders_by_document=coders)
    assert [(c.label_a, c.label_b, c.count) for c in report.confusion] == [("DATE", "SOURCE", 1)]


def test_spans_matched_in_their_own_label_are_not_counted_as_confusion():
    spans = [
        span(1, "d", "ann", 0, 10, "ACTOR"),
        span(2, "d", "bob", 0, 10, "ACTOR"),
        span(3, "d", "bob", 0, 4, "LOCATION"),
    ]
    assert build_report(spans, {"d": 20}).confusion == ()


def test_relations_count_when_both_ends_matched_the_other_coders_spans():
    spans, relations, lengths, coders = two_coder_study()
    (located,) = build_report(spans, lengths, relations, coders_by_document=coders).relations
    assert (located.type, located.f1, located.tp) == ("located_in", 1.0, 1)
    assert (located.relations, located.unmatched_ends) == (2, 1)


def test_relations_are_directed():
    spans, _, lengths, coders = two_coder_study()
    relations = [
        CodedRelation("d1", "ann", "located_in", "s1", "s2"),
        CodedRelation("d1", "bob", "located_in", "t2", "t1"),
    ]
    (located,) = build_report(spans, lengths, relations, coders_by_document=coders).relations
    assert (located.tp, located.f1) == (0, 0.0)


def test_attributes_are_compared_on_spans_matched_by_overlap():
    spans = []
    for k, (mine, theirs) in enumerate([("state", "state"), ("rebel", "state"), ("rebel", None)]):
        spans.append(span(f"a{k}", "d", "ann", 10 * k, 10 * k + 5, "ACTOR", side=mine))
        extra = {} if theirs is None else {"side": theirs}
        spans.append(CodedSpan(f"b{k}", "d", "bob", 10 * k + 1, 10 * k + 5, "ACTOR", extra))
    (side,) = build_report(spans, {"d": 40}).attributes
    assert (side.label, side.attribute, side.level) == ("ACTOR", "side", "nominal")
    assert (side.pairs, side.missing) == (2, 1)
    expected = krippendorff_alpha([["state", "rebel"], ["state", "state"]])
    assert side.alpha == pytest.approx(expected)


def test_casualty_numbers_are_compared_at_the_interval_level():
    values = [(3, 3), (10, 12), (40, 35), (7, "unknown")]
    spans = []
    for k, (mine, theirs) in enumerate(values):
        spans.append(span(f"a{k}", "d", "ann", 10 * k, 10 * k + 5, "CASUALTY", best=mine))
        spans.append(span(f"b{k}", "d", "bob", 10 * k, 10 * k + 5, "CASUALTY", best=theirs))
    (best,) = build_report(spans, {"d": 50}).attributes
    assert (best.level, best.pairs, best.missing) == ("interval", 3, 1)
    expected = krippendorff_alpha([[3, 10, 40], [3, 12, 35]], "interval")
    assert best.alpha == pytest.approx(expected)


def test_an_attribute_without_variation_has_no_alpha():
    spans = [
        span(1, "d", "ann", 0, 5, "ACTOR", side="state"),
        span(2, "d", "bob", 0, 5, "ACTOR", side="state"),
    ]
    (side,) = build_report(spans, {"d": 10}).attributes
    assert (side.alpha, side.pairs, side.reason) == (None, 1, "no variation")


def test_documents_are_ranked_worst_first_with_reasons():
    spans, relations, lengths, coders = two_coder_study()
    documents = build_report(spans, lengths, relations, coders_by_document=coders).documents
    assert [d.document for d in documents] == ["d2", "d1"]
    assert documents[0].disagreement == 1.0
    assert documents[0].reasons == ("bob marked no spans where ann marked 1",)
    assert documents[1].overlap_f1 == pytest.approx(2 / 3)
    assert documents[1].reasons == (
        "ann vs bob: overlap F1 0.67, 2 of 3 and 3 spans matched",
        "ann vs bob: 1 overlapping spans labelled differently",
        "ann vs bob: 1 matched spans differ in boundaries",
    )


def test_document_ranking_can_be_capped():
    spans, relations, lengths, coders = two_coder_study()
    report = build_report(spans, lengths, relations, coders_by_document=coders, top_documents=1)
    assert [d.document for d in report.documents] == ["d2"]


def test_each_coder_is_scored_against_the_others():
    spans, relations, lengths, coders = two_coder_study()
    report = build_report(spans, lengths, relations, coders_by_document=coders)
    ann = next(row for row in report.coders if row.coder == "ann" and row.label is None)
    assert (ann.overlap.tp, ann.overlap.n_predicted, ann.overlap.n_reference) == (2, 4, 3)
    assert (ann.overlap.precision, ann.overlap.recall) == (0.5, pytest.approx(2 / 3))
    assert (ann.documents, ann.partners) == (2, 1)


def test_coder_matrices_are_symmetric_with_an_empty_diagonal():
    spans, relations, lengths, coders = two_coder_study()
    matrices = build_report(spans, lengths, relations, coders_by_document=coders).matrices
    assert [m.measure for m in matrices] == ["exact_f1", "overlap_f1", "alpha_u"]
    overlap = matrices[1]
    assert overlap.coders == ("ann", "bob")
    assert overlap.values[0][1] == overlap.values[1][0] == pytest.approx(4 / 7)
    assert overlap.values[0][0] is None
    assert overlap.documents == ((0, 2), (2, 0))


def test_report_without_two_coders_on_any_document_says_so():
    spans = [span(1, "d1", "ann", 0, 5, "ACTOR"), span(2, "d2", "bob", 0, 5, "ACTOR")]
    report = build_report(spans, {"d1": 10, "d2": 10})
    assert report.counts.reason == NO_SHARED_DOCUMENT
    assert report.overall.overlap_f1.mean is None
    assert report.overall.overlap_f1.reason == NO_SHARED_DOCUMENT
    assert report.overall.alpha_u.reason == NO_SHARED_DOCUMENT
    assert report.documents == ()


def test_overlapping_spans_of_one_coder_are_merged_for_alpha_u():
    spans = [
        span(1, "d", "ann", 0, 6, "ACTOR"),
        span(2, "d", "ann", 4, 10, "ACTOR"),
        span(3, "d", "bob", 0, 10, "ACTOR"),
    ]
    report = build_report(spans, {"d": 30})
    merged = unitized_alpha([("ann", 0, 10, "ACTOR"), ("bob", 0, 10, "ACTOR")], (0, 30))
    assert report.overall.alpha_u.mean == pytest.approx(merged)


def test_report_serialises_to_json():
    spans, relations, lengths, coders = two_coder_study()
    data = build_report(spans, lengths, relations, coders_by_document=coders).to_dict()
    text = json.dumps(data, allow_nan=False)
    assert json.loads(text)["counts"]["spans"] == 7
    assert data["overall"]["overlap_f1"]["per_pair"][0]["coder_a"] == "ann"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s + [span("x", "d9", "ann", 0, 5, "ACTOR")], "unknown document 'd9'"),
        (lambda s: s + [span("x", "d2", "ann", 40, 60, "ACTOR")], "past the end"),
        (lambda s: s + [span("x", "d2", "ann", 4, 4, "ACTOR")], "end <= start"),
        (lambda s: s + [span("x", "d2", "eve", 0, 5, "ACTOR")], "not listed as a coder"),
        (lambda s: s + [span("s1", "d2", "bob", 0, 5, "ACTOR")], "span ids are not unique"),
    ],
)
def test_inconsistent_spans_are_rejected(change, message):
    spans, relations, lengths, coders = two_coder_study()
    with pytest.raises(ValueError, match=message):
        build_report(change(spans), lengths, relations, coders_by_document=coders)


@pytest.mark.parametrize(
    ("relation", "message"),
    [
        (CodedRelation("d1", "ann", "located_in", "s1", "nope"), "to_id is not a known span"),
        (CodedRelation("d1", "ann", "located_in", "t1", "s2"), "another coder or document"),
    ],
)
def test_relations_to_foreign_or_missing_spans_are_rejected(relation, message):
    spans, relations, lengths, coders = two_coder_study()
    with pytest.raises(ValueError, match=message):
        build_report(spans, lengths, [*relations, relation], coders_by_document=coders)


# --- the report agrees with the measures it is built from -------------------------------------

LABELS = ["ACTOR", "LOCATION", "DATE"]


def random_corpus(seed):
    rng = random.Random(seed)
    coders_all = ["ann", "bob", "cat", "dan"]
    lengths, coders, spans = {}, {}, []
    for doc in range(8):
        lengths[doc] = rng.randint(60, 120)
        coders[doc] = rng.sample(coders_all, rng.randint(1, 4))
        for coder in coders[doc]:
            for label in LABELS:
                position = rng.randint(0, 8)
                while rng.random() < 0.7:
                    size = rng.randint(1, 12)
                    if position + size > lengths[doc]:
                        break
                    spans.append(span(len(spans), doc, coder, position, position + size, label))
                    position += size + rng.randint(0, 10)
    return spans, lengths, coders


def reference_pair_values(spans, lengths, coders, a, b, label):
    docs = [doc for doc in sorted(lengths) if a in coders[doc] and b in coders[doc]]
    pooled = {"exact": [0, 0, 0], "overlap": [0, 0, 0]}
    concatenated, offset = [], 0
    for doc in docs:

        def mine(coder, doc=doc):
            return [
                (s.start, s.end, s.label)
                for s in spans
                if s.document == doc and s.coder == coder and s.label == label
            ]

        for matching, counts in pooled.items():
            result = span_prf(mine(a), mine(b), matching=matching)
            counts[0] += result.tp
            counts[1] += result.n_reference
            counts[2] += result.n_predicted
        for coder in (a, b):
            concatenated += [(coder, s + offset, e + offset, label) for s, e, _ in mine(coder)]
        offset += lengths[doc]
    f1 = {
        matching: (2 * tp / (n_a + n_b) if n_a + n_b else None)
        for matching, (tp, n_a, n_b) in pooled.items()
    }
    alpha = unitized_alpha(concatenated, (0, offset), label, coders=[a, b]) if docs else None
    return f1["exact"], f1["overlap"], alpha


@pytest.mark.parametrize("seed", range(6))
def test_pairwise_values_equal_span_prf_and_unitized_alpha_over_shared_documents(seed):
    spans, lengths, coders = random_corpus(seed)
    report = build_report(spans, lengths, coders_by_document=coders)
    for row in report.labels:
        for exact, overlap, alpha in zip(
            row.exact_f1.per_pair, row.overlap_f1.per_pair, row.alpha_u.per_pair, strict=True
        ):
            expected = reference_pair_values(
                spans, lengths, coders, exact.coder_a, exact.coder_b, row.label
            )
            assert (exact.value, overlap.value, alpha.value) == pytest.approx(expected)


def test_a_thousand_documents_take_well_under_a_few_seconds():
    rng = random.Random(4)
    spans, lengths = [], {}
    for doc in range(1000):
        lengths[doc] = 3000
        for coder in ("ann", "bob", "cat"):
            for k in range(20):
                start = 140 * k + rng.randint(0, 20)
                spans.append(
                    span(len(spans), doc, coder, start, start + rng.randint(5, 30), LABELS[k % 3])
                )
    started = time.perf_counter()
    report = build_report(spans, lengths)
    assert report.counts.spans == 60_000
    assert time.perf_counter() - started < 10


def test_duplicate_span_ids_are_rejected_without_relations_too():
    spans = [span(1, "d", "ann", 0, 5, "ACTOR"), span(1, "d", "bob", 0, 5, "ACTOR")]
    with pytest.raises(ValueError, match="span ids are not unique"):
        build_report(spans, {"d": 10})
