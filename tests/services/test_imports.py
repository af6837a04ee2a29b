"""services/imports.py: all-or-nothing imports, every problem with its file, line and field.

Each test that feeds a broken file checks that nothing at all was written: no document, no
span, no user, no audit row.
"""

from __future__ import annotations

import io
import json
import threading
import zipfile

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from annotator.models import (
    Annotation,
    Assignment,
    AuditEvent,
    Document,
    GoldRelation,
    GoldSpan,
    Label,
    Relation,
    Role,
)
from annotator.services import imports
from annotator.services.imports import documents_import
from tests.factories import add_member, make_document, make_user, quote_span

TEXT = "Russian air strikes killed 16 ISIS fighters in Idlib."


def jsonl(*records) -> io.BytesIO:
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records]
    data = io.BytesIO(("\n".join(lines) + "\n").encode("utf-8"))
    data.name = "upload.jsonl"
    return data


def named(data: bytes, name: str) -> io.BytesIO:
    handle = io.BytesIO(data)
    handle.name = name
    return handle


def span(text, piece, label, span_id, coder="coder", **extra):
    start = text.index(piece)
    return {
        "id": span_id,
        "start": start,
        "end": start + len(piece),
        "label": label,
        "text": piece,
        "attributes": extra.pop("attributes", {}),
        "coder": coder,
        **extra,
    }


def record(external_id="a-1", text=TEXT, spans=(), relations=(), **fields):
    return {
        "external_id": external_id,
        "text": text,
        "spans": list(spans),
        "relations": list(relations),
        **fields,
    }


def run(project, manager, source, format="jsonl", **options):
    return documents_import(
        project=project, user=manager, source=source, format=format, options=options
    )


def assert_nothing_written(project):
    assert not Document.objects.filter(project=project).exists()
    assert not Annotation.objects.filter(document__project=project).exists()
    assert not AuditEvent.objects.filter(project=project, action="documents.import").exists()


def kinds(result):
    return [e.kind for e in result.errors]


# --- documents -----------------------------------------------------------------------------


def test_manager_imports_documents_from_jsonl_with_their_metadata(project, manager):
    source = jsonl(
        {
            "id": "d1",
            "text": "First text.",
            "outlet": "Alwaght",
            "published": "2017-09-30",
            "feed": "rss",
        },
        {"id": "d2", "text": "Second text.", "title": "Two"},
    )

    result = run(project, manager, source, "documents-jsonl")

    assert result.ok and result.written
    assert result.summary.documents_created == 2
    first, second = Document.objects.filter(project=project).order_by("position")
    assert (first.external_id, first.outlet, str(first.published)) == (
        "d1",
        "Alwaght",
        "2017-09-30",
    )
    assert first.metadata == {"feed": "rss"}
    assert second.position == first.position + 1
    assert len(first.content_hash) == 64
    events = AuditEvent.objects.filter(project=project, action="documents.import")
    assert events.count() == 1
    assert events.get().after["documents_created"] == 2


def test_imported_documents_follow_those_already_in_the_project(project, manager):
    make_document(project, text="Already here.")

    run(project, manager, jsonl({"text": "New one."}), "documents-jsonl")

    positions = list(Document.objects.filter(project=project).values_list("position", flat=True))
    assert positions == [1, 2]


def test_crlf_becomes_lf_and_span_offsets_shift_with_it(project, manager, coder):
    text = "Line one.\r\nIdlib was hit."
    start = text.index("Idlib")
    source = jsonl(
        record(
            text=text,
            spans=[
                {
                    "id": "1",
                    "start": start,
                    "end": start + 5,
                    "label": "LOCATION",
                    "text": "Idlib",
                    "coder": "coder",
                }
            ],
        )
    )

    result = run(project, manager, source)

    assert result.ok
    document = Document.objects.get(project=project)
    assert document.text == "Line one.\nIdlib was hit."
    stored = Annotation.objects.get(document=document)
    assert (stored.start, stored.text) == (start - 1, "Idlib")


def test_csv_uses_the_chosen_text_and_metadata_columns(project, manager):
    data = 'body,id,outlet,section,ignored\n"Text one, quoted.",c1,Alwaght,World,x\nText two.,c2,SANA,Local,y\n'

    result = run(
        project,
        manager,
        named(data.encode(), "articles.csv"),
        "csv",
        text_column="body",
        id_column="id",
        metadata_columns="outlet,section",
    )

    assert result.ok, result.errors
    document = Document.objects.get(project=project, external_id="c1")
    assert (document.text, document.outlet, document.metadata) == (
        "Text one, quoted.",
        "Alwaght",
        {"section": "World"},
    )


