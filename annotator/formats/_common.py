"""Checks and conversions shared by the readers: document fields, spans, relations, users."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import date, datetime
from typing import Any

from annotator.formats.errors import (
    BAD_VALUE,
    DUPLICATE_ID,
    END_NOT_AFTER_START,
    MISSING_FIELD,
    MISSING_TEXT,
    OFFSET_BEYOND_TEXT,
    QUOTE_MISMATCH,
    UNKNOWN_LABEL,
    UNKNOWN_SPAN,
    UNMAPPABLE_USER,
    Collector,
)
from annotator.formats.model import Document, Relation, Span
from annotator.formats.offsets import NewlineFix, fix_newlines

# Input keys that fill Document fields rather than its metadata.
DOCUMENT_FIELDS = ("title", "outlet", "url", "published", "language")


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def valid_published(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        try:
            datetime.fromisoformat(value)
        except ValueError:
            return False
    return True


def map_user(name: str, user_map: Mapping[str, str] | None) -> str | None:
    """The project member a file's user name stands for; None when the map lacks it."""
    if user_map is None:
        return name
    return user_map.get(name)


class Record:
    """One input record (a line, a task, a document pair) being turned into plain data.

    Every problem goes to the collector with the record's file and line; ``failed`` tells
    the reader not to yield the record.
    """

    def __init__(
        self,
        collector: Collector,
        file: str,
        line: int | None,
        *,
        labels: Collection[str] | None = None,
        user_map: Mapping[str, str] | None = None,
    ) -> None:
        self.collector = collector
        self.file = file
        self.line = line
        self.labels = labels
        self.user_map = user_map
        self.failed = False
        self.original = ""
        self.fix = NewlineFix("")

    def error(self, field: str, message: str, value: Any = None, kind: str = "") -> None:
        self.collector.add(self.file, self.line, field, message, value, kind)
        self.failed = True

    # -- the document ------------------------------------------------------------------

    def text(self, value: Any, field: str = "text") -> bool:
        """Take the record's text (converting its line ends); False, reported, if missing."""
        if not isinstance(value, str) or not value.strip():
            what = "missing" if value is None or value == "" else "empty or not a string"
            self.error(field, f"text is {what}", value, MISSING_TEXT)
            return False
        self.original = value
        self.fix = fix_newlines(value)
        return True

    def document(
        self,
        external_id: Any,
        fields: Mapping[str, Any],
        metadata: dict[str, Any],
        codebook_version: Any = None,
    ) -> Document:
        """A Document of the record's text; ``fields`` may hold title, outlet, url,
        published, language (others are ignored), each checked."""
        values: dict[str, Any] = {}
        for name in DOCUMENT_FIELDS:
            value = fields.get(name)
            if value is None or value == "":
                continue
            if name == "published":
                if not valid_published(value):
                    self.error(
                        name, "published is not an ISO 8601 date (YYYY-MM-DD)", value, BAD_VALUE
                    )
                    continue
            elif not isinstance(value, str):
                value = str(value)
            values[name] = value
        if external_id is None:
            external_id = ""
        elif not isinstance(external_id, str):
            external_id = str(external_id)
        if codebook_version is not None and not isinstance(codebook_version, (int, str)):
            self.error(
                "codebook_version",
                "codebook_version is not a number or a string",
                codebook_version,
                BAD_VALUE,
            )
            codebook_version = None
        return Document(
            external_id=external_id,
            text=self.fix.text,
            metadata=metadata,
            codebook_version=codebook_version,
            **values,
        )

    # -- spans ---------------------------------------------------------------------------

    def coder(self, field: str, name: Any) -> str | None:
        """A span's coder mapped through the user map; None (gold) stays None."""
        if name is None:
            return None
        if isinstance(name, int) and not isinstance(name, bool):
            name = str(name)
        if not isinstance(name, str) or not name:
            self.error(field, "the coder is not a user name", name, BAD_VALUE)
            return None
        mapped = map_user(name, self.user_map)
        if mapped is None:
            self.error(
                field,
                f"user {name!r} is not mapped to a member of the project",
                name,
                UNMAPPABLE_USER,
            )
        return mapped

    def span(
        self,
        field: str,
        *,
        id: str,
        start: Any,
        end: Any,
        label: Any,
        quote: Any = None,
        attributes: Any = None,
        coder: str | None = None,
        provenance: Any = None,
        start_field: str = "start",
        end_field: str = "end",
    ) -> Span | None:
        """Check a span given over the record's original text and return it over the
        ``\\n`` text; None (reported) when anything is wrong."""
        problems = len(self.collector.errors)
        name = f"span {id}"
        for key, value in ((start_field, start), (end_field, end)):
            if not is_int(value):
                self.error(
                    f"{field}.{key}",
                    f"{name}: {key} is not an integer",
                    value,
                    MISSING_FIELD if value is None else BAD_VALUE,
                )
        if not isinstance(label, str) or not label:
            self.error(f"{field}.label", f"{name}: the label is missing", label, MISSING_FIELD)
        elif self.labels is not None and label not in self.labels:
            self.error(
                f"{field}.label",
                f"{name}: unknown label {label!r} (the project has {_listing(self.labels)})",
                label,
                UNKNOWN_LABEL,
            )
        if attributes is not None and not isinstance(attributes, dict):
            self.error(
                f"{field}.attributes",
                f"{name}: attributes are not an object",
                attributes,
                BAD_VALUE,
            )
        if provenance is not None and not isinstance(provenance, dict):
            self.error(
                f"{field}.provenance", f"{name}: provenance is not an object", provenance, BAD_VALUE
            )
        if is_int(start) and is_int(end):
            self._bounds(field, name, start, end, quote)
        if len(self.collector.errors) > problems:
            return None
        new_start, new_end = self.fix.offset(start), self.fix.offset(end)
        return Span(
            id=id,
            start=new_start,
            end=new_end,
            label=label,
            text=self.fix.text[new_start:new_end],
            attributes=dict(attributes or {}),
            coder=coder,
            provenance=provenance,
        )

    def _bounds(self, field: str, name: str, start: int, end: int, quote: Any) -> None:
        length = len(self.original)
        if end <= start:
            self.error(
                field,
                f"{name}: end ({end}) is not after start ({start})",
                [start, end],
                END_NOT_AFTER_START,
            )
        elif start < 0 or end > length:
            self.error(
                field,
                f"{name}: offsets [{start}, {end}) are beyond the text ({length} characters)",
                [start, end],
                OFFSET_BEYOND_TEXT,
            )
        elif quote is not None:
            expected = self.original[start:end]
            if quote != expected and fix_newlines(quote).text != fix_newlines(expected).text:
                self.error(
                    f"{field}.text",
                    f"{name}: quote {quote!r} does not match the text at [{start}, {end}), "
                    f"which is {expected!r}",
                    quote,
                    QUOTE_MISMATCH,
                )

    def unique_ids(self, field: str, spans: Iterable[Span]) -> None:
        seen: set[str] = set()
        for span in spans:
            if span.id in seen:
                self.error(field, f"span id {span.id!r} is used twice", span.id, DUPLICATE_ID)
            seen.add(span.id)

    def check_relations(
        self, field: str, relations: Iterable[Relation], span_ids: set[str]
    ) -> None:
        for relation in relations:
            for end in (relation.source_id, relation.target_id):
                if end not in span_ids:
                    self.error(
                        field,
                        f"relation {relation.id} ({relation.type}) points to span {end!r}, "
                        "which the document does not have",
                        end,
                        UNKNOWN_SPAN,
                    )
            if relation.source_id == relation.target_id:
                self.error(
                    field,
                    f"relation {relation.id} links span {relation.source_id} to itself",
                    relation.source_id,
                    BAD_VALUE,
                )


def _listing(values: Collection[str], limit: int = 12) -> str:
    shown = sorted(values)
    text = ", ".join(shown[:limit])
    return text + (", …" if len(shown) > limit else "") if shown else "no labels"


def split_fields(
    obj: Mapping[str, Any], reserved: Collection[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split a flat record into Document fields and metadata (everything else that is not
    reserved by the format)."""
    fields: dict[str, Any] = {}
    metadata: dict[str, Any] = {}
    for key, value in obj.items():
        if key in reserved:
            continue
        if key in DOCUMENT_FIELDS:
            fields[key] = value
        else:
            metadata[key] = value
    return fields, metadata
