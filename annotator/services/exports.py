"""Exporting a project's documents with one layer of annotations, streamed.

``documents_export`` checks the request (format, layer, that there is something to export) and
returns an :class:`Export`; its ``chunks()`` streams the file. The rows are read in one
consistent snapshot (one transaction: REPEATABLE READ on PostgreSQL, one read transaction on
SQLite, which in WAL mode never blocks the coders' writes), documents a batch at a time
(``iterator(chunk_size)``) with the spans and links of each batch in one query each, turned
into ``annotator.formats`` plain data and fed to the pure writers. Memory holds one batch,
whatever the size of the project; queries grow with the number of batches, not of documents.

Layers: ``gold`` (the adjudicated documents' gold spans and links, with their provenance;
``include_unadjudicated`` adds the others), ``all`` (every coder's spans and links, each with
its coder) or a coder's username (that coder's). Coders are named by username, or ``coder-A``,
``coder-B``... when the project hides coder names. Only JSONL holds several coders side by
side; the other formats take the gold or one coder.
"""

from __future__ import annotations

import gc
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils.text import slugify

from annotator import formats, reports
from annotator.formats import ConllStats, ImportedDocument
from annotator.models import (
    Annotation,
    Assignment,
    AssignmentState,
    Document,
    GoldRelation,
    GoldSpan,
    Label,
    Project,
    Relation,
    RelationType,
)

GOLD = "gold"
ALL = "all"


@dataclass(frozen=True)
class ExportFormat:
    name: str
    title: str
    extension: str
    content_type: str
    several_coders: bool = False


EXPORT_FORMATS = {
    f.name: f
    for f in (
        ExportFormat(
            "jsonl",
            "Annotator JSONL (complete: metadata, spans, attributes, links, provenance)",
            ".jsonl",
            "application/x-ndjson; charset=utf-8",
            several_coders=True,
        ),
        ExportFormat(
            "conll", "CoNLL-2003 BIO (token per line)", ".conll", "text/plain; charset=utf-8"
        ),
        ExportFormat("brat", "brat standoff (zip of .txt and .ann)", ".zip", "application/zip"),
        ExportFormat(
            "spacy",
            "spaCy / Prodigy JSONL",
            "-spacy.jsonl",
            "application/x-ndjson; charset=utf-8",
        ),
        ExportFormat(
            "claims-csv",
            "Claims table, CSV (one row per CASUALTY claim)",
            "-claims.csv",
            "text/csv; charset=utf-8",
        ),
    )
}

UNKNOWN_FORMAT = "unknown format {value!r}; the formats are: {known}"
UNKNOWN_LAYER = (
    "unknown layer {value!r}: use gold, all, or the username of one of this project's coders"
)
NO_ADJUDICATED = "no adjudicated documents in this project; use --layer all or adjudicate first"
NO_DOCUMENTS = "this project has no documents"
CODER_HAS_NOTHING = "{coder} has no spans and no submitted documents in this project"
ONE_LAYER_ONLY = (
    "{format} holds one layer: export the gold or one coder's work (layer=USERNAME); "
    "only JSONL holds every coder's spans side by side"
)

BATCH = 500
CHUNK_BYTES = 64 * 1024


