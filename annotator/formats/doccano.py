"""doccano 1.8 sequence-labelling JSONL exports, in both shapes.

doccano writes one file per user (``<username>.jsonl``, zipped together) unless the project
is collaborative (one ``all.jsonl``). Each line is an example::

    {"id": 7, "text": "...", "label": [[0, 7, "ACTOR"], ...], "Comments": [], ...meta}

or, when the project uses relations::

    {"id": 7, "text": "...",
     "entities": [{"id": 1, "label": "ACTOR", "start_offset": 0, "end_offset": 7}, ...],
     "relations": [{"id": 3, "from_id": 1, "to_id": 2, "type": "perpetrator"}, ...],
     "Comments": [], ...meta}

The example's metadata is spread over the top level. There is no span text, and offsets are
counted by the browser in UTF-16 code units (unless the project counted graphemes), so by
default they are converted to code points; ``offsets="codepoints"`` takes them as they are.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Collection, Iterator, Mapping
from typing import Any, Literal

from annotator.formats import _io
from annotator.formats._common import Record, is_int, map_user, split_fields
from annotator.formats.errors import (
    BAD_JSON,
    BAD_RECORD,
    BAD_VALUE,
    MISSING_FIELD,
    UNMAPPABLE_USER,
    UNSUPPORTED,
    Collector,
    FormatError,
)
from annotator.formats.model import ImportedDocument, Relation, Span
from annotator.formats.offsets import OffsetError, Utf16Offsets

Offsets = Literal["utf16", "codepoints"]

# Top-level keys that are not the example's metadata.
_RESERVED = {"id", "text", "label", "labels", "entities", "relations", "Comments", "comments"}
COLLABORATIVE_FILE = "all"


def doccano_user_from_filename(name: str) -> str | None:
    """The doccano user whose export a file is: ``exports/alice.jsonl`` → ``alice``. None for
    ``all.jsonl``, the export of a collaborative project, which names nobody."""
    stem = posixpath.basename(name.replace("\\", "/"))
    for suffix in (".jsonl", ".json", ".txt"):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    return None if stem in ("", COLLABORATIVE_FILE) else stem


def read_doccano(
    source: _io.Source,
    *,
    user: str,
    file: str = "<doccano>",
    offsets: Offsets = "utf16",
    labels: Collection[str] | None = None,
    user_map: Mapping[str, str] | None = None,
    max_bytes: int | None = None,
    errors: list[FormatError] | None = None,
) -> Iterator[ImportedDocument]:
    """Read one doccano JSONL file whose spans are all by ``user`` (see
    :func:`doccano_user_from_filename`); ``user_map`` maps it to a project member."""
    if offsets not in ("utf16", "codepoints"):
        raise ValueError(f"offsets must be 'utf16' or 'codepoints', not {offsets!r}")
    collector = Collector(errors)
    coder = map_user(user, user_map)
    if coder is None:
        collector.add(
            file,
            None,
            "user",
            f"user {user!r} (from the file name) is not mapped to a member of the project",
            user,
            UNMAPPABLE_USER,
        )
        collector.finish()
        return
    for number, line in _io.lines(source, file=file, max_bytes=max_bytes, collector=collector):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            collector.add(
                file, number, "", f"bad JSON: {exc.msg} (column {exc.colno})", kind=BAD_JSON
            )
            continue
        rec = Record(collector, file, number, labels=labels, user_map=user_map)
        item = _example(obj, rec, coder, offsets)
        if item is not None and not rec.failed:
            yield item
    collector.finish()


def read_doccano_zip(
    source: Any,
    *,
    file: str = "<doccano zip>",
    offsets: Offsets = "utf16",
    labels: Collection[str] | None = None,
    user_map: Mapping[str, str] | None = None,
    collaborative_user: str | None = None,
    max_bytes: int | None = None,
    errors: list[FormatError] | None = None,
) -> Iterator[ImportedDocument]:
    """A doccano export zip: each ``<user>.jsonl`` member read with its user. The same
    example appears once per user; the importer merges them by external id. The ``all.jsonl``
    of a collaborative project names no user: its spans go to ``collaborative_user``."""
    collector = Collector(errors)
    with _io.open_zip(source, file=file, max_bytes=max_bytes) as archive:
        for info in _io.members(archive):
            name = f"{file}:{info.filename}"
            if not info.filename.lower().endswith(".jsonl"):
                collector.add(name, None, "", "not a .jsonl file", info.filename, UNSUPPORTED)
                continue
            user = doccano_user_from_filename(info.filename) or collaborative_user
            if user is None:
                collector.add(
                    name,
                    None,
                    "user",
                    "a collaborative export names no user: say "
                    "whose spans these are (collaborative_user)",
                    kind=MISSING_FIELD,
                )
                continue
            with archive.open(info) as member:
                yield from read_doccano(
                    member,
                    user=user,
                    file=name,
                    offsets=offsets,
                    labels=labels,
                    user_map=user_map,
                    max_bytes=max_bytes,
                    errors=collector.errors,
                )
    collector.finish()


def _example(obj: Any, rec: Record, coder: str, offsets: Offsets) -> ImportedDocument | None:
    if not isinstance(obj, dict):
        rec.error("", "a line must hold a JSON object", type(obj).__name__, BAD_RECORD)
        return None
    if not rec.text(obj.get("text")):
        return None
    units = Utf16Offsets(rec.original) if offsets == "utf16" else None
    fields, metadata = split_fields(obj, _RESERVED)
    external_id = metadata.pop("external_id", None) or obj.get("id")
    document = rec.document(external_id, fields, metadata)
    if "entities" in obj:
        spans, ids = _entities(obj["entities"], rec, coder, units)
        relations = _relations(obj.get("relations", []), rec, coder)
        rec.unique_ids("entities", spans)
        # Against every entity id, valid or not: a bad entity is reported once, not again
        # by each relation that uses it.
        rec.check_relations("relations", relations, ids)
    else:
        key = "label" if "label" in obj or "labels" not in obj else "labels"
        spans = _tuples(obj.get(key, []), key, rec, coder, units)
        relations = []
    return ImportedDocument(document, spans, relations)


def _convert(value: Any, units: Utf16Offsets | None, rec: Record, field: str, span: str) -> Any:
    """A UTF-16 offset as a code point; other values pass through for Record.span to judge."""
    if units is None or not is_int(value):
        return value
    try:
        return units.to_codepoints(value)
    except OffsetError as exc:
        rec.error(field, f"span {span}: {exc}", value, exc.kind)
        return None


def _tuples(
    values: Any, key: str, rec: Record, coder: str | None, units: Utf16Offsets | None
) -> list[Span]:
    if not isinstance(values, list):
        rec.error(key, f"{key} is not a list", values, BAD_VALUE)
        return []
    spans = []
    for index, value in enumerate(values):
        field = f"{key}[{index}]"
        span_id = f"s{index + 1}"
        if not isinstance(value, list) or len(value) != 3:
            rec.error(field, f"span {span_id}: expected [start, end, label]", value, BAD_RECORD)
            continue
        start = _convert(value[0], units, rec, f"{field}[0]", span_id)
        end = _convert(value[1], units, rec, f"{field}[1]", span_id)
        if start is None and is_int(value[0]) or end is None and is_int(value[1]):
            continue
        span = rec.span(
            field,
            id=span_id,
            start=start,
            end=end,
            label=value[2],
            coder=coder,
            start_field="[0]",
            end_field="[1]",
        )
        if span is not None:
            spans.append(span)
    return spans


def _entities(
    values: Any, rec: Record, coder: str | None, units: Utf16Offsets | None
) -> tuple[list[Span], set[str]]:
    if not isinstance(values, list):
        rec.error("entities", "entities is not a list", values, BAD_VALUE)
        return [], set()
    spans, ids = [], set()
    for index, value in enumerate(values):
        field = f"entities[{index}]"
        if not isinstance(value, dict):
            rec.error(field, "an entity must be an object", value, BAD_RECORD)
            continue
        raw_id = value.get("id")
        if not is_int(raw_id) and not isinstance(raw_id, str):
            rec.error(f"{field}.id", "the entity has no id", raw_id, MISSING_FIELD)
            continue
        span_id = str(raw_id)
        ids.add(span_id)
        start = _convert(value.get("start_offset"), units, rec, f"{field}.start_offset", span_id)
        end = _convert(value.get("end_offset"), units, rec, f"{field}.end_offset", span_id)
        if start is None and is_int(value.get("start_offset")):
            continue
        if end is None and is_int(value.get("end_offset")):
            continue
        span = rec.span(
            field,
            id=span_id,
            start=start,
            end=end,
            label=value.get("label"),
            coder=coder,
            start_field="start_offset",
            end_field="end_offset",
        )
        if span is not None:
            spans.append(span)
    return spans, ids


def _relations(values: Any, rec: Record, coder: str | None) -> list[Relation]:
    if not isinstance(values, list):
        rec.error("relations", "relations is not a list", values, BAD_VALUE)
        return []
    relations = []
    for index, value in enumerate(values):
        field = f"relations[{index}]"
        if not isinstance(value, dict):
            rec.error(field, "a relation must be an object", value, BAD_RECORD)
            continue
        parts = [value.get(k) for k in ("id", "from_id", "to_id", "type")]
        if not all(is_int(p) or isinstance(p, str) and p for p in parts):
            rec.error(field, "a relation needs id, from_id, to_id and type", value, MISSING_FIELD)
            continue
        relation_id, source, target, kind = (str(p) for p in parts)
        relations.append(Relation(relation_id, kind, source, target, coder))
    return relations
