"""Spans through the API: created, read, changed and deleted by the same services as the
coding screen, within the same access rules."""

import pytest

from annotator.models import Annotation, AuditEvent
from tests.api.helpers import make_relation, make_span
from tests.factories import make_project, quote_span


@pytest.fixture
def spans_url(document):
    return f"/api/v1/documents/{document.pk}/annotations/"


def _post_span(client, url, document, phrase, label="ACTOR", **fields):
    return client.post(url, {"label": label, **quote_span(document, phrase), **fields})


# -- Creating --------------------------------------------------------------------------------


def test_coder_creates_a_span_and_gets_it_back(api_as, coder, document, spans_url):
    response = _post_span(
        api_as(coder),
        spans_url,
        document,
        "2,359 ISIS terrorists",
        label="CASUALTY",
        attributes={"outcome": "killed", "low": "2359"},
    )

    assert response.status_code == 201, response.json()
    span = Annotation.objects.get()
    assert response.json() == {
        "id": span.pk,
        "document": document.pk,
        "label": "CASUALTY",
        "start": 79,
        "end": 100,
        "text": "2,359 ISIS terrorists",
        "attributes": {"outcome": "killed", "low": 2359, "factuality": "asserted"},
        "coder": "coder",
        "version": 1,
    }
    assert (span.coder, span.label.name, span.start, span.end) == (coder, "CASUALTY", 79, 100)


def test_creating_a_span_is_audited(api_as, coder, document, spans_url):
    _post_span(api_as(coder), spans_url, document, "Russian")

    # (The first change also takes the document: its assignment rows are audited too.)
    assert AuditEvent.objects.get(object_type="annotation").action == "span.create"


def test_a_retried_post_with_the_same_client_id_returns_the_first_span(
    api_as, coder, document, spans_url
):
    client = api_as(coder)
    first = _post_span(client, spans_url, document, "Russian", client_id="c-1")

    again = _post_span(client, spans_url, document, "Russian", client_id="c-1")

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json() == first.json()
    assert Annotation.objects.count() == 1


def test_a_quote_with_surrounding_spaces_is_kept_exactly(api_as, coder, document, spans_url):
    response = api_as(coder).post(
        spans_url, {"label": "LOCATION", "start": 22, "end": 29, "text": " Syria "}
    )

    assert response.status_code == 201, response.json()
    assert Annotation.objects.get().text == " Syria "


def test_a_manager_who_is_not_a_coder_cannot_create_spans(api_as, manager, document, spans_url):
    response = _post_span(api_as(manager), spans_url, document, "Russian")

    assert response.status_code == 404
    assert not Annotation.objects.exists()


# -- Refusing bad input: 400 naming the field ------------------------------------------------


def _refused(response, field: str) -> str:
    assert response.status_code == 400, response.json()
    body = response.json()
    assert list(body) == [field]
    assert not Annotation.objects.exists()
    return " ".join(body[field])


def test_an_end_beyond_the_text_is_refused(api_as, coder, document, spans_url):
    end = len(document.text) + 5
    response = api_as(coder).post(
        spans_url, {"label": "ACTOR", "start": 0, "end": end, "text": "x" * end}
    )

    assert "beyond the end of the document" in _refused(response, "end")


def test_a_negative_start_is_refused(api_as, coder, document, spans_url):
    response = api_as(coder).post(
        spans_url, {"label": "ACTOR", "start": -1, "end": 3, "text": "Rus"}
    )

    assert "must be 0 or more" in _refused(response, "start")


def test_an_end_not_after_start_is_refused(api_as, coder, document, spans_url):
    response = api_as(coder).post(spans_url, {"label": "ACTOR", "start": 7, "end": 7, "text": ""})

    assert "must be greater than start (7)" in _refused(response, "end")


def test_a_quote_that_does_not_match_the_text_is_refused(api_as, coder, document, spans_url):
    response = api_as(coder).post(
        spans_url, {"label": "ACTOR", "start": 0, "end": 7, "text": "Russia!"}
    )

    assert "does not match the document" in _refused(response, "text")