@dataclass
class Export:
    """One export, checked and ready to stream. ``chunks()`` may be iterated once."""

    project: Project
    format: ExportFormat
    layer: str  # gold, all, or the coder's name as exported
    documents: Any  # the QuerySet of the documents to export
    coder_id: int | None
    hide_names: bool
    guard_formulas: bool = False
    batch_size: int = BATCH
    conll_stats: ConllStats = field(default_factory=ConllStats)
    documents_written: int = 0

    @property
    def filename(self) -> str:
        base = slugify(self.project.name) or f"project-{self.project.pk}"
        return f"{base}-{slugify(self.layer) or 'coder'}{self.format.extension}"

    @property
    def content_type(self) -> str:
        return self.format.content_type

    def chunks(self) -> Iterator[bytes]:
        """The file as bytes chunks of about 64 KB, read in one snapshot."""
        with snapshot(), _quiet_collector():
            yield from _buffered(self._pieces())

    def _pieces(self) -> Iterator[bytes | str]:
        items = self.items()
        name = self.format.name
        if name == "jsonl":
            return formats.write_jsonl(items)
        if name == "conll":
            return formats.write_conll(items, stats=self.conll_stats)
        if name == "brat":
            return formats.write_brat_zip(items)
        if name == "spacy":
            return formats.write_spacy_jsonl(items)
        rows = (row for item in items for row in formats.claim_rows(*_parts(item)))
        return formats.write_claims_csv(rows, guard_formulas=self.guard_formulas)

    def items(self) -> Iterator[ImportedDocument]:
        """The documents as plain data, a batch of rows at a time (call inside a snapshot)."""
        reader = _LayerReader(self)
        rows = self.documents.order_by("position", "id").values_list(*_DOCUMENT_COLUMNS)
        # The query's SQL on a server-side cursor (PostgreSQL), without the ORM's converters
        # per value: the reader parses the metadata (its JSON text) and dates itself.
        sql, params = rows.query.sql_with_params()
        # As QuerySet.iterator(): no server-side cursor where the settings forbid them.
        server_side = not connection.settings_dict.get("DISABLE_SERVER_SIDE_CURSORS")
        with connection.chunked_cursor() if server_side else connection.cursor() as cursor:
            cursor.execute(sql, params)
            while batch := cursor.fetchmany(self.batch_size):
                yield from reader.batch(batch)
                self.documents_written += len(batch)


def documents_export(
    *,
    project: Project,
    format: str,
    layer: str,
    include_unadjudicated: bool = False,
    guard_formulas: bool = False,
    batch_size: int = BATCH,
) -> Export:
    """Check an export request and return the Export to stream; ValidationError (with the
    message constants above) when the format or layer is wrong or nothing would be exported."""
    spec = EXPORT_FORMATS.get(format)
    if spec is None:
        known = ", ".join(EXPORT_FORMATS)
        raise ValidationError({"format": [UNKNOWN_FORMAT.format(value=format, known=known)]})
    layer = (layer or "").strip()
    hide = project.hide_coder_names
    coder_id = None
    documents = Document.objects.filter(project=project)
    if layer == ALL and not spec.several_coders:
        raise ValidationError({"layer": [ONE_LAYER_ONLY.format(format=spec.title)]})
    if layer in (GOLD, ALL):
        if not documents.exists():
            raise ValidationError({"layer": [NO_DOCUMENTS]})
        if layer == GOLD and not include_unadjudicated:
            documents = documents.filter(adjudicated_at__isnull=False)
            if not documents.exists():
                raise ValidationError({"layer": [NO_ADJUDICATED]})
    else:
        coder_id, layer = _coder(project, layer, hide)
        spans = Annotation.objects.filter(
            document=OuterRef("pk"), coder_id=coder_id, deleted_at__isnull=True
        )
        submitted = Assignment.objects.filter(
            document=OuterRef("pk"), coder_id=coder_id, state=AssignmentState.SUBMITTED
        )
        documents = documents.filter(Q(Exists(spans)) | Q(Exists(submitted)))
        if not documents.exists():
            raise ValidationError({"layer": [CODER_HAS_NOTHING.format(coder=layer)]})
    return Export(
        project=project,
        format=spec,
        layer=layer,
        documents=documents,
        coder_id=coder_id,
        hide_names=hide,
        guard_formulas=guard_formulas,
        batch_size=batch_size,
    )


def coder_choices(project: Project) -> list[str]:
    """The names a coder layer can be asked by: usernames, or pseudonyms when names are
    hidden (in the order of the agreement report's pseudonyms)."""
    coders = reports.project_coders(project)
    if project.hide_coder_names:
        return [_pseudonym(coder["key"]) for coder in coders]
    return [coder["username"] for coder in coders]


