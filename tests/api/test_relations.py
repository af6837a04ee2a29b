"""Links between a coder's spans."""

import pytest

from annotator.models import Relation
from tests.api.helpers import make_relation, make_span


@pytest.fixture
def claim(document, coder):
    return make_span(document, coder, "2,359 ISIS terrorists", label="CASUALTY")


@pytest.fixture
def source(document, coder):
    return make_span(document, coder, "Russian ministry of defense", label="SOURCE")


@pytest.fixture
def relations_url(document):
    return f"/api/v1/documents/{document.pk}/relations/"


def test_coder_links_a_claim_to_its_source(api_as, coder, document, claim, source, relations_url):
    response = api_as(coder).post(
        relations_url, {"type": "claimed_by", "source": claim.pk, "target": source.pk}
    )

    assert response.status_code == 201, response.json()
    relation = Relation.objects.get()
    assert response.json() == {
        "id": relation.pk,
        "document": document.pk,
        "type": "claimed_by",
        "source": claim.pk,
        "target": source.pk,
        "coder": "coder",
    }
    assert (relation.source, relation.target, relation.coder) == (claim, source, coder)


def test_a_retried_link_with_the_same_client_id_returns_the_first(
    api_as, coder, claim, source, relations_url
):
    payload = {"type": "claimed_by", "source": claim.pk, "target": source.pk, "client_id": "r1"}
    client = api_as(coder)
    first = client.post(relations_url, payload)

    again = client.post(relations_url, payload)

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert Relation.objects.count() == 1


def test_a_type_not_allowed_between_those_labels_is_refused(
    api_as, coder, claim, source, relations_url
):
    response = api_as(coder).post(
        relations_url, {"type": "claimed_by", "source": source.pk, "target": claim.pk}
    )

    assert response.status_code == 400
    assert response.json() == {
        "type": ["claimed_by links CASUALTY → SOURCE, not SOURCE → CASUALTY"]
    }
    assert not Relation.objects.exists()


def test_an_unknown_relation_type_is_refused(api_as, coder, claim, source, relations_url):
    response = api_as(coder).post(
        relations_url, {"type": "caused", "source": claim.pk, "target": source.pk}
    )

    assert response.status_code == 400
    assert "unknown relation type 'caused'" in response.json()["type"][0]


def test_linking_to_another_coders_span_is_refused_naming_target(
    api_as, coder, other_coder, document, claim, relations_url
):
    theirs = make_span(document, other_coder, "Russian ministry of defense", label="SOURCE")

    response = api_as(coder).post(
        relations_url, {"type": "claimed_by", "source": claim.pk, "target": theirs.pk}
    )

    assert response.status_code == 400
    assert response.json() == {"target": [f"no span {theirs.pk} of yours in this document"]}


def test_a_non_integer_source_is_refused(api_as, coder, source, relations_url):
    response = api_as(coder).post(
        relations_url, {"type": "claimed_by", "source": "first", "target": source.pk}
    )

    assert response.status_code == 400
    assert list(response.json()) == ["source"]


def test_a_coder_lists_only_their_own_links(
    api_as, coder, other_coder, document, claim, source, relations_url
):
    mine = make_relation(document, coder, claim, source)
    their_claim = make_span(document, other_coder, "2,359 ISIS terrorists", label="CASUALTY")
    their_source = make_span(document, other_coder, "Russian ministry of defense", label="SOURCE")
    make_relation(document, other_coder, their_claim, their_source)

    rows = api_as(coder).get(relations_url).json()["results"]

    assert [(row["id"], row["coder"]) for row in rows] == [(mine.pk, "coder")]


def test_an_adjudicator_lists_every_coders_links(
    api_as, adjudicator, coder, other_coder, document, claim, source, relations_url
):
    make_relation(document, coder, claim, source)
    their_claim = make_span(document, other_coder, "2,359 ISIS terrorists", label="CASUALTY")
    their_source = make_span(document, other_coder, "Russian ministry of defense", label="SOURCE")
    make_relation(document, other_coder, their_claim, their_source)

    rows = api_as(adjudicator).get(relations_url).json()["results"]

    assert sorted(row["coder"] for row in rows) == ["coder", "other_coder"]


def test_a_coder_deletes_their_link(api_as, coder, document, claim, source):
    relation = make_relation(document, coder, claim, source)

    response = api_as(coder).delete(f"/api/v1/relations/{relation.pk}/")

    assert response.status_code == 204
    relation.refresh_from_db()
    assert relation.deleted_at is not None


@pytest.mark.parametrize("persona", ["other_coder", "manager", "adjudicator"])
def test_nobody_but_its_coder_can_delete_a_link(
    api_as, request, persona, coder, document, claim, source
):
    relation = make_relation(document, coder, claim, source)

    response = api_as(request.getfixturevalue(persona)).delete(f"/api/v1/relations/{relation.pk}/")

    assert response.status_code == 404
    relation.refresh_from_db()
    assert relation.deleted_at is None
