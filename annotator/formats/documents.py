"""Documents without annotations: JSONL, CSV and a zip of .txt files."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Sequence
from typing import Any

from annotator.formats import _io
from annotator.formats._common import DOCUMENT_FIELDS, Record, split_fields
from annotator.formats.errors import (
    BAD_CSV,
    BAD_ENCODING,
    BAD_JSON,
    BAD_RECORD,
    MISSING_FIELD,
    UNSUPPORTED,
    Collector,
    FormatError,
)
from annotator.formats.model import ImportedDocument

# Keys of a documents JSONL line that name the document rather than describe it.
ID_KEYS = ("external_id", "id")


def read_documents_jsonl(
    source: _io.Source,
    *,
    file: str = "<jsonl>",
    text_key: str = "text",
    max_bytes: int | None = None,
    errors: list[FormatError] | None = None,
) -> Iterator[ImportedDocument]:
    """One JSON object per line: the text under ``text_key``; ``external_id`` (or ``id``),
    ``title``, ``outlet``, ``url``, ``published``, ``language`` fill the document's fields;
    every other key (and the keys of a ``metadata`` object) goes into its metadata."""
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
        rec = Record(collector, file, number)
        if not isinstance(obj, dict):
            rec.error("", "a line must hold a JSON object", type(obj).__name__, BAD_RECORD)
            continue
        if not rec.text(obj.get(text_key), text_key):
            continue
        external_id = next((obj[k] for k in ID_KEYS if obj.get(k) not in (None, "")), None)
        fields, metadata = split_fields(obj, {text_key, *ID_KEYS, "metadata"})
        nested = obj.get("metadata")
        if isinstance(nested, dict):
            metadata = {**nested, **metadata}
        elif nested is not None:
            metadata["metadata"] = nested
        document = rec.document(external_id, fields, metadata)
        if not rec.failed:
            yield ImportedDocument(document)
    collector.finish()


def read_documents_csv(
    source: _io.Source,
    *,
    text_column: str,
    file: str = "<csv>",
    id_column: str | None = None,
    metadata_columns: Sequence[str] | None = None,
    delimiter: str = ",",
    max_bytes: int | None = None,
    errors: list[FormatError] | None = None,
) -> Iterator[ImportedDocument]:
    """A CSV file with a header row. The caller names the text column, optionally the id
    column, and the metadata columns (``None``: every other column). Columns named
    ``title``, ``outlet``, ``url``, ``published``, ``language`` fill the document's fields."""
    collector = Collector(errors)
    line_numbers = _LineCounter(
        _io.lines(source, file=file, max_bytes=max_bytes, collector=collector)
    )
    reader = csv.reader(line_numbers, delimiter=delimiter, strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        collector.add(file, line_numbers.line, "", f"bad CSV header: {exc}", kind=BAD_CSV)
        collector.finish()
        return
    if header is None:
        collector.add(file, None, "", "the file is empty", kind=MISSING_FIELD)
        collector.finish()
        return
    header = [name.strip() for name in header]
    wanted = [text_column] + ([id_column] if id_column else [])
    if metadata_columns is None:
        metadata_columns = [c for c in header if c not in wanted]
    missing = [c for c in [*wanted, *metadata_columns] if c not in header]
    for column in missing:
        collector.add(
            file,
            1,
            column,
            f"no column {column!r} in the header (columns: {', '.join(header)})",
            column,
            MISSING_FIELD,
        )
    if missing:
        collector.finish()
        return
    index = {name: header.index(name) for name in header}
    while True:
        row_line = line_numbers.line + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            collector.add(file, row_line, "", f"bad CSV: {exc}", kind=BAD_CSV)
            break  # the parser cannot resynchronise after a broken quote
        if not any(cell.strip() for cell in row):
            continue
        rec = Record(collector, file, row_line)
        if len(row) != len(header):
            rec.error(
                "", f"the row has {len(row)} cells, the header {len(header)}", len(row), BAD_CSV
            )
            continue
        if not rec.text(row[index[text_column]], text_column):
            continue
        fields = {c: row[index[c]] for c in metadata_columns if c in DOCUMENT_FIELDS}
        metadata = {c: row[index[c]] for c in metadata_columns if c not in DOCUMENT_FIELDS}
        external_id = row[index[id_column]].strip() if id_column else ""
        document = rec.document(external_id, fields, metadata)
        if not rec.failed:
            yield ImportedDocument(document)
    collector.finish()


class _LineCounter:
    """Feeds lines to csv.reader and remembers how many it has taken."""

    def __init__(self, numbered: Iterator[tuple[int, str]]) -> None:
        self._numbered = numbered
        self.line = 0

    def __iter__(self) -> _LineCounter:
        return self

    def __next__(self) -> str:
        self.line, text = next(self._numbered)
        return text


def read_documents_zip(
    source: Any,
    *,
    file: str = "<zip>",
    max_bytes: int | None = None,
    errors: list[FormatError] | None = None,
) -> Iterator[ImportedDocument]:
    """A zip of UTF-8 ``.txt`` files, one document each, read one member at a time. The
    member's path without ``.txt`` is the external id, its file name the title."""
    collector = Collector(errors)
    with _io.open_zip(source, file=file, max_bytes=max_bytes) as archive:
        budget = _io.ZipBudget(file, max_bytes)
        for info in _io.members(archive):
            name = info.filename
            if not name.lower().endswith(".txt"):
                collector.add(f"{file}:{name}", None, "", "not a .txt file", name, UNSUPPORTED)
                continue
            rec = Record(collector, f"{file}:{name}", None)
            try:
                text = _io.decode_member(budget.read(archive, info))
            except UnicodeDecodeError as exc:
                rec.error(
                    "", f"not UTF-8 text ({exc.reason} at byte {exc.start})", kind=BAD_ENCODING
                )
                continue
            if not rec.text(text):
                continue
            stem = name[: -len(".txt")]
            title = stem.rsplit("/", 1)[-1]
            document = rec.document(stem, {"title": title}, {"filename": name})
            if not rec.failed:
                yield ImportedDocument(document)
    collector.finish()
