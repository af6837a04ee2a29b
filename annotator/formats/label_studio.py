"""Label Studio exports of named-entity tasks: JSON and JSON_MIN.

JSON (the full export) is an array of tasks::

    [{"id": 12, "data": {"text": "...", ...},
      "annotations": [{"id": 31, "completed_by": 4 or {"id": 4, "email": "..."},
                       "was_cancelled": false,
                       "result": [{"id": "reg1", "from_name": "label", "to_name": "text",
                                   "type": "labels",
                                   "value": {"start": 0, "end": 7, "text": "Russian",
                                             "labels": ["ACTOR"]}},
                                  {"id": "reg1", "from_name": "actor_type", "type": "choices",
                                   "value": {"start": 0, "end": 7, "choices": ["state_forces"]}},
                                  {"type": "relation", "from_id": "reg2", "to_id": "reg1",
                                   "direction": "right", "labels": ["perpetrator"]}]}],
      "predictions": [...]}]

JSON_MIN is an array of one flat record per annotation: the task's data keys, ``id``,
``annotator`` (email or id), ``annotation_id``, and per control tag (``from_name``) a list of
regions ``{"start", "end", "text", "labels"}``. It carries no relations, and per-region choices
reach it without their offsets, so they cannot be read back; use the JSON export for those.

Label Studio counts offsets in code points and stores the quoted ``text`` of every region:
each quote is checked against the document, and every mismatch is reported.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from typing import Any

from annotator.formats import _io
from annotator.formats._common import Record, is_int, split_fields
from annotator.formats.errors import (
    BAD_RECORD,
    BAD_VALUE,
    MISSING_FIELD,
    UNSUPPORTED,
    Collector,
    FormatError,
)
from annotator.formats.model import ImportedDocument, Relation, Span

# Per-region result types read as span attributes, and the value key holding each one's answer.
_ATTRIBUTE_TYPES = {
    "choices": "choices",
    "textarea": "text",
    "number": "number",
    "rating": "rating",
    "taxonomy": "taxonomy",
    "datetime": "datetime",
}
_MIN_RESERVED = {
    "id",
    "annotator",
    "annotation_id",
    "created_at",
    "updated_at",
    "lead_time",
    "agreement",
    "external_id",
}


def read_label_studio(
    source: _io.Source,
    *,
    file: str = "<label studio>",
    text_key: str = "text",
    labels: Collection[str] | None = None,
    user_map: Mapping[str, str] | None = None,
    max_bytes: int | None = None,
    errors: list[FormatError] | None = None,
) -> Iterator[ImportedDocument]:
    """Read a Label Studio JSON or JSON_MIN export (told apart item by item: a task has
    ``annotations``). The array is read one task at a time; one document is yielded per task,
    with the spans of all its annotations that were not cancelled. Span ids are
    ``<annotation id>:<region id>`` (``<annotation id>:s<n>`` in JSON_MIN); the user is the
    annotator's email when the export has it, else the id, mapped through ``user_map``."""
    collector = Collector(errors)
    pending: _MinTask | None = None
    items = _io.json_array_items(source, file=file, max_bytes=max_bytes, collector=collector)
    for line, item in items:
        rec = Record(collector, file, line, labels=labels, user_map=user_map)
        if not isinstance(item, dict):
            rec.error("", "a task must be a JSON object", type(item).__name__, BAD_RECORD)
            continue
        if "annotations" in item or "completions" in item:
            if pending is not None:
                yield from pending.done()
                pending = None
            task = _task(item, rec, text_key)
            if task is not None and not rec.failed:
                yield task
            continue
        if pending is not None and pending.same_task(item):
            pending.add(item, rec, text_key)
            continue
        if pending is not None:
            yield from pending.done()
        pending = _MinTask(item, rec, text_key)
    if pending is not None:
        yield from pending.done()
    collector.finish()


def _user(completed_by: Any) -> Any:
    if isinstance(completed_by, dict):
        return completed_by.get("email") or completed_by.get("id")
    return completed_by