def test_a_zip_of_txt_files_gives_a_document_per_file(project, manager):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("news/one.txt", "First article.")
        archive.writestr("news/two.txt", "Second article.\r\n")
    buffer.name = "texts.zip"

    result = run(project, manager, buffer, "txt-zip")

    assert result.ok, result.errors
    assert sorted(
        Document.objects.filter(project=project).values_list("external_id", flat=True)
    ) == [
        "news/one",
        "news/two",
    ]


# --- every kind of error, nothing written --------------------------------------------------


def test_bad_json_names_its_line_and_imports_nothing(project, manager):
    source = jsonl(record("ok-1"), '{"text": "broken', record("ok-2", text="Other text."))

    result = run(project, manager, source)

    assert not result.ok and not result.written
    assert [(e.file, e.line, e.kind) for e in result.errors] == [("upload.jsonl", 2, "bad_json")]
    assert_nothing_written(project)


def test_a_missing_text_is_reported_with_line_and_field(project, manager):
    result = run(
        project, manager, jsonl({"external_id": "x", "title": "No text"}), "documents-jsonl"
    )

    assert [(e.line, e.field, e.kind) for e in result.errors] == [(1, "text", "missing_text")]
    assert_nothing_written(project)


def test_offsets_beyond_the_text_are_refused(project, manager, coder):
    bad = {"id": "1", "start": 40, "end": 400, "label": "ACTOR", "coder": "coder"}

    result = run(project, manager, jsonl(record(spans=[bad])))

    assert kinds(result) == ["offset_beyond_text"]
    assert result.errors[0].field == "spans[0]"
    assert_nothing_written(project)


def test_a_quote_that_is_not_the_text_at_its_offsets_is_refused(project, manager, coder):
    bad = span(TEXT, "Russian", "ACTOR", "1")
    bad["text"] = "Russians"

    result = run(project, manager, jsonl(record(spans=[bad])))

    assert kinds(result) == ["quote_mismatch"]
    assert result.errors[0].field == "spans[0].text"
    assert_nothing_written(project)


def test_an_unknown_label_is_refused_and_a_disabled_one_too(project, manager, coder):
    unknown = span(TEXT, "Russian", "TANK", "1")
    disabled = span(TEXT, "Idlib", "WEAPON", "2")

    result = run(project, manager, jsonl(record(spans=[unknown]), record("a-2", spans=[disabled])))

    assert kinds(result) == ["unknown_label", "disabled_label"]
    assert [e.line for e in result.errors] == [1, 2]
    assert "switched off" in result.errors[1].message
    assert_nothing_written(project)


def test_an_unmappable_user_is_reported_once_with_the_number_of_spans(project, manager):
    spans = [
        span(TEXT, "Russian", "ACTOR", "1", "stranger"),
        span(TEXT, "Idlib", "LOCATION", "2", "stranger"),
    ]

    result = run(project, manager, jsonl(record(spans=spans)))

    assert kinds(result) == ["unmappable_user"]
    error = result.errors[0]
    assert (error.line, error.value) == (1, "stranger")
    assert "2 span(s)" in error.message
    assert_nothing_written(project)


def test_a_user_who_is_not_a_coder_of_the_project_cannot_receive_spans(project, manager, outsider):
    result = run(
        project, manager, jsonl(record(spans=[span(TEXT, "Russian", "ACTOR", "1", "outsider")]))
    )

    assert kinds(result) == ["unmappable_user"]
    assert "not a coder of this project" in result.errors[0].message
    assert_nothing_written(project)


def test_invalid_attributes_are_reported_per_attribute(project, manager, coder):
    bad = span(TEXT, "Russian", "ACTOR", "1", attributes={"actor_type": "aliens", "colour": "red"})

    result = run(project, manager, jsonl(record(spans=[bad])))

    assert kinds(result) == ["bad_attribute", "bad_attribute"]
    assert all(e.field == "spans[id=1].attributes" for e in result.errors)
    assert_nothing_written(project)