def _coder(project: Project, name: str, hide: bool) -> tuple[int, str]:
    """The user id and exported name of the coder asked for by username (or pseudonym)."""
    directory = _directory(project, hide)
    for user_id, shown in directory.items():
        if name == shown:
            return user_id, shown
    if not hide:
        user = get_user_model().objects.filter(username=name).first()
        if (
            user is not None
            and Annotation.objects.filter(document__project=project, coder=user).exists()
        ):
            return user.pk, name
    elif name:
        # A manager may name a coder by username even when names are hidden; the file
        # still calls them by their pseudonym.
        user = get_user_model().objects.filter(username=name).first()
        if user is not None and user.pk in directory:
            return user.pk, directory[user.pk]
    raise ValidationError({"layer": [UNKNOWN_LAYER.format(value=name)]})


def _directory(project: Project, hide: bool, others: Iterable[int] = ()) -> dict[int, str]:
    """Coder id -> exported name: usernames, or pseudonyms for the members with the coder role
    (by user id, as the agreement report numbers them), then for anyone else in ``others``."""
    coders = reports.project_coders(project)
    if not hide:
        return {coder["id"]: coder["username"] for coder in coders}
    names = {coder["id"]: _pseudonym(coder["key"]) for coder in coders}
    for user_id in sorted(set(others) - names.keys()):
        names[user_id] = _pseudonym(reports.pseudonym(len(names)))
    return names


def _pseudonym(key: str) -> str:
    """'Coder A' -> 'coder-A'."""
    return "coder-" + key.rsplit(" ", 1)[-1]


# --- reading the rows -------------------------------------------------------------------------

_DOCUMENT_COLUMNS = (
    "id",
    "external_id",
    "title",
    "outlet",
    "url",
    "published",
    "language",
    "metadata",
    "text",
)
_SPAN_COLUMNS = (
    "id",
    "document_id",
    "coder_id",
    "label_id",
    "start",
    "end",
    "text",
    "attributes",
    "codebook_version",
)
_GOLD_COLUMNS = (
    "id",
    "document_id",
    "label_id",
    "start",
    "end",
    "text",
    "attributes",
    "origin",
    "source_annotations",
    "needs_review",
    "note",
)
_RELATION_COLUMNS = ("id", "document_id", "coder_id", "type_id", "source_id", "target_id")
_GOLD_RELATION_COLUMNS = (
    "id",
    "document_id",
    "type_id",
    "source_id",
    "target_id",
    "source_relations",
    "note",
)