def _task(item: dict[str, Any], rec: Record, text_key: str) -> ImportedDocument | None:
    data = item.get("data")
    if not isinstance(data, dict):
        rec.error("data", "the task has no data object", data, MISSING_FIELD)
        return None
    if not rec.text(data.get(text_key), f"data.{text_key}"):
        return None
    fields, metadata = split_fields(data, {text_key, "external_id"})
    document = rec.document(data.get("external_id") or item.get("id"), fields, metadata)
    key = "annotations" if "annotations" in item else "completions"
    annotations = item.get(key)
    if not isinstance(annotations, list):
        rec.error(key, f"{key} is not a list", annotations, BAD_VALUE)
        return None
    spans: list[Span] = []
    relations: list[Relation] = []
    region_ids: set[str] = set()
    for index, annotation in enumerate(annotations):
        field = f"{key}[{index}]"
        if not isinstance(annotation, dict):
            rec.error(field, "an annotation must be an object", annotation, BAD_RECORD)
            continue
        if annotation.get("was_cancelled") or annotation.get("skipped"):
            continue
        _annotation(annotation, field, rec, spans, relations, region_ids)
    rec.unique_ids(key, spans)
    rec.check_relations(key, relations, region_ids)
    return ImportedDocument(document, spans, relations)


def _annotation(
    annotation: dict[str, Any],
    field: str,
    rec: Record,
    spans: list[Span],
    relations: list[Relation],
    region_ids: set[str],
) -> None:
    annotation_id = annotation.get("id", field)
    user = _user(annotation.get("completed_by"))
    if user is None or user == "":
        rec.error(
            f"{field}.completed_by",
            f"annotation {annotation_id} names no annotator",
            annotation.get("completed_by"),
            MISSING_FIELD,
        )
        return
    coder = rec.coder(f"{field}.completed_by", user)
    results = annotation.get("result", [])
    if not isinstance(results, list):
        rec.error(f"{field}.result", "result is not a list", results, BAD_VALUE)
        return
    regions: dict[str, Span] = {}
    later: list[tuple[int, dict[str, Any]]] = []
    for index, result in enumerate(results):
        where = f"{field}.result[{index}]"
        if not isinstance(result, dict):
            rec.error(where, "a result must be an object", result, BAD_RECORD)
            continue
        kind = str(result.get("type", "")).lower()
        if kind != "labels":
            later.append((index, result))
            continue
        value = result.get("value")
        region = result.get("id", f"r{index}")
        span_id = f"{annotation_id}:{region}"
        region_ids.add(span_id)
        if not isinstance(value, dict):
            rec.error(
                f"{where}.value", f"span {span_id}: the result has no value", value, MISSING_FIELD
            )
            continue
        names = value.get("labels")
        if not isinstance(names, list) or len(names) != 1:
            rec.error(
                f"{where}.value.labels",
                f"span {span_id}: expected exactly one label",
                names,
                BAD_VALUE,
            )
            continue
        span = rec.span(
            f"{where}.value",
            id=span_id,
            start=value.get("start"),
            end=value.get("end"),
            label=names[0],
            quote=value.get("text"),
            coder=coder,
        )
        if span is not None:
            spans.append(span)
            regions[str(region)] = span
    for index, result in later:
        where = f"{field}.result[{index}]"
        kind = str(result.get("type", "")).lower()
        if kind == "relation":
            _relation(result, where, annotation_id, coder, rec, relations)
        elif kind in _ATTRIBUTE_TYPES:
            _attribute(result, where, kind, regions, region_ids, annotation_id, rec)
        else:
            rec.error(
                f"{where}.type", f"results of type {kind!r} are not imported", kind, UNSUPPORTED
            )


def _attribute(
    result: dict[str, Any],
    where: str,
    kind: str,
    regions: dict[str, Span],
    region_ids: set[str],
    annotation_id: Any,
    rec: Record,
) -> None:
    region = str(result.get("id"))
    name = result.get("from_name")
    if f"{annotation_id}:{region}" not in region_ids:
        rec.error(
            where,
            f"a {kind} result that belongs to no span (a document-level answer) is not imported",
            name,
            UNSUPPORTED,
        )
        return
    if region not in regions:
        return  # the span itself was reported
    if not isinstance(name, str) or not name:
        rec.error(f"{where}.from_name", "the result names no attribute", name, MISSING_FIELD)
        return
    value = result.get("value")
    answer = value.get(_ATTRIBUTE_TYPES[kind]) if isinstance(value, dict) else None
    if isinstance(answer, list) and len(answer) == 1 and kind in ("choices", "textarea"):
        answer = answer[0]
    regions[region].attributes[name] = answer


