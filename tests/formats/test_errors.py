"""Every kind of problem is reported with the file, the line and the field it is in."""

import io
import json

import pytest

from annotator.formats import errors as kinds
from annotator.formats import (
    read_doccano,
    read_documents_csv,
    read_jsonl,
    read_label_studio,
)
from annotator.formats.brat import parse_brat
from annotator.formats.errors import Collector

OK = json.dumps({"text": "fine"})


def jsonl(record):
    return [OK, json.dumps({"text": "Idlib and Raqqa", **record})]


def span(**fields):
    return {"id": "L1", "start": 0, "end": 5, "label": "LOCATION", **fields}


def run_jsonl(lines, **options):
    errors = []
    list(read_jsonl(lines, file="f.jsonl", errors=errors, **options))
    return errors


CASES = {
    "bad JSON": (lambda: run_jsonl([OK, '{"text": '])),
    "bad encoding": (lambda: run_jsonl([OK.encode(), b'{"text": "\xff"}'])),
    "line not an object": (lambda: run_jsonl([OK, "[1, 2]"])),
    "missing text": (lambda: run_jsonl([OK, '{"title": "x"}'])),
    "span without an id": (lambda: run_jsonl(jsonl({"spans": [span(id=None)]}))),
    "attributes not an object": (lambda: run_jsonl(jsonl({"spans": [span(attributes=[1])]}))),
    "offsets beyond the text": (lambda: run_jsonl(jsonl({"spans": [span(end=99)]}))),
    "end not after start": (lambda: run_jsonl(jsonl({"spans": [span(start=5, end=5)]}))),
    "quote mismatch": (lambda: run_jsonl(jsonl({"spans": [span(text="Raqqa")]}))),
    "unknown label": (lambda: run_jsonl(jsonl({"spans": [span()]}), labels={"ACTOR"})),
    "unmappable user": (
        lambda: run_jsonl(jsonl({"spans": [span(coder="eve")]}), user_map={"alice": "alice"})
    ),
    "relation to no span": (
        lambda: run_jsonl(
            jsonl(
                {
                    "spans": [span()],
                    "relations": [
                        {"id": "R1", "type": "location", "source_id": "L1", "target_id": "X"}
                    ],
                }
            )
        )
    ),
    "duplicate span id": (lambda: run_jsonl(jsonl({"spans": [span(), span(start=10, end=15)]}))),
    "unsupported format version": (lambda: run_jsonl([OK, '{"format": "other/2", "text": "x"}'])),
}


def _surrogate():
    errors = []
    lines = [OK, json.dumps({"text": "😀 Idlib", "label": [[0, 1, "LOCATION"]]})]
    list(read_doccano(lines, user="alice", file="f.jsonl", errors=errors))
    return errors


def _bad_csv():
    errors = []
    list(
        read_documents_csv(
            io.StringIO('text\n"broken\n'), text_column="text", file="f.jsonl", errors=errors
        )
    )
    return errors


def _discontinuous():
    errors = []
    parse_brat(
        "d",
        "Idlib and Raqqa",
        ["T0\tLOCATION 0 5\tIdlib", "T1\tLOCATION 0 5;10 15\tIdlib Raqqa"],
        file="f.jsonl",
        collector=Collector(errors),
    )
    return errors


def _label_studio_result_type():
    errors = []
    task = {
        "id": 1,
        "data": {"text": "Idlib"},
        "annotations": [
            {"id": 1, "completed_by": 1, "result": [{"type": "rectanglelabels", "value": {}}]}
        ],
    }
    list(read_label_studio("[\n" + json.dumps(task) + "\n]", file="f.jsonl", errors=errors))
    return errors


CASES |= {
    "offset inside a surrogate pair": _surrogate,
    "bad CSV": _bad_csv,
    "discontinuous span": _discontinuous,
    "unsupported result type": _label_studio_result_type,
}
EXPECTED = {
    "bad JSON": ("", kinds.BAD_JSON),
    "bad encoding": ("", kinds.BAD_ENCODING),
    "line not an object": ("", kinds.BAD_RECORD),
    "missing text": ("text", kinds.MISSING_TEXT),
    "span without an id": ("spans[0].id", kinds.MISSING_FIELD),
    "attributes not an object": ("spans[0].attributes", kinds.BAD_VALUE),
    "offsets beyond the text": ("spans[0]", kinds.OFFSET_BEYOND_TEXT),
    "end not after start": ("spans[0]", kinds.END_NOT_AFTER_START),
    "quote mismatch": ("spans[0].text", kinds.QUOTE_MISMATCH),
    "unknown label": ("spans[0].label", kinds.UNKNOWN_LABEL),
    "unmappable user": ("spans[0].coder", kinds.UNMAPPABLE_USER),
    "relation to no span": ("relations", kinds.UNKNOWN_SPAN),
    "duplicate span id": ("spans", kinds.DUPLICATE_ID),
    "unsupported format version": ("format", kinds.UNSUPPORTED),
    "offset inside a surrogate pair": ("label[0][1]", kinds.INSIDE_SURROGATE_PAIR),
    "bad CSV": ("", kinds.BAD_CSV),
    "discontinuous span": ("T1", kinds.DISCONTINUOUS_SPAN),
    "unsupported result type": ("annotations[0].result[0].type", kinds.UNSUPPORTED),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_kind_of_problem_names_file_line_and_field(case):
    (error,) = CASES[case]()
    field, kind = EXPECTED[case]
    assert (error.file, error.line, error.field, error.kind) == ("f.jsonl", 2, field, kind)
    assert error.message and str(error).startswith("f.jsonl, line 2")
