"""The gold layer over the API (annotator/api/gold.py): managers and adjudicators only, the
same services and messages as the screen."""

from __future__ import annotations

import pytest

from annotator.models import GoldSpan
from annotator.services import gold
from tests.api.helpers import make_relation, make_span
from tests.factories import assign, quote_span


@pytest.fixture
def ready(document, coder, other_coder):
    for who in (coder, other_coder):
        assign(document, who, "submitted")
    return document


def gold_url(document, action: str = "") -> str:
    return f"/api/v1/documents/{document.pk}/gold/{action}"


@pytest.fixture
def gold_rows(ready, adjudicator):
    claim = gold.gold_add(
        adjudicator=adjudicator,
        document=ready,
        label="CASUALTY",
        **quote_span(ready, "2,359 ISIS terrorists"),
    )
    source = gold.gold_add(
        adjudicator=adjudicator,
        document=ready,
        label="SOURCE",
        **quote_span(ready, "Russian ministry of defense"),
    )
    link = gold.gold_relation_add(
        adjudicator=adjudicator,
        document=ready,
        type="claimed_by",
        source_id=claim.pk,
        target_id=source.pk,
    )
    return claim, link


def test_a_coder_gets_404_from_every_gold_route(api_as, coder, ready, gold_rows):
    claim, link = gold_rows
    client = api_as(coder)
    d = ready.pk
    routes = [
        ("get", f"/api/v1/documents/{d}/gold/"),
        *(
            ("post", f"/api/v1/documents/{d}/{path}")
            for path in (
                "gold/accept/",
                "gold/accept-agreed/",
                "gold/accept-majority/",
                "gold/add/",
                "gold/reject/",
                "gold/relations/",
                "gold/relations/accept/",
                "adjudication/start/",
                "adjudication/complete/",
                "adjudication/reopen/",
            )
        ),
        ("post", f"/api/v1/gold/spans/{claim.pk}/edit/"),
        ("post", f"/api/v1/gold/spans/{claim.pk}/delete/"),
        ("post", f"/api/v1/gold/relations/{link.pk}/delete/"),
    ]

    for method, url in routes:
        assert getattr(client, method)(url, {}).status_code == 404, url
    assert GoldSpan.objects.alive().count() == 2


def test_an_outsider_gets_404_from_the_gold(api_as, outsider, ready):
    assert api_as(outsider).get(gold_url(ready)).status_code == 404


def test_an_anonymous_client_must_authenticate(api_as, ready):
    assert api_as().get(gold_url(ready)).status_code in (401, 403)


def test_the_gold_comes_with_its_provenance(api_as, adjudicator, ready, coder, other_coder):
    mine = make_span(ready, coder, "Syria", label="LOCATION")
    theirs = make_span(ready, other_coder, "Syria", label="LOCATION")
    gold.gold_accept(
        adjudicator=adjudicator, document=ready, annotation_ids=[mine.pk], note="agreed"
    )

    body = api_as(adjudicator).get(gold_url(ready)).json()

    assert body["state"] == "in_progress"
    [span] = body["spans"]
    assert (span["label"], span["text"], span["origin"], span["note"]) == (
        "LOCATION",
        "Syria",
        "accepted",
        "agreed",
    )
    assert span["source_annotations"] == [
        {"id": mine.pk, "coder": "coder"},
        {"id": theirs.pk, "coder": "other_coder"},
    ]


def test_provenance_names_coders_by_pseudonym_when_names_are_hidden(
    api_as, adjudicator, ready, coder, other_coder
):
    ready.project.hide_coder_names = True
    ready.project.save()
    mine = make_span(ready, coder, "Syria", label="LOCATION")
    gold.gold_accept(adjudicator=adjudicator, document=ready, annotation_ids=[mine.pk])

    [span] = api_as(adjudicator).get(gold_url(ready)).json()["spans"]

    assert span["source_annotations"] == [{"id": mine.pk, "coder": "Coder A"}]


