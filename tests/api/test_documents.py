"""Documents: listing (without text), reading (with text), and adding (managers only)."""

from annotator.models import Document
from tests.factories import ARTICLE, make_document


def test_document_list_leaves_out_the_text(api_as, coder, document):
    response = api_as(coder).get(f"/api/v1/projects/{document.project_id}/documents/")

    assert response.status_code == 200
    [row] = response.json()["results"]
    assert row["id"] == document.pk
    assert row["title"] == "Russian air strikes"
    assert row["outlet"] == "Alwaght"
    assert "text" not in row


def test_document_list_is_paginated_in_coding_order(api_as, coder, project):
    documents = [make_document(project, title=f"Doc {n}") for n in range(3)]

    response = api_as(coder).get(f"/api/v1/projects/{project.pk}/documents/?limit=2")

    body = response.json()
    assert body["count"] == 3
    assert [row["id"] for row in body["results"]] == [d.pk for d in documents[:2]]
    assert body["next"].endswith("limit=2&offset=2")


def test_document_detail_includes_the_text(api_as, coder, document):
    response = api_as(coder).get(f"/api/v1/documents/{document.pk}/")

    assert response.status_code == 200
    assert response.json()["text"] == ARTICLE
    assert response.json()["project"] == document.project_id


def test_manager_adds_a_document(api_as, manager, project):
    payload = {
        "text": "Five civilians were killed in Idlib.\r\nLocal media reported it.",
        "title": "Idlib",
        "outlet": "SANA",
        "url": "https://example.org/idlib",
        "published": "2017-10-01",
        "language": "en",
        "external_id": "sana-1",
        "metadata": {"feed": "rss"},
    }

    response = api_as(manager).post(f"/api/v1/projects/{project.pk}/documents/", payload)

    assert response.status_code == 201, response.json()
    document = Document.objects.get(pk=response.json()["id"])
    assert document.project == project
    assert document.text == "Five civilians were killed in Idlib.\nLocal media reported it."
    assert str(document.published) == "2017-10-01"
    assert document.metadata == {"feed": "rss"}
    assert response.json()["text"] == document.text


def test_document_text_keeps_its_leading_and_trailing_whitespace(api_as, manager, project):
    response = api_as(manager).post(
        f"/api/v1/projects/{project.pk}/documents/", {"text": "  indented\n"}
    )

    assert response.status_code == 201
    assert Document.objects.get(pk=response.json()["id"]).text == "  indented\n"


def test_coder_may_not_add_a_document(api_as, coder, project):
    response = api_as(coder).post(f"/api/v1/projects/{project.pk}/documents/", {"text": "Hi."})

    assert response.status_code == 403
    assert "managers" in response.json()["detail"]
    assert not Document.objects.exists()


def test_adjudicator_may_not_add_a_document(api_as, adjudicator, project):
    response = api_as(adjudicator).post(
        f"/api/v1/projects/{project.pk}/documents/", {"text": "Hi."}
    )

    assert response.status_code == 403


def test_a_document_without_text_is_refused_naming_text(api_as, manager, project):
    response = api_as(manager).post(f"/api/v1/projects/{project.pk}/documents/", {"text": "  "})

    assert response.status_code == 400
    assert response.json() == {"text": ["is required and must not be empty"]}
    assert not Document.objects.exists()


def test_a_bad_date_is_refused_naming_published(api_as, manager, project):
    response = api_as(manager).post(
        f"/api/v1/projects/{project.pk}/documents/", {"text": "Hi.", "published": "1 Oct"}
    )

    assert response.status_code == 400
    assert list(response.json()) == ["published"]


def test_a_too_long_title_is_refused_naming_title(api_as, manager, project):
    response = api_as(manager).post(
        f"/api/v1/projects/{project.pk}/documents/", {"text": "Hi.", "title": "x" * 501}
    )

    assert response.status_code == 400
    assert "title" in response.json()
    assert not Document.objects.exists()


def test_metadata_must_be_an_object(api_as, manager, project):
    response = api_as(manager).post(
        f"/api/v1/projects/{project.pk}/documents/", {"text": "Hi.", "metadata": ["a"]}
    )

    assert response.status_code == 400
    assert "metadata" in response.json()
