"""POST /api/v1/projects/{id}/imports/ and GET /api/v1/projects/{id}/export/."""

from __future__ import annotations

import io
import json

import pytest
from django.utils import timezone

from annotator.models import Annotation, Document
from tests.api.helpers import make_span

TEXT = "Russian air strikes killed 16 ISIS fighters in Idlib."


def upload(lines, name="upload.jsonl"):
    data = "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)
    handle = io.BytesIO(data.encode("utf-8"))
    handle.name = name
    return handle


def imports_url(project):
    return f"/api/v1/projects/{project.pk}/imports/"


def export_url(project):
    return f"/api/v1/projects/{project.pk}/export/"


def post(client, project, lines, format="jsonl", options=None, name="upload.jsonl"):
    data = {"file": upload(lines, name), "format": format}
    if options is not None:
        data["options"] = json.dumps(options)
    return client.post(imports_url(project), data, format="multipart")


def line(coder="coder", external_id="a-1"):
    start = TEXT.index("Idlib")
    return {
        "external_id": external_id,
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
    }


def test_manager_imports_and_gets_201_with_the_summary(api_as, project, manager, coder):
    response = post(api_as(manager), project, [line()])

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["written"] is True and body["errors"] == []
    assert body["summary"]["documents_created"] == 1
    assert body["summary"]["spans_by_coder"] == {"coder": 1}
    assert Annotation.objects.get().coder == coder


def test_every_problem_comes_back_in_a_400_and_nothing_is_written(api_as, project, manager):
    response = post(
        api_as(manager), project, ["{bad", line("stranger", "a-2"), {"external_id": "x"}]
    )

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [(e["line"], e["kind"]) for e in errors] == [
        (1, "bad_json"),
        (3, "missing_text"),
        (2, "unmappable_user"),
    ]
    assert all(e["file"] == "upload.jsonl" for e in errors)
    assert not Document.objects.exists()


def test_options_travel_as_a_json_object(api_as, project, manager):
    response = post(
        api_as(manager),
        project,
        [line("old-name")],
        options={"user_map": {"old-name": "newbie"}, "create_coders": True, "dry_run": True},
    )

    assert response.status_code == 200
    assert response.json()["summary"]["coders_created"] == ["newbie"]
    assert not Document.objects.exists()


def test_doccano_through_the_api_converts_utf16_offsets(api_as, project, manager, coder):
    doccano = {"id": 3, "text": "😀 Idlib", "label": [[3, 8, "LOCATION"]]}

    response = post(api_as(manager), project, [doccano], format="doccano", name="coder.jsonl")

    assert response.status_code == 201, response.json()
    assert response.json()["summary"]["samples"][0]["text"] == "Idlib"


def test_bad_options_are_a_400_naming_them(api_as, project, manager):
    response = post(api_as(manager), project, [line()], options={"on_duplicate": "merge"})

    assert response.status_code == 400
    assert "on_duplicate" in response.json()


def test_an_upload_over_the_limit_is_a_413(api_as, project, manager, settings):
    settings.ANNOTATOR_MAX_UPLOAD_MB = 0.0001

    response = post(api_as(manager), project, [line()] * 5)

    assert response.status_code == 413
    assert response.json()["errors"][0]["kind"] == "too_large"


@pytest.mark.parametrize("persona", ["coder", "adjudicator", "outsider"])
def test_only_managers_import(api_as, project, persona, request):
    response = post(
        api_as(request.getfixturevalue(persona)), project, [{"text": "x"}], "documents-jsonl"
    )

    assert response.status_code == 404
    assert not Document.objects.exists()


def test_anonymous_clients_cannot_import(api_as, project):
    assert post(api_as(), project, [{"text": "x"}], "documents-jsonl").status_code in (401, 403)


# --- export --------------------------------------------------------------------------------------


@pytest.fixture
def coded(project, document, coder):
    make_span(document, coder, "Russian")
    Document.objects.filter(pk=document.pk).update(adjudicated_at=timezone.now())
    return document


def test_manager_streams_an_export(api_as, project, manager, coded):
    response = api_as(manager).get(export_url(project), {"format": "jsonl", "layer": "all"})

    assert response.status_code == 200
    assert response.streaming
    assert 'filename="syria-claims-all.jsonl"' in response["Content-Disposition"]
    record = json.loads(b"".join(response.streaming_content))
    assert record["spans"][0]["coder"] == "coder"


def test_the_format_parameter_names_the_export_format(api_as, project, adjudicator, coded):
    response = api_as(adjudicator).get(export_url(project), {"format": "spacy", "layer": "coder"})

    assert response.status_code == 200
    assert json.loads(b"".join(response.streaming_content))["spans"][0]["label"] == "ACTOR"


def test_nothing_to_export_is_a_400_with_the_reason(api_as, project, manager, document):
    response = api_as(manager).get(export_url(project), {"format": "jsonl", "layer": "gold"})

    assert response.status_code == 400
    assert "no adjudicated documents" in response.json()["layer"][0]


@pytest.mark.parametrize("persona", ["coder", "outsider"])
def test_coders_get_404_on_exports(api_as, project, coded, persona, request):
    response = api_as(request.getfixturevalue(persona)).get(
        export_url(project), {"format": "jsonl", "layer": "all"}
    )

    assert response.status_code == 404


def test_an_upload_kept_on_disk_by_django_is_read_as_well(
    api_as, project, manager, coder, settings
):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0  # every upload goes to a temporary file

    second = {"external_id": "a-2", "text": "Idlib again.", "spans": []}
    response = post(api_as(manager), project, [line(), second])

    assert response.status_code == 201, response.json()
    assert Document.objects.count() == 2