class _LayerReader:
    """Turns a batch of document rows into ImportedDocument items, two queries a batch.

    The spans and links are read with plain SQL, not through model instances nor the ORM's
    per-value converters: an export of 2,000,000 spans spends its time here, and JSON
    attributes repeat (most are ``{}``), so each distinct text is parsed once. The items'
    attribute dicts may therefore be shared between spans: treat them as read-only.
    """

    def __init__(self, export: Export) -> None:
        self.export = export
        project = export.project
        self.version = project.codebook_version
        self.labels = dict(Label.objects.filter(project=project).values_list("id", "name"))
        self.types = dict(RelationType.objects.filter(project=project).values_list("id", "name"))
        self.gold = export.layer == GOLD
        self.json = _JsonCache()
        self.names: dict[int, str] = {}
        if not self.gold:
            others: Iterable[int] = ()
            if export.hide_names and export.coder_id is None:
                others = (
                    Annotation.objects.filter(document__project=project)
                    .order_by()
                    .values_list("coder_id", flat=True)
                    .distinct()
                )
            self.names = _directory(project, export.hide_names, others)
            if export.coder_id is not None:
                self.names[export.coder_id] = export.layer

    def batch(self, rows: list[tuple]) -> Iterator[ImportedDocument]:
        ids = [row[0] for row in rows]
        if self.gold:
            spans, relations, versions = self._gold(ids)
        else:
            spans, relations, versions = self._coders(ids)
        loads = self.json
        for row in rows:
            pk, external_id, title, outlet, url, published, language, metadata, text = row
            document = formats.Document(
                external_id=external_id,
                text=text,
                title=title,
                outlet=outlet,
                url=url,
                published=_iso_date(published),
                language=language,
                metadata=metadata if isinstance(metadata, dict) else loads(metadata),
                codebook_version=versions.get(pk, self.version),
            )
            yield ImportedDocument(document, spans.get(pk, []), relations.get(pk, []))

    def _coders(self, ids: list[int]):
        coder = self.export.coder_id
        names, labels = self.names, self.labels
        link_rows = _fetch(Relation, _RELATION_COLUMNS, ids, coder_id=coder)
        linked = {row[4] for row in link_rows} | {row[5] for row in link_rows}
        rows = _fetch(Annotation, _SPAN_COLUMNS, ids, coder_id=coder)
        self._name_users({row[2] for row in rows} - names.keys())
        # Sorted by what the spans are (coder, offsets, label), their ids last: a project
        # imported from an export exports the same lines. Each span is made once, beside its
        # sort key (the ids are unique: the spans themselves are never compared).
        grouped: dict[int, list[tuple]] = defaultdict(list)
        versions: dict[int, int] = {}
        memo, loads, make = self.json.memo, self.json, formats.Span
        for pk, document_id, coder_id, label_id, start, end, text, attributes, version in rows:
            name, label = names[coder_id], labels[label_id]
            parsed = memo.get(attributes)
            if parsed is None:
                parsed = loads(attributes)
            grouped[document_id].append(
                (name, start, end, label, pk, make(str(pk), start, end, label, text, parsed, name))
            )
            if version > versions.get(document_id, 0):
                versions[document_id] = version
        spans: dict[int, list[formats.Span]] = {}
        keys: dict[int, tuple] = {}  # of the linked spans, to sort the links by
        for document_id, group in grouped.items():
            group.sort()
            spans[document_id] = [entry[5] for entry in group]
            if linked:
                for entry in group:
                    if entry[4] in linked:
                        keys[entry[4]] = entry[:4]
        links: dict[int, list[tuple]] = defaultdict(list)
        for pk, document_id, coder_id, type_id, source, target in link_rows:
            if source in keys and target in keys:
                name = names.get(coder_id, str(coder_id))
                links[document_id].append(
                    (name, keys[source], keys[target], self.types.get(type_id, "?"), pk)
                    + (source, target)
                )
        relations = {
            document_id: [
                formats.Relation(str(pk), kind, str(source), str(target), name, None)
                for name, _, _, kind, pk, source, target in sorted(group)
            ]
            for document_id, group in links.items()
        }
        return spans, relations, versions

    def _name_users(self, user_ids: set[int]) -> None:
        """Names of coders who are no longer members (only reached when names are shown;
        hidden names were all given pseudonyms up front)."""
        if not user_ids:
            return
        users = get_user_model().objects.filter(pk__in=user_ids).values_list("pk", "username")
        for pk, username in users:
            self.names[pk] = username

    def _gold(self, ids: list[int]):
        labels, loads = self.labels, self.json
        grouped: dict[int, list[tuple]] = defaultdict(list)
        for row in _fetch(GoldSpan, _GOLD_COLUMNS, ids):
            pk, document_id, label_id, start, end = row[:5]
            grouped[document_id].append((start, end, labels.get(label_id, "?"), pk, row))
        spans: dict[int, list[formats.Span]] = {}
        keys: dict[int, tuple] = {}
        for document_id, group in grouped.items():
            group.sort()
            made = spans[document_id] = []
            for start, end, label, pk, row in group:
                text, attributes, origin, sources, needs_review, note = row[5:]
                keys[pk] = (start, end, label)
                provenance = {
                    "origin": origin,
                    "source_annotations": list(_loaded(sources, loads) or []),
                    "note": note,
                    "needs_review": bool(needs_review),
                }
                made.append(
                    formats.Span(
                        str(pk), start, end, label, text, loads(attributes), None, provenance
                    )
                )
        links: dict[int, list[tuple]] = defaultdict(list)
        for pk, document_id, type_id, source, target, sources, note in _fetch(
            GoldRelation, _GOLD_RELATION_COLUMNS, ids
        ):
            if source in keys and target in keys:
                kind = self.types.get(type_id, "?")
                links[document_id].append(
                    (keys[source], keys[target], kind, pk, source, target, sources, note)
                )
        relations: dict[int, list[formats.Relation]] = {}
        for document_id, group in links.items():
            group.sort(key=lambda link: link[:4])
            made_links = relations[document_id] = []
            for _, _, kind, pk, source, target, sources, note in group:
                sources = list(_loaded(sources, loads) or [])
                provenance = {
                    "origin": "accepted" if sources else "added",
                    "source_relations": sources,
                    "note": note,
                }
                made_links.append(
                    formats.Relation(str(pk), kind, str(source), str(target), None, provenance)
                )
        return spans, relations, {}


