import io
import json
import zipfile

from annotator.formats import read_documents_csv, read_documents_jsonl, read_documents_zip
from annotator.formats.errors import BAD_VALUE, MISSING_FIELD, MISSING_TEXT, UNSUPPORTED


def test_jsonl_documents_take_their_fields_and_keep_the_rest_as_metadata():
    line = json.dumps(
        {
            "id": 7,
            "text": "Idlib",
            "outlet": "SANA",
            "published": "2017-09-30",
            "section": "war",
            "metadata": {"feed": "rss"},
        }
    )
    (item,) = read_documents_jsonl([line])
    doc = item.document
    assert (doc.external_id, doc.text, doc.outlet, doc.published) == (
        "7",
        "Idlib",
        "SANA",
        "2017-09-30",
    )
    assert doc.metadata == {"feed": "rss", "section": "war"}
    assert item.spans == [] and item.relations == []


def test_jsonl_documents_read_from_a_binary_file_with_crlf_texts():
    data = (json.dumps({"text": "a\r\nb"}) + "\r\n" + json.dumps({"text": "c"}) + "\r\n").encode()
    items = list(read_documents_jsonl(io.BytesIO(data)))
    assert [i.document.text for i in items] == ["a\nb", "c"]


def test_a_jsonl_document_without_text_is_reported_with_its_line():
    errors = []
    items = list(
        read_documents_jsonl(
            ['{"text": "ok"}', '{"title": "no text"}'], file="docs.jsonl", errors=errors
        )
    )
    assert len(items) == 1
    assert [(e.file, e.line, e.field, e.kind) for e in errors] == [
        ("docs.jsonl", 2, "text", MISSING_TEXT)
    ]


def test_a_publication_date_that_is_not_iso_is_reported():
    errors = []
    list(read_documents_jsonl(['{"text": "x", "published": "30/09/2017"}'], errors=errors))
    assert [(e.field, e.kind, e.value) for e in errors] == [("published", BAD_VALUE, "30/09/2017")]


CSV = (
    "id,body,outlet,section\r\n"
    '1,"Russian strikes\r\nin Idlib",Alwaght,war\r\n'
    "2,Raqqa,SANA,politics\r\n"
)


def test_csv_documents_come_from_the_named_columns():
    items = list(
        read_documents_csv(
            io.BytesIO(CSV.encode()),
            text_column="body",
            id_column="id",
            metadata_columns=["outlet", "section"],
        )
    )
    first = items[0].document
    assert (first.external_id, first.text, first.outlet, first.metadata) == (
        "1",
        "Russian strikes\nin Idlib",
        "Alwaght",
        {"section": "war"},
    )
    assert items[1].document.text == "Raqqa"


def test_csv_rows_are_numbered_by_their_first_line():
    errors = []
    text = 'id,body\n1,"two\nlines"\n2,\n'
    list(read_documents_csv(io.StringIO(text), text_column="body", file="d.csv", errors=errors))
    assert [(e.line, e.field, e.kind) for e in errors] == [(4, "body", MISSING_TEXT)]


def test_a_csv_without_the_named_text_column_is_refused_at_its_header():
    errors = []
    assert (
        list(
            read_documents_csv(io.StringIO(CSV), text_column="content", file="d.csv", errors=errors)
        )
        == []
    )
    assert [(e.line, e.field, e.kind) for e in errors] == [(1, "content", MISSING_FIELD)]


def zip_of(files):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    buffer.seek(0)
    return buffer


def test_txt_files_in_a_zip_become_documents_named_after_them():
    archive = zip_of(
        {"a/first.txt": "Idlib\r\n", "second.txt": "\ufeffRaqqa", "__MACOSX/._x": "junk"}
    )
    items = list(read_documents_zip(archive))
    assert [(i.document.external_id, i.document.title, i.document.text) for i in items] == [
        ("a/first", "first", "Idlib\n"),
        ("second", "second", "Raqqa"),
    ]


def test_a_zip_member_that_is_not_txt_is_reported():
    errors = []
    list(read_documents_zip(zip_of({"a.txt": "x", "b.pdf": "%PDF"}), file="up.zip", errors=errors))
    assert [(e.file, e.kind) for e in errors] == [("up.zip:b.pdf", UNSUPPORTED)]