def test_a_link_between_the_wrong_labels_is_refused(project, manager, coder):
    spans = [span(TEXT, "Russian", "ACTOR", "1"), span(TEXT, "Idlib", "LOCATION", "2")]
    link = {"id": "r1", "type": "claimed_by", "source_id": "1", "target_id": "2", "coder": "coder"}

    result = run(project, manager, jsonl(record(spans=spans, relations=[link])))

    assert kinds(result) == ["bad_relation"]
    assert "claimed_by links CASUALTY → SOURCE, not ACTOR → LOCATION" in result.errors[0].message
    assert_nothing_written(project)


def test_every_problem_of_a_file_is_listed_not_just_the_first(project, manager, coder):
    source = jsonl(
        '{"oops"',
        {"external_id": "no-text"},
        record("a-3", spans=[span(TEXT, "Russian", "TANK", "1")]),
        record("a-4", text="Fine and well."),
    )

    result = run(project, manager, source)

    assert [(e.line, e.kind) for e in result.errors] == [
        (1, "bad_json"),
        (2, "missing_text"),
        (3, "unknown_label"),
    ]
    assert_nothing_written(project)


def test_one_bad_record_in_a_large_file_writes_nothing_at_all(project, manager, coder):
    good = [record(f"d{n}", text=f"Document number {n}.") for n in range(2500)]
    bad = record("bad", spans=[span(TEXT, "Russian", "TANK", "1")])

    result = run(project, manager, jsonl(*good, bad))

    assert kinds(result) == ["unknown_label"]
    assert result.errors[0].line == 2501
    assert_nothing_written(project)


def test_an_upload_over_the_size_limit_is_refused_with_a_clear_message(project, manager, settings):
    settings.ANNOTATOR_MAX_UPLOAD_MB = 0.001  # about a kilobyte
    source = jsonl(*[{"text": "x" * 100} for _ in range(20)])
    source.size = len(source.getvalue())

    result = run(project, manager, source, "documents-jsonl")

    assert kinds(result) == ["too_large"]
    assert "larger than the upload limit of 0.001 MB" in result.errors[0].message
    assert_nothing_written(project)


def test_a_stream_that_grows_past_the_limit_is_stopped_while_reading(project, manager, settings):
    settings.ANNOTATOR_MAX_UPLOAD_MB = 0.001
    source = jsonl(*[{"text": "x" * 100} for _ in range(20)])  # no size: read and counted

    result = run(project, manager, source, "documents-jsonl")

    assert kinds(result) == ["too_large"]
    assert_nothing_written(project)


def test_a_dry_run_reports_what_would_happen_and_writes_nothing(project, manager, coder):
    result = run(
        project, manager, jsonl(record(spans=[span(TEXT, "Idlib", "LOCATION", "1")])), dry_run=True
    )

    assert result.ok and not result.written
    assert (result.summary.documents_created, result.summary.spans) == (1, 1)
    assert_nothing_written(project)


def test_unknown_options_and_formats_are_refused_before_reading(project, manager):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as raised:
        run(project, manager, jsonl(record()), on_duplicate="merge", colour="red")
    assert set(raised.value.message_dict) == {"on_duplicate", "colour"}
    with pytest.raises(ValidationError):
        run(project, manager, jsonl(record()), "xml")


# --- annotations ---------------------------------------------------------------------------


def test_coders_spans_links_and_attributes_are_imported_as_submitted_work(project, manager, coder):
    text = "16 ISIS fighters were killed, the ministry said."
    spans = [
        span(
            text, "16 ISIS fighters", "CASUALTY", "c", attributes={"outcome": "killed", "best": 16}
        ),
        span(
            text, "the ministry", "SOURCE", "s", attributes={"source_type": "belligerent_official"}
        ),
    ]
    links = [
        {"id": "r", "type": "claimed_by", "source_id": "c", "target_id": "s", "coder": "coder"}
    ]

    result = run(project, manager, jsonl(record(text=text, spans=spans, relations=links)))

    assert result.ok, result.errors
    assert result.summary.spans_by_coder == {"coder": 2}
    claim = Annotation.objects.get(label__name="CASUALTY")
    assert (claim.coder, claim.attributes, claim.codebook_version) == (
        coder,
        {"outcome": "killed", "best": 16},
        project.codebook_version,
    )
    link = Relation.objects.get()
    assert (link.source, link.target.label.name, link.coder) == (claim, "SOURCE", coder)
    assignment = Assignment.objects.get()
    assert (assignment.coder, assignment.state) == (coder, "submitted")


