import json

import pytest

from annotator.formats import (
    Document,
    FormatErrors,
    ImportedDocument,
    Relation,
    Span,
    read_jsonl,
    write_jsonl,
)
from annotator.formats.errors import QUOTE_MISMATCH, UNKNOWN_SPAN, UNSUPPORTED
from annotator.formats.jsonl import FORMAT
from tests.formats.conftest import ARABIC_TEXT, EMOJI_TEXT, make_item


def round_trip(items):
    return list(read_jsonl(list(write_jsonl(items))))


def gold_item():
    item = make_item(
        EMOJI_TEXT,
        [
            ("Idlib", "LOCATION", "L1", {"loc_type": "admin1", "geo_precision": 4}),
            ("16 fighters", "CASUALTY", "C1", {"low": 16, "best": 16, "high": None}),
            ("Raqqa", "LOCATION", "L2"),
        ],
        [("R1", "location", "C1", "L1"), ("R2", "location", "C1", "L2")],
        title="Idlib 💥",
        outlet="Alwaght",
        url="https://example.org/a",
        published="2017-09-30",
        language="en",
        metadata={"section": "Middle East", "tags": ["syria"]},
        codebook_version=3,
    )
    item.spans[0].provenance = {"from_coders": ["alice", "bob"], "decision": "agreed"}
    item.spans[1].coder = "alice"
    item.relations[0].coder = "alice"
    item.relations[1].provenance = {"origin": "added", "source_relations": [], "note": "both"}
    return item


def test_a_gold_document_with_emoji_comes_back_equal():
    item = gold_item()
    assert round_trip([item]) == [item]


def test_an_arabic_document_comes_back_equal():
    item = make_item(
        ARABIC_TEXT,
        [("إدلب", "LOCATION", "L1"), ("٢٬٣٥٩ مسلحاً", "CASUALTY", "C1")],
        language="ar",
    )
    assert round_trip([item]) == [item]


def test_a_crlf_text_is_read_with_lf_and_then_round_trips_unchanged():
    crlf = "Russian strikes\r\n\r\nkilled 16 in Idlib 😀.\r\nالرقة"
    original = make_item(crlf, [("Idlib", "LOCATION", "L1"), ("الرقة", "LOCATION", "L2")])
    (first,) = round_trip([original])
    assert first.document.text == crlf.replace("\r\n", "\n")
    assert [s.text for s in first.spans] == ["Idlib", "الرقة"]
    assert [first.document.text[s.start : s.end] for s in first.spans] == ["Idlib", "الرقة"]
    assert round_trip([first]) == [first]


def test_each_line_is_one_complete_document():
    lines = list(write_jsonl([gold_item(), make_item("Second text", external_id="doc-2")]))
    assert len(lines) == 2 and all(line.endswith("\n") for line in lines)
    record = json.loads(lines[0])
    assert record["format"] == FORMAT
    assert record["text"] == EMOJI_TEXT
    assert record["spans"][0]["provenance"] == {
        "from_coders": ["alice", "bob"],
        "decision": "agreed",
    }
    assert record["relations"][0] == {
        "id": "R1",
        "type": "location",
        "source_id": "C1",
        "target_id": "L1",
        "coder": "alice",
        "provenance": None,
    }


def test_a_line_separator_inside_a_text_does_not_split_the_line():
    item = make_item("one\u2028two\u2029three")
    lines = list(write_jsonl([item]))
    assert "".join(lines).splitlines() == [lines[0].rstrip("\n")]
    assert list(read_jsonl("".join(lines).splitlines())) == [item]


def test_a_span_quote_that_differs_from_the_text_is_reported():
    record = json.loads(next(write_jsonl([gold_item()])))
    record["spans"][0]["text"] = "Raqqa"
    errors = []
    assert list(read_jsonl([json.dumps(record)], file="gold.jsonl", errors=errors)) == []
    assert [(e.file, e.line, e.field, e.kind) for e in errors] == [
        ("gold.jsonl", 1, "spans[0].text", QUOTE_MISMATCH)
    ]


def test_a_relation_to_a_missing_span_is_reported():
    item = ImportedDocument(
        Document("d", "Idlib"),
        [Span("L1", 0, 5, "LOCATION", "Idlib")],
        [Relation("R1", "location", "L1", "C9")],
    )
    errors = []
    list(read_jsonl(list(write_jsonl([item])), errors=errors))
    assert [(e.field, e.kind, e.value) for e in errors] == [("relations", UNKNOWN_SPAN, "C9")]


def test_a_line_of_another_format_version_is_refused():
    errors = []
    list(read_jsonl(['{"format": "annotator-jsonl/9", "text": "x"}'], errors=errors))
    assert errors[0].kind == UNSUPPORTED and errors[0].field == "format"


def test_without_an_errors_list_the_reader_raises_every_problem_at_the_end():
    lines = ["not json", json.dumps({"text": ""}), next(write_jsonl([gold_item()]))]
    reader = read_jsonl(lines, file="x.jsonl")
    assert next(reader) == gold_item()
    with pytest.raises(FormatErrors) as caught:
        next(reader)
    assert [e.line for e in caught.value.errors] == [1, 2]