def test_an_unknown_label_is_refused_listing_the_known_ones(api_as, coder, document, spans_url):
    response = _post_span(api_as(coder), spans_url, document, "Russian", label="PERSON")

    message = _refused(response, "label")
    assert "unknown label 'PERSON'" in message
    assert "ACTOR" in message


def test_a_label_of_another_project_is_refused(api_as, coder, manager, document, spans_url):
    make_project(manager, codebook={"labels": [{"name": "VEHICLE", "colour": "#123456"}]})

    response = _post_span(api_as(coder), spans_url, document, "Russian", label="VEHICLE")

    assert "unknown label 'VEHICLE'" in _refused(response, "label")


def test_a_label_switched_off_in_the_codebook_is_refused(api_as, coder, document, spans_url):
    response = _post_span(api_as(coder), spans_url, document, "air strikes", label="EVENT")

    assert "switched off" in _refused(response, "label")


def test_an_attribute_value_not_in_the_codebook_is_refused(api_as, coder, document, spans_url):
    response = _post_span(
        api_as(coder), spans_url, document, "Russian", attributes={"actor_type": "aliens"}
    )

    assert "actor_type: 'aliens' is not one of" in _refused(response, "attributes")


def test_an_attribute_the_label_does_not_have_is_refused(api_as, coder, document, spans_url):
    response = _post_span(
        api_as(coder), spans_url, document, "Russian", attributes={"outcome": "killed"}
    )

    assert "ACTOR has no attribute 'outcome'" in _refused(response, "attributes")


def test_a_non_integer_start_is_refused(api_as, coder, document, spans_url):
    response = api_as(coder).post(
        spans_url, {"label": "ACTOR", "start": "zero", "end": 7, "text": "Russian"}
    )

    assert "valid integer" in _refused(response, "start")


def test_a_missing_label_is_refused(api_as, coder, document, spans_url):
    response = api_as(coder).post(spans_url, quote_span(document, "Russian"))

    assert "required" in _refused(response, "label")


def test_an_overlapping_span_is_refused(api_as, coder, document, spans_url):
    make_span(document, coder, "2,359 ISIS terrorists", label="CASUALTY")

    response = _post_span(api_as(coder), spans_url, document, "ISIS")

    assert response.status_code == 400
    assert "overlaps your CASUALTY span" in " ".join(response.json()["start"])
    assert Annotation.objects.count() == 1


def test_a_client_id_longer_than_64_characters_is_refused(api_as, coder, document, spans_url):
    response = _post_span(api_as(coder), spans_url, document, "Russian", client_id="x" * 65)

    assert "64" in _refused(response, "client_id")


# -- Reading ---------------------------------------------------------------------------------


def test_a_coder_lists_only_their_own_spans(api_as, coder, other_coder, document, spans_url):
    mine = make_span(document, coder, "Russian")
    make_span(document, other_coder, "Syria", label="LOCATION")

    response = api_as(coder).get(spans_url)

    assert response.status_code == 200
    rows = response.json()["results"]
    assert [row["id"] for row in rows] == [mine.pk]
    assert {row["coder"] for row in rows} == {"coder"}


def test_an_adjudicator_lists_every_coders_spans_with_their_names(
    api_as, adjudicator, coder, other_coder, document, spans_url
):
    make_span(document, coder, "Russian")
    make_span(document, other_coder, "Syria", label="LOCATION")

    rows = api_as(adjudicator).get(spans_url).json()["results"]

    assert [(row["coder"], row["label"]) for row in rows] == [
        ("coder", "ACTOR"),
        ("other_coder", "LOCATION"),
    ]


def test_a_manager_lists_every_coders_spans(
    api_as, manager, coder, other_coder, document, spans_url
):
    make_span(document, coder, "Russian")
    make_span(document, other_coder, "Russian")

    assert api_as(manager).get(spans_url).json()["count"] == 2


