"""Importing documents, and annotations made elsewhere, into a project: all or nothing.

``documents_import`` reads the files with the pure readers of ``annotator.formats`` (a line,
a task or a zip member at a time), checks every document, span and link against the project
(labels that exist and are switched on, attributes valid under the codebook, link types
allowed between the two labels, users that map to the project's coders) and collects every
problem with its file, line and field. Nothing is written unless the whole input is clean;
then everything is written in one transaction, in batches, with one AuditEvent for the
import. The database triggers still check every span's quote as it is inserted.

Memory stays flat however large the input: between the checking pass and the writing pass the
checked rows wait in memory up to 32 MB of text, beyond that in a temporary file (pickled in
batches).

Duplicates. A record whose external id, or whose text, is already in the project is reported
and skipped (``on_duplicate="skip"``) or has its metadata replaced (``"update"``); a text
cannot change once the document has spans. Inside one import, records with the same external
id and the same text are one document: doccano exports the same example once per user, and
each user's spans join it (the same coder twice is an error). A record repeating an earlier
record's text under another id is reported and skipped.

Imported coders' work counts as finished: each (document, coder) with spans gets a submitted
assignment, so the agreement report and the adjudication queue take it in. Spans in the gold
layer (``coder: null`` in our JSONL, brat without a coder) become gold spans with their
provenance, and their documents count as adjudicated. Numbers of CASUALTY claims are kept as
imported (the coding screen's normaliser is not re-run over past work), and a coder's
overlapping spans are kept (and counted in the summary) even where the project's coders may not
make new ones.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import pickle
import posixpath
import queue
import re
import tempfile
import threading
import zipfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import connection, transaction
from django.db.models import JSONField, Max, Q
from django.utils import timezone

from annotator import formats
from annotator.codebook import Codebook, LabelSpec, clean_attributes, get_codebook
from annotator.formats import FormatError, ImportedDocument, InputTooLarge
from annotator.models import (
    Annotation,
    Assignment,
    AssignmentState,
    AuditEvent,
    Document,
    GoldOrigin,
    GoldRelation,
    GoldSpan,
    Membership,
    Project,
    Relation,
    Role,
)
from annotator.models.documents import content_hash
from annotator.services.assignments import documents_recount, shuffle_key

FORMATS = {
    "jsonl": "Annotator JSONL (documents with spans and links; our own export)",
    "documents-jsonl": "Documents, JSONL (one object per line: text and metadata)",
    "csv": "Documents, CSV (a text column and metadata columns)",
    "txt-zip": "Documents, a zip of .txt files",
    "doccano": "doccano JSONL export (one file per user, or their zip)",
    "label-studio": "Label Studio JSON or JSON_MIN export",
    "brat-zip": "brat standoff, a zip of .txt and .ann files",
}
ANNOTATED_FORMATS = {"jsonl", "doccano", "label-studio", "brat-zip"}
ON_DUPLICATE = ("skip", "update")
OFFSETS = ("utf16", "codepoints")
DISCONTINUOUS = ("error", "split")

# Error kinds beyond the readers' (annotator.formats.errors).
TOO_LARGE = "too_large"
BAD_DOCUMENT = "bad_document"
DISABLED_LABEL = "disabled_label"
BAD_ATTRIBUTE = "bad_attribute"
BAD_RELATION = "bad_relation"
DUPLICATE_SPAN = "duplicate_span"
DUPLICATE_TEXT_CHANGE = "text_change_refused"
UNMAPPABLE_USER = "unmappable_user"
MISSING_USER = "missing_user"
CONFLICTING_RECORD = "conflicting_record"

# Messages (tests assert on them).
UNKNOWN_FORMAT = "unknown format {value!r}; the formats are: {known}"
BAD_CHOICE = "{value!r} is not one of: {known}"
NO_FILES = "choose at least one file to import"
NOT_A_BOOLEAN = "must be true or false, got {value!r}"
NOT_A_MAPPING = "must map file user names to usernames"
FILE_TOO_LARGE = (
    "{file} is larger than the upload limit of {limit} MB ({size:,} bytes); split it into "
    "smaller files or ask an administrator to raise ANNOTATOR_MAX_UPLOAD_MB"
)
NOT_A_ZIP = "{file} is not a zip archive"
TEXT_TOO_LONG = "the text is {length:,} characters long; the longest allowed is {limit:,}"
TEXT_UNSTORABLE = (
    "the text contains a character that cannot be stored ({char}) at position {position}"
)
FIELD_TOO_LONG = "{name} is {length} characters long; the longest allowed is {limit}"
BAD_URL = "{value!r} is not a URL"
BAD_DATE = "{value!r} is not a date (YYYY-MM-DD)"
LABEL_DISABLED = "span {span}: label {label!r} is switched off in this project's codebook"
SPAN_TOO_LONG = "span {span}: it is {length} characters long; the longest allowed is {limit}"
ATTRIBUTE_PROBLEM = "span {span} ({label}): {message}"
SPAN_REPEATED = "span {span}: {who} already has a {label} span at [{start}, {end}) in this document"
UNKNOWN_RELATION_TYPE = (
    "relation {relation}: unknown relation type {type!r}; this project's types are: {known}"
)
RELATION_LABELS = (
    "relation {relation}: {type} links {expected_from} → {expected_to}, not {got_from} → {got_to}"
)
RELATION_CODERS = "relation {relation} links spans of different coders (or of a coder and the gold)"
RELATION_REPEATED = "relation {relation}: this {type} link is in the document twice"
RELATION_CARDINALITY = (
    "relation {relation}: span {span} has {count} {type} links; at most {limit} allowed"
)
USER_NOT_MAPPED = (
    "user {name!r} ({count:,} span(s)) is not a coder of this project; map it to one "
    "(user map {name}=USERNAME) or let the import create the coders"
)
USER_NOT_A_CODER = (
    "user {name!r} ({count:,} span(s)) is mapped to {username!r}, who is not a coder of this "
    "project; add them as a coder first"
)
USER_NAME_INVALID = "user {name!r} cannot be created: {problem}"
USER_MISSING = "{file} names no user: say whose spans these are"
TEXT_CHANGE_REFUSED = (
    "document {document} already has spans: its text cannot change (an update replaces the "
    "metadata only); import the new text as a new document, under another external id"
)
SAME_ID_OTHER_TEXT = (
    "external id {external_id!r} is used at {first} with another text; one id, one text"
)
SAME_CODER_TWICE = (
    "document {document} appears again (first at {first}) with spans of {coder}, who already "
    "has spans in it"
)
DUPLICATE_SPANS_SKIPPED = (
    "{count:,} span(s) and {links:,} link(s) of duplicate documents were not imported"
)
OVERLAPS_KEPT = (
    "{count:,} span(s) overlap another span of the same coder; they are kept, though the "
    "project does not let coders make overlapping spans"
)
EMPTY_IMPORT = "the file holds no documents"

BATCH = 1000
HELD_IN_MEMORY = 32 * 1024 * 1024  # characters of document text
MAX_SAMPLES = 6
MAX_DUPLICATES_LISTED = 200
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_DOCUMENT_LIMITS = {"title": 500, "outlet": 200, "url": 2000, "language": 20, "external_id": 200}
_validate_url = URLValidator()


# --- options, sources, results ----------------------------------------------------------------


@dataclass(frozen=True)
class ImportOptions:
    """What the user chose besides the file and its format."""

    user_map: Mapping[str, str] = field(default_factory=dict)  # file user -> username
    create_coders: bool = False
    offsets: str = "utf16"  # doccano
    on_duplicate: str = "skip"
    text_key: str = "text"  # documents-jsonl, label-studio
    text_column: str = "text"  # csv
    id_column: str = ""  # csv
    metadata_columns: tuple[str, ...] | None = None  # csv; None: every other column
    delimiter: str = ","  # csv
    # doccano: whose spans a file holds when its name says nobody (all.jsonl), or for every
    # file; brat: whose spans the files hold ("" makes them the gold layer).
    user: str = ""
    discontinuous: str = "error"  # brat
    dry_run: bool = False

    @classmethod
    def parse(cls, options: ImportOptions | Mapping[str, Any] | None) -> ImportOptions:
        """Options from a dict (a form, the API, the command), each checked; ValidationError
        naming every option at fault."""
        if isinstance(options, ImportOptions):
            return options
        options = dict(options or {})
        errors: dict[str, list[str]] = {}
        values: dict[str, Any] = {}
        for name in ("create_coders", "dry_run"):
            if name in options:
                values[name] = _boolean(errors, name, options.pop(name))
        for name, choices in (
            ("offsets", OFFSETS),
            ("on_duplicate", ON_DUPLICATE),
            ("discontinuous", DISCONTINUOUS),
        ):
            if name in options:
                value = options.pop(name) or choices[0]
                if value not in choices:
                    errors[name] = [BAD_CHOICE.format(value=value, known=", ".join(choices))]
                values[name] = value
        if "user_map" in options:
            user_map = options.pop("user_map") or {}
            if isinstance(user_map, str):
                user_map = parse_user_map(user_map.split())
            if not isinstance(user_map, Mapping) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in user_map.items()
            ):
                errors["user_map"] = [NOT_A_MAPPING]
                user_map = {}
            values["user_map"] = dict(user_map)
        if "metadata_columns" in options:
            columns = options.pop("metadata_columns")
            if isinstance(columns, str):
                columns = [c.strip() for c in columns.split(",") if c.strip()] or None
            values["metadata_columns"] = tuple(columns) if columns is not None else None
        for name in ("text_key", "text_column", "id_column", "delimiter", "user"):
            if name in options:
                values[name] = str(options.pop(name) or "").strip()
        if "delimiter" in values and len(values["delimiter"]) > 1:
            errors["delimiter"] = ["must be one character"]
        for name in ("text_key", "text_column"):
            if name in values and not values[name]:
                values[name] = "text"
        if values.get("delimiter") == "":
            values["delimiter"] = ","
        for name in options:
            errors[name] = ["unknown option"]
        if errors:
            raise ValidationError(errors)
        return cls(**values)


def parse_user_map(pairs: Iterable[str]) -> dict[str, str]:
    """``["alice=amira", "bob=bashar"]`` (or one string of such pairs separated by spaces or
    commas) as a dict; ValidationError naming a pair without "="."""
    result: dict[str, str] = {}
    for pair in pairs:
        for part in re.split(r"[\s,]+", pair.strip()):
            if not part:
                continue
            name, sep, username = part.partition("=")
            if not sep or not name or not username:
                raise ValidationError({"user_map": [f"{part!r} is not NAME=USERNAME"]})
            result[name] = username
    return result


@dataclass
class _Input:
    """One file to read: a path, an uploaded file, or a binary file object."""

    name: str
    path: Path | None = None
    file: Any = None
    size: int | None = None

    @contextmanager
    def open(self) -> Iterator[IO[bytes]]:
        if self.path is not None:
            with open(self.path, "rb") as handle:
                yield handle
            return
        handle = getattr(self.file, "file", None) or self.file  # Django's UploadedFile
        if hasattr(handle, "seek"):
            handle.seek(0)
        yield handle


def _inputs(source: Any) -> list[_Input]:
    if isinstance(source, (list, tuple)):
        return [item for one in source for item in _inputs(one)]
    if isinstance(source, (str, Path)):
        path = Path(source)
        return [_Input(name=path.name, path=path, size=path.stat().st_size)]
    name = posixpath.basename(str(getattr(source, "name", "") or "upload").replace("\\", "/"))
    size = getattr(source, "size", None)
    return [_Input(name=name, file=source, size=size)]


@dataclass
class ImportSummary:
    format: str
    files: list[str]
    dry_run: bool
    documents_read: int = 0
    documents_created: int = 0
    documents_updated: int = 0
    duplicates_skipped: int = 0
    records_merged: int = 0
    spans: int = 0
    relations: int = 0
    gold_spans: int = 0
    gold_relations: int = 0
    overlapping_spans: int = 0
    spans_by_coder: dict[str, int] = field(default_factory=dict)
    coders_created: list[str] = field(default_factory=list)
    duplicates: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # A few spans with their text, so that a wrong offset choice shows at once.
    samples: list[dict[str, Any]] = field(default_factory=list)
    offsets: str | None = None


@dataclass
class ImportResult:
    summary: ImportSummary
    errors: list[FormatError]
    written: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    def errors_as_dicts(self) -> list[dict[str, Any]]:
        return [
            {
                "file": e.file,
                "line": e.line,
                "field": e.field,
                "message": e.message,
                "kind": e.kind,
                "value": e.value if _jsonable(e.value) else repr(e.value),
            }
            for e in self.errors
        ]

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "written": self.written,
            "summary": asdict(self.summary),
            "errors": self.errors_as_dicts(),
        }


def _jsonable(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool, list, dict))


def max_upload_mb() -> float:
    """The upload limit in MB (settings.ANNOTATOR_MAX_UPLOAD_MB, 200 unless set)."""
    return float(getattr(settings, "ANNOTATOR_MAX_UPLOAD_MB", 200))


def max_upload_bytes() -> int:
    return int(max_upload_mb() * 1024 * 1024)


# --- the entry point --------------------------------------------------------------------------


def documents_import(
    *,
    project: Project,
    user,
    source: Any,
    format: str,
    options: ImportOptions | Mapping[str, Any] | None = None,
    size_limit: bool = True,
) -> ImportResult:
    """Read ``source`` (a path, an uploaded file, a binary file object, or a list of them) in
    ``format`` and import it into ``project`` as ``user``: everything or, when anything is
    wrong, nothing. The result lists every problem, and summarises what was (or, with
    ``dry_run``, would be) imported. Each file must be within the upload limit
    (ANNOTATOR_MAX_UPLOAD_MB) unless ``size_limit`` is False (the management command, which
    reads files already on the server)."""
    if format not in FORMATS:
        raise ValidationError(
            {"format": [UNKNOWN_FORMAT.format(value=format, known=", ".join(FORMATS))]}
        )
    opts = ImportOptions.parse(options)
    inputs = _inputs(source)
    if not inputs:
        raise ValidationError({"file": [NO_FILES]})
    run = _Run(project, user, format, opts, inputs, max_upload_bytes() if size_limit else None)
    return run.execute()


# --- the run ----------------------------------------------------------------------------------


@dataclass(slots=True)
class _Where:
    file: str
    line: int | None

    def __str__(self) -> str:
        return self.file if self.line is None else f"{self.file}, line {self.line}"


@dataclass(slots=True)
class _Seen:
    """The first record of a document in this import."""

    where: _Where
    hash: str
    action: str  # create, updated, skipped
    coders: set[str] | None = None  # whose spans it had (None: nobody's yet)


class _Run:
    def __init__(self, project, user, format: str, options: ImportOptions, inputs, max_bytes):
        self.project = project
        self.user = user
        self.format = format
        self.options = options
        self.inputs = inputs
        self.max_bytes = max_bytes
        self.errors: list[FormatError] = []
        self.summary = ImportSummary(
            format=format,
            files=[i.name for i in inputs],
            dry_run=options.dry_run,
            offsets=options.offsets if format == "doccano" else None,
        )
        self.codebook: Codebook = get_codebook(project)
        self.labels = {label.name: label for label in self.codebook.labels}
        self.types = {rt.name: rt for rt in self.codebook.relation_types}
        self.users = _Users(project, options.user_map, options.create_coders)
        # A project without documents has no duplicates to look up for each batch.
        self.project_was_empty = not Document.objects.filter(project=project).exists()
        self.by_id: dict[str, _Seen] = {}
        self.by_hash: dict[str, _Seen] = {}
        self.pending: list[tuple[ImportedDocument, _Where]] = []
        self.spool: Any = None
        self.sink: Callable[[list[tuple]], None] | None = None  # the writer thread's queue
        self.batches = 0  # in the spool file
        self.held: list[list[tuple]] = []  # in memory, while they are small
        self.held_chars = 0
        self.skipped_spans = 0
        self.skipped_links = 0
        self.sensitive_samples: list[dict[str, Any]] = []

    def error(self, where: _Where, field: str, message: str, value: Any = None, kind: str = ""):
        self.errors.append(FormatError(where.file, where.line, field, message, value, kind))

    # -- reading and checking ------------------------------------------------------------

    def execute(self) -> ImportResult:
        with _collector_paused():
            if _can_stream() and not self.options.dry_run:
                return self._check_and_write()
            # Checked rows wait between the two passes: in memory, or on disk past 32 MB.
            with tempfile.TemporaryFile() as self.spool:
                self._check_all()
                if self.errors or self.options.dry_run:
                    return ImportResult(self.summary, self.errors, written=False)
                self._write()
                return ImportResult(self.summary, self.errors, written=True)

    def _check_and_write(self) -> ImportResult:
        """Check and write at once: each checked batch goes to a writer thread (its own
        connection, one transaction) while the next batch is read and checked, so that the
        database inserts one batch while Python checks the next. The first problem stops the
        feeding; the writer then rolls back, so the import still writes all or nothing."""
        writer = _BackgroundWriter(self)
        self.sink = writer.put
        try:
            self._check_all()
        except BaseException:
            writer.abandon()
            raise
        if self.errors:
            writer.abandon()
            return ImportResult(self.summary, self.errors, written=False)
        writer.commit()
        return ImportResult(self.summary, self.errors, written=True)

    def _check_all(self) -> None:
        for one in self.inputs:
            if self.max_bytes is not None and one.size is not None and one.size > self.max_bytes:
                self.error(
                    _Where(one.name, None),
                    "file",
                    FILE_TOO_LARGE.format(
                        file=one.name, limit=f"{max_upload_mb():g}", size=one.size
                    ),
                    kind=TOO_LARGE,
                )
        if self.errors:
            return
        for one in self.inputs:
            try:
                with one.open() as handle:
                    for item, where in self._read(one, handle):
                        self._take(item, where)
            except InputTooLarge as exc:
                self.error(_Where(exc.file, None), "file", str(exc), kind=TOO_LARGE)
            except zipfile.BadZipFile:
                self.error(
                    _Where(one.name, None), "file", NOT_A_ZIP.format(file=one.name), kind="bad_zip"
                )
        self._flush()
        self._finish_checks()

    def _read(self, one: _Input, handle) -> Iterator[tuple[ImportedDocument, _Where]]:
        """The records of one file, each with where it starts."""
        opts, fmt, name = self.options, self.format, one.name
        labels = set(self.labels)
        common = {"max_bytes": self.max_bytes, "errors": self.errors}
        if fmt in ("jsonl", "documents-jsonl", "csv"):
            lines = _CountedLines(handle)
            if fmt == "jsonl":
                items = formats.read_jsonl(lines, file=name, labels=labels, **common)
            elif fmt == "documents-jsonl":
                items = formats.read_documents_jsonl(
                    lines, file=name, text_key=opts.text_key, **common
                )
            else:
                items = formats.read_documents_csv(
                    lines,
                    file=name,
                    text_column=opts.text_column,
                    id_column=opts.id_column or None,
                    metadata_columns=opts.metadata_columns,
                    delimiter=opts.delimiter,
                    **common,
                )
            for item in items:
                yield item, _Where(name, lines.line)
        elif fmt == "doccano":
            if _is_zip(handle):
                yield from self._read_doccano_zip(name, handle, labels)
            else:
                yield from self._read_doccano(name, handle, labels)
        elif fmt == "label-studio":
            for item in formats.read_label_studio(
                handle, file=name, text_key=opts.text_key, labels=labels, **common
            ):
                yield item, _Where(name, None)
        elif fmt == "txt-zip":
            for item in formats.read_documents_zip(handle, file=name, **common):
                yield item, _Where(f"{name}:{item.document.metadata.get('filename', '')}", None)
        elif fmt == "brat-zip":
            for item in formats.read_brat_zip(
                handle,
                file=name,
                coder=opts.user or None,
                labels=labels,
                discontinuous=opts.discontinuous,
                **common,
            ):
                yield item, _Where(f"{name}:{item.document.external_id}.ann", None)

    def _read_doccano(self, name: str, handle, labels, *, member: str = ""):
        # A file on its own: the user given, else its name's. A member of a zip: its name's
        # (one file per user), else the user given (all.jsonl names nobody).
        given = self.options.user
        if member:
            user = formats.doccano_user_from_filename(member) or given
        else:
            user = given or formats.doccano_user_from_filename(name)
        if not user:
            self.error(
                _Where(name, None), "user", USER_MISSING.format(file=name), kind=MISSING_USER
            )
            return
        lines = _CountedLines(handle)
        for item in formats.read_doccano(
            lines,
            user=user,
            file=name,
            offsets=self.options.offsets,
            labels=labels,
            max_bytes=self.max_bytes,
            errors=self.errors,
        ):
            yield item, _Where(name, lines.line)

    def _read_doccano_zip(self, name: str, handle, labels):
        # As formats.read_doccano_zip, member by member, counting each member's lines so that
        # the checks made here can name them too.
        with zipfile.ZipFile(handle) as archive:
            members = _zip_members(archive, name, self.max_bytes)
            for info in members:
                member = f"{name}:{info.filename}"
                if not info.filename.lower().endswith(".jsonl"):
                    self.error(_Where(member, None), "", "not a .jsonl file", kind="unsupported")
                    continue
                with archive.open(info) as stream:
                    yield from self._read_doccano(member, stream, labels, member=info.filename)

    def _take(self, item: ImportedDocument, where: _Where) -> None:
        self.summary.documents_read += 1
        self.pending.append((item, where))
        if len(self.pending) >= BATCH:
            self._flush()

    def _flush(self) -> None:
        """Check the pending records against the project and spool what is to be written."""
        if not self.pending:
            return
        pending, self.pending = self.pending, []
        hashes = [_hash(item.document.text) for item, _ in pending]
        existing = self._existing(pending, hashes)
        rows = []
        for (item, where), text_hash in zip(pending, hashes, strict=True):
            row = self._check(item, where, text_hash, existing)
            if row is not None:
                rows.append(row)
        if rows and not self.errors and not self.options.dry_run:
            if self.sink is not None:
                self.sink(rows)
            else:
                self._hold(rows)

    def _hold(self, rows: list[tuple]) -> None:
        """Keep checked rows for the writing pass: in memory up to HELD_IN_MEMORY characters
        of text, then (all of them, in order) in the spool file, so that memory stays flat
        however large the import."""
        self.held.append(rows)
        self.held_chars += sum(len(row[2]["text"]) for row in rows if row[0] == "create")
        if self.held_chars > HELD_IN_MEMORY:
            for batch in self.held:
                pickle.dump(batch, self.spool, protocol=pickle.HIGHEST_PROTOCOL)
                self.batches += 1
            self.held, self.held_chars = [], 0

    def _existing(self, pending, hashes) -> dict[tuple[str, str], tuple[int, str, str]]:
        """The project's documents these records would repeat: ("id", external id) and
        ("hash", content hash) -> (pk, external id, hash)."""
        found: dict[tuple[str, str], tuple[int, str, str]] = {}
        if self.project_was_empty:
            return found
        # (Membership tests, not set differences: those would walk every key seen so far,
        # batch after batch.)
        by_id, by_hash = self.by_id, self.by_hash
        ids = {
            item.document.external_id
            for item, _ in pending
            if item.document.external_id and item.document.external_id not in by_id
        }
        fresh_hashes = {h for h in hashes if h is not None and h not in by_hash}
        if not ids and not fresh_hashes:
            return found
        if connection.vendor == "postgresql":
            # Two array parameters, not thousands of placeholders.
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT id, external_id, content_hash FROM annotator_document "
                    "WHERE project_id = %s AND (external_id = ANY(%s) OR content_hash = ANY(%s)) "
                    "ORDER BY position, id",
                    [self.project.pk, list(ids), list(fresh_hashes)],
                )
                rows = cursor.fetchall()
        else:
            rows = (
                Document.objects.filter(project=self.project)
                .filter(Q(external_id__in=ids) | Q(content_hash__in=fresh_hashes))
                .order_by("position", "id")
                .values_list("id", "external_id", "content_hash")
            )
        for pk, external_id, text_hash in rows:
            if external_id in ids:
                found.setdefault(("id", external_id), (pk, external_id, text_hash))
            if text_hash in fresh_hashes:
                found.setdefault(("hash", text_hash), (pk, external_id, text_hash))
        return found

    def _check(
        self, item: ImportedDocument, where: _Where, text_hash: str, existing
    ) -> tuple | None:
        doc = item.document
        label = doc.external_id or doc.title or f"at {where}"
        fields = self._document_fields(doc, where, text_hash)
        if fields is None:
            return None
        # The same document earlier in this import?
        first = self.by_id.get(doc.external_id) if doc.external_id else None
        if first is not None:
            if first.hash != text_hash:
                self.error(
                    where,
                    "external_id",
                    SAME_ID_OTHER_TEXT.format(external_id=doc.external_id, first=first.where),
                    doc.external_id,
                    CONFLICTING_RECORD,
                )
                return None
            return self._merge(item, where, first, label)
        first = self.by_hash.get(text_hash)
        if first is not None:
            self.summary.duplicates_skipped += 1
            self._duplicate(
                where, doc.external_id, "text", None, "skipped", f"repeats {first.where}"
            )
            self._count_skipped(item)
            return None
        # The same document already in the project?
        match = existing.get(("id", doc.external_id)) if doc.external_id else None
        matched_by = "external id"
        if match is None:
            match = existing.get(("hash", text_hash))
            matched_by = "text"
        if match is not None:
            return self._existing_duplicate(
                item, where, text_hash, fields, match, matched_by, label
            )
        seen = _Seen(where, text_hash, "create")
        self._remember(doc.external_id, text_hash, seen)
        spans, relations = self._annotations(item, where, seen, label)
        self.summary.documents_created += 1
        return ("create", doc.external_id or text_hash, fields, text_hash, spans, relations)

    def _remember(self, external_id: str, text_hash: str, seen: _Seen) -> None:
        if external_id:
            self.by_id[external_id] = seen
        self.by_hash.setdefault(text_hash, seen)

    def _merge(self, item: ImportedDocument, where: _Where, first: _Seen, label: str):
        self.summary.records_merged += 1
        if first.action != "create":
            self._count_skipped(item)
            return None
        spans, relations = self._annotations(item, where, first, label)
        if not spans and not relations:
            return None
        return ("merge", item.document.external_id, spans, relations)

    def _existing_duplicate(self, item, where, text_hash, fields, match, matched_by, label):
        pk, external_id, existing_hash = match
        doc = item.document
        action = "updated" if self.options.on_duplicate == "update" else "skipped"
        self._remember(doc.external_id, text_hash, _Seen(where, text_hash, action))
        self._count_skipped(item)
        if action == "skipped":
            self.summary.duplicates_skipped += 1
            self._duplicate(where, doc.external_id, matched_by, pk, action)
            return None
        text_changes = existing_hash != text_hash
        if text_changes and _has_spans(pk):
            self.error(
                where,
                "text",
                TEXT_CHANGE_REFUSED.format(document=external_id or pk),
                kind=DUPLICATE_TEXT_CHANGE,
            )
            return None
        self.summary.documents_updated += 1
        self._duplicate(where, doc.external_id, matched_by, pk, action)
        if not text_changes:
            fields = {k: v for k, v in fields.items() if k != "text"}
        else:
            fields = {**fields, "content_hash": text_hash}
        if not doc.external_id:
            fields.pop("external_id", None)
        return ("update", pk, fields)

    def _duplicate(self, where, external_id, matched_by, pk, action, note: str = "") -> None:
        if len(self.summary.duplicates) < MAX_DUPLICATES_LISTED:
            self.summary.duplicates.append(
                {
                    "file": where.file,
                    "line": where.line,
                    "external_id": external_id,
                    "same": matched_by,
                    "document_id": pk,
                    "action": action,
                    "note": note,
                }
            )

    def _count_skipped(self, item: ImportedDocument) -> None:
        self.skipped_spans += len(item.spans)
        self.skipped_links += len(item.relations)

    def _document_fields(
        self, doc: formats.Document, where: _Where, text_hash: str | None
    ) -> dict[str, Any] | None:
        problems = len(self.errors)
        text = doc.text
        limit = settings.ANNOTATOR_MAX_DOCUMENT_LENGTH
        if len(text) > limit:
            self.error(
                where,
                "text",
                TEXT_TOO_LONG.format(length=len(text), limit=limit),
                kind=BAD_DOCUMENT,
            )
        # NUL cannot be stored in PostgreSQL text, a lone surrogate nowhere (the hash's UTF-8
        # encoding found those): only then is the text searched for where they are.
        if (text_hash is None or "\x00" in text) and (bad := _UNSTORABLE.search(text)):
            char = f"U+{ord(bad.group()):04X}"
            self.error(
                where,
                "text",
                TEXT_UNSTORABLE.format(char=char, position=bad.start()),
                kind=BAD_DOCUMENT,
            )
        values = {
            "external_id": doc.external_id,
            "title": doc.title,
            "outlet": doc.outlet,
            "url": doc.url,
            "language": doc.language,
        }
        for name, value in values.items():
            if len(value) > _DOCUMENT_LIMITS[name]:
                self.error(
                    where,
                    name,
                    FIELD_TOO_LONG.format(
                        name=name, length=len(value), limit=_DOCUMENT_LIMITS[name]
                    ),
                    value,
                    BAD_DOCUMENT,
                )
        if doc.url:
            try:
                _validate_url(doc.url)
            except ValidationError:
                self.error(where, "url", BAD_URL.format(value=doc.url), doc.url, BAD_DOCUMENT)
        published = None
        if doc.published:
            published = _date(doc.published)
            if published is None:
                self.error(
                    where,
                    "published",
                    BAD_DATE.format(value=doc.published),
                    doc.published,
                    BAD_DOCUMENT,
                )
        if len(self.errors) > problems:
            return None
        return {
            **values,
            "published": published,
            "metadata": doc.metadata,
            "text": text,
        }

    def _annotations(self, item: ImportedDocument, where: _Where, seen: _Seen, label: str):
        """The record's spans and links as rows to write; every problem reported."""
        if not item.spans and not item.relations:
            return [], []
        problems = len(self.errors)
        rows: list[tuple] = []
        index: dict[str, int] = {}
        keys: set[tuple] = set()
        span_labels: list[LabelSpec | None] = []
        coders_here: set[str] = set()
        by_coder: dict[str, list[tuple[int, int]]] = defaultdict(list)
        unresolved = False
        for span in item.spans:
            name = f"{span.id!r}"
            field_name = f"spans[id={span.id}]"
            spec = self.labels.get(span.label)
            coder = None if span.coder is None else self.users.resolve(span.coder, where)
            if span.coder is not None:
                coders_here.add(span.coder)
                unresolved |= coder is None
            index[span.id] = len(rows)
            span_labels.append(spec)
            if spec is None:  # the reader reported it
                rows.append(None)
                continue
            if not spec.enabled:
                self.error(
                    where,
                    f"{field_name}.label",
                    LABEL_DISABLED.format(span=name, label=spec.name),
                    spec.name,
                    DISABLED_LABEL,
                )
            length = span.end - span.start
            if length > settings.ANNOTATOR_MAX_SPAN_LENGTH:
                self.error(
                    where,
                    field_name,
                    SPAN_TOO_LONG.format(
                        span=name, length=length, limit=settings.ANNOTATOR_MAX_SPAN_LENGTH
                    ),
                    [span.start, span.end],
                    BAD_DOCUMENT,
                )
            try:
                attributes = clean_attributes(spec, span.attributes)
            except ValidationError as exc:
                attributes = {}
                for message in exc.message_dict.get("attributes", exc.messages):
                    self.error(
                        where,
                        f"{field_name}.attributes",
                        ATTRIBUTE_PROBLEM.format(span=name, label=spec.name, message=message),
                        span.attributes,
                        BAD_ATTRIBUTE,
                    )
            key = (span.coder, spec.id, span.start, span.end)
            if key in keys:
                who = "the gold layer" if span.coder is None else f"coder {span.coder!r}"
                self.error(
                    where,
                    field_name,
                    SPAN_REPEATED.format(
                        span=name, who=who, label=spec.name, start=span.start, end=span.end
                    ),
                    [span.start, span.end],
                    DUPLICATE_SPAN,
                )
            keys.add(key)
            gold = None
            if span.coder is None:
                gold = _gold_span_provenance(span.provenance)
            else:
                by_coder[span.coder].append((span.start, span.end))
            rows.append(
                (coder, spec.id, span.start, span.end, span.text, attributes, gold, span.id)
            )
            self._sample(item, span, where)
        if self.codebook.allow_overlap is False:
            self.summary.overlapping_spans += sum(_overlapping(v) for v in by_coder.values())
        # A coder already seen in an earlier record of this document.
        for coder in sorted(coders_here & (seen.coders or set())):
            self.error(
                where,
                "coder",
                SAME_CODER_TWICE.format(document=label, first=seen.where, coder=coder),
                coder,
                CONFLICTING_RECORD,
            )
        if coders_here:
            seen.coders = (seen.coders or set()) | coders_here
        relations = self._relations(item, where, index, rows, span_labels)
        if len(self.errors) > problems or unresolved:
            return [], []
        # Gold provenance naming coders' spans or links of this record: kept as their
        # positions here, to become their new ids once they are written.
        coder_spans = {sid: n for sid, n in index.items() if rows[n][6] is None}
        for n, row in enumerate(rows):
            if row[6] is not None:
                origin, sources, needs_review, note = row[6]
                refs = [_ref(source, coder_spans) for source in sources]
                rows[n] = (*row[:6], (origin, refs, needs_review, note), row[7])
        coder_links = {rel[5]: n for n, rel in enumerate(relations) if rel[4] is None}
        for n, rel in enumerate(relations):
            if rel[4] is not None:
                sources, note = rel[4]
                relations[n] = (*rel[:4], ([_ref(s, coder_links) for s in sources], note), rel[5])
        self._count(rows, relations)
        return rows, relations

    def _relations(self, item, where, index, rows, span_labels) -> list[tuple]:
        out: list[tuple] = []
        seen: set[tuple] = set()
        per_source: Counter = Counter()
        for relation in item.relations:
            name = f"{relation.id!r}"
            field_name = f"relations[id={relation.id}]"
            rt = self.types.get(relation.type)
            if rt is None:
                known = ", ".join(self.types) or "none"
                self.error(
                    where,
                    f"{field_name}.type",
                    UNKNOWN_RELATION_TYPE.format(relation=name, type=relation.type, known=known),
                    relation.type,
                    BAD_RELATION,
                )
                continue
            source_n, target_n = index.get(relation.source_id), index.get(relation.target_id)
            if source_n is None or target_n is None:  # the reader reported it
                continue
            source, target = item.spans[source_n], item.spans[target_n]
            from_spec, to_spec = span_labels[source_n], span_labels[target_n]
            if from_spec is None or to_spec is None:
                continue
            if not (source.coder == target.coder == relation.coder):
                self.error(
                    where,
                    field_name,
                    RELATION_CODERS.format(relation=name),
                    relation.id,
                    BAD_RELATION,
                )
                continue
            if (from_spec.id, to_spec.id) != (rt.from_label_id, rt.to_label_id):
                self.error(
                    where,
                    f"{field_name}.type",
                    RELATION_LABELS.format(
                        relation=name,
                        type=rt.name,
                        expected_from=self._label_name(rt.from_label_id),
                        expected_to=self._label_name(rt.to_label_id),
                        got_from=from_spec.name,
                        got_to=to_spec.name,
                    ),
                    relation.type,
                    BAD_RELATION,
                )
                continue
            key = (rt.id, source_n, target_n)
            if key in seen:
                self.error(
                    where,
                    field_name,
                    RELATION_REPEATED.format(relation=name, type=rt.name),
                    relation.id,
                    BAD_RELATION,
                )
                continue
            seen.add(key)
            per_source[(rt.id, source_n)] += 1
            count = per_source[(rt.id, source_n)]
            if rt.max_per_source is not None and count == rt.max_per_source + 1:
                self.error(
                    where,
                    field_name,
                    RELATION_CARDINALITY.format(
                        relation=name,
                        span=repr(source.id),
                        count=count,
                        type=rt.name,
                        limit=rt.max_per_source,
                    ),
                    relation.id,
                    BAD_RELATION,
                )
            gold = None
            if relation.coder is None:
                gold = _gold_relation_provenance(relation.provenance)
            coder = rows[source_n][0] if rows[source_n] is not None else None
            out.append((coder, rt.id, source_n, target_n, gold, relation.id))
        return out

    def _label_name(self, label_id: int) -> str:
        spec = self.codebook.label_by_id(label_id)
        return spec.name if spec else "?"

    def _count(self, rows, relations) -> None:
        for row in rows:
            if row[6] is None:
                self.summary.spans += 1
                self.summary.spans_by_coder[row[0]] = self.summary.spans_by_coder.get(row[0], 0) + 1
            else:
                self.summary.gold_spans += 1
        for rel in relations:
            if rel[4] is None:
                self.summary.relations += 1
            else:
                self.summary.gold_relations += 1

    def _sample(self, item: ImportedDocument, span, where: _Where) -> None:
        """A few spans to show with their text: first those after a character outside the
        Basic Multilingual Plane, where UTF-16 and code-point offsets part."""
        if len(self.summary.samples) >= MAX_SAMPLES and len(self.sensitive_samples) >= MAX_SAMPLES:
            return
        text = item.document.text
        sample = {
            "document": item.document.external_id or item.document.title,
            "file": where.file,
            "line": where.line,
            "label": span.label,
            "start": span.start,
            "end": span.end,
            "text": span.text,
            "context": text[max(0, span.start - 30) : span.start]
            + "["
            + span.text
            + "]"
            + text[span.end : span.end + 30],
        }
        if _ASTRAL.search(text, 0, span.start) and len(self.sensitive_samples) < MAX_SAMPLES:
            self.sensitive_samples.append(sample)
        elif len(self.summary.samples) < MAX_SAMPLES and not any(
            s["document"] == sample["document"] for s in self.summary.samples
        ):
            self.summary.samples.append(sample)

    def _finish_checks(self) -> None:
        for problem in self.users.problems():
            self.errors.append(problem)
        if self.sensitive_samples:
            keep = self.sensitive_samples[: MAX_SAMPLES // 2 or 1]
            rest = [s for s in self.summary.samples if s not in keep]
            self.summary.samples = (keep + rest)[:MAX_SAMPLES]
        self.summary.coders_created = sorted(self.users.to_create)
        if self.skipped_spans or self.skipped_links:
            self.summary.warnings.append(
                DUPLICATE_SPANS_SKIPPED.format(count=self.skipped_spans, links=self.skipped_links)
            )
        if self.summary.overlapping_spans:
            self.summary.warnings.append(OVERLAPS_KEPT.format(count=self.summary.overlapping_spans))
        if not self.summary.documents_read and not self.errors:
            self.errors.append(
                FormatError(", ".join(self.summary.files), None, "", EMPTY_IMPORT, kind="empty")
            )

    # -- writing -------------------------------------------------------------------------

    @transaction.atomic
    def _write(self) -> None:
        writer = self._writer()
        writer.create_users(self.users.to_create)
        writer.user_ids.update(self.users.known)
        self.spool.seek(0)
        for _ in range(self.batches):
            writer.write_batch(pickle.load(self.spool))
        for rows in self.held:
            writer.write_batch(rows)
        self._finish_writing(writer)

    def _writer(self) -> _Writer:
        """Inside the writing transaction: lock the project (its row lock orders concurrent
        imports and their positions) and make the writer."""
        project = Project.objects.select_for_update().get(pk=self.project.pk)
        return _Writer(project, self.user, self.codebook.version, self.users)

    def _finish_writing(self, writer: _Writer) -> None:
        writer.finish()
        project = writer.project
        AuditEvent.objects.create(
            project=project,
            user=self.user,
            action="documents.import",
            object_type="project",
            object_id=project.pk,
            after={
                "format": self.format,
                "files": self.summary.files,
                "options": {
                    "on_duplicate": self.options.on_duplicate,
                    "offsets": self.summary.offsets,
                    "create_coders": self.options.create_coders,
                    "user_map": dict(self.options.user_map),
                },
                "documents_created": self.summary.documents_created,
                "documents_updated": self.summary.documents_updated,
                "duplicates_skipped": self.summary.duplicates_skipped,
                "spans": self.summary.spans,
                "relations": self.summary.relations,
                "gold_spans": self.summary.gold_spans,
                "gold_relations": self.summary.gold_relations,
                "coders_created": self.summary.coders_created,
            },
        )


class _CountedLines:
    """A binary file's lines, counting them: a line reader's record ends on the last line
    taken when the record is yielded."""

    def __init__(self, handle) -> None:
        self.handle = handle
        self.line = 0

    def __iter__(self) -> Iterator[bytes]:
        for piece in self.handle:
            self.line += 1
            yield piece


def _is_zip(handle) -> bool:
    position = handle.tell()
    magic = handle.read(4)
    handle.seek(position)
    return magic == b"PK\x03\x04"


def _zip_members(archive: zipfile.ZipFile, name: str, max_bytes: int | None) -> list:
    infos = archive.infolist()
    if max_bytes is not None and sum(info.file_size for info in infos) > max_bytes:
        raise InputTooLarge(name, max_bytes)
    return sorted(
        (
            info
            for info in infos
            if not info.is_dir()
            and not info.filename.startswith("__MACOSX/")
            and not posixpath.basename(info.filename).startswith(".")
        ),
        key=lambda info: info.filename,
    )


def _boolean(errors: dict, name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    lowered = str(value).strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    errors[name] = [NOT_A_BOOLEAN.format(value=value)]
    return False


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        try:
            return dt.datetime.fromisoformat(value).date()
        except ValueError:
            return None


@contextmanager
def _collector_paused():
    """No cyclic garbage collection during an import: it keeps a record of every document
    it has seen (for duplicates) and its checked rows, all alive until the end, and each full
    collection would walk them all again, which made a 100,000-document import spend more
    time collecting than reading. An import makes no reference cycles worth collecting."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _hash(text: str) -> str | None:
    """The content hash, None for a text that is not valid Unicode (a lone surrogate)."""
    try:
        return content_hash(text)
    except UnicodeEncodeError:
        return None


def _ref(source: Any, positions: Mapping[str, int]) -> tuple[str, Any]:
    """A provenance id: ("row", n) when it names the record's n-th coder span or link."""
    n = positions.get(str(source))
    return ("raw", source) if n is None else ("row", n)


def _has_spans(document_id: int) -> bool:
    return (
        Annotation.objects.filter(document_id=document_id).exists()
        or GoldSpan.objects.filter(document_id=document_id).exists()
    )


def _overlapping(ranges: list[tuple[int, int]]) -> int:
    """How many of a coder's spans overlap an earlier one (by start)."""
    count, reach = 0, -1
    for start, end in sorted(ranges):
        if start < reach:
            count += 1
        reach = max(reach, end)
    return count


def _gold_span_provenance(provenance: dict | None) -> tuple:
    provenance = provenance or {}
    sources = provenance.get("source_annotations") or []
    if not isinstance(sources, list):
        sources = [sources]
    origin = provenance.get("origin")
    if origin not in GoldOrigin.values:
        origin = GoldOrigin.ACCEPTED if sources else GoldOrigin.ADDED
    note = provenance.get("note") or ""
    return (origin, sources, bool(provenance.get("needs_review")), str(note))


def _gold_relation_provenance(provenance: dict | None) -> tuple:
    provenance = provenance or {}
    sources = provenance.get("source_relations") or []
    if not isinstance(sources, list):
        sources = [sources]
    return (sources, str(provenance.get("note") or ""))


# --- users ------------------------------------------------------------------------------------


class _Users:
    """File user names -> the project's coders, through the user map; unknown names are
    collected (one problem per name, with its first place and its count)."""

    def __init__(self, project: Project, user_map: Mapping[str, str], create: bool) -> None:
        self.project = project
        self.user_map = user_map
        self.create = create
        self.coders = dict(
            Membership.objects.filter(project=project, role=Role.CODER).values_list(
                "user__username", "user_id"
            )
        )
        self.known: dict[str, int] = {}  # username -> id, of the coders used
        self.to_create: set[str] = set()
        self.cache: dict[str, str | None] = {}
        self.unresolved: dict[str, list] = {}  # file name -> [first where, count, kind, username]

    def resolve(self, name: str, where: _Where) -> str | None:
        """The username the file's ``name`` stands for (a coder, or one to create)."""
        if name in self.cache:
            username = self.cache[name]
            if username is None:
                self.unresolved[name][1] += 1
            return username
        username, kind, target = self._lookup(name)
        self.cache[name] = username
        if username is None:
            self.unresolved[name] = [where, 1, kind, target]
        return username

    def _lookup(self, name: str) -> tuple[str | None, str, str]:
        target = self.user_map.get(name, name)
        if target in self.coders:
            self.known[target] = self.coders[target]
            return target, "", target
        User = get_user_model()
        user = User.objects.filter(username=target).first()
        if user is None and "@" in target:
            matches = list(User.objects.filter(email__iexact=target)[:2])
            user = matches[0] if len(matches) == 1 else None
        if user is not None:
            if user.get_username() in self.coders:
                self.known[user.get_username()] = user.pk
                return user.get_username(), "", target
            return None, "not_a_coder", user.get_username()
        if self.create:
            problem = _username_problem(target)
            if problem:
                return None, problem, target
            self.to_create.add(target)
            return target, "", target
        return None, "unknown", target

    def problems(self) -> Iterator[FormatError]:
        for name, (where, count, kind, target) in self.unresolved.items():
            if kind == "not_a_coder":
                message = USER_NOT_A_CODER.format(name=name, count=count, username=target)
            elif kind == "unknown":
                message = USER_NOT_MAPPED.format(name=name, count=count)
            else:
                message = USER_NAME_INVALID.format(name=target, problem=kind)
            yield FormatError(where.file, where.line, "coder", message, name, UNMAPPABLE_USER)


def _username_problem(username: str) -> str:
    User = get_user_model()
    username_field = User._meta.get_field(User.USERNAME_FIELD)
    try:
        username_field.clean(username, None)
    except ValidationError as error:
        return "; ".join(error.messages)
    if User.objects.filter(username__iexact=username).exists():
        return "a user of that name (in other letter case) exists"
    return ""


# --- writing ----------------------------------------------------------------------------------


_DOCUMENT_COLUMNS = (
    "project_id",
    "external_id",
    "title",
    "outlet",
    "url",
    "published",
    "language",
    "metadata",
    "text",
    "content_hash",
    "position",
    "shuffle_key",
    "adjudication_started_at",
    "adjudicated_at",
    "created",
)
_SPAN_COLUMNS = (
    "document_id",
    "coder_id",
    "label_id",
    "start",
    "end",
    "text",
    "attributes",
    "version",
    "codebook_version",
    "client_id",
    "created",
    "updated",
    "deleted_at",
)
_GOLD_SPAN_COLUMNS = (
    "document_id",
    "label_id",
    "start",
    "end",
    "text",
    "attributes",
    "version",
    "origin",
    "source_annotations",
    "needs_review",
    "note",
    "created_by_id",
    "created",
    "updated",
    "deleted_at",
)
_RELATION_COLUMNS = (
    "document_id",
    "coder_id",
    "type_id",
    "source_id",
    "target_id",
    "client_id",
    "created",
    "deleted_at",
)
_GOLD_RELATION_COLUMNS = (
    "document_id",
    "type_id",
    "source_id",
    "target_id",
    "source_relations",
    "note",
    "created_by_id",
    "created",
    "deleted_at",
)


class _Writer:
    """Writes the spooled rows batch by batch: documents, then spans, gold spans, links, gold
    links, and the submitted assignments of the coders whose work came in. Rows are plain
    tuples in the column order above: no model instance per row (they cost more than the
    insert itself on PostgreSQL, where COPY takes the tuples as they are)."""

    def __init__(self, project: Project, user, codebook_version: int, users: _Users) -> None:
        self.project = project
        self.users = users
        self.user = user
        self.codebook_version = codebook_version
        self.now = timezone.now()
        self.position = project.documents.aggregate(m=Max("position"))["m"] or 0
        self.user_ids: dict[str, int] = {}
        self.document_ids: dict[str, int] = {}  # key (external id or hash) -> pk
        self.assigned: set[tuple[int, int]] = set()
        self.adjudicated: set[int] = set()

    def create_users(self, usernames: Iterable[str]) -> None:
        User = get_user_model()
        for username in sorted(usernames):
            user = User.objects.create(username=username, password=make_password(None))
            Membership.objects.create(project=self.project, user=user, role=Role.CODER)
            self.user_ids[username] = user.pk

    def _user_id(self, username: str) -> int:
        """A coder's id; while checking and writing go together, a coder met for the first
        time (``users.known``) or one to create (``users.to_create``) is taken up here."""
        pk = self.user_ids.get(username)
        if pk is None:
            pk = self.users.known.get(username)
            if pk is None:
                self.create_users([username])
                return self.user_ids[username]
            self.user_ids[username] = pk
        return pk

    def write_batch(self, rows: list[tuple]) -> None:
        creates = [row for row in rows if row[0] == "create"]
        ids = _insert(Document, _DOCUMENT_COLUMNS, [self._document(row) for row in creates])
        work = []
        for row, pk in zip(creates, ids, strict=True):
            self.document_ids[row[1]] = pk
            work.append((pk, row[4], row[5]))
        updates = [row for row in rows if row[0] == "update"]
        if updates:
            self._update(updates)
        for row in rows:
            if row[0] == "merge":
                work.append((self.document_ids[row[1]], row[2], row[3]))
        self._annotations(work)

    def _document(self, row: tuple) -> tuple:
        _, _, fields, text_hash, spans, _ = row
        self.position += 1
        adjudicated = self.now if any(span[6] is not None for span in spans) else None
        return (
            self.project.pk,
            fields["external_id"],
            fields["title"],
            fields["outlet"],
            fields["url"],
            fields["published"],
            fields["language"],
            fields["metadata"],
            fields["text"],
            text_hash,
            self.position,
            shuffle_key(self.project.random_seed, self.position),
            adjudicated,
            adjudicated,
            self.now,
        )

    def _update(self, updates: list[tuple]) -> None:
        by_fields: dict[tuple, list[Document]] = defaultdict(list)
        for _, pk, fields in updates:
            by_fields[tuple(sorted(fields))].append(Document(pk=pk, **fields))
        for names, documents in by_fields.items():
            Document.objects.bulk_update(documents, list(names), batch_size=BATCH)

    def _annotations(self, work: list[tuple[int, list, list]]) -> None:
        """Coders' spans first (gold provenance names their new ids), then the gold spans,
        the coders' links (gold link provenance names them), then the gold links."""
        now, version = self.now, self.codebook_version
        span_rows, span_places = [], []
        for w, (document_id, rows, _) in enumerate(work):
            for n, row in enumerate(rows):
                coder, label_id, start, end, text, attributes, provenance, _ = row
                if provenance is not None:
                    self.adjudicated.add(document_id)
                    continue
                coder_id = self._user_id(coder)
                self.assigned.add((document_id, coder_id))
                span_rows.append(
                    (document_id, coder_id, label_id, start, end, text, attributes, 1, version)
                    + (None, now, now, None)
                )
                span_places.append((w, n))
        ids: dict[tuple[int, int], int] = dict(
            zip(span_places, _insert(Annotation, _SPAN_COLUMNS, span_rows), strict=True)
        )
        gold_rows, gold_places = [], []
        for w, (document_id, rows, _) in enumerate(work):
            for n, row in enumerate(rows):
                if row[6] is None:
                    continue
                _, label_id, start, end, text, attributes, provenance, _ = row
                origin, sources, needs_review, note = provenance
                sources = [ids[(w, ref)] if kind == "row" else ref for kind, ref in sources]
                gold_rows.append(
                    (document_id, label_id, start, end, text, attributes, 1, origin, sources)
                    + (needs_review, note, self.user.pk, now, now, None)
                )
                gold_places.append((w, n))
        ids.update(zip(gold_places, _insert(GoldSpan, _GOLD_SPAN_COLUMNS, gold_rows), strict=True))
        link_rows, link_places, gold_links = [], [], []
        for w, (document_id, _, relations) in enumerate(work):
            for n, (coder, type_id, source_n, target_n, provenance, _) in enumerate(relations):
                source, target = ids[(w, source_n)], ids[(w, target_n)]
                if provenance is None:
                    link_rows.append(
                        (document_id, self._user_id(coder), type_id, source, target, None, now)
                        + (None,)
                    )
                    link_places.append((w, n))
                else:
                    gold_links.append((w, document_id, type_id, source, target, provenance))
        link_ids = dict(
            zip(link_places, _insert(Relation, _RELATION_COLUMNS, link_rows), strict=True)
        )
        gold_link_rows = []
        for w, document_id, type_id, source, target, (sources, note) in gold_links:
            sources = [link_ids[(w, ref)] if kind == "row" else ref for kind, ref in sources]
            gold_link_rows.append(
                (document_id, type_id, source, target, sources, note, self.user.pk, now, None)
            )
        _insert(GoldRelation, _GOLD_RELATION_COLUMNS, gold_link_rows)

    def finish(self) -> None:
        if self.assigned:
            Assignment.objects.bulk_create(
                (
                    Assignment(
                        project_id=self.project.pk,
                        document_id=document_id,
                        coder_id=coder_id,
                        state=AssignmentState.SUBMITTED,
                        assigned_by_id=self.user.pk,
                        created=self.now,
                        started_at=self.now,
                        submitted_at=self.now,
                        last_activity_at=self.now,
                    )
                    for document_id, coder_id in sorted(self.assigned)
                ),
                batch_size=BATCH,
            )
            # The documents are this import's own (created in its transaction, which no one
            # else sees yet): their counts need no lock.
            documents_recount(document_ids={document_id for document_id, _ in self.assigned})
        # Documents that got gold spans by a merge of a later record.
        if self.adjudicated:
            Document.objects.filter(pk__in=self.adjudicated, adjudicated_at__isnull=True).update(
                adjudicated_at=self.now, adjudication_started_at=self.now
            )


def _can_stream() -> bool:
    """Whether checking and writing may go together (:class:`_BackgroundWriter`): on
    PostgreSQL, outside any transaction (the writer's connection could not see what a caller's
    open transaction holds, tests included)."""
    return connection.vendor == "postgresql" and not connection.in_atomic_block


_END = object()
STREAM_QUEUE = 3  # checked batches waiting for the writer, at most


class _BackgroundWriter:
    """The writing half of an import, in a thread with its own database connection: one
    transaction, opened at the start (the project locked as in ``_Run._write``), fed checked
    batches through a bounded queue, committed only by :meth:`commit` after the last check;
    :meth:`abandon` (a problem found, or an exception while checking) rolls it all back."""

    def __init__(self, run: _Run) -> None:
        self.run = run
        self.queue: queue.Queue = queue.Queue(maxsize=STREAM_QUEUE)
        self.failure: BaseException | None = None
        self.thread = threading.Thread(target=self._main, name="import-writer", daemon=True)
        self.thread.start()

    def put(self, rows: list[tuple]) -> None:
        while True:
            self._raise_failure()
            try:
                self.queue.put(rows, timeout=0.5)
                return
            except queue.Full:
                continue

    def commit(self) -> None:
        self._stop(_END)
        self._raise_failure()

    def abandon(self) -> None:
        self._stop(None)

    def _stop(self, message) -> None:
        while self.thread.is_alive():
            try:
                self.queue.put(message, timeout=0.5)
                break
            except queue.Full:
                continue
        self.thread.join()

    def _raise_failure(self) -> None:
        if self.failure is not None:
            raise self.failure

    def _main(self) -> None:
        try:
            with transaction.atomic():
                writer = self.run._writer()
                while True:
                    rows = self.queue.get()
                    if rows is None:
                        raise _Abandoned
                    if rows is _END:
                        break
                    writer.write_batch(rows)
                self.run._finish_writing(writer)
        except _Abandoned:
            pass
        except BaseException as exc:  # handed to the checking thread
            self.failure = exc
            # Unblock a checker waiting to put: nothing more is read.
            while not self.queue.empty():
                self.queue.get_nowait()
        finally:
            connection.close()


class _Abandoned(Exception):
    pass


def _insert(model, columns: tuple[str, ...], rows: list[tuple]) -> list[int]:
    """Insert ``rows`` (values in the order of ``columns``, attribute names) and return their
    new ids, in order. PostgreSQL: COPY, with the ids drawn from the table's sequence first
    (COPY returns nothing); several times faster than INSERT, and the triggers still run.
    Elsewhere: bulk_create."""
    if not rows:
        return []
    if connection.vendor != "postgresql":
        objects = [model(**dict(zip(columns, row, strict=True))) for row in rows]
        model.objects.bulk_create(objects, batch_size=500)
        return [obj.pk for obj in objects]
    meta = model._meta
    fields = [meta.get_field(name) for name in columns]
    json_at = [n for n, f in enumerate(fields) if isinstance(f, JSONField)]
    names = ", ".join(connection.ops.quote_name(n) for n in ["id", *(f.column for f in fields)])
    table = connection.ops.quote_name(meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [meta.db_table, len(rows)],
        )
        ids = [row[0] for row in cursor.fetchall()]
        with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for pk, row in zip(ids, rows, strict=True):
                if json_at:
                    row = list(row)
                    for n in json_at:
                        row[n] = _json(row[n])
                copy.write_row((pk, *row))
    return ids


# One encoder for every row: json.dumps with options makes a new one per call.
_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


__all__ = [
    "ANNOTATED_FORMATS",
    "FORMATS",
    "ImportOptions",
    "ImportResult",
    "ImportSummary",
    "documents_import",
    "max_upload_bytes",
    "max_upload_mb",
    "parse_user_map",
]
