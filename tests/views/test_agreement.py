"""The agreement page, its exports and the side-by-side comparison of one document."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.utils import timezone

from annotator import reports
from annotator.models import AgreementSnapshot, Assignment, Document, SnapshotState
from annotator.reports import AgreementFilters
from annotator.services import gold
from tests.api.helpers import make_span
from tests.factories import quote_span


def submit(document, *coders):
    for coder in coders:
        Assignment.objects.create(
            project=document.project,
            document=document,
            coder=coder,
            state="submitted",
            submitted_at=timezone.now(),
        )


@pytest.fixture
def disagreeing(project, document, coder, other_coder):
    """Both coders submitted the article; they agree on the actor, not on the source."""
    for who in (coder, other_coder):
        make_span(document, who, "Russian air strikes", label="ACTOR")
    make_span(document, coder, "Russian ministry of defense", label="SOURCE")
    make_span(document, other_coder, "Russian ministry", label="SOURCE")
    make_span(document, other_coder, "ISIS terrorists", label="ACTOR")
    submit(document, coder, other_coder)
    return document


def _label_table(body: str) -> str:
    start = body.index('id="h-labels"')
    return body[start : body.index("</table>", start)]


def page(project, query=""):
    return f"/projects/{project.pk}/agreement/{query}"


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def adjudicator_client(client, adjudicator):
    client.force_login(adjudicator)
    return client


# --- who may see it -------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["", "export.csv", "export.json", "documents/{document}/"])
def test_coder_gets_404_on_the_report_its_exports_and_comparisons(
    coder_client, project, disagreeing, suffix
):
    url = page(project, suffix.format(document=disagreeing.pk))

    assert coder_client.get(url).status_code == 404


@pytest.mark.parametrize("suffix", ["", "export.csv", "documents/{document}/"])
def test_outsider_gets_404(client, outsider, project, disagreeing, suffix):
    client.force_login(outsider)

    assert client.get(page(project, suffix.format(document=disagreeing.pk))).status_code == 404


def test_anonymous_visitor_is_sent_to_log_in(client, project):
    response = client.get(page(project))

    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_comparison_of_another_projects_document_is_404(manager_client, project, outsider):
    from annotator.models import Document

    other = Document.objects.exclude(project=project).first()
    if other is None:
        from tests.factories import make_document, make_project

        other = make_document(make_project(name="Elsewhere"))

    assert manager_client.get(page(project, f"documents/{other.pk}/")).status_code == 404


def test_project_page_links_managers_to_the_report(manager_client, project):
    body = manager_client.get(f"/projects/{project.pk}/").content.decode()

    assert f'href="/projects/{project.pk}/agreement/"' in body


def test_project_page_does_not_link_coders_to_the_report(coder_client, project):
    body = coder_client.get(f"/projects/{project.pk}/").content.decode()

    assert "/agreement/" not in body


# --- the page -------------------------------------------------------------------------------------


def test_manager_sees_the_report_with_names(manager_client, project, disagreeing):
    response = manager_client.get(page(project))

    assert response.status_code == 200
    body = response.content.decode()
    for section in (
        "Per label",
        "Coder × coder",
        "Label confusion",
        "Attributes of matched",
        "Links",
        "Documents by disagreement",
        "Each coder against the others",
        "Weekly trend",
    ):
        assert section in body, section
    assert "<svg" in body and 'class="heat-' in body
    assert "other_coder" in body
    assert f"/projects/{project.pk}/agreement/documents/{disagreeing.pk}/" in body


def test_the_page_has_no_inline_styles_or_scripts(manager_client, project, disagreeing):
    body = manager_client.get(page(project)).content.decode()

    assert " style=" not in body and "<style" not in body
    assert "<script>" not in body and " onclick=" not in body


def test_undefined_figures_show_n_a_with_the_reason(manager_client, project, disagreeing):
    body = manager_client.get(page(project)).content.decode()

    # Nobody used DATE: its figures are undefined, and the page says why.
    assert "n/a" in body
    assert "neither coder marked a span with this label" in body


def test_adjudicator_sees_pseudonyms_when_the_project_hides_names(
    adjudicator_client, project, disagreeing
):
    project.hide_coder_names = True
    project.save(update_fields=["hide_coder_names"])

    body = adjudicator_client.get(page(project)).content.decode()

    assert "Coder A" in body and "Coder B" in body
    assert "other_coder" not in body


def test_manager_sees_names_even_when_the_project_hides_them(manager_client, project, disagreeing):
    project.hide_coder_names = True
    project.save(update_fields=["hide_coder_names"])

    assert "other_coder" in manager_client.get(page(project)).content.decode()


def test_filters_from_the_query_string_apply(manager_client, project, disagreeing):
    body = manager_client.get(page(project, "?label=SOURCE")).content.decode()

    assert "export.csv?label=SOURCE" in body
    assert re.search(r'<input type="checkbox" name="label" value="SOURCE"[^>]* checked', body)
    assert "SOURCE" in _label_table(body) and "ACTOR" not in _label_table(body)


def test_invalid_filters_are_shown_with_the_form(manager_client, project, disagreeing):
    response = manager_client.get(
        page(project, "?published_from=2024-05-01&published_to=2024-01-01")
    )

    assert response.status_code == 200
    body = response.content.decode()
    assert "The range ends before it starts." in body
    assert not AgreementSnapshot.objects.exists()


def test_with_a_snapshot_the_page_costs_a_bounded_number_of_queries(
    manager_client, project, disagreeing, django_assert_max_num_queries
):
    manager_client.get(page(project))  # computes and stores the snapshot

    with django_assert_max_num_queries(14):
        response = manager_client.get(page(project))

    assert response.status_code == 200


# --- computing in the background ------------------------------------------------------------------


@pytest.fixture
def computing(project, disagreeing, monkeypatch, django_capture_on_commit_callbacks):
    """A big report: claimed, left to a background thread that has not finished yet."""
    monkeypatch.setattr(reports, "SYNC_LIMIT_SPANS", 1)
    monkeypatch.setattr(reports, "_compute_in_thread", lambda snapshot_id: None)
    with django_capture_on_commit_callbacks(execute=True):
        return reports.snapshot_for(project, AgreementFilters())


def test_while_a_big_report_computes_the_page_polls(manager_client, project, computing):
    body = manager_client.get(page(project)).content.decode()

    assert "Computing the report since" in body
    assert 'hx-trigger="every 2s"' in body
    assert f"snapshot={computing.pk}" in body


def test_a_poll_while_computing_returns_the_status_line_only(manager_client, project, computing):
    response = manager_client.get(
        page(project, f"?snapshot={computing.pk}"), headers={"HX-Request": "true"}
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert body.strip().startswith('<div id="report-status"')
    assert 'hx-trigger="every 2s"' in body and "Per label" not in body


def test_a_poll_after_the_computation_swaps_the_report_in(manager_client, project, computing):
    reports.compute_snapshot(computing.pk)

    response = manager_client.get(
        page(project, f"?snapshot={computing.pk}"), headers={"HX-Request": "true"}
    )

    body = response.content.decode()
    assert 'id="report" class="ag-report" hx-swap-oob="true"' in body
    assert "Per label" in body and "hx-trigger" not in body


def test_a_poll_for_another_projects_snapshot_is_404(manager_client, project, computing):
    from tests.factories import make_project

    other = make_project(name="Elsewhere")
    stray = AgreementSnapshot.objects.create(
        project=other, key="x", filters_key="y", created=timezone.now()
    )

    response = manager_client.get(
        page(project, f"?snapshot={stray.pk}"), headers={"HX-Request": "true"}
    )

    assert response.status_code == 404


def test_a_failed_report_says_why(manager_client, project, disagreeing):
    fingerprint = reports.data_fingerprint(project)
    AgreementSnapshot.objects.create(
        project=project,
        key=reports.snapshot_key(project, AgreementFilters(), fingerprint),
        filters_key=reports.filters_key(project, AgreementFilters()),
        state=SnapshotState.FAILED,
        error="RuntimeError: out of memory",
        created=timezone.now(),
    )

    body = manager_client.get(page(project)).content.decode()

    assert "could not be computed: RuntimeError: out of memory" in body


# --- exports --------------------------------------------------------------------------------------


def test_csv_export_has_a_row_per_figure_with_its_counts(manager_client, project, disagreeing):
    response = manager_client.get(page(project, "export.csv"))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    overall = next(
        r
        for r in rows
        if r["section"] == "label" and r["label"] == "(all labels)" and r["measure"] == "exact_f1"
    )
    assert overall["pairs"] == "1" and overall["n"] == "5"
    assert any(r["coder"] == "other_coder" for r in rows)


def test_json_export_applies_the_same_filters(manager_client, project, disagreeing):
    response = manager_client.get(page(project, "export.json?label=ACTOR"))

    assert response.status_code == 200
    data = response.json()
    assert data["filters"]["labels"] == ["ACTOR"]
    assert [row["label"] for row in data["report"]["labels"]] == ["ACTOR"]
    assert {c["name"] for c in data["coders"]} == {"coder", "other_coder"}


def test_json_export_hides_names_from_adjudicators_when_the_project_does(
    adjudicator_client, project, disagreeing
):
    project.hide_coder_names = True
    project.save(update_fields=["hide_coder_names"])

    data = adjudicator_client.get(page(project, "export.json")).json()

    assert {(c["name"], c["id"]) for c in data["coders"]} == {("Coder A", None), ("Coder B", None)}
    assert "other_coder" not in str(data)


def test_export_with_bad_filters_is_400(manager_client, project, disagreeing):
    response = manager_client.get(page(project, "export.json?label=NOPE"))

    assert response.status_code == 400
    assert "label" in response.json()["errors"]


# --- one document side by side --------------------------------------------------------------------


def test_comparison_shows_each_coders_version_in_a_column(manager_client, project, disagreeing):
    response = manager_client.get(page(project, f"documents/{disagreeing.pk}/"))

    assert response.status_code == 200
    body = response.content.decode()
    assert body.count('class="ag-column"') == 2
    assert "coder" in body and "other_coder" in body
    assert body.count('<mark class="ann') >= 5
    assert "ministry of defense" in body


def test_comparison_hides_names_from_adjudicators_when_the_project_does(
    adjudicator_client, project, disagreeing
):
    project.hide_coder_names = True
    project.save(update_fields=["hide_coder_names"])

    body = adjudicator_client.get(page(project, f"documents/{disagreeing.pk}/")).content.decode()

    assert "Coder A" in body and "other_coder" not in body


def test_comparison_leaves_out_coders_who_have_not_submitted(
    manager_client, project, disagreeing, adjudicator
):
    from annotator.models import Role
    from tests.factories import add_member, make_user

    late = make_user("late_coder")
    add_member(project, late, Role.CODER)
    make_span(disagreeing, late, "Syria", label="LOCATION")

    body = manager_client.get(page(project, f"documents/{disagreeing.pk}/")).content.decode()

    assert "late_coder" not in body


def test_the_comparison_costs_a_bounded_number_of_queries(
    manager_client, project, disagreeing, coder, django_assert_max_num_queries
):
    for phrase in ("Syria", "September 19-29", "ISIS terrorists"):
        make_span(disagreeing, coder, phrase, label="LOCATION")
    manager_client.get(page(project, f"documents/{disagreeing.pk}/"))  # codebook: warm

    with django_assert_max_num_queries(14):
        response = manager_client.get(page(project, f"documents/{disagreeing.pk}/"))

    assert response.status_code == 200


def test_a_project_with_nothing_coded_says_so(manager_client, project):
    response = manager_client.get(page(project))

    assert response.status_code == 200
    body = response.content.decode()
    assert f"No figures: {reports.NOT_TWO_CODERS_WITHOUT_ASSIGNMENTS}." in body
    assert "Coder × coder" not in body


# --- each coder against the gold ------------------------------------------------------------------


@pytest.fixture
def adjudicated(disagreeing, adjudicator):
    """The gold: the actor and the full source (coder got both; other_coder matched the actor
    exactly, the source by overlap only, and added an actor the gold does not have)."""
    for quote, label in (
        ("Russian air strikes", "ACTOR"),
        ("Russian ministry of defense", "SOURCE"),
    ):
        gold.gold_add(
            adjudicator=adjudicator,
            document=disagreeing,
            label=label,
            **quote_span(disagreeing, quote),
        )
    Document.objects.filter(pk=disagreeing.pk).update(adjudicated_at=timezone.now())
    return disagreeing


def _gold_section(body: str) -> str:
    start = body.index('id="against-gold"')
    return body[start : body.index("</section>", start)]


def test_manager_sees_each_coder_against_the_gold_with_the_counts(
    manager_client, project, adjudicated
):
    section = _gold_section(manager_client.get(page(project)).content.decode())

    assert "Over <strong>1</strong> adjudicated document." in section
    coder_rows = section[section.index(">coder<") : section.index(">other_coder<")]
    other_rows = section[section.index(">other_coder<") :]
    assert "2 exact / 2 overlap of 2 theirs, 2 gold" in coder_rows and "1.00" in coder_rows
    # other_coder: 1 of 3 exact (P 0.33, R 0.50, F1 0.40); 2 by overlap.
    assert "1 exact / 2 overlap of 3 theirs, 2 gold" in other_rows
    assert "0.33" in other_rows and "0.50" in other_rows and "0.40" in other_rows


def test_a_label_no_gold_span_has_shows_n_a_with_the_reason(manager_client, project, adjudicated):
    section = _gold_section(manager_client.get(page(project, "?label=ACTOR")).content.decode())

    assert ">SOURCE<" not in section  # the label filter applies
    # other_coder's extra ACTOR span: precision below 1, recall defined.
    assert "1 exact / 1 overlap of 2 theirs, 1 gold" in section


def test_without_adjudicated_documents_the_gold_section_says_n_a_and_why(
    manager_client, project, disagreeing
):
    section = _gold_section(manager_client.get(page(project)).content.decode())

    assert "n/a" in section and reports.GOLD_NONE_YET in section


def test_when_no_chosen_document_is_adjudicated_the_reason_says_so(
    manager_client, project, adjudicated
):
    body = manager_client.get(page(project, "?published_from=2030-01-01")).content.decode()

    assert reports.GOLD_NONE_CHOSEN in _gold_section(body)


def test_adjudicator_who_may_not_see_names_gets_no_gold_section(
    adjudicator_client, project, adjudicated
):
    project.hide_coder_names = True
    project.save(update_fields=["hide_coder_names"])

    body = adjudicator_client.get(page(project)).content.decode()

    assert "Per label" in body and 'id="against-gold"' not in body
    data = adjudicator_client.get(page(project, "export.json")).json()
    assert data["gold"] is None
    rows = list(
        csv.DictReader(
            io.StringIO(adjudicator_client.get(page(project, "export.csv")).content.decode())
        )
    )
    assert not any(r["section"] == "gold" for r in rows)


def test_adjudicator_who_may_see_names_gets_the_gold_section(
    adjudicator_client, project, adjudicated
):
    assert 'id="against-gold"' in adjudicator_client.get(page(project)).content.decode()


def test_exports_carry_each_coder_against_the_gold(manager_client, project, adjudicated):
    data = manager_client.get(page(project, "export.json")).json()
    rows = list(
        csv.DictReader(
            io.StringIO(manager_client.get(page(project, "export.csv")).content.decode())
        )
    )

    other = next(c for c in data["gold"]["coders"] if c["username"] == "other_coder")
    overall = other["rows"][0]
    assert overall["label"] is None and overall["exact"]["tp"] == 1
    assert (overall["exact"]["n_predicted"], overall["exact"]["n_reference"]) == (3, 2)
    f1 = next(
        r
        for r in rows
        if r["section"] == "gold"
        and r["coder"] == "other_coder"
        and r["label"] == "(all labels)"
        and r["measure"] == "exact_f1"
    )
    assert (f1["value"], f1["tp"], f1["spans_a"], f1["spans_b"]) == ("0.4", "1", "3", "2")
