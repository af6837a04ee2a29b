"""Documents: listing (without text), reading (with text), and adding (managers only)."""

from annotator.models import Document, Project
from tests.factories import ARTICLE, assign, make_document


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


# --- A coder reads the documents the coding screen lets them open (access.documents_readable)


def _manual(project):
    Project.objects.filter(pk=project.pk).update(assignment_mode="manual")


def test_in_manual_mode_a_coder_lists_only_documents_assigned_to_them(
    api_as, coder, other_coder, project
):
    _manual(project)
    mine = make_document(project, title="Mine")
    theirs = make_document(project, title="Theirs")
    make_document(project, title="Nobody's")
    assign(mine, coder)
    assign(theirs, other_coder)

    rows = api_as(coder).get(f"/api/v1/projects/{project.pk}/documents/").json()["results"]

    assert [row["title"] for row in rows] == ["Mine"]


def test_in_manual_mode_a_coder_cannot_read_a_document_not_assigned_to_them(
    api_as, coder, other_coder, project
):
    _manual(project)
    theirs = make_document(project, title="Theirs")
    assign(theirs, other_coder)
    client = api_as(coder)

    assert client.get(f"/api/v1/documents/{theirs.pk}/").status_code == 404
    assert client.get(f"/api/v1/documents/{theirs.pk}/annotations/").status_code == 404
    assert client.get(f"/api/v1/documents/{theirs.pk}/relations/").status_code == 404


def test_managers_and_adjudicators_list_every_document(api_as, manager, adjudicator, project):
    _manual(project)
    make_document(project, title="One")
    make_document(project, title="Two")

    for user in (manager, adjudicator):
        body = api_as(user).get(f"/api/v1/projects/{project.pk}/documents/").json()
        assert body["count"] == 2


def test_in_automatic_mode_a_coder_lists_their_own_and_those_still_needing_coders(
    api_as, coder, other_coder, project
):
    project.overlap_k = 1
    project.save()
    mine = make_document(project, title="Mine")
    full = make_document(project, title="Full")
    make_document(project, title="Open")
    assign(mine, coder)
    assign(full, other_coder)

    rows = api_as(coder).get(f"/api/v1/projects/{project.pk}/documents/").json()["results"]

    assert [row["title"] for row in rows] == ["Mine", "Open"]
    assert api_as(coder).get(f"/api/v1/documents/{full.pk}/").status_code == 404
