"""manage.py import_documents and manage.py export."""

from __future__ import annotations

import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from annotator.models import Annotation, AuditEvent, Document

TEXT = "Russian air strikes killed 16 ISIS fighters in Idlib."


def write(path, lines):
    path.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), "utf-8")
    return str(path)


def line(coder="coder", external_id="a-1", text=TEXT):
    start = text.index("Idlib")
    return {
        "external_id": external_id,
        "text": text,
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


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_import_by_project_name_with_a_user_map(project, manager, coder, tmp_path):
    path = write(tmp_path / "old.jsonl", [line("amira")])

    out, _ = run(
        "import_documents", "Syria claims", path, "--format", "jsonl", "--user-map", "amira=coder"
    )

    assert "imported 1 document(s), 1 span(s)" in out
    assert Annotation.objects.get().coder == coder
    assert AuditEvent.objects.get(action="documents.import").user == manager


def test_several_files_are_one_import(project, manager, coder, other_coder, tmp_path):
    first = write(tmp_path / "coder.jsonl", [{"id": 1, "text": TEXT, "label": [[0, 7, "ACTOR"]]}])
    second = write(
        tmp_path / "other_coder.jsonl", [{"id": 1, "text": TEXT, "label": [[47, 52, "LOCATION"]]}]
    )

    run("import_documents", str(project.pk), first, second, "--format", "doccano")

    assert Document.objects.count() == 1
    assert Annotation.objects.count() == 2


def test_create_coders_and_dry_run(project, manager, tmp_path):
    path = write(tmp_path / "old.jsonl", [line("newcomer")])

    out, _ = run(
        "import_documents",
        str(project.pk),
        path,
        "--format",
        "jsonl",
        "--create-coders",
        "--dry-run",
    )

    assert "would import 1 document(s)" in out
    assert not Document.objects.exists()
    assert not get_user_model().objects.filter(username="newcomer").exists()


def test_problems_are_printed_and_the_command_fails(project, manager, tmp_path):
    path = write(tmp_path / "bad.jsonl", [line("stranger"), {"external_id": "x"}])
    err = io.StringIO()

    with pytest.raises(CommandError, match="2 problem"):
        call_command(
            "import_documents",
            str(project.pk),
            path,
            "--format",
            "jsonl",
            stdout=io.StringIO(),
            stderr=err,
        )

    assert "bad.jsonl, line 2, text: text is missing" in err.getvalue()
    assert "stranger" in err.getvalue()
    assert not Document.objects.exists()


def test_an_unknown_project_is_an_error(db, tmp_path):
    with pytest.raises(CommandError, match="no project"):
        run("import_documents", "Nope", write(tmp_path / "x.jsonl", []), "--format", "jsonl")


def test_export_writes_a_file(project, manager, coder, tmp_path):
    run(
        "import_documents",
        str(project.pk),
        write(tmp_path / "in.jsonl", [line()]),
        "--format",
        "jsonl",
    )
    target = tmp_path / "out.jsonl"

    _, err = run("export", "Syria claims", "--format", "jsonl", "--layer", "all", "-o", str(target))

    assert json.loads(target.read_text("utf-8"))["spans"][0]["text"] == "Idlib"
    assert "1 document(s) exported" in err
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_export_to_standard_output(project, manager, coder, tmp_path):
    run(
        "import_documents",
        str(project.pk),
        write(tmp_path / "in.jsonl", [line()]),
        "--format",
        "jsonl",
    )

    out, _ = run("export", str(project.pk), "--format", "spacy", "--layer", "coder")

    assert json.loads(out)["spans"] == [{"start": 47, "end": 52, "label": "LOCATION"}]


def test_an_empty_gold_export_fails_without_a_file(project, manager, document, tmp_path):
    target = tmp_path / "gold.jsonl"

    with pytest.raises(
        CommandError, match="no adjudicated documents in this project; use --layer all"
    ):
        run("export", str(project.pk), "--format", "jsonl", "-o", str(target))

    assert not target.exists()


def test_the_upload_limit_does_not_bind_files_already_on_the_server(
    project, manager, coder, tmp_path, settings
):
    settings.ANNOTATOR_MAX_UPLOAD_MB = 0.0001
    path = write(
        tmp_path / "big.jsonl", [line(external_id=f"d{n}", text=f"{n}: {TEXT}") for n in range(5)]
    )

    out, _ = run("import_documents", str(project.pk), path, "--format", "jsonl")

    assert "imported 5 document(s)" in out
