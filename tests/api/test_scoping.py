"""Out of reach is a 404 on every route: an outsider must not learn that a project,
document, span or link exists, and a coder must not learn of another coder's work."""

import pytest

from annotator.models import Annotation, Document, Relation
from tests.api.helpers import make_relation, make_span


@pytest.fixture
def coded(document, coder):
    claim = make_span(document, coder, "2,359 ISIS terrorists", label="CASUALTY")
    source = make_span(document, coder, "Russian ministry of defense", label="SOURCE")
    return {
        "project": document.project_id,
        "document": document.pk,
        "annotation": claim.pk,
        "relation": make_relation(document, coder, claim, source).pk,
        "source": source.pk,
    }


ROUTES = [
    ("get", "/api/v1/projects/{project}/", None),
    ("get", "/api/v1/projects/{project}/documents/", None),
    ("post", "/api/v1/projects/{project}/documents/", {"text": "Planted."}),
    ("get", "/api/v1/documents/{document}/", None),
    ("get", "/api/v1/documents/{document}/annotations/", None),
    (
        "post",
        "/api/v1/documents/{document}/annotations/",
        {"label": "ACTOR", "start": 0, "end": 7, "text": "Russian"},
    ),
    ("get", "/api/v1/annotations/{annotation}/", None),
    ("patch", "/api/v1/annotations/{annotation}/", {"version": 1, "label": "ACTOR"}),
    ("delete", "/api/v1/annotations/{annotation}/?version=1", None),
    ("get", "/api/v1/documents/{document}/relations/", None),
    (
        "post",
        "/api/v1/documents/{document}/relations/",
        {"type": "cites", "source": "{source}", "target": "{source}"},
    ),
    ("delete", "/api/v1/relations/{relation}/", None),
]


def _call(client, method, url, body, ids):
    if body is not None:
        body = {k: v.format(**ids) if isinstance(v, str) else v for k, v in body.items()}
    return getattr(client, method)(url.format(**ids), body)


@pytest.mark.parametrize(("method", "url", "body"), ROUTES, ids=[f"{m} {u}" for m, u, _ in ROUTES])
def test_an_outsider_gets_404_on_every_route(api_as, outsider, coded, method, url, body):
    response = _call(api_as(outsider), method, url, body, coded)

    assert response.status_code == 404


def test_an_outsiders_attempts_change_nothing(api_as, outsider, coded):
    client = api_as(outsider)
    for method, url, body in ROUTES:
        _call(client, method, url, body, coded)

    assert Document.objects.count() == 1
    assert Annotation.objects.alive().count() == 2
    assert Annotation.objects.filter(version=1).count() == 2
    assert Relation.objects.alive().count() == 1


def test_an_outsider_does_not_see_the_project_in_their_list(api_as, outsider, coded):
    rows = api_as(outsider).get("/api/v1/projects/").json()["results"]

    assert coded["project"] not in [row["id"] for row in rows]


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("get", "/api/v1/annotations/{annotation}/", None),
        ("patch", "/api/v1/annotations/{annotation}/", {"version": 1, "label": "ACTOR"}),
        ("delete", "/api/v1/annotations/{annotation}/?version=1", None),
        ("delete", "/api/v1/relations/{relation}/", None),
    ],
    ids=["get span", "patch span", "delete span", "delete link"],
)
def test_another_coder_gets_404_on_a_coders_work(api_as, other_coder, coded, method, url, body):
    response = _call(api_as(other_coder), method, url, body, coded)

    assert response.status_code == 404


def test_ids_that_do_not_exist_get_404_not_500(api_as, coder, coded):
    client = api_as(coder)

    assert client.get("/api/v1/projects/999999/").status_code == 404
    assert client.get("/api/v1/documents/999999/").status_code == 404
    assert client.get("/api/v1/annotations/999999/").status_code == 404