def test_the_user_map_attributes_file_users_to_members(project, manager, coder):
    result = run(
        project,
        manager,
        jsonl(record(spans=[span(TEXT, "Idlib", "LOCATION", "1", "amira@old-tool")])),
        user_map={"amira@old-tool": "coder"},
    )

    assert result.ok, result.errors
    assert Annotation.objects.get().coder == coder


def test_create_coders_makes_accounts_without_passwords_as_coders(project, manager):
    result = run(
        project,
        manager,
        jsonl(record(spans=[span(TEXT, "Idlib", "LOCATION", "1", "newcomer")])),
        create_coders=True,
    )

    assert result.ok, result.errors
    assert result.summary.coders_created == ["newcomer"]
    user = get_user_model().objects.get(username="newcomer")
    assert not user.has_usable_password()
    assert project.memberships.filter(user=user, role=Role.CODER).exists()
    assert Annotation.objects.get().coder == user


def test_gold_spans_come_in_with_their_provenance_and_the_document_counts_as_adjudicated(
    project, manager, coder
):
    text = "16 ISIS fighters were killed, the ministry said."
    spans = [
        span(text, "16 ISIS fighters", "CASUALTY", "1"),
        span(
            text,
            "16 ISIS fighters",
            "CASUALTY",
            "g1",
            None,
            provenance={
                "origin": "edited",
                "source_annotations": ["1"],
                "note": "checked",
                "needs_review": False,
            },
        ),
        span(text, "the ministry", "SOURCE", "g2", None),
    ]
    links = [
        {"id": "gr", "type": "claimed_by", "source_id": "g1", "target_id": "g2", "coder": None}
    ]

    result = run(project, manager, jsonl(record(text=text, spans=spans, relations=links)))

    assert result.ok, result.errors
    coder_span = Annotation.objects.get()
    claim = GoldSpan.objects.get(label__name="CASUALTY")
    assert (claim.origin, claim.source_annotations, claim.note) == (
        "edited",
        [coder_span.pk],
        "checked",
    )
    assert GoldSpan.objects.get(label__name="SOURCE").origin == "added"
    assert GoldRelation.objects.get().source == claim
    assert Document.objects.get().adjudicated_at is not None


def test_the_same_span_twice_for_one_coder_is_refused(project, manager, coder):
    spans = [span(TEXT, "Idlib", "LOCATION", "1"), span(TEXT, "Idlib", "LOCATION", "2")]

    result = run(project, manager, jsonl(record(spans=spans)))

    assert kinds(result) == ["duplicate_span"]
    assert_nothing_written(project)


def test_overlapping_spans_of_past_work_are_kept_and_counted(project, manager, coder):
    spans = [span(TEXT, "16 ISIS fighters", "CASUALTY", "1"), span(TEXT, "ISIS", "ACTOR", "2")]

    result = run(project, manager, jsonl(record(spans=spans)))

    assert result.ok
    assert result.summary.overlapping_spans == 1
    assert any("overlap" in warning for warning in result.summary.warnings)


# --- duplicates ----------------------------------------------------------------------------


def test_a_document_already_in_the_project_is_skipped_and_reported(project, manager, coder):
    existing = make_document(project, text=TEXT, external_id="a-1")

    result = run(
        project,
        manager,
        jsonl(
            record("a-1", spans=[span(TEXT, "Idlib", "LOCATION", "1")]),
            record("fresh", text="New text."),
        ),
    )

    assert result.ok and result.written
    assert (result.summary.duplicates_skipped, result.summary.documents_created) == (1, 1)
    assert result.summary.duplicates[0]["document_id"] == existing.pk
    assert result.summary.duplicates[0]["action"] == "skipped"
    assert not Annotation.objects.exists()
    assert result.summary.warnings  # the duplicate's span was not imported


def test_the_same_text_under_another_id_is_a_duplicate_too(project, manager):
    make_document(project, text=TEXT, external_id="old")

    result = run(project, manager, jsonl(record("new-id")))

    assert result.summary.duplicates_skipped == 1
    assert result.summary.duplicates[0]["same"] == "text"
    assert Document.objects.filter(project=project).count() == 1