def test_deleted_spans_are_not_listed(api_as, coder, document, spans_url):
    span = make_span(document, coder, "Russian")
    Annotation.objects.filter(pk=span.pk).update(deleted_at="2020-01-01T00:00Z")

    assert api_as(coder).get(spans_url).json()["results"] == []


def test_a_coder_reads_their_own_span(api_as, coder, document):
    span = make_span(document, coder, "Russian")

    response = api_as(coder).get(f"/api/v1/annotations/{span.pk}/")

    assert response.status_code == 200
    assert response.json()["text"] == "Russian"


def test_a_coder_gets_404_for_another_coders_span(api_as, coder, other_coder, document):
    theirs = make_span(document, other_coder, "Russian")

    response = api_as(coder).get(f"/api/v1/annotations/{theirs.pk}/")

    assert response.status_code == 404


@pytest.mark.parametrize("persona", ["manager", "adjudicator"])
def test_managers_and_adjudicators_read_a_coders_span(api_as, request, persona, coder, document):
    span = make_span(document, coder, "Russian")

    response = api_as(request.getfixturevalue(persona)).get(f"/api/v1/annotations/{span.pk}/")

    assert response.status_code == 200
    assert response.json()["coder"] == "coder"


# -- Changing --------------------------------------------------------------------------------


def test_a_coder_relabels_their_span_and_the_version_goes_up(api_as, coder, document):
    span = make_span(document, coder, "Russian")

    response = api_as(coder).patch(
        f"/api/v1/annotations/{span.pk}/", {"version": 1, "label": "SOURCE"}
    )

    assert response.status_code == 200, response.json()
    assert response.json()["label"] == "SOURCE"
    assert response.json()["version"] == 2
    span.refresh_from_db()
    assert (span.label.name, span.version) == ("SOURCE", 2)


def test_patched_attributes_replace_all_the_old_ones(api_as, coder, document):
    span = make_span(
        document, coder, "Russian", attributes={"actor_type": "state_forces", "canonical": "X"}
    )

    response = api_as(coder).patch(
        f"/api/v1/annotations/{span.pk}/", {"version": 1, "attributes": {"canonical": "Y"}}
    )

    assert response.status_code == 200
    span.refresh_from_db()
    assert span.attributes == {"canonical": "Y"}
    assert response.json()["attributes"] == {"canonical": "Y"}


def test_a_coder_moves_a_span_with_new_offsets_and_quote(api_as, coder, document):
    span = make_span(document, coder, "Russian")

    response = api_as(coder).patch(
        f"/api/v1/annotations/{span.pk}/",
        {"version": 1, **quote_span(document, "Russian air strikes")},
    )

    assert response.status_code == 200, response.json()
    span.refresh_from_db()
    assert (span.start, span.end, span.text) == (0, 19, "Russian air strikes")


def test_a_patch_without_a_version_is_refused_naming_version(api_as, coder, document):
    span = make_span(document, coder, "Russian")

    response = api_as(coder).patch(f"/api/v1/annotations/{span.pk}/", {"label": "SOURCE"})

    assert response.status_code == 400
    assert response.json() == {"version": ["This field is required."]}
    span.refresh_from_db()
    assert (span.label.name, span.version) == ("ACTOR", 1)


def test_stale_version_patch_is_refused_with_409_and_changes_nothing(api_as, coder, document):
    span = make_span(document, coder, "Russian")
    client = api_as(coder)
    client.patch(f"/api/v1/annotations/{span.pk}/", {"version": 1, "label": "SOURCE"})

    response = client.patch(
        f"/api/v1/annotations/{span.pk}/", {"version": 1, "attributes": {"actor_type": "unknown"}}
    )

    assert response.status_code == 409
    assert response.json()["current_version"] == 2
    assert "changed meanwhile" in response.json()["detail"]
    span.refresh_from_db()
    assert (span.label.name, span.attributes, span.version) == ("SOURCE", {}, 2)


