"""Annotator's own JSONL: one document per line, complete, documented in docs/formats.md.

The writer is the gold-dataset export; the reader takes it back (round trip) and checks it as
strictly as any foreign format.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Iterator, Mapping
from typing import Any

from annotator.formats import _io
from annotator.formats._common import Record, is_int
from annotator.formats.errors import (
    BAD_JSON,
    BAD_RECORD,
    BAD_VALUE,
    MISSING_FIELD,
    UNSUPPORTED,
    Collector,
    FormatError,
)
from annotator.formats.model import ImportedDocument, Relation, Span

FORMAT = "annotator-jsonl/1"


def document_record(item: ImportedDocument) -> dict[str, Any]:
    """The JSON object of one document, as the JSONL export writes it."""
    doc = item.document
    return {
        "format": FORMAT,
        "external_id": doc.external_id,
        "title": doc.title,
        "outlet": doc.outlet,
        "url": doc.url,
        "published": doc.published,
        "language": doc.language,
        "codebook_version": doc.codebook_version,
        "metadata": doc.metadata,
        "text": doc.text,
        "spans": [
            {
                "id": s.id,
                "start": s.start,
                "end": s.end,
                "label": s.label,
                "text": s.text,
                "attributes": s.attributes,
                "coder": s.coder,
                "provenance": s.provenance,
            }
            for s in item.spans
        ],
        "relations": [
            {
                "id": r.id,
                "type": r.type,
                "source_id": r.source_id,
                "target_id": r.target_id,
                "coder": r.coder,
                "provenance": r.provenance,
            }
            for r in item.relations
        ],
    }


# Compact, non-ASCII kept as is: one encoder for every call (json.dumps with options makes a
# new one each time), and its string quoting, the same as the encoder's.
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_quote = json.encoder.encode_basestring


def dumps_line(obj: Any) -> str:
    """Compact JSON on one line, non-ASCII kept as is. U+2028/U+2029 are escaped: they are
    legal inside JSON strings but ``str.splitlines()`` would cut a line at them."""
    return _line(_dumps(obj))


def _line(line: str) -> str:
    if "\u2028" in line or "\u2029" in line:
        line = line.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return line + "\n"


def write_jsonl(items: Iterable[ImportedDocument]) -> Iterator[str]:
    """Yield the export one line (one document) at a time: ``dumps_line(document_record(item))``,
    character for character, built faster. A big export is millions of spans; each coder's
    span is written from a template (its label, coder and attribute JSON encoded once per
    distinct value), not as a dict handed to the encoder."""
    span_json = _SpanJson()
    for item in items:
        record = document_record(ImportedDocument(item.document, [], item.relations))
        del record["spans"]  # the last two keys, written after the others
        relations = _dumps(record.pop("relations"))
        spans = ",".join([span_json(s) for s in item.spans])
        yield _line(f'{_dumps(record)[:-1]},"spans":[{spans}],"relations":{relations}}}')


_SPAN_KEYS = ("id", "start", "end", "label", "text", "attributes", "coder", "provenance")


class _SpanJson:
    """One span's JSON, as ``_dumps`` would give its dict in document_record."""

    # Attribute objects remembered: an export shares one object among the spans with the
    # same attributes; beyond this many, the memory starts again (it must stay flat).
    LIMIT = 256

    def __init__(self) -> None:
        self.names: dict[str | None, str] = {None: "null"}  # labels and coders, encoded
        # id(attributes) -> (the object, kept alive so that its id stays its own, its JSON)
        self.attributes: dict[int, tuple[Any, str]] = {}

    def __call__(self, s: Span) -> str:
        if not (
            s.provenance is None
            and type(s.id) is str
            and type(s.start) is int
            and type(s.end) is int
            and type(s.text) is str
            and type(s.label) is str
            and (s.coder is None or type(s.coder) is str)
        ):
            return _dumps({key: getattr(s, key) for key in _SPAN_KEYS})
        names = self.names
        label = names.get(s.label)
        if label is None:
            label = names[s.label] = _quote(s.label)
        coder = names.get(s.coder)
        if coder is None:
            coder = names[s.coder] = _quote(s.coder)
        attributes = s.attributes
        known = self.attributes.get(id(attributes))
        if known is None or known[0] is not attributes:
            known = (attributes, _dumps(attributes))
            if len(self.attributes) >= self.LIMIT:
                self.attributes.clear()
            self.attributes[id(attributes)] = known
        return (
            f'{{"id":{_quote(s.id)},"start":{s.start},"end":{s.end},"label":{label},'
            f'"text":{_quote(s.text)},"attributes":{known[1]},"coder":{coder},'
            '"provenance":null}'
        )