def _fetch(model, columns: tuple[str, ...], ids: list[int], *, coder_id=None) -> list[tuple]:
    """The alive rows of ``model`` in the documents ``ids``, as tuples (JSON still text)."""
    meta = model._meta
    quote = connection.ops.quote_name
    selected = ", ".join(quote(meta.get_field(name).column) for name in columns)
    if connection.vendor == "postgresql":
        where, params = "document_id = ANY(%s)", [ids]
    else:
        where, params = f"document_id IN ({', '.join(['%s'] * len(ids))})", list(ids)
    sql = f"SELECT {selected} FROM {quote(meta.db_table)} WHERE {where} AND deleted_at IS NULL"
    if coder_id is not None:
        sql += " AND coder_id = %s"
        params.append(coder_id)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


class _JsonCache:
    """json.loads with a memory of the short texts it has parsed (most attributes repeat)."""

    LIMIT = 50_000

    def __init__(self) -> None:
        self.memo: dict[str, Any] = {}

    def __call__(self, text: str | None) -> Any:
        if not isinstance(text, str):
            return {} if text is None else text
        value = self.memo.get(text)
        if value is None:
            value = json.loads(text)
            if len(text) <= 256 and len(self.memo) < self.LIMIT:
                self.memo[text] = value
        return value


def _iso_date(value: Any) -> str | None:
    """A date column as read (a date, or SQLite's text) in ISO 8601."""
    if not value:
        return None
    return value if isinstance(value, str) else value.isoformat()


def _loaded(value: Any, loads: _JsonCache) -> Any:
    return loads(value) if isinstance(value, str) else value


def _parts(item: ImportedDocument):
    return item.document, item.spans, item.relations


def _buffered(pieces: Iterable[bytes | str]) -> Iterator[bytes]:
    """Lines (str) or chunks (bytes) gathered into chunks of about CHUNK_BYTES."""
    buffer: list[bytes] = []
    size = 0
    for piece in pieces:
        data = piece.encode("utf-8") if isinstance(piece, str) else piece
        buffer.append(data)
        size += len(data)
        if size >= CHUNK_BYTES:
            yield b"".join(buffer)
            buffer, size = [], 0
    if buffer:
        yield b"".join(buffer)


@contextmanager
def _quiet_collector():
    """Keep the cyclic garbage collector off the objects that existed before the export.

    An export makes and drops millions of small objects; each full collection would walk the
    whole heap (Django, the app, everything loaded), which cost about a third of an export's
    time. Those objects are frozen meanwhile (gc.freeze) and handed back to the oldest
    generation afterwards; the export's own objects are collected as usual.
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@contextmanager
def snapshot():
    """One consistent view of the database for the whole export.

    PostgreSQL: a REPEATABLE READ transaction (the default, READ COMMITTED, would let a batch
    see changes committed after the first). SQLite: a deferred transaction, which reads one
    snapshot in WAL mode and takes no write lock (an atomic block would BEGIN IMMEDIATE, as the
    settings ask, and hold up every coder's save for the length of the export). Inside an
    existing transaction (tests, a caller's atomic block) there is already one snapshot.
    """
    if connection.in_atomic_block:
        yield
        return
    if connection.vendor == "postgresql":
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            yield
        return
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("BEGIN DEFERRED")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("COMMIT")


__all__ = [
    "ALL",
    "EXPORT_FORMATS",
    "GOLD",
    "Export",
    "coder_choices",
    "documents_export",
    "snapshot",
]