def test_update_replaces_the_metadata_of_a_duplicate(project, manager):
    existing = make_document(
        project, text=TEXT, external_id="a-1", title="Old", outlet="Old outlet"
    )

    result = run(
        project,
        manager,
        jsonl(record("a-1", title="New", outlet="SANA", metadata={"k": 1})),
        on_duplicate="update",
    )

    assert result.ok and result.summary.documents_updated == 1
    existing.refresh_from_db()
    assert (existing.title, existing.outlet, existing.metadata) == ("New", "SANA", {"k": 1})
    assert Document.objects.filter(project=project).count() == 1


def test_update_refuses_to_change_the_text_of_an_annotated_document(
    project, manager, coder, document
):
    from annotator.services import span_create

    document.external_id = "a-1"
    document.save()
    span_create(document=document, coder=coder, label="ACTOR", **quote_span(document, "Russian"))

    result = run(
        project,
        manager,
        jsonl(record("a-1", text="A different text.", title="New")),
        on_duplicate="update",
    )

    assert kinds(result) == ["text_change_refused"]
    assert "its text cannot change" in result.errors[0].message
    document.refresh_from_db()
    assert document.title == "Russian air strikes"


def test_update_may_change_the_text_of_a_document_nobody_coded(project, manager):
    existing = make_document(project, text="Draft text.", external_id="a-1")

    result = run(project, manager, jsonl(record("a-1", text="Final text.")), on_duplicate="update")

    assert result.ok
    existing.refresh_from_db()
    assert existing.text == "Final text."
    assert existing.content_hash == imports.content_hash("Final text.")


def test_one_external_id_with_two_texts_in_a_file_is_an_error(project, manager):
    result = run(project, manager, jsonl(record("a-1"), record("a-1", text="Another text.")))

    assert kinds(result) == ["conflicting_record"]
    assert_nothing_written(project)


# --- doccano ---------------------------------------------------------------------------------


def test_doccano_utf16_offsets_after_an_emoji_become_code_points(project, manager, coder):
    line = {"id": 7, "text": "😀 Idlib was hit", "label": [[3, 8, "LOCATION"]]}

    result = run(project, manager, named(json.dumps(line).encode(), "coder.jsonl"), "doccano")

    assert result.ok, result.errors
    stored = Annotation.objects.get()
    assert (stored.start, stored.end, stored.text, stored.coder) == (2, 7, "Idlib", coder)
    assert result.summary.samples[0]["text"] == "Idlib"
    assert result.summary.offsets == "utf16"


def test_doccano_with_code_point_offsets_shows_the_shifted_text_in_the_samples(
    project, manager, coder
):
    line = {"id": 7, "text": "😀 Idlib was hit", "label": [[3, 8, "LOCATION"]]}

    result = run(
        project,
        manager,
        named(json.dumps(line).encode(), "coder.jsonl"),
        "doccano",
        offsets="codepoints",
        dry_run=True,
    )

    assert result.ok
    assert result.summary.samples[0]["text"] == "dlib "  # visibly wrong


def test_a_doccano_zip_merges_each_users_version_of_an_example(
    project, manager, coder, other_coder
):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "coder.jsonl", json.dumps({"id": 1, "text": TEXT, "label": [[0, 7, "ACTOR"]]}) + "\n"
        )
        archive.writestr(
            "other_coder.jsonl",
            json.dumps({"id": 1, "text": TEXT, "label": [[47, 52, "LOCATION"]]}) + "\n",
        )
    buffer.name = "doccano.zip"

    result = run(project, manager, buffer, "doccano")

    assert result.ok, result.errors
    document = Document.objects.get(project=project)
    assert document.external_id == "1"
    assert sorted(Annotation.objects.values_list("coder__username", "text")) == [
        ("coder", "Russian"),
        ("other_coder", "Idlib"),
    ]
    assert Assignment.objects.filter(document=document, state="submitted").count() == 2
    assert result.summary.records_merged == 1


def test_a_doccano_file_that_names_nobody_needs_a_user(project, manager):
    result = run(
        project, manager, named(b'{"id": 1, "text": "x", "label": []}\n', "all.jsonl"), "doccano"
    )

    assert kinds(result) == ["missing_user"]


# --- Label Studio and brat -------------------------------------------------------------------