def read_jsonl(
    source: _io.Source,
    *,
    file: str = "<jsonl>",
    labels: Collection[str] | None = None,
    user_map: Mapping[str, str] | None = None,
    max_bytes: int | None = None,
    errors: list[FormatError] | None = None,
) -> Iterator[ImportedDocument]:
    """Read Annotator JSONL (see docs/formats.md), checking every span against the text."""
    collector = Collector(errors)
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
        item = _record(obj, Record(collector, file, number, labels=labels, user_map=user_map))
        if item is not None:
            yield item
    collector.finish()


def _record(obj: Any, rec: Record) -> ImportedDocument | None:
    if not isinstance(obj, dict):
        rec.error("", "a line must hold a JSON object", type(obj).__name__, BAD_RECORD)
        return None
    tag = obj.get("format", FORMAT)
    if tag != FORMAT:
        rec.error(
            "format",
            f"unsupported format {tag!r} (this version reads {FORMAT!r})",
            tag,
            UNSUPPORTED,
        )
        return None
    if not rec.text(obj.get("text")):
        return None
    metadata = obj.get("metadata") or {}
    if not isinstance(metadata, dict):
        rec.error("metadata", "metadata is not an object", metadata, BAD_VALUE)
        metadata = {}
    document = rec.document(
        obj.get("external_id"), obj, dict(metadata), obj.get("codebook_version")
    )
    spans, ids = _spans(obj.get("spans", []), rec)
    relations = _relations(obj.get("relations", []), rec)
    rec.unique_ids("spans", spans)
    # Against every span id, valid or not: a bad span is reported once, not again by each
    # relation that uses it.
    rec.check_relations("relations", relations, ids)
    if rec.failed:
        return None
    return ImportedDocument(document, spans, relations)


def _spans(values: Any, rec: Record) -> tuple[list[Span], set[str]]:
    if not isinstance(values, list):
        rec.error("spans", "spans is not a list", values, BAD_VALUE)
        return [], set()
    spans, ids = [], set()
    for index, value in enumerate(values):
        field = f"spans[{index}]"
        if not isinstance(value, dict):
            rec.error(field, "a span must be an object", value, BAD_RECORD)
            continue
        span_id = value.get("id")
        if not isinstance(span_id, str) and not is_int(span_id):
            rec.error(f"{field}.id", "the span has no id", span_id, MISSING_FIELD)
            continue
        ids.add(str(span_id))
        span = rec.span(
            field,
            id=str(span_id),
            start=value.get("start"),
            end=value.get("end"),
            label=value.get("label"),
            quote=value.get("text"),
            attributes=value.get("attributes"),
            coder=rec.coder(f"{field}.coder", value.get("coder")),
            provenance=value.get("provenance"),
        )
        if span is not None:
            spans.append(span)
    return spans, ids


def _relations(values: Any, rec: Record) -> list[Relation]:
    if not isinstance(values, list):
        rec.error("relations", "relations is not a list", values, BAD_VALUE)
        return []
    relations = []
    for index, value in enumerate(values):
        field = f"relations[{index}]"
        if not isinstance(value, dict):
            rec.error(field, "a relation must be an object", value, BAD_RECORD)
            continue
        parts = {}
        for key in ("id", "type", "source_id", "target_id"):
            part = value.get(key)
            if is_int(part):
                part = str(part)
            if not isinstance(part, str) or not part:
                rec.error(f"{field}.{key}", f"the relation has no {key}", part, MISSING_FIELD)
                break
            parts[key] = part
        else:
            provenance = value.get("provenance")
            if provenance is not None and not isinstance(provenance, dict):
                rec.error(
                    f"{field}.provenance", "provenance is not an object", provenance, BAD_VALUE
                )
                continue
            coder = rec.coder(f"{field}.coder", value.get("coder"))
            relations.append(Relation(coder=coder, provenance=provenance, **parts))
    return relations
