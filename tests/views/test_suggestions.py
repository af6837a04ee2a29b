"""Suggested spans on the coding screen: off by default, per coder, never annotations."""

import json
import re

import pytest

from annotator.models import Annotation, SuggestionRejection
from annotator.services import span_create
from annotator.services.projects import project_update
from tests.factories import make_document, quote_span

HX = {"HX-Request": "true"}


@pytest.fixture
def suggesting(project, manager):
    return project_update(project=project, user=manager, suggestions_enabled=True)


def _screen(client, document) -> str:
    response = client.get(f"/documents/{document.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def _config(html: str) -> dict:
    found = re.search(r'<script id="coding-config" type="application/json">(.*?)</script>', html)
    return json.loads(found.group(1))


def _suggested_keys(html: str) -> set[str]:
    return set(re.findall(r'<mark class="sug [^"]*" data-o="\d+" data-sug="([^"]+)"', html))


def test_suggestions_are_off_by_default_and_the_screen_has_none(coder_client, document):
    html = _screen(coder_client, document)
    assert 'class="sug' not in html
    assert "sug-legend" not in html
    assert "suggestions" not in _config(html)


def test_with_suggestions_on_the_coder_sees_dashed_suggestions_and_a_legend(
    coder_client, document, suggesting
):
    html = _screen(coder_client, document)
    syria = quote_span(document, "Syria")
    claim = quote_span(document, "2,359 ISIS terrorists")
    keys = _suggested_keys(html)
    assert f"{syria['start']}-{syria['end']}-LOCATION" in keys
    assert f"{claim['start']}-{claim['end']}-CASUALTY" in keys
    assert 'id="sug-legend"' in html
    config = _config(html)
    location = next(s for s in config["suggestions"] if s["label"] == "LOCATION")
    assert location["attributes"] == {"loc_type": "country", "geo_precision": 5}
    assert location["candidates"][0]["name"] == "Syria"


def test_suggestions_are_not_annotations(coder_client, document, suggesting, coder):
    _screen(coder_client, document)
    assert not Annotation.objects.filter(document=document).exists()


def test_the_coders_own_span_hides_an_overlapping_suggestion(
    coder_client, document, suggesting, coder
):
    span_create(document=document, coder=coder, label="ACTOR", **quote_span(document, "ISIS"))
    claim = quote_span(document, "2,359 ISIS terrorists")
    assert f"{claim['start']}-{claim['end']}-CASUALTY" not in _suggested_keys(
        _screen(coder_client, document)
    )


def test_another_coders_span_and_rejection_change_nothing_for_the_coder(
    coder_client, document, suggesting, other_coder
):
    claim = quote_span(document, "2,359 ISIS terrorists")
    span_create(document=document, coder=other_coder, label="CASUALTY", **claim)
    syria = quote_span(document, "Syria")
    SuggestionRejection.objects.create(
        document=document,
        coder=other_coder,
        start=syria["start"],
        end=syria["end"],
        label="LOCATION",
    )
    keys = _suggested_keys(_screen(coder_client, document))
    assert f"{claim['start']}-{claim['end']}-CASUALTY" in keys
    assert f"{syria['start']}-{syria['end']}-LOCATION" in keys


def test_a_rejected_suggestion_is_gone_after_reload(coder_client, document, suggesting, coder):
    syria = quote_span(document, "Syria")
    key = f"{syria['start']}-{syria['end']}-LOCATION"
    response = coder_client.post(
        f"/documents/{document.pk}/suggestions/reject/",
        {"start": syria["start"], "end": syria["end"], "label": "LOCATION"},
        headers=HX,
    )
    assert response.status_code == 200, response.content.decode()
    body = response.content.decode()
    assert 'data-saved="suggestion-rejected"' in body and 'hx-swap-oob="true"' in body
    assert key not in _suggested_keys(body)
    html = _screen(coder_client, document)
    assert key not in _suggested_keys(html)
    assert key not in {s["key"] for s in _config(html)["suggestions"]}
    assert SuggestionRejection.objects.filter(coder=coder).count() == 1


def test_rejecting_twice_keeps_one_rejection(coder_client, document, suggesting, coder):
    syria = quote_span(document, "Syria")
    data = {"start": syria["start"], "end": syria["end"], "label": "LOCATION"}
    url = f"/documents/{document.pk}/suggestions/reject/"
    assert coder_client.post(url, data, headers=HX).status_code == 200
    assert coder_client.post(url, data, headers=HX).status_code == 200
    assert SuggestionRejection.objects.filter(coder=coder).count() == 1


def test_rejecting_something_that_is_not_a_suggestion_is_refused(
    coder_client, document, suggesting
):
    response = coder_client.post(
        f"/documents/{document.pk}/suggestions/reject/",
        {"start": 0, "end": 3, "label": "LOCATION"},
        headers=HX,
    )
    assert response.status_code == 422
    assert "there is no LOCATION suggestion at [0, 3)" in response.content.decode()
    assert not SuggestionRejection.objects.exists()


def test_rejecting_is_refused_when_suggestions_are_off(coder_client, document):
    syria = quote_span(document, "Syria")
    response = coder_client.post(
        f"/documents/{document.pk}/suggestions/reject/",
        {"start": syria["start"], "end": syria["end"], "label": "LOCATION"},
        headers=HX,
    )
    assert response.status_code == 422
    assert not SuggestionRejection.objects.exists()


def test_an_outsider_cannot_reject_suggestions_of_another_project(
    client, outsider, document, suggesting
):
    client.force_login(outsider)
    syria = quote_span(document, "Syria")
    response = client.post(
        f"/documents/{document.pk}/suggestions/reject/",
        {"start": syria["start"], "end": syria["end"], "label": "LOCATION"},
        headers=HX,
    )
    assert response.status_code == 404
    assert not SuggestionRejection.objects.exists()


def test_accepting_is_an_ordinary_span_create_and_the_suggestion_goes(
    coder_client, document, suggesting, coder
):
    syria = quote_span(document, "Syria")
    response = coder_client.post(
        f"/documents/{document.pk}/spans/",
        {
            "label": "LOCATION",
            **syria,
            "client_id": "sug-1",
            "attributes": json.dumps({"loc_type": "country", "geo_precision": 5}),
        },
        headers=HX,
    )
    assert response.status_code == 201, response.content.decode()
    span = Annotation.objects.get(document=document, coder=coder)
    assert (span.start, span.end, span.attributes["loc_type"]) == (
        syria["start"],
        syria["end"],
        "country",
    )
    assert f"{syria['start']}-{syria['end']}-LOCATION" not in _suggested_keys(
        response.content.decode()
    )


def test_the_span_panel_lists_the_places_a_location_may_name(
    coder_client, project, suggesting, coder
):
    document = make_document(project, text="Air strikes hit Idlib on Monday.")
    span, _ = span_create(
        document=document, coder=coder, label="LOCATION", **quote_span(document, "Idlib")
    )
    html = coder_client.get(f"/spans/{span.pk}/", headers=HX).content.decode()
    assert "Places with this name" in html
    assert "governorate, SY.12" in html and "populated place, in Idlib" in html


def test_a_managers_site_is_suggested_with_its_aliases(coder_client, project, suggesting, manager):
    from annotator.services.codebook import list_entry_add

    list_entry_add(
        project=project,
        user=manager,
        list_name="places",
        name="Thardat hills",
        aliases=["al-Thardat"],
    )
    document = make_document(project, text="Clashes near al-Thardat were reported.")
    config = _config(_screen(coder_client, document))
    site = next(s for s in config["suggestions"] if s["label"] == "LOCATION")
    assert site["text"] == "al-Thardat"
    assert site["candidates"] == [
        {"id": "site:Thardat hills", "name": "Thardat hills", "description": "project site"}
    ]


def test_the_manager_turns_suggestions_on_in_the_settings(client, manager, project):
    client.force_login(manager)
    page = client.get(f"/projects/{project.pk}/settings/").content.decode()
    assert 'name="suggestions_enabled"' in page
    data = {
        "name": project.name,
        "description": "",
        "overlap_k": 2,
        "assignment_mode": project.assignment_mode,
        "document_order": project.document_order,
        "random_seed": 0,
        "abandon_after_hours": 72,
        "suggestions_enabled": "on",
    }
    response = client.post(f"/projects/{project.pk}/settings/", data)
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.suggestions_enabled is True


def test_the_coding_screen_with_suggestions_has_a_bounded_query_count(
    coder_client, document, suggesting, coder, django_assert_max_num_queries
):
    for phrase in ("Russian", "ISIS", "Syria"):
        span_create(document=document, coder=coder, label="ACTOR", **quote_span(document, phrase))
    _screen(coder_client, document)  # fills the suggestion cache
    with django_assert_max_num_queries(30):
        _screen(coder_client, document)