def test_label_studio_quotes_that_disagree_with_the_text_refuse_the_file(project, manager, coder):
    task = {
        "id": 12,
        "data": {"text": TEXT},
        "annotations": [
            {
                "id": 31,
                "completed_by": {"id": 4, "email": "coder@example.org"},
                "result": [
                    {
                        "id": "a",
                        "from_name": "label",
                        "to_name": "text",
                        "type": "labels",
                        "value": {"start": 0, "end": 7, "text": "Russian", "labels": ["ACTOR"]},
                    },
                    {
                        "id": "b",
                        "from_name": "label",
                        "to_name": "text",
                        "type": "labels",
                        "value": {"start": 47, "end": 52, "text": "Raqqa", "labels": ["LOCATION"]},
                    },
                ],
            }
        ],
    }

    result = run(
        project,
        manager,
        named(json.dumps([task]).encode(), "ls.json"),
        "label-studio",
        user_map={"coder@example.org": "coder"},
    )

    assert kinds(result) == ["quote_mismatch"]
    assert_nothing_written(project)


def test_label_studio_users_are_found_by_their_email(project, manager):
    coder = make_user("amira", email="amira@example.org")
    add_member(project, coder, Role.CODER)
    task = {
        "id": 12,
        "data": {"text": TEXT},
        "annotations": [
            {
                "id": 31,
                "completed_by": {"id": 4, "email": "amira@example.org"},
                "result": [
                    {
                        "id": "a",
                        "from_name": "label",
                        "to_name": "text",
                        "type": "labels",
                        "value": {"start": 0, "end": 7, "text": "Russian", "labels": ["ACTOR"]},
                    }
                ],
            }
        ],
    }

    result = run(project, manager, named(json.dumps([task]).encode(), "ls.json"), "label-studio")

    assert result.ok, result.errors
    assert Annotation.objects.get().coder == coder


def test_brat_without_a_coder_is_the_gold_layer(project, manager):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("doc1.txt", TEXT)
        archive.writestr("doc1.ann", "T1\tACTOR 0 7\tRussian\nT2\tLOCATION 47 52\tIdlib\n")
    buffer.name = "brat.zip"

    result = run(project, manager, buffer, "brat-zip")

    assert result.ok, result.errors
    assert sorted(GoldSpan.objects.values_list("text", flat=True)) == ["Idlib", "Russian"]
    assert not Annotation.objects.exists()


def test_brat_for_a_coder_goes_to_that_coder(project, manager, coder):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("doc1.txt", TEXT)
        archive.writestr("doc1.ann", "T1\tACTOR 0 7\tRussian\nA1\tactor_type T1 external_forces\n")
    buffer.name = "brat.zip"

    result = run(project, manager, buffer, "brat-zip", user="coder")

    assert result.ok, result.errors
    stored = Annotation.objects.get()
    assert (stored.coder, stored.attributes) == (coder, {"actor_type": "external_forces"})


def test_labels_of_the_import_come_from_the_project_codebook(project, manager, coder):
    Label.objects.filter(project=project, name="DATE").update(enabled=False)
    project.codebook_version += 1
    project.save()

    result = run(project, manager, jsonl(record(spans=[span(TEXT, "Idlib", "DATE", "1")])))

    assert kinds(result) == ["disabled_label"]


def test_a_large_import_waits_on_disk_between_the_passes_and_keeps_its_order(
    project, manager, coder, monkeypatch
):
    monkeypatch.setattr(imports, "BATCH", 2)
    monkeypatch.setattr(imports, "HELD_IN_MEMORY", 10)  # characters: every batch spills
    lines = [
        record(
            f"d{n}",
            text=f"Idlib report {n}.",
            spans=[span(f"Idlib report {n}.", "Idlib", "LOCATION", "1")],
        )
        for n in range(7)
    ]

    result = run(project, manager, jsonl(*lines))

    assert result.ok and result.written
    documents = list(Document.objects.filter(project=project).order_by("position"))
    assert [d.external_id for d in documents] == [f"d{n}" for n in range(7)]
    assert all(d.annotations.get().text == "Idlib" for d in documents)


def test_a_single_doccano_file_can_be_given_its_user(project, manager, coder):
    line = {"id": 7, "text": TEXT, "label": [[0, 7, "ACTOR"]]}

    result = run(
        project, manager, named(json.dumps(line).encode(), "export.jsonl"), "doccano", user="coder"
    )

    assert result.ok, result.errors
    assert Annotation.objects.get().coder == coder


