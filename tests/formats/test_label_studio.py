import json
from itertools import count, islice

from annotator.formats import read_label_studio
from annotator.formats.errors import QUOTE_MISMATCH, UNMAPPABLE_USER

TEXT = "Russian strikes killed 16 in Idlib"


def region(region_id, start, end, label, quote=None):
    return {
        "id": region_id,
        "from_name": "label",
        "to_name": "text",
        "type": "labels",
        "value": {
            "start": start,
            "end": end,
            "text": TEXT[start:end] if quote is None else quote,
            "labels": [label],
        },
    }


def task(results, task_id=1, completed_by=4, annotation_id=31, **annotation):
    return {
        "id": task_id,
        "data": {"text": TEXT, "outlet": "SANA", "feed": "rss"},
        "annotations": [
            {
                "id": annotation_id,
                "completed_by": completed_by,
                "was_cancelled": False,
                "result": results,
                **annotation,
            }
        ],
        "predictions": [],
    }


def test_a_task_gives_a_document_with_its_spans_attributes_and_relations():
    results = [
        region("a", 0, 7, "ACTOR"),
        region("b", 29, 34, "LOCATION"),
        {
            "id": "a",
            "from_name": "actor_type",
            "to_name": "text",
            "type": "choices",
            "value": {"start": 0, "end": 7, "choices": ["external_forces"]},
        },
        {
            "from_id": "b",
            "to_id": "a",
            "type": "relation",
            "direction": "left",
            "labels": ["located_at"],
        },
    ]
    exported = [task(results, completed_by={"id": 4, "email": "alice@example.org"})]
    (item,) = read_label_studio(json.dumps(exported, indent=2))
    assert item.document.outlet == "SANA" and item.document.metadata == {"feed": "rss"}
    assert [(s.id, s.label, s.text, s.coder) for s in item.spans] == [
        ("31:a", "ACTOR", "Russian", "alice@example.org"),
        ("31:b", "LOCATION", "Idlib", "alice@example.org"),
    ]
    assert item.spans[0].attributes == {"actor_type": "external_forces"}
    relation = item.relations[0]
    assert (relation.type, relation.source_id, relation.target_id) == ("located_at", "31:a", "31:b")


def test_a_quote_that_does_not_match_the_text_is_reported_with_its_span():
    results = [region("a", 0, 7, "ACTOR"), region("b", 29, 34, "LOCATION", quote="Raqqa")]
    errors = []
    items = list(
        read_label_studio(json.dumps([task(results)], indent=2), file="ls.json", errors=errors)
    )
    assert items == []
    (error,) = errors
    assert (error.file, error.line, error.field, error.kind, error.value) == (
        "ls.json",
        2,
        "annotations[0].result[1].value.text",
        QUOTE_MISMATCH,
        "Raqqa",
    )
    assert "span 31:b" in error.message and "'Idlib'" in error.message


def test_cancelled_annotations_are_left_out():
    cancelled = task([region("a", 0, 7, "ACTOR")], was_cancelled=True)
    (item,) = read_label_studio(json.dumps([cancelled]))
    assert item.spans == []


def test_an_annotator_missing_from_the_user_map_is_reported():
    errors = []
    list(
        read_label_studio(
            json.dumps([task([region("a", 0, 7, "ACTOR")], completed_by=9)]),
            user_map={"4": "alice"},
            errors=errors,
        )
    )
    assert [(e.field, e.kind, e.value) for e in errors] == [
        ("annotations[0].completed_by", UNMAPPABLE_USER, "9")
    ]


def test_json_min_records_of_one_task_are_merged_into_one_document():
    records = [
        {
            "text": TEXT,
            "id": 1,
            "label": [{"start": 0, "end": 7, "text": "Russian", "labels": ["ACTOR"]}],
            "annotator": "alice@example.org",
            "annotation_id": 31,
            "created_at": "t",
            "updated_at": "t",
            "lead_time": 3.5,
        },
        {
            "text": TEXT,
            "id": 1,
            "label": [{"start": 29, "end": 34, "text": "Idlib", "labels": ["LOCATION"]}],
            "annotator": "bob@example.org",
            "annotation_id": 32,
        },
        {"text": "Another", "id": 2, "annotator": 5, "annotation_id": 33},
    ]
    items = list(read_label_studio(json.dumps(records)))
    assert [i.document.external_id for i in items] == ["1", "2"]
    assert [(s.id, s.text, s.coder) for s in items[0].spans] == [
        ("31:s1", "Russian", "alice@example.org"),
        ("32:s2", "Idlib", "bob@example.org"),
    ]


def test_a_json_min_quote_mismatch_is_reported():
    record = {
        "text": TEXT,
        "id": 1,
        "annotator": 4,
        "annotation_id": 31,
        "label": [{"start": 0, "end": 7, "text": "Syrian", "labels": ["ACTOR"]}],
    }
    errors = []
    list(read_label_studio(json.dumps([record]), errors=errors))
    assert [(e.field, e.kind) for e in errors] == [("label[0].text", QUOTE_MISMATCH)]


def test_tasks_are_read_one_at_a_time_from_an_endless_array():
    def endless():
        yield "["
        for n in count(1):
            yield ("," if n > 1 else "") + json.dumps(task([region("a", 0, 7, "ACTOR")], task_id=n))

    first = list(islice(read_label_studio(endless()), 3))
    assert [i.document.external_id for i in first] == ["1", "2", "3"]


def test_a_broken_task_is_reported_and_the_next_ones_are_read():
    good = json.dumps(task([region("a", 0, 7, "ACTOR")], task_id=2))
    text = "[\n" + '{"id": 1, "data": {"text": tru},\n "annotations": []},\n' + good + "\n]"
    errors = []
    items = list(read_label_studio(iter([text]), errors=errors))
    assert [i.document.external_id for i in items] == ["2"]
    assert [(e.line, e.kind) for e in errors] == [(2, "bad_json")]