def test_accept_through_the_api_brings_the_span_and_its_link(
    api_as, adjudicator, ready, coder, other_coder
):
    claim = make_span(ready, coder, "2,359 ISIS terrorists", label="CASUALTY")
    source = make_span(ready, coder, "Russian ministry of defense", label="SOURCE")
    make_relation(ready, coder, claim, source)
    client = api_as(adjudicator)

    response = client.post(
        gold_url(ready, "accept/"), {"annotations": [claim.pk, source.pk], "note": "both"}
    )

    assert response.status_code == 201, response.json()
    assert [s["text"] for s in response.json()] == [
        "2,359 ISIS terrorists",
        "Russian ministry of defense",
    ]
    [relation] = client.get(gold_url(ready)).json()["relations"]
    assert relation["type"] == "claimed_by"


def test_a_refused_accept_is_a_400_with_the_services_message(api_as, adjudicator, document, coder):
    assign(document, coder, "submitted")
    span = make_span(document, coder, "Syria", label="LOCATION")

    response = api_as(adjudicator).post(gold_url(document, "accept/"), {"annotations": [span.pk]})

    assert response.status_code == 400
    assert response.json() == {"document": [gold.NOT_READY.format(submitted=1, k=2)]}


def test_add_refuses_a_quote_that_is_not_the_text(api_as, adjudicator, ready):
    response = api_as(adjudicator).post(
        gold_url(ready, "add/"), {"label": "LOCATION", "start": 23, "end": 28, "text": "Syrja"}
    )

    assert response.status_code == 400
    assert "text" in response.json()


def test_a_stale_edit_is_a_409_with_the_current_version(api_as, adjudicator, ready):
    span = gold.gold_add(
        adjudicator=adjudicator, document=ready, label="LOCATION", **quote_span(ready, "Syria")
    )
    client = api_as(adjudicator)
    assert (
        client.post(
            f"/api/v1/gold/spans/{span.pk}/edit/", {"version": 1, "note": "one"}
        ).status_code
        == 200
    )

    response = client.post(f"/api/v1/gold/spans/{span.pk}/edit/", {"version": 1, "note": "two"})

    assert response.status_code == 409
    assert response.json()["current_version"] == 2
    assert GoldSpan.objects.get(pk=span.pk).note == "one"


def test_reject_through_the_api_records_the_decision(
    api_as, adjudicator, ready, coder, other_coder
):
    span = make_span(ready, coder, "war-torn country", label="LOCATION")

    response = api_as(adjudicator).post(
        gold_url(ready, "reject/"), {"annotations": [span.pk], "note": "vague"}
    )

    assert response.status_code == 201
    assert (response.json()["annotations"], response.json()["note"]) == ([span.pk], "vague")


def test_accept_majority_through_the_api(api_as, adjudicator, ready, coder, other_coder):
    for who in (coder, other_coder):
        make_span(ready, who, "Syria", label="LOCATION")

    response = api_as(adjudicator).post(gold_url(ready, "accept-majority/"), {"threshold": "1"})

    assert response.status_code == 201
    assert [s["text"] for s in response.json()] == ["Syria"]


def test_complete_through_the_api_makes_the_document_adjudicated(api_as, adjudicator, ready):
    response = api_as(adjudicator).post(f"/api/v1/documents/{ready.pk}/adjudication/complete/")

    assert response.status_code == 200
    assert response.json()["state"] == "adjudicated"


def test_complete_is_refused_while_a_unit_is_open(api_as, adjudicator, ready, coder):
    make_span(ready, coder, "Syria", label="LOCATION")

    response = api_as(adjudicator).post(f"/api/v1/documents/{ready.pk}/adjudication/complete/")

    assert response.status_code == 400
    assert response.json() == {"document": [gold.UNITS_OPEN.format(count=1)]}


def test_a_manager_reads_the_gold_too(api_as, manager, ready):
    assert api_as(manager).get(gold_url(ready)).status_code == 200


def test_reading_the_gold_costs_the_same_for_any_number_of_spans(
    api_as, adjudicator, ready, coder, django_assert_max_num_queries
):
    for phrase, label in (
        ("Russian", "ACTOR"),
        ("Syria", "LOCATION"),
        ("September 19-29", "DATE"),
        ("2,359 ISIS terrorists", "CASUALTY"),
    ):
        span = make_span(ready, coder, phrase, label=label)
        gold.gold_accept(adjudicator=adjudicator, document=ready, annotation_ids=[span.pk])
    client = api_as(adjudicator)

    with django_assert_max_num_queries(12):
        response = client.get(gold_url(ready))

    assert len(response.json()["spans"]) == 4