def test_in_a_doccano_zip_the_file_names_say_whose_spans_and_all_jsonl_takes_the_user_given(
    project, manager, coder, other_coder
):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "other_coder.jsonl",
            json.dumps({"id": 1, "text": TEXT, "label": [[0, 7, "ACTOR"]]}) + "\n",
        )
        archive.writestr(
            "all.jsonl",
            json.dumps({"id": 2, "text": "Another text.", "label": [[0, 7, "ACTOR"]]}) + "\n",
        )
    buffer.name = "doccano.zip"

    result = run(project, manager, buffer, "doccano", user="coder")

    assert result.ok, result.errors
    assert sorted(Annotation.objects.values_list("coder__username", "text")) == [
        ("coder", "Another"),
        ("other_coder", "Russian"),
    ]


def test_a_text_repeated_in_the_file_is_imported_once(project, manager):
    result = run(
        project, manager, jsonl({"text": "Same text."}, {"text": "Same text."}), "documents-jsonl"
    )

    assert (result.summary.documents_created, result.summary.duplicates_skipped) == (1, 1)
    assert result.summary.duplicates[0]["note"] == "repeats upload.jsonl, line 1"
    assert Document.objects.filter(project=project).count() == 1


@pytest.mark.parametrize(("text", "char"), [("Bad\x00text", "U+0000"), ("Bad\ud800text", "U+D800")])
def test_characters_no_database_can_store_are_refused(project, manager, text, char):
    result = run(project, manager, jsonl(json.dumps({"text": text})), "documents-jsonl")

    assert kinds(result) == ["bad_document"]
    assert char in result.errors[0].message
    assert_nothing_written(project)


# --- checking and writing together (PostgreSQL, outside a transaction) -------------------------


def _streamed_lines(count: int, bad_at: int | None = None) -> list[dict]:
    lines = []
    for n in range(count):
        text = f"Idlib report {n}."
        label = "NO_SUCH_LABEL" if n == bad_at else "LOCATION"
        lines.append(record(f"d{n}", text=text, spans=[span(text, "Idlib", label, "1", "newbie")]))
    return lines


@pytest.mark.django_db(transaction=True)
def test_an_import_outside_a_transaction_writes_while_it_checks_and_keeps_its_order(
    project, manager, monkeypatch
):
    monkeypatch.setattr(imports, "BATCH", 2)  # four batches through the writer's queue
    threads = []
    original = imports._Writer.write_batch

    def write_batch(self, rows):
        threads.append(threading.current_thread().name)
        original(self, rows)

    monkeypatch.setattr(imports._Writer, "write_batch", write_batch)

    result = run(project, manager, jsonl(*_streamed_lines(7)), create_coders=True)

    assert result.ok and result.written
    streamed = connection.vendor == "postgresql"  # elsewhere: the two passes, one thread
    assert threads == ["import-writer" if streamed else "MainThread"] * 4
    documents = list(Document.objects.filter(project=project).order_by("position"))
    assert [d.external_id for d in documents] == [f"d{n}" for n in range(7)]
    newbie = get_user_model().objects.get(username="newbie")
    assert all(d.annotations.get().coder == newbie for d in documents)
    assert Assignment.objects.filter(project=project, coder=newbie).count() == 7
    assert AuditEvent.objects.filter(project=project, action="documents.import").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_problem_in_the_last_line_of_a_streamed_import_writes_nothing_at_all(
    project, manager, monkeypatch
):
    monkeypatch.setattr(imports, "BATCH", 2)  # the first batches reach the writer first

    result = run(project, manager, jsonl(*_streamed_lines(7, bad_at=6)), create_coders=True)

    assert kinds(result) == ["unknown_label"]
    assert (result.errors[0].file, result.errors[0].line) == ("upload.jsonl", 7)
    assert not result.written
    assert_nothing_written(project)
    assert not get_user_model().objects.filter(username="newbie").exists()


@pytest.mark.django_db(transaction=True)
def test_a_database_refusal_in_a_streamed_import_is_raised_and_writes_nothing(
    project, manager, monkeypatch
):
    monkeypatch.setattr(imports, "BATCH", 2)

    def refuse(*args, **kwargs):
        raise RuntimeError("the database refused the batch")

    original = imports._Writer.write_batch
    calls = []

    def write_batch(self, rows):
        calls.append(len(rows))
        if len(calls) == 2:
            refuse()
        original(self, rows)

    monkeypatch.setattr(imports._Writer, "write_batch", write_batch)

    with pytest.raises(RuntimeError, match="refused"):
        run(project, manager, jsonl(*_streamed_lines(7)), create_coders=True)

    assert_nothing_written(project)
