"""services/exports.py: streamed exports of one layer, and the JSONL round trip.

The round trip: a JSONL export imported into a new project and exported again gives the same
lines, ids aside, with emoji, Arabic and CRLF (in the first input) in the texts.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from annotator.models import Document, GoldSpan, Role
from annotator.services import exports, span_create
from annotator.services.exports import documents_export
from annotator.services.imports import documents_import
from tests.factories import add_member, make_document, make_project, make_user, quote_span

EMOJI = "😀 Russian air strikes killed 16 ISIS fighters in Idlib 💥, the ministry said."
ARABIC = "قالت وزارة الدفاع الروسية إن ١٦ مسلحاً قتلوا في إدلب."
CRLF = "First line.\r\nAnother 16 fighters were killed near Raqqa,\r\nthe monitor said."


def _span(text, piece, label, span_id, coder, occurrence=1, **extra):
    start = -1
    for _ in range(occurrence):
        start = text.index(piece, start + 1)
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


def _link(link_id, kind, source, target, coder, **extra):
    return {
        "id": link_id,
        "type": kind,
        "source_id": source,
        "target_id": target,
        "coder": coder,
        **extra,
    }


def source_lines() -> list[dict]:
    """Three documents coded by two coders, with gold on two of them."""
    gold = {
        "origin": "accepted",
        "source_annotations": ["e1"],
        "note": "both agree",
        "needs_review": False,
    }
    return [
        {
            "external_id": "emoji-1",
            "title": "Strikes 😀",
            "outlet": "Alwaght",
            "url": "https://example.org/a",
            "published": "2017-09-30",
            "language": "en",
            "metadata": {"section": "Middle East", "tags": ["a", "b"]},
            "text": EMOJI,
            "spans": [
                _span(
                    EMOJI,
                    "16 ISIS fighters",
                    "CASUALTY",
                    "e1",
                    "coder",
                    attributes={"outcome": "killed", "best": 16},
                ),
                _span(
                    EMOJI,
                    "the ministry",
                    "SOURCE",
                    "e2",
                    "coder",
                    attributes={"source_type": "belligerent_official"},
                ),
                _span(EMOJI, "Idlib", "LOCATION", "e3", "other_coder"),
                _span(
                    EMOJI,
                    "Russian",
                    "ACTOR",
                    "e4",
                    "other_coder",
                    attributes={"actor_type": "external_forces"},
                ),
                _span(EMOJI, "16 ISIS fighters", "CASUALTY", "g1", None, provenance=gold),
                _span(
                    EMOJI,
                    "the ministry",
                    "SOURCE",
                    "g2",
                    None,
                    provenance={
                        "origin": "added",
                        "source_annotations": [],
                        "note": "",
                        "needs_review": False,
                    },
                ),
            ],
            "relations": [
                _link("l1", "claimed_by", "e1", "e2", "coder"),
                _link(
                    "gl",
                    "claimed_by",
                    "g1",
                    "g2",
                    None,
                    provenance={"origin": "added", "source_relations": [], "note": "obvious"},
                ),
            ],
        },
        {
            "external_id": "arabic-1",
            "language": "ar",
            "text": ARABIC,
            "spans": [
                _span(ARABIC, "إدلب", "LOCATION", "a1", "coder"),
                _span(
                    ARABIC,
                    "١٦ مسلحاً",
                    "CASUALTY",
                    "a2",
                    "other_coder",
                    attributes={"outcome": "killed"},
                ),
                _span(ARABIC, "إدلب", "LOCATION", "g1", None),
            ],
            "relations": [],
        },
        {
            "external_id": "crlf-1",
            "text": CRLF,
            "spans": [
                _span(CRLF, "16 fighters", "CASUALTY", "c1", "coder"),
                _span(CRLF, "Raqqa", "LOCATION", "c2", "coder"),
                _span(CRLF, "the monitor", "SOURCE", "c3", "other_coder"),
            ],
            "relations": [_link("cl", "location", "c1", "c2", "coder")],
        },
    ]


def as_file(lines, name="in.jsonl"):
    data = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines).encode("utf-8")
    handle = io.BytesIO(data)
    handle.name = name
    return handle


@pytest.fixture
def team(project, coder, other_coder):
    return project


@pytest.fixture
def new_project(manager, coder, other_coder):
    def make(name):
        project = make_project(manager, name=name)
        add_member(project, coder, Role.CODER)
        add_member(project, other_coder, Role.CODER)
        return project

    return make


def import_into(project, manager, handle):
    result = documents_import(
        project=project, user=manager, source=handle, format="jsonl", options={}
    )
    assert result.ok, result.errors
    return result


def export_text(project, layer="all", format="jsonl", **options) -> str:
    export = documents_export(project=project, format=format, layer=layer, **options)
    return b"".join(export.chunks()).decode("utf-8")


def without_ids(text: str) -> list[dict]:
    """The lines with span and link ids replaced by their positions."""
    lines = []
    for raw in text.splitlines():
        line = json.loads(raw)
        spans = {span["id"]: f"s{n}" for n, span in enumerate(line["spans"])}
        links = {link["id"]: f"r{n}" for n, link in enumerate(line["relations"])}
        for span in line["spans"]:
            span["id"] = spans[span["id"]]
            if span["provenance"]:
                span["provenance"]["source_annotations"] = ["id"] * len(
                    span["provenance"]["source_annotations"]
                )
        for link in line["relations"]:
            link["id"] = links[link["id"]]
            link["source_id"], link["target_id"] = (
                spans[link["source_id"]],
                spans[link["target_id"]],
            )
        lines.append(line)
    return lines


# --- the round trip ---------------------------------------------------------------------------


def test_jsonl_export_imported_into_a_new_project_exports_the_same_lines(
    team, manager, new_project
):
    import_into(team, manager, as_file(source_lines()))
    first = export_text(team)

    copy = new_project("Copy")
    import_into(
        copy, manager, as_file([json.loads(line) for line in first.splitlines()], "first.jsonl")
    )
    second = export_text(copy)

    assert without_ids(second) == without_ids(first)
    lines = without_ids(first)
    assert [line["external_id"] for line in lines] == ["emoji-1", "arabic-1", "crlf-1"]
    assert lines[2]["text"] == CRLF.replace("\r\n", "\n")
    assert [s["text"] for s in lines[2]["spans"]] == ["16 fighters", "Raqqa", "the monitor"]
    assert lines[0]["spans"][0]["text"] == "16 ISIS fighters"
    assert lines[1]["spans"][0]["text"] == "إدلب"


def test_gold_export_round_trips_with_its_provenance(team, manager, new_project):
    import_into(team, manager, as_file(source_lines()))
    first = export_text(team, layer="gold")

    copy = new_project("Gold copy")
    import_into(
        copy, manager, as_file([json.loads(line) for line in first.splitlines()], "gold.jsonl")
    )
    second = export_text(copy, layer="gold")

    assert without_ids(second) == without_ids(first)
    claim = json.loads(first.splitlines()[0])["spans"][0]
    assert claim["coder"] is None
    assert claim["provenance"]["origin"] == "accepted"
    assert claim["provenance"]["note"] == "both agree"
    # The gold names the coder span it came from by its id in this project.
    assert GoldSpan.objects.filter(
        document__project=team, note="both agree"
    ).get().source_annotations == [int(claim["provenance"]["source_annotations"][0])]


# --- layers -----------------------------------------------------------------------------------


def test_gold_holds_only_adjudicated_documents_unless_asked(team, manager):
    import_into(team, manager, as_file(source_lines()))

    gold = [
        json.loads(line)["external_id"] for line in export_text(team, layer="gold").splitlines()
    ]
    everything = export_text(team, layer="gold", include_unadjudicated=True).splitlines()

    assert gold == ["emoji-1", "arabic-1"]
    assert len(everything) == 3
    assert json.loads(everything[2])["spans"] == []


def test_a_project_without_adjudicated_documents_says_so_instead_of_an_empty_file(
    project, document
):
    with pytest.raises(ValidationError) as raised:
        documents_export(project=project, format="jsonl", layer="gold")

    assert raised.value.message_dict["layer"] == [exports.NO_ADJUDICATED]
    assert "no adjudicated documents in this project" in exports.NO_ADJUDICATED


def test_a_project_without_documents_says_so(project):
    with pytest.raises(ValidationError) as raised:
        documents_export(project=project, format="jsonl", layer="all")

    assert raised.value.message_dict["layer"] == [exports.NO_DOCUMENTS]


def test_one_coders_layer_holds_only_their_spans(team, manager):
    import_into(team, manager, as_file(source_lines()))

    lines = [json.loads(line) for line in export_text(team, layer="other_coder").splitlines()]

    assert {span["coder"] for line in lines for span in line["spans"]} == {"other_coder"}
    assert [line["external_id"] for line in lines] == ["emoji-1", "arabic-1", "crlf-1"]


def test_an_unknown_coder_is_refused(team, manager):
    with pytest.raises(ValidationError) as raised:
        documents_export(project=team, format="jsonl", layer="nobody")

    assert "unknown layer 'nobody'" in raised.value.message_dict["layer"][0]


def test_hidden_coder_names_become_pseudonyms(team, manager):
    import_into(team, manager, as_file(source_lines()))
    team.hide_coder_names = True
    team.save()

    text = export_text(team)

    coders_seen = {
        span["coder"] for line in text.splitlines() for span in json.loads(line)["spans"]
    }
    assert coders_seen == {"coder-A", "coder-B", None} - {None}
    assert "other_coder" not in text
    assert export_text(team, layer="coder-B").count('"coder":"coder-B"') >= 1


def test_formats_other_than_jsonl_take_one_layer(team, manager):
    import_into(team, manager, as_file(source_lines()))

    with pytest.raises(ValidationError) as raised:
        documents_export(project=team, format="conll", layer="all")

    assert "holds one layer" in raised.value.message_dict["layer"][0]


# --- formats -----------------------------------------------------------------------------------


def test_conll_spacy_brat_and_claims_exports(team, manager):
    import_into(team, manager, as_file(source_lines()))

    conll = export_text(team, layer="gold", format="conll")
    spacy = [
        json.loads(line) for line in export_text(team, layer="gold", format="spacy").splitlines()
    ]
    claims = list(csv.DictReader(io.StringIO(export_text(team, layer="gold", format="claims-csv"))))
    brat = documents_export(project=team, format="brat", layer="coder")
    archive = zipfile.ZipFile(io.BytesIO(b"".join(brat.chunks())))

    assert conll.startswith("-DOCSTART-\tO\n\n")
    assert "Idlib\tO" in conll and "16\tB-CASUALTY" in conll
    assert spacy[0]["meta"]["external_id"] == "emoji-1"
    assert claims[0]["claim_text"] == "16 ISIS fighters"
    assert claims[0]["source_text"] == "the ministry"
    assert "emoji-1.txt" in archive.namelist() and "annotation.conf" in archive.namelist()
    assert brat.filename == "syria-claims-coder.zip"
    assert brat.content_type == "application/zip"


# --- constant memory, bounded queries ---------------------------------------------------------


def _coded_documents(project, coder, count):
    for n in range(count):
        document = make_document(project, text=f"Report {n}: Russian air strikes hit Idlib.")
        span_create(
            document=document, coder=coder, label="LOCATION", **quote_span(document, "Idlib")
        )


def _queries(project, layer="all"):
    export = documents_export(project=project, format="jsonl", layer=layer, batch_size=5)
    with CaptureQueriesContext(connection) as context:
        lines = b"".join(export.chunks()).count(b"\n")
    return len(context.captured_queries), lines


def test_export_queries_grow_with_batches_not_with_documents(project, coder):
    _coded_documents(project, coder, 5)
    few, lines_few = _queries(project)
    _coded_documents(project, coder, 10)
    many, lines_many = _queries(project)

    assert (lines_few, lines_many) == (5, 15)
    # Two more batches of 5 documents: at most a span query and a link query each (and the
    # document cursor's fetches), never one per document.
    assert many - few <= 2 * 3


def test_gold_export_queries_are_bounded_per_batch(project, coder, manager):
    _coded_documents(project, coder, 5)
    Document.objects.filter(project=project).update(adjudicated_at=timezone.now())
    few, _ = _queries(project, "gold")
    _coded_documents(project, coder, 10)
    Document.objects.filter(project=project).update(adjudicated_at=timezone.now())
    many, _ = _queries(project, "gold")

    assert many - few <= 2 * 3


def test_the_export_reads_one_batch_at_a_time(project, coder):
    _coded_documents(project, coder, 12)
    export = documents_export(project=project, format="jsonl", layer="all", batch_size=5)
    seen = []

    for item in export.items():
        seen.append(export.documents_written)
        assert item.spans

    # The counter moves after each batch: 0 for the first five, 5 for the next five, ...
    assert seen == [0] * 5 + [5] * 5 + [10] * 2


def test_a_coder_who_left_the_project_is_still_named_in_the_all_layer(project, coder, manager):
    _coded_documents(project, coder, 1)
    project.memberships.filter(user=coder).delete()

    text = export_text(project)

    assert '"coder":"coder"' in text


def test_an_outsiders_name_is_never_asked_for(project, coder, outsider):
    make_user("someone")
    _coded_documents(project, coder, 1)

    with pytest.raises(ValidationError):
        documents_export(project=project, format="jsonl", layer="outsider")


# --- one snapshot -----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_an_export_outside_a_transaction_leaves_the_connection_as_it_found_it(project, coder):
    _coded_documents(project, coder, 3)
    assert connection.get_autocommit()

    export = documents_export(project=project, format="jsonl", layer="all", batch_size=2)
    lines = b"".join(export.chunks()).splitlines()

    assert len(lines) == 3
    assert connection.get_autocommit() and not connection.in_atomic_block
    make_document(project, text="Written after the export.")  # the connection still writes


@pytest.mark.django_db(transaction=True)
def test_an_export_does_not_see_what_is_committed_while_it_runs(project, coder, other_coder):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers: PostgreSQL (SQLite's test database is in memory)")
    import threading

    from django.db import connections

    _coded_documents(project, coder, 4)
    export = documents_export(project=project, format="jsonl", layer="all", batch_size=2)

    last = Document.objects.filter(project=project).order_by("position").last()

    def write_elsewhere():
        _coded_documents(project, coder, 3)
        span_create(document=last, coder=other_coder, label="ACTOR", **quote_span(last, "Russian"))
        connections.close_all()

    with exports.snapshot():
        items = export.items()
        first = next(items)  # the snapshot is taken
        writer = threading.Thread(target=write_elsewhere)
        writer.start()
        writer.join()
        rest = list(items)

    assert 1 + len(rest) == 4
    assert first.spans[0].text == "Idlib"
    assert [span.text for span in rest[-1].spans] == ["Idlib"]  # not the span added meanwhile
    assert Document.objects.filter(project=project).count() == 7