def test_an_invalid_patch_is_refused_and_changes_nothing(api_as, coder, document):
    span = make_span(document, coder, "Russian")

    response = api_as(coder).patch(
        f"/api/v1/annotations/{span.pk}/", {"version": 1, "start": 0, "end": 500}
    )

    assert response.status_code == 400
    assert "end" in response.json()
    span.refresh_from_db()
    assert (span.end, span.version) == (7, 1)


def test_a_relabel_that_would_break_a_link_is_refused_naming_label(api_as, coder, document):
    claim = make_span(document, coder, "2,359 ISIS terrorists", label="CASUALTY")
    source = make_span(document, coder, "Russian ministry of defense", label="SOURCE")
    make_relation(document, coder, claim, source, "claimed_by")

    response = api_as(coder).patch(
        f"/api/v1/annotations/{source.pk}/", {"version": 1, "label": "ACTOR"}
    )

    assert response.status_code == 400
    assert "would break 1 link(s)" in " ".join(response.json()["label"])


def test_a_coder_gets_404_patching_another_coders_span(api_as, coder, other_coder, document):
    theirs = make_span(document, other_coder, "Russian")

    response = api_as(coder).patch(
        f"/api/v1/annotations/{theirs.pk}/", {"version": 1, "label": "SOURCE"}
    )

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.version == 1


@pytest.mark.parametrize("persona", ["manager", "adjudicator"])
def test_managers_and_adjudicators_get_404_patching_a_coders_span(
    api_as, request, persona, coder, document
):
    span = make_span(document, coder, "Russian")

    response = api_as(request.getfixturevalue(persona)).patch(
        f"/api/v1/annotations/{span.pk}/", {"version": 1, "label": "SOURCE"}
    )

    assert response.status_code == 404
    span.refresh_from_db()
    assert span.version == 1


# -- Deleting --------------------------------------------------------------------------------


def test_a_coder_deletes_their_span_and_its_links(api_as, coder, document):
    claim = make_span(document, coder, "2,359 ISIS terrorists", label="CASUALTY")
    source = make_span(document, coder, "Russian ministry of defense", label="SOURCE")
    link = make_relation(document, coder, claim, source, "claimed_by")

    response = api_as(coder).delete(f"/api/v1/annotations/{claim.pk}/?version=1")

    assert response.status_code == 204
    claim.refresh_from_db()
    link.refresh_from_db()
    assert claim.is_deleted and link.deleted_at is not None
    assert api_as(coder).get(f"/api/v1/annotations/{claim.pk}/").status_code == 404


def test_a_stale_delete_is_refused_with_409_and_keeps_the_span(api_as, coder, document):
    span = make_span(document, coder, "Russian")
    client = api_as(coder)
    client.patch(f"/api/v1/annotations/{span.pk}/", {"version": 1, "label": "SOURCE"})

    response = client.delete(f"/api/v1/annotations/{span.pk}/?version=1")

    assert response.status_code == 409
    assert response.json()["current_version"] == 2
    span.refresh_from_db()
    assert not span.is_deleted


def test_a_delete_without_a_version_is_refused_naming_version(api_as, coder, document):
    span = make_span(document, coder, "Russian")

    response = api_as(coder).delete(f"/api/v1/annotations/{span.pk}/")

    assert response.status_code == 400
    assert response.json() == {"version": ["This field is required."]}
    span.refresh_from_db()
    assert not span.is_deleted


@pytest.mark.parametrize("persona", ["other_coder", "manager", "adjudicator"])
def test_nobody_but_its_coder_can_delete_a_span(api_as, request, persona, coder, document):
    span = make_span(document, coder, "Russian")

    response = api_as(request.getfixturevalue(persona)).delete(
        f"/api/v1/annotations/{span.pk}/?version=1"
    )

    assert response.status_code == 404
    span.refresh_from_db()
    assert not span.is_deleted
