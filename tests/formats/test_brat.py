import io
import zipfile

from annotator.formats import _zipstream, brat_ann_lines, parse_brat, read_brat_zip, write_brat_zip
from annotator.formats.errors import (
    DISCONTINUOUS_SPAN,
    MISSING_TEXT,
    QUOTE_MISMATCH,
    UNKNOWN_SPAN,
    Collector,
)
from tests.formats.conftest import EMOJI_TEXT, make_item

TEXT = "Russian air strikes killed 16 ISIS fighters in Idlib."
ANN = [
    "T1\tACTOR 0 7\tRussian",
    "T2\tCASUALTY 27 43\t16 ISIS fighters",
    "T3\tLOCATION 47 52\tIdlib",
    "R1\tperpetrator Arg1:T2 Arg2:T1",
    "R2\tlocation Arg1:T2 Arg2:T3",
    "A1\tnamed T1",
    "A2\toutcome T2 killed",
    "#1\tAnnotatorNotes T2\tcount checked twice",
]


def test_an_ann_file_gives_spans_relations_attributes_and_notes():
    item = parse_brat("doc-1", TEXT, ANN)
    assert [(s.id, s.label, s.text) for s in item.spans] == [
        ("T1", "ACTOR", "Russian"),
        ("T2", "CASUALTY", "16 ISIS fighters"),
        ("T3", "LOCATION", "Idlib"),
    ]
    assert item.spans[0].attributes == {"named": True}
    assert item.spans[1].attributes == {"outcome": "killed", "note": "count checked twice"}
    assert [(r.id, r.type, r.source_id, r.target_id) for r in item.relations] == [
        ("R1", "perpetrator", "T2", "T1"),
        ("R2", "location", "T2", "T3"),
    ]


def test_writing_then_parsing_gives_the_same_spans_relations_and_attributes():
    item = parse_brat("doc-1", TEXT, ANN)
    again = parse_brat("doc-1", TEXT, list(brat_ann_lines(item)))
    assert again == item


def test_a_zip_written_then_read_gives_the_same_documents():
    items = [
        parse_brat("doc-1", TEXT, ANN),
        make_item(
            EMOJI_TEXT,
            [("Idlib", "LOCATION", "T1"), ("Raqqa", "LOCATION", "T2")],
            [("R1", "located_in", "T1", "T2")],
            external_id="doc/2 😀",
        ),
    ]
    archive = io.BytesIO(b"".join(write_brat_zip(items)))
    names = zipfile.ZipFile(archive).namelist()
    assert names == ["doc-1.txt", "doc-1.ann", "doc_2.txt", "doc_2.ann", "annotation.conf"]
    back = list(read_brat_zip(archive))
    assert [(i.spans, i.relations) for i in back] == [(i.spans, i.relations) for i in items]
    assert [i.document.text for i in back] == [TEXT, EMOJI_TEXT]


def test_a_span_across_a_line_break_is_written_as_fragments_and_read_back_whole():
    text = "the eastern part\nof Deir ez-Zor"
    item = make_item(text, [("part\nof Deir ez-Zor", "LOCATION", "T1")])
    (line,) = brat_ann_lines(item)
    assert line == "T1\tLOCATION 12 16;17 31\tpart of Deir ez-Zor\n"
    assert parse_brat("doc-1", text, [line]).spans == item.spans


def test_a_discontinuous_span_is_an_error_by_default():
    errors = []
    ann = ["T1\tLOCATION 0 7;27 29\tRussian 16"]
    assert parse_brat("d", TEXT, ann, file="d.ann", collector=Collector(errors)) is None
    assert [(e.file, e.line, e.field, e.kind) for e in errors] == [
        ("d.ann", 1, "T1", DISCONTINUOUS_SPAN)
    ]


def test_a_discontinuous_span_can_be_split_into_one_span_per_fragment():
    ann = [
        "T1\tLOCATION 0 7;27 29\tRussian 16",
        "A1\tnamed T1",
        "R1\tx Arg1:T1 Arg2:T2",
        "T2\tLOCATION 47 52\tIdlib",
    ]
    item = parse_brat("d", TEXT, ann, discontinuous="split")
    assert [(s.id, s.text, s.attributes) for s in item.spans] == [
        ("T1", "Russian", {"named": True}),
        ("T1.2", "16", {"named": True}),
        ("T2", "Idlib", {}),
    ]
    assert item.relations[0].source_id == "T1"


def test_crlf_in_the_txt_file_is_made_lf_with_the_offsets_shifted():
    item = parse_brat("d", "Idlib\r\nRaqqa", ["T1\tLOCATION 7 12\tRaqqa"])
    assert item.document.text == "Idlib\nRaqqa"
    assert (item.spans[0].start, item.spans[0].text) == (6, "Raqqa")


def test_a_wrong_quote_and_a_dangling_relation_are_reported_with_their_lines():
    errors = []
    ann = ["T1\tACTOR 0 7\tRussia", "R1\tlocation Arg1:T1 Arg2:T9"]
    parse_brat("d", TEXT, ann, file="d.ann", collector=Collector(errors))
    assert [(e.line, e.field, e.kind) for e in errors] == [
        (1, "T1.text", QUOTE_MISMATCH),
        (2, "R1", UNKNOWN_SPAN),
    ]


def test_an_ann_file_without_its_txt_file_is_reported():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.ann", "T1\tACTOR 0 1\tx\n")
    errors = []
    assert list(read_brat_zip(buffer, file="up.zip", errors=errors)) == []
    assert [(e.file, e.kind) for e in errors] == [("up.zip:a.ann", MISSING_TEXT)]


def test_an_archive_with_more_members_than_plain_zip_allows_uses_zip64(monkeypatch):
    monkeypatch.setattr(_zipstream, "ZIP64_ENTRIES", 2)  # stands for 65,535
    items = [
        make_item(f"Text {n} in Idlib", [("Idlib", "LOCATION", "T1")], external_id=f"d{n}")
        for n in range(3)
    ]
    archive = zipfile.ZipFile(io.BytesIO(b"".join(write_brat_zip(items))))
    assert archive.testzip() is None and len(archive.namelist()) == 7
    assert [i.spans for i in read_brat_zip(archive.fp)] == [i.spans for i in items]
