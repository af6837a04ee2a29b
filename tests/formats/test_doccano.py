import io
import json
import zipfile

from annotator.formats import doccano_user_from_filename, read_doccano, read_doccano_zip
from annotator.formats.errors import INSIDE_SURROGATE_PAIR, UNKNOWN_LABEL, UNMAPPABLE_USER


def line(**record):
    return json.dumps({"id": 1, "Comments": [], **record})


def test_utf16_offsets_after_an_emoji_become_code_points():
    (item,) = read_doccano([line(text="😀 Idlib", label=[[3, 8, "LOCATION"]])], user="alice")
    span = item.spans[0]
    assert (span.start, span.end, span.text, span.coder) == (2, 7, "Idlib", "alice")


def test_offsets_can_be_taken_as_code_points_when_the_project_counted_them_so():
    (item,) = read_doccano(
        [line(text="😀 Idlib", label=[[2, 7, "LOCATION"]])], user="alice", offsets="codepoints"
    )
    assert item.spans[0].text == "Idlib"


def test_the_label_shape_gives_spans_and_metadata():
    record = line(
        text="Russian strikes in Idlib",
        label=[[0, 7, "ACTOR"], [19, 24, "LOCATION"]],
        outlet="SANA",
        feed="rss",
    )
    (item,) = read_doccano([record], user="alice")
    assert [(s.id, s.label, s.text) for s in item.spans] == [
        ("s1", "ACTOR", "Russian"),
        ("s2", "LOCATION", "Idlib"),
    ]
    assert item.document.external_id == "1"
    assert item.document.outlet == "SANA" and item.document.metadata == {"feed": "rss"}


def test_the_entities_shape_gives_spans_and_relations():
    record = line(
        text="😀 Russian strikes in Idlib",
        entities=[
            {"id": 11, "label": "ACTOR", "start_offset": 3, "end_offset": 10},
            {"id": 12, "label": "LOCATION", "start_offset": 22, "end_offset": 27},
        ],
        relations=[{"id": 5, "from_id": 11, "to_id": 12, "type": "location"}],
    )
    (item,) = read_doccano([record], user="bob")
    assert [(s.id, s.text) for s in item.spans] == [("11", "Russian"), ("12", "Idlib")]
    relation = item.relations[0]
    assert (relation.id, relation.type, relation.source_id, relation.target_id, relation.coder) == (
        "5",
        "location",
        "11",
        "12",
        "bob",
    )


def test_an_offset_inside_a_surrogate_pair_is_reported_with_line_and_span():
    errors = []
    records = [line(text="Idlib"), line(text="😀 Idlib", label=[[1, 7, "LOCATION"]])]
    items = list(read_doccano(records, user="alice", file="alice.jsonl", errors=errors))
    assert [i.document.text for i in items] == ["Idlib"]
    (error,) = errors
    assert (error.file, error.line, error.field, error.kind) == (
        "alice.jsonl",
        2,
        "label[0][0]",
        INSIDE_SURROGATE_PAIR,
    )
    assert "span s1" in error.message


def test_the_user_comes_from_the_file_name():
    assert doccano_user_from_filename("export/alice.jsonl") == "alice"
    assert doccano_user_from_filename("all.jsonl") is None


def test_a_user_missing_from_the_user_map_is_reported_once_for_the_file():
    errors = []
    records = [line(text="Idlib", label=[[0, 5, "LOCATION"]])] * 3
    assert (
        list(
            read_doccano(
                records, user="carol", user_map={"alice": "a"}, file="carol.jsonl", errors=errors
            )
        )
        == []
    )
    assert [(e.file, e.line, e.field, e.kind) for e in errors] == [
        ("carol.jsonl", None, "user", UNMAPPABLE_USER)
    ]


def test_an_unknown_label_is_reported():
    errors = []
    list(
        read_doccano(
            [line(text="Idlib", label=[[0, 5, "PLACE"]])],
            user="a",
            labels={"LOCATION"},
            errors=errors,
        )
    )
    assert [(e.field, e.kind, e.value) for e in errors] == [
        ("label[0].label", UNKNOWN_LABEL, "PLACE")
    ]


def test_a_doccano_zip_reads_each_users_file_as_that_user():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("alice.jsonl", line(text="😀 Idlib", label=[[3, 8, "LOCATION"]]) + "\n")
        archive.writestr("bob.jsonl", line(text="😀 Idlib", label=[[0, 2, "LOCATION"]]) + "\n")
    buffer.seek(0)
    items = list(read_doccano_zip(buffer, user_map={"alice": "alice@x", "bob": "bob@x"}))
    assert [(i.document.external_id, i.spans[0].coder, i.spans[0].text) for i in items] == [
        ("1", "alice@x", "Idlib"),
        ("1", "bob@x", "😀"),
    ]
