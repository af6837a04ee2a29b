"""reports.py: which rows an agreement report rests on, and its snapshots.

The measures themselves are tested in tests/agreement/ without a database; here, only what the
adapter decides: submitted documents, filters, deleted spans, pseudonyms, the cache.
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.utils import timezone

from annotator import reports
from annotator.models import AgreementSnapshot, Annotation, Assignment, Role, SnapshotState
from annotator.reports import AgreementFilters, compute_payload, snapshot_for
from annotator.services import span_delete, span_update
from tests.api.helpers import make_relation, make_span
from tests.factories import add_member, make_document, make_user


def submit(document, *coders, when=None):
    """Each coder has submitted the document (the state the report counts)."""
    for coder in coders:
        Assignment.objects.create(
            project=document.project,
            document=document,
            coder=coder,
            state="submitted",
            submitted_at=when or timezone.now(),
        )


def start(document, coder):
    Assignment.objects.create(
        project=document.project, document=document, coder=coder, state="in_progress"
    )


def code_alike(document, *coders):
    """The same two spans from each coder."""
    for coder in coders:
        make_span(document, coder, "Russian air strikes", label="ACTOR")
        make_span(document, coder, "Syria", label="LOCATION")


@pytest.fixture
def third_coder(project):
    user = make_user("third_coder")
    add_member(project, user, Role.CODER)
    return user


@pytest.fixture
def second_document(project):
    return make_document(project, title="Second", published=dt.date(2024, 3, 1))


def counts(payload):
    return payload["report"]["counts"]


# --- which documents and spans count ------------------------------------------------------------


def test_a_document_counts_only_once_two_coders_submitted_it(
    project, document, second_document, coder, other_coder
):
    code_alike(document, coder, other_coder)
    code_alike(second_document, coder, other_coder)
    submit(document, coder, other_coder)
    submit(second_document, coder)
    start(second_document, other_coder)

    payload = compute_payload(project, AgreementFilters())

    assert counts(payload)["documents_compared"] == 1
    assert counts(payload)["spans"] == 4
    assert payload["mode"] == "submitted"


def test_only_the_submitting_coders_spans_count(project, document, coder, other_coder, third_coder):
    code_alike(document, coder, other_coder)
    make_span(document, third_coder, "ISIS terrorists", label="ACTOR")
    submit(document, coder, other_coder)
    start(document, third_coder)

    payload = compute_payload(project, AgreementFilters())

    assert counts(payload)["coders"] == 2
    assert counts(payload)["spans"] == 4
    assert {c["username"] for c in payload["coders"]} == {"coder", "other_coder"}


def test_a_coder_who_submitted_without_marking_anything_still_counts(
    project, document, coder, other_coder
):
    code_alike(document, coder)
    submit(document, coder, other_coder)

    overall = compute_payload(project, AgreementFilters())["report"]["overall"]

    assert overall["overlap_f1"]["mean"] == 0.0
    assert (
        overall["overlap_f1"]["per_pair"][0]["spans_b"]
        + overall["overlap_f1"]["per_pair"][0]["spans_a"]
        == 2
    )


def test_without_any_assignment_every_coders_spans_count(project, document, coder, other_coder):
    code_alike(document, coder, other_coder)

    payload = compute_payload(project, AgreementFilters())

    assert payload["mode"] == "all annotations"
    assert counts(payload)["documents_compared"] == 1
    assert payload["report"]["overall"]["exact_f1"]["mean"] == 1.0


def test_a_document_only_one_coder_submitted_gives_no_figures_with_a_reason(
    project, document, coder, other_coder
):
    code_alike(document, coder, other_coder)
    submit(document, coder)

    payload = compute_payload(project, AgreementFilters())

    assert counts(payload)["documents_compared"] == 0
    assert payload["reason"] == reports.NOT_TWO_CODERS
    assert payload["report"]["overall"]["overlap_f1"]["mean"] is None
    assert payload["report"]["overall"]["overlap_f1"]["reason"]


def test_deleted_spans_do_not_count(project, document, coder, other_coder):
    code_alike(document, coder, other_coder)
    extra = make_span(document, coder, "ISIS terrorists", label="ACTOR")
    span_delete(annotation=extra, coder=coder, version=extra.version)
    submit(document, coder, other_coder)

    payload = compute_payload(project, AgreementFilters())

    assert counts(payload)["spans"] == 4
    assert payload["report"]["overall"]["exact_f1"]["mean"] == 1.0


def test_links_between_counted_spans_are_compared(project, document, coder, other_coder):
    for who in (coder, other_coder):
        claim = make_span(document, who, "2,359 ISIS terrorists", label="CASUALTY")
        source = make_span(document, who, "Russian ministry of defense", label="SOURCE")
        make_relation(document, who, claim, source, type="claimed_by")
    submit(document, coder, other_coder)

    relations = compute_payload(project, AgreementFilters())["report"]["relations"]

    assert relations == [
        {
            "type": "claimed_by",
            "f1": 1.0,
            "tp": 1,
            "relations": 2,
            "unmatched_ends": 0,
            "reason": None,
        }
    ]


# --- filters ------------------------------------------------------------------------------------


def test_the_label_filter_keeps_only_those_labels(project, document, coder, other_coder):
    code_alike(document, coder, other_coder)
    submit(document, coder, other_coder)

    payload = compute_payload(project, AgreementFilters(labels=("ACTOR",)))

    assert counts(payload)["spans"] == 2
    assert [row["label"] for row in payload["report"]["labels"]] == ["ACTOR"]


def test_the_coder_filter_compares_only_the_chosen_coders(
    project, document, coder, other_coder, third_coder
):
    code_alike(document, coder, other_coder, third_coder)
    submit(document, coder, other_coder, third_coder)

    payload = compute_payload(project, AgreementFilters(coders=(coder.pk, third_coder.pk)))

    assert counts(payload)["coders"] == 2
    assert {c["username"] for c in payload["coders"]} == {"coder", "third_coder"}


def test_a_coder_filter_leaving_one_coder_of_a_document_drops_it(
    project, document, coder, other_coder
):
    code_alike(document, coder, other_coder)
    submit(document, coder, other_coder)

    payload = compute_payload(project, AgreementFilters(coders=(coder.pk,)))

    assert counts(payload)["documents_compared"] == 0


def test_the_document_filter_keeps_only_those_documents(
    project, document, second_document, coder, other_coder
):
    for doc in (document, second_document):
        code_alike(doc, coder, other_coder)
        submit(doc, coder, other_coder)

    payload = compute_payload(project, AgreementFilters(document_ids=(second_document.pk,)))

    assert counts(payload)["documents_compared"] == 1
    assert payload["report"]["documents"][0]["document"] == second_document.pk


def test_the_published_range_keeps_documents_published_within_it(
    project, document, second_document, coder, other_coder
):
    for doc in (document, second_document):
        code_alike(doc, coder, other_coder)
        submit(doc, coder, other_coder)
    march = AgreementFilters(published_from=dt.date(2024, 3, 1), published_to=dt.date(2024, 3, 31))

    payload = compute_payload(project, march)

    assert [d["document"] for d in payload["report"]["documents"]] == [second_document.pk]


def test_a_sample_draws_the_same_documents_for_the_same_seed(project, coder, other_coder):
    documents = [make_document(project, title=f"Doc {n}") for n in range(6)]
    for doc in documents:
        code_alike(doc, coder, other_coder)
        submit(doc, coder, other_coder)

    def sampled(seed):
        payload = compute_payload(project, AgreementFilters(sample=3, seed=seed))
        return sorted(d["document"] for d in payload["report"]["documents"])

    first = sampled(7)
    assert len(first) == 3
    assert sampled(7) == first
    assert any(sampled(seed) != first for seed in range(8, 20))


def test_the_codebook_version_filter_keeps_spans_of_that_version(
    project, document, coder, other_coder
):
    code_alike(document, coder, other_coder)
    submit(document, coder, other_coder)
    Annotation.objects.filter(coder=other_coder).update(codebook_version=2)

    assert (
        counts(compute_payload(project, AgreementFilters(codebook_version=1)))["documents_compared"]
        == 0
    )
    payload = compute_payload(project, AgreementFilters(codebook_version=2))
    assert counts(payload)["documents_compared"] == 0  # coder coded it under version 1 only
    Annotation.objects.filter(coder=coder).update(codebook_version=2)
    payload = compute_payload(project, AgreementFilters(codebook_version=2))
    assert counts(payload)["spans"] == 4


def test_filters_survive_a_round_trip_through_json():
    filters = AgreementFilters(
        labels=("SOURCE", "ACTOR"),
        coders=(3, 1),
        document_ids=(9,),
        published_from=dt.date(2024, 1, 1),
        sample=5,
        seed=2,
        codebook_version=3,
    )

    assert AgreementFilters.from_dict(filters.as_dict()) == filters
    assert filters.labels == ("ACTOR", "SOURCE")


# --- coders' names ------------------------------------------------------------------------------


def test_the_report_speaks_of_coders_by_pseudonym(project, document, coder, other_coder):
    make_span(document, coder, "Russian air strikes", label="ACTOR")
    submit(document, coder, other_coder)

    payload = compute_payload(project, AgreementFilters())
    reasons = " ".join(payload["report"]["documents"][0]["reasons"])

    assert "Coder" in reasons and "other_coder" not in reasons
    names = reports.coder_names(payload, show_names=True)
    assert "other_coder" in reports.named(reasons, names)
    hidden = reports.coder_names(payload, show_names=False)
    assert set(hidden.values()) == {"Coder A", "Coder B"}


def test_pseudonyms_run_past_z():
    assert [reports.pseudonym(n) for n in (0, 25, 26, 27)] == [
        "Coder A",
        "Coder Z",
        "Coder AA",
        "Coder AB",
    ]


def test_csv_rows_carry_names_and_counts(project, document, coder, other_coder):
    code_alike(document, coder, other_coder)
    submit(document, coder, other_coder)
    payload = compute_payload(project, AgreementFilters())

    rows = list(reports.csv_rows(payload, reports.coder_names(payload, show_names=True)))

    assert all(len(row) == len(reports.CSV_COLUMNS) for row in rows)
    pair = next(r for r in rows if r[0] == "pair" and r[6] == "exact_f1" and r[1] == "ACTOR")
    column = dict(zip(reports.CSV_COLUMNS, pair, strict=True))
    assert {column["coder"], column["other_coder"]} == {"coder", "other_coder"}
    assert (column["value"], column["tp"], column["spans_a"], column["spans_b"]) == ("1", 1, 1, 1)


# --- snapshots ----------------------------------------------------------------------------------


@pytest.fixture
def computations(monkeypatch):
    """Counts the report computations."""
    calls = []
    real = reports.compute_payload

    def counting(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(reports, "compute_payload", counting)
    return calls


@pytest.fixture
def coded(project, document, coder, other_coder):
    code_alike(document, coder, other_coder)
    submit(document, coder, other_coder)
    return document


def test_a_snapshot_is_reused_while_the_data_is_unchanged(project, coded, computations):
    first = snapshot_for(project, AgreementFilters())
    second = snapshot_for(project, AgreementFilters())

    assert first.is_ready and second.pk == first.pk
    assert len(computations) == 1


def test_other_filters_get_their_own_snapshot(project, coded, computations):
    snapshot_for(project, AgreementFilters())
    snapshot_for(project, AgreementFilters(labels=("ACTOR",)))

    assert len(computations) == 2


def test_a_changed_span_invalidates_the_snapshot(project, coded, coder, computations):
    first = snapshot_for(project, AgreementFilters())
    span = Annotation.objects.filter(coder=coder, label__name="ACTOR").get()
    span_update(annotation=span, coder=coder, version=span.version, label="SOURCE")

    second = snapshot_for(project, AgreementFilters())

    assert second.pk != first.pk
    assert second.payload["report"]["overall"]["exact_f1"]["mean"] == 0.5


def test_a_deleted_span_invalidates_the_snapshot(project, coded, coder, computations):
    first = snapshot_for(project, AgreementFilters())
    span = Annotation.objects.filter(coder=coder, label__name="ACTOR").get()
    span_delete(annotation=span, coder=coder, version=span.version)

    second = snapshot_for(project, AgreementFilters())

    assert second.pk != first.pk and len(computations) == 2
    assert second.payload["report"]["counts"]["spans"] == 3


def test_a_new_submission_invalidates_the_snapshot(project, coded, third_coder, computations):
    first = snapshot_for(project, AgreementFilters())
    submit(coded, third_coder)

    second = snapshot_for(project, AgreementFilters())

    assert second.pk != first.pk
    assert second.payload["report"]["counts"]["coders"] == 3


def test_a_codebook_change_invalidates_the_snapshot(project, coded, computations):
    first = snapshot_for(project, AgreementFilters())
    project.codebook_version += 1
    project.save(update_fields=["codebook_version"])

    assert snapshot_for(project, AgreementFilters()).pk != first.pk


def test_old_snapshots_are_pruned(project, coded, coder, monkeypatch):
    monkeypatch.setattr(reports, "KEEP_SNAPSHOTS", 2)
    for sample in range(1, 5):
        snapshot_for(project, AgreementFilters(sample=sample))

    assert AgreementSnapshot.objects.filter(project=project).count() == 2


def test_a_big_report_is_claimed_and_left_to_the_background(
    project, coded, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(reports, "SYNC_LIMIT_SPANS", 1)
    started = []
    monkeypatch.setattr(reports, "_compute_in_thread", started.append)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        snapshot = snapshot_for(project, AgreementFilters())

    assert snapshot.state == SnapshotState.COMPUTING and snapshot.payload is None
    assert len(callbacks) == 1
    # A second visit while it computes waits for the same row, and starts nothing.
    assert snapshot_for(project, AgreementFilters()).pk == snapshot.pk


def test_a_computation_running_for_older_data_is_awaited_not_repeated(
    project, coded, coder, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(reports, "SYNC_LIMIT_SPANS", 1)
    with django_capture_on_commit_callbacks(execute=False):
        running = snapshot_for(project, AgreementFilters())
    make_span(coded, coder, "ISIS terrorists", label="ACTOR")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        again = snapshot_for(project, AgreementFilters())

    assert again.pk == running.pk and not callbacks


def test_a_computing_row_left_by_a_dead_worker_is_taken_over(project, coded, monkeypatch):
    monkeypatch.setattr(reports, "SYNC_LIMIT_SPANS", 1)
    fingerprint = reports.data_fingerprint(project)
    key = reports.snapshot_key(project, AgreementFilters(), fingerprint)
    AgreementSnapshot.objects.create(
        project=project,
        key=key,
        filters_key=reports.filters_key(project, AgreementFilters()),
        created=timezone.now() - reports.STALE_AFTER - dt.timedelta(seconds=1),
    )

    snapshot = snapshot_for(project, AgreementFilters(), background=False)

    assert snapshot.is_ready and AgreementSnapshot.objects.get(key=key).is_ready


def test_without_background_a_report_being_computed_elsewhere_is_computed_here(
    project, coded, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(reports, "SYNC_LIMIT_SPANS", 1)
    with django_capture_on_commit_callbacks(execute=False):
        running = snapshot_for(project, AgreementFilters())

    snapshot = snapshot_for(project, AgreementFilters(), background=False)

    assert snapshot.is_ready and snapshot.pk is None
    running.refresh_from_db()
    assert running.is_computing


def test_a_failed_computation_is_recorded_with_its_error(project, coded, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(reports, "compute_payload", broken)

    snapshot = snapshot_for(project, AgreementFilters())

    assert snapshot.is_failed and "disk on fire" in snapshot.error


@pytest.mark.django_db(transaction=True)
def test_the_background_thread_stores_the_report(monkeypatch):
    from tests.factories import make_project

    manager = make_user("bg-manager")
    project = make_project(manager, name="Background")
    a, b = make_user("bg-a"), make_user("bg-b")
    for user in (a, b):
        add_member(project, user, Role.CODER)
    document = make_document(project)
    code_alike(document, a, b)
    submit(document, a, b)
    monkeypatch.setattr(reports, "SYNC_LIMIT_SPANS", 1)
    threads = []
    real_thread = threading.Thread

    def tracked(*args, **kwargs):
        thread = real_thread(*args, **kwargs)
        threads.append(thread)
        return thread

    monkeypatch.setattr(reports.threading, "Thread", tracked)

    snapshot = snapshot_for(project, AgreementFilters())
    assert snapshot.is_computing
    assert len(threads) == 1 and threads[0].daemon
    threads[0].join(timeout=30)

    snapshot.refresh_from_db()
    assert snapshot.is_ready, snapshot.error
    assert snapshot.payload["report"]["counts"]["documents_compared"] == 1


def test_documents_too_many_to_name_in_sql_are_filtered_while_streaming(
    project, document, second_document, coder, other_coder, third_coder, monkeypatch
):
    code_alike(document, coder, other_coder)
    code_alike(second_document, coder, other_coder, third_coder)
    make_relation(
        document,
        coder,
        make_span(document, coder, "2,359 ISIS terrorists", label="CASUALTY"),
        make_span(document, coder, "Russian ministry of defense", label="SOURCE"),
    )
    submit(document, coder, other_coder)
    submit(second_document, coder)
    expected = compute_payload(project, AgreementFilters())
    monkeypatch.setattr(reports, "IN_LIST_LIMIT", 0)

    payload = compute_payload(project, AgreementFilters())

    assert payload["report"] == expected["report"]
    assert counts(payload)["documents_compared"] == 1 and counts(payload)["relations"] == 1


def test_the_weekly_trend_gives_each_week_the_figures_of_that_weeks_report(
    project, coder, other_coder, third_coder
):
    monday = dt.datetime(2025, 3, 3, 10, tzinfo=dt.UTC)
    weeks = {}
    for n, when in enumerate(
        [monday, monday + dt.timedelta(days=1), monday + dt.timedelta(weeks=1)]
    ):
        doc = make_document(project, title=f"Doc {n}")
        code_alike(doc, coder, other_coder)
        make_span(doc, third_coder, "Russian air strikes", label="ACTOR")
        if n == 2:
            make_span(doc, other_coder, "ISIS terrorists", label="ACTOR")
        submit(doc, coder, other_coder, third_coder, when=when)
        weeks.setdefault(reports.iso_week(when), []).append(doc.pk)

    trend = compute_payload(project, AgreementFilters())["trend"]

    assert [point["week"] for point in trend] == ["2025-W10", "2025-W11"]
    for point in trend:
        alone = compute_payload(project, AgreementFilters(document_ids=tuple(weeks[point["week"]])))
        overall = alone["report"]["overall"]
        assert point["documents"] == len(weeks[point["week"]])
        assert point["spans"] == overall["spans"]
        assert point["coders"] == 3
        for measure in ("exact_f1", "overlap_f1", "alpha_u"):
            expected = {k: v for k, v in overall[measure].items() if k != "per_pair"}
            assert point[measure] == pytest.approx(expected), measure


def test_a_single_week_trend_is_the_report_itself(project, coded):
    payload = compute_payload(project, AgreementFilters())

    (point,) = payload["trend"]
    assert point["overlap_f1"]["mean"] == payload["report"]["overall"]["overlap_f1"]["mean"]