def _relation(
    result: dict[str, Any],
    where: str,
    annotation_id: Any,
    coder: str | None,
    rec: Record,
    relations: list[Relation],
) -> None:
    source, target = result.get("from_id"), result.get("to_id")
    if not (isinstance(source, str) or is_int(source)) or not (
        isinstance(target, str) or is_int(target)
    ):
        rec.error(where, "a relation needs from_id and to_id", result, MISSING_FIELD)
        return
    if result.get("direction") == "left":
        source, target = target, source
    types = result.get("labels")
    if not isinstance(types, list) or not types:
        rec.error(
            f"{where}.labels", "the relation has no type (labels is empty)", types, MISSING_FIELD
        )
        return
    for kind in types:
        relations.append(
            Relation(
                id=f"{annotation_id}:rel{len(relations) + 1}",
                type=str(kind),
                source_id=f"{annotation_id}:{source}",
                target_id=f"{annotation_id}:{target}",
                coder=coder,
            )
        )


class _MinTask:
    """The JSON_MIN records of one task (one per annotation, consecutive), merged."""

    def __init__(self, record: dict[str, Any], rec: Record, text_key: str) -> None:
        self.task_id = record.get("id")
        self.item: ImportedDocument | None = None
        self.failed = False
        self.text: Any = None
        if not rec.text(record.get(text_key), text_key):
            self.failed = True
            return
        self.text = record.get(text_key)
        fields, metadata = split_fields(
            {k: v for k, v in record.items() if not _is_regions(v)},
            _MIN_RESERVED | {text_key},
        )
        document = rec.document(record.get("external_id") or self.task_id, fields, metadata)
        self.item = ImportedDocument(document)
        self.add(record, rec, text_key, first=True)

    def same_task(self, record: dict[str, Any]) -> bool:
        return self.task_id is not None and record.get("id") == self.task_id

    def add(self, record: dict[str, Any], rec: Record, text_key: str, first: bool = False) -> None:
        if not first:
            if record.get(text_key) != self.text:
                rec.error(
                    text_key,
                    f"task {self.task_id} has another text in this record",
                    record.get(text_key),
                    BAD_VALUE,
                )
                self.failed = True
                return
            rec.text(record.get(text_key), text_key)
        if self.item is None:
            return
        annotation_id = record.get("annotation_id", rec.line)
        user = record.get("annotator")
        coder = None
        if user is None or user == "":
            rec.error(
                "annotator", f"annotation {annotation_id} names no annotator", user, MISSING_FIELD
            )
        else:
            coder = rec.coder("annotator", user)
        for key, value in record.items():
            if key in _MIN_RESERVED or key == text_key or not _is_regions(value):
                continue
            for index, region in enumerate(value):
                if "labels" not in region:
                    continue  # per-region answers: no region id survives in JSON_MIN
                span_id = f"{annotation_id}:s{len(self.item.spans) + 1}"
                names = region.get("labels")
                field = f"{key}[{index}]"
                if not isinstance(names, list) or len(names) != 1:
                    rec.error(
                        f"{field}.labels",
                        f"span {span_id}: expected exactly one label",
                        names,
                        BAD_VALUE,
                    )
                    continue
                span = rec.span(
                    field,
                    id=span_id,
                    start=region.get("start"),
                    end=region.get("end"),
                    label=names[0],
                    quote=region.get("text"),
                    coder=coder,
                )
                if span is not None:
                    self.item.spans.append(span)
        if rec.failed:
            self.failed = True

    def done(self) -> Iterator[ImportedDocument]:
        if self.item is not None and not self.failed:
            yield self.item


def _is_regions(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(v, dict) and "start" in v and "end" in v for v in value)
    )
