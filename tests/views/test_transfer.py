"""The import and export pages: managers import (preview, then import), managers and
adjudicators export; coders and outsiders get a 404 for all of it (blind coding)."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from annotator.models import Annotation, AuditEvent, Document
from tests.api.helpers import make_span

TEXT = "Russian air strikes killed 16 ISIS fighters in Idlib."


def upload(lines, name="upload.jsonl"):
    data = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
    return SimpleUploadedFile(name, data.encode("utf-8"), content_type="application/octet-stream")


def form(file, format="jsonl", **extra):
    return {
        "file": file,
        "format": format,
        "on_duplicate": "skip",
        "offsets": "utf16",
        "discontinuous": "error",
        **extra,
    }


def spans_line(coder="coder"):
    start = TEXT.index("Idlib")
    return {
        "external_id": "a-1",
        "text": TEXT,
        "spans": [
            {
                "id": "1",
                "start": start,
                "end": start + 5,
                "label": "LOCATION",
                "text": "Idlib",
                "coder": coder,
            }
        ],
        "relations": [],
    }


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


def streamed(response) -> bytes:
    return b"".join(response.streaming_content)


# --- import --------------------------------------------------------------------------------------


def test_manager_sees_the_import_form(manager_client, project):
    response = manager_client.get(reverse("project-import", args=[project.pk]))

    assert response.status_code == 200
    assert b'id="import-form"' in response.content
    assert b'enctype="multipart/form-data"' in response.content


@pytest.mark.parametrize("persona", ["coder", "adjudicator", "outsider"])
def test_only_managers_reach_the_import_page(client, project, persona, request):
    client.force_login(request.getfixturevalue(persona))

    assert client.get(reverse("project-import", args=[project.pk])).status_code == 404
    posted = client.post(reverse("project-import", args=[project.pk]), form(upload([spans_line()])))
    assert posted.status_code == 404
    assert not Document.objects.exists()


def test_preview_shows_the_summary_and_samples_and_writes_nothing(manager_client, project, coder):
    response = manager_client.post(
        reverse("project-import", args=[project.pk]), form(upload([spans_line()]))
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "Preview: ready to import" in page
    assert 'id="import-samples"' in page and "<mark>Idlib</mark>" in page
    assert 'name="token"' in page
    assert not Document.objects.exists()


def test_import_after_the_preview_writes_and_redirects(manager_client, project, coder):
    preview = manager_client.post(
        reverse("project-import", args=[project.pk]), form(upload([spans_line()]))
    )
    token = preview.context["token"]

    response = manager_client.post(
        reverse("project-import-confirm", args=[project.pk]), {"token": token}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("project", args=[project.pk])
    assert Annotation.objects.get().coder == coder
    assert AuditEvent.objects.filter(action="documents.import").count() == 1
    again = manager_client.post(
        reverse("project-import-confirm", args=[project.pk]), {"token": token}
    )
    assert again.status_code == 302  # the upload is gone: back to the form, nothing twice
    assert Document.objects.count() == 1


def test_preview_lists_every_problem_with_file_line_and_field(manager_client, project):
    lines = [spans_line("stranger"), {"external_id": "x"}]

    response = manager_client.post(
        reverse("project-import", args=[project.pk]), form(upload(lines))
    )

    assert response.status_code == 422
    page = response.content.decode()
    assert "Nothing was imported" in page
    assert 'id="import-errors"' in page
    assert "stranger" in page and "text is missing" in page
    assert 'name="token"' not in page
    assert not Document.objects.exists()


def test_a_file_over_the_upload_limit_is_refused_with_a_clear_message(
    manager_client, project, settings
):
    settings.ANNOTATOR_MAX_UPLOAD_MB = 0.0001

    response = manager_client.post(
        reverse("project-import", args=[project.pk]), form(upload([spans_line()] * 5))
    )

    assert response.status_code == 422
    assert "larger than the upload limit of 0.0001 MB" in response.content.decode()
    assert not Document.objects.exists()


def test_a_foreign_token_imports_nothing(manager_client, project):
    response = manager_client.post(
        reverse("project-import-confirm", args=[project.pk]), {"token": "nope"}
    )

    assert response.status_code == 302
    assert not Document.objects.exists()


# --- export --------------------------------------------------------------------------------------


@pytest.fixture
def coded(project, document, coder):
    make_span(document, coder, "Russian")
    Document.objects.filter(pk=document.pk).update(adjudicated_at=timezone.now())
    return document


def test_the_export_form_lists_layers_and_formats(manager_client, project, coded, coder):
    response = manager_client.get(reverse("project-export", args=[project.pk]))

    assert response.status_code == 200
    page = response.content.decode()
    assert 'value="claims-csv"' in page and 'value="coder"' in page


def test_manager_downloads_a_streamed_jsonl_file(manager_client, project, coded):
    response = manager_client.get(
        reverse("project-export", args=[project.pk]), {"format": "jsonl", "layer": "all"}
    )

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "application/x-ndjson; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="syria-claims-all.jsonl"'
    line = json.loads(streamed(response))
    assert line["spans"][0]["text"] == "Russian"


def test_adjudicator_downloads_the_gold_as_conll(client, adjudicator, project, coded):
    client.force_login(adjudicator)

    response = client.get(
        reverse("project-export", args=[project.pk]), {"format": "conll", "layer": "gold"}
    )

    assert response.status_code == 200
    assert streamed(response).startswith(b"-DOCSTART-")


def test_nothing_to_export_is_said_on_the_page(manager_client, project, document):
    response = manager_client.get(
        reverse("project-export", args=[project.pk]), {"format": "jsonl", "layer": "gold"}
    )

    assert response.status_code == 422
    assert "no adjudicated documents in this project" in response.content.decode()


@pytest.mark.parametrize("persona", ["coder", "outsider"])
def test_coders_and_outsiders_get_404_on_exports(client, project, coded, persona, request):
    client.force_login(request.getfixturevalue(persona))

    assert client.get(reverse("project-export", args=[project.pk])).status_code == 404
    response = client.get(
        reverse("project-export", args=[project.pk]), {"format": "jsonl", "layer": "all"}
    )
    assert response.status_code == 404


def test_the_project_page_links_managers_to_import_and_export(manager_client, project):
    page = manager_client.get(reverse("project", args=[project.pk])).content.decode()

    assert reverse("project-import", args=[project.pk]) in page
    assert reverse("project-export", args=[project.pk]) in page


def test_coders_see_no_export_link(coder_client, project):
    page = coder_client.get(reverse("project", args=[project.pk])).content.decode()

    assert reverse("project-export", args=[project.pk]) not in page
    assert reverse("project-import", args=[project.pk]) not in page
