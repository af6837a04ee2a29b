"""GET /api/v1/projects/{id}/agreement/: the report as JSON, for managers and adjudicators."""

from __future__ import annotations

import pytest
from django.utils import timezone

from annotator import reports
from annotator.models import Assignment, Document
from annotator.services import gold
from tests.api.helpers import make_span
from tests.factories import quote_span


@pytest.fixture
def coded(project, document, coder, other_coder):
    for who in (coder, other_coder):
        make_span(document, who, "Russian air strikes", label="ACTOR")
        Assignment.objects.create(
            project=project,
            document=document,
            coder=who,
            state="submitted",
            submitted_at=timezone.now(),
        )
    make_span(document, other_coder, "Syria", label="LOCATION")
    return document


def url(project, query=""):
    return f"/api/v1/projects/{project.pk}/agreement/{query}"


def test_manager_gets_the_report(api_as, manager, project, coded):
    response = api_as(manager).get(url(project))

    assert response.status_code == 200
    data = response.json()
    assert data["mode"] == "submitted"
    assert data["report"]["counts"]["documents_compared"] == 1
    assert data["report"]["overall"]["exact_f1"]["mean"] == pytest.approx(2 / 3)
    assert {c["name"] for c in data["coders"]} == {"coder", "other_coder"}


def test_adjudicator_gets_the_report(api_as, adjudicator, project, coded):
    assert api_as(adjudicator).get(url(project)).status_code == 200


def test_coder_gets_404(api_as, coder, project, coded):
    assert api_as(coder).get(url(project)).status_code == 404


def test_outsider_gets_404(api_as, outsider, project, coded):
    assert api_as(outsider).get(url(project)).status_code == 404


def test_anonymous_client_is_refused(api_as, project):
    assert api_as().get(url(project)).status_code in (401, 403)


def test_filters_are_query_parameters(api_as, manager, project, coded):
    data = api_as(manager).get(url(project, "?label=ACTOR")).json()

    assert data["filters"]["labels"] == ["ACTOR"]
    assert data["report"]["overall"]["exact_f1"]["mean"] == 1.0


def test_repeated_coder_parameters_select_coders(api_as, manager, project, coded, coder):
    data = api_as(manager).get(url(project, f"?coder={coder.pk}")).json()

    assert data["report"]["counts"]["documents_compared"] == 0
    assert data["reason"]


@pytest.mark.parametrize(
    "query, field",
    [
        ("?label=NOPE", "label"),
        ("?published_from=2024-05-01&published_to=2024-01-01", "published_to"),
        ("?documents=1,x", "documents"),
        ("?sample=0", "sample"),
    ],
)
def test_bad_filters_are_400_naming_the_parameter(api_as, manager, project, query, field):
    response = api_as(manager).get(url(project, query))

    assert response.status_code == 400
    assert field in response.json()


def test_names_are_hidden_from_adjudicators_when_the_project_hides_them(
    api_as, adjudicator, project, coded
):
    project.hide_coder_names = True
    project.save(update_fields=["hide_coder_names"])

    data = api_as(adjudicator).get(url(project)).json()

    assert [(c["name"], c["id"]) for c in data["coders"]] == [("Coder A", None), ("Coder B", None)]


def _adjudicate(document, adjudicator):
    """Gold: the actor both coders marked, and "Syria" (other_coder's LOCATION)."""
    for quote, label in (("Russian air strikes", "ACTOR"), ("Syria", "LOCATION")):
        gold.gold_add(
            adjudicator=adjudicator, document=document, label=label, **quote_span(document, quote)
        )
    Document.objects.filter(pk=document.pk).update(adjudicated_at=timezone.now())


def test_the_report_gives_each_coder_against_the_gold_to_those_who_see_names(
    api_as, manager, adjudicator, project, coded
):
    _adjudicate(coded, adjudicator)

    gold_part = api_as(manager).get(url(project)).json()["gold"]

    assert gold_part["documents"] == 1 and gold_part["reason"] is None
    overall = {c["username"]: c["rows"][0] for c in gold_part["coders"]}
    assert overall["coder"]["label"] is None
    assert overall["coder"]["exact"] == {
        "precision": 1.0,
        "recall": 0.5,
        "f1": pytest.approx(2 / 3),
        "tp": 1,
        "n_reference": 2,
        "n_predicted": 1,
    }
    assert overall["other_coder"]["exact"]["f1"] == 1.0


def test_without_gold_the_api_says_why(api_as, manager, project, coded):
    gold_part = api_as(manager).get(url(project)).json()["gold"]

    assert gold_part == {"documents": 0, "reason": reports.GOLD_NONE_YET, "coders": []}


def test_adjudicators_who_may_not_see_names_get_no_gold_part(api_as, adjudicator, project, coded):
    _adjudicate(coded, adjudicator)
    project.hide_coder_names = True
    project.save(update_fields=["hide_coder_names"])

    assert api_as(adjudicator).get(url(project)).json()["gold"] is None
